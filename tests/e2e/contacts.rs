//! Contacts over HTTP: each user's own address book through the router, search with
//! percent-encoded query strings, and `/contacts/birthdays` as its own route.

use chrono::{Datelike, Utc};
use latchkey_tests::{
    Http, LIKE_METACHARACTER_NAMES, TestResponse, assert_contract_headers,
    assert_contract_response, json, unique,
};
use reqwest::Method;
use serde_json::Value;

const PASSWORD: &str = "contacts e2e password";

/// Registers a fresh user; returns their access token.
async fn sign_up(http: &Http, prefix: &str) -> String {
    http.register(json!({"login": format!("{prefix}_{}", unique()), "password": PASSWORD}))
        .await
        .access_token()
}

/// `POST /contacts` with `body`.
async fn create(http: &Http, token: &str, body: Value) -> TestResponse {
    http.send_json(Method::POST, "/contacts", token, body).await
}

/// Creates a contact and asserts it worked, with the contract's headers; returns the contact.
async fn add(http: &Http, token: &str, body: Value) -> Value {
    let response = create(http, token, body).await;
    assert_contract_response(&response, 201);
    response.body["contact"].clone()
}

fn path(contact: &Value) -> String {
    format!("/contacts/{}", contact["id"])
}

fn first_names(response: &TestResponse) -> Vec<&str> {
    assert_eq!(response.status, 200, "{}", response.body);
    response.body["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["first_name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_user_keeps_an_address_book_over_http() {
    let http = Http::new();
    let ann = sign_up(&http, "book").await;

    let contact = &add(
        &http,
        &ann,
        json!({"first_name": "Jane", "last_name": "Doe", "email": "Jane@Example.com",
            "phone": "+1 555 010 9999", "birthday": "1990-02-28", "notes": "hi"}),
    )
    .await;
    assert_eq!(
        (contact["email"].as_str(), contact["phone"].as_str()),
        (Some("jane@example.com"), Some("+15550109999"))
    );

    let read = http.get(&path(contact), Some(&ann)).await;
    assert_eq!(read.status, 200);
    assert_eq!(&read.body["contact"], contact);

    let patched = http
        .patch(
            &path(contact),
            &ann,
            json!({"last_name": "Roe", "notes": null}),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["contact"]["last_name"], "Roe");
    assert!(patched.body["contact"]["notes"].is_null());
    assert_eq!(patched.body["contact"]["email"], "jane@example.com");

    let put = http
        .send_json(
            Method::PUT,
            &path(contact),
            &ann,
            json!({"first_name": "Janet"}),
        )
        .await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.body["contact"]["first_name"], "Janet");
    assert_eq!(
        put.body["contact"]["last_name"], "Roe",
        "PUT is partial too"
    );

    let listed = http.get("/contacts?page_size=10", Some(&ann)).await;
    assert_contract_response(&listed, 200);
    assert_eq!(listed.body["contacts"], json!([put.body["contact"]]));
    assert_eq!(
        (&listed.body["total"], &listed.body["total_pages"]),
        (&json!(1), &json!(1))
    );

    let deleted = http
        .send(Method::DELETE, &path(contact), Some(&ann), None)
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(deleted.body["contact"], put.body["contact"]);
    let gone = http.get(&path(contact), Some(&ann)).await;
    gone.assert_error(404, "not_found");
}

#[tokio::test]
async fn nobody_sees_or_touches_another_users_contacts_over_http() {
    let http = Http::new();
    let ann = sign_up(&http, "owner").await;
    let bob = sign_up(&http, "other").await;
    let anns = add(
        &http,
        &ann,
        json!({"first_name": "Private", "last_name": "Person"}),
    )
    .await;

    let attempts = [
        http.get(&path(&anns), Some(&bob)).await,
        http.patch(&path(&anns), &bob, json!({"first_name": "X"}))
            .await,
        http.send_json(Method::PUT, &path(&anns), &bob, json!({"first_name": "X"}))
            .await,
        http.send(Method::DELETE, &path(&anns), Some(&bob), None)
            .await,
    ];
    for response in attempts {
        assert_eq!(response.status, 404, "{}", response.body);
        assert_eq!(response.error_code(), "not_found");
    }
    let bobs_list = http.get("/contacts?q=private", Some(&bob)).await;
    assert_eq!(first_names(&bobs_list), Vec::<&str>::new());
    let still = http.get(&path(&anns), Some(&ann)).await;
    assert_eq!(still.body["contact"], anns);
}

#[tokio::test]
async fn search_takes_percent_underscore_and_backslash_literally_over_http() {
    let http = Http::new();
    let ann = sign_up(&http, "search").await;
    for (first, last) in LIKE_METACHARACTER_NAMES
        .into_iter()
        .chain([("Жанна", "Иванова")])
    {
        add(&http, &ann, json!({"first_name": first, "last_name": last})).await;
    }

    // Query strings are percent-encoded on the wire and arrive decoded.
    for (query, expected) in [
        ("q=%25", vec!["100%"]),
        ("first_name=0%25", vec!["100%"]),
        ("q=e_c", vec!["snake_case"]),
        ("q=%5C", vec!["C:\\Users"]),
        ("last_name=%D0%98%D0%92%D0%90%D0%9D", vec!["Жанна"]),
        ("q=SNAKE&page_size=1&page_num=2", vec!["snakeXcase"]),
    ] {
        let response = http.get(&format!("/contacts?{query}"), Some(&ann)).await;
        assert_eq!(first_names(&response), expected, "{query}");
    }
}

#[tokio::test]
async fn birthdays_is_its_own_route_and_counts_from_today_in_utc() {
    let http = Http::new();
    let ann = sign_up(&http, "bday").await;
    let today = Utc::now().date_naive();
    // Born in 2000, a leap year, so that even 29 February is a valid birthday.
    let born = format!("2000-{:02}-{:02}", today.month(), today.day());
    let contact = add(
        &http,
        &ann,
        json!({"first_name": "Today", "last_name": "Born", "birthday": born}),
    )
    .await;
    add(
        &http,
        &ann,
        json!({"first_name": "No", "last_name": "Birthday"}),
    )
    .await;

    let response = http
        .get("/contacts/birthdays?days=0&limit=5", Some(&ann))
        .await;

    assert_contract_response(&response, 200);
    let listed = response.body["contacts"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{}", response.body);
    assert_eq!(listed[0]["id"], contact["id"]);
    assert_eq!(listed[0]["next_birthday"], today.to_string());
    assert_eq!(listed[0]["days_until"], 0);

    let refused = http.get("/contacts/birthdays?days=367", Some(&ann)).await;
    refused.assert_error(400, "validation_failed");
    assert!(refused.body["fields"]["days"].is_array());
}

#[tokio::test]
async fn contact_errors_answer_with_the_contract_error_body() {
    let http = Http::new();
    let ann = sign_up(&http, "errors").await;
    let contact = add(&http, &ann, json!({"first_name": "A", "last_name": "B"})).await;

    let cases: Vec<(TestResponse, u16, &str)> = vec![
        (
            http.send(Method::POST, "/contacts", Some(&ann), Some("{nope".into()))
                .await,
            400,
            "invalid_json",
        ),
        (
            create(&http, &ann, json!({"first_name": 7})).await,
            400,
            "invalid_json",
        ),
        (
            create(
                &http,
                &ann,
                json!({"last_name": "B", "birthday": "2001-02-29"}),
            )
            .await,
            400,
            "validation_failed",
        ),
        (
            http.patch(&path(&contact), &ann, json!({"first_name": null}))
                .await,
            400,
            "validation_failed",
        ),
        (
            http.get("/contacts/abc", Some(&ann)).await,
            400,
            "validation_failed",
        ),
        (
            http.get("/contacts?page_size=0", Some(&ann)).await,
            400,
            "validation_failed",
        ),
        (
            http.get("/contacts/999999999", Some(&ann)).await,
            404,
            "not_found",
        ),
        (http.get("/contacts", None).await, 401, "missing_token"),
        (
            http.get("/contacts/birthdays", Some("garbage")).await,
            401,
            "invalid_token",
        ),
        (
            http.send(Method::DELETE, &path(&contact), None, None).await,
            401,
            "missing_token",
        ),
    ];
    for (response, status, code) in cases {
        assert_eq!(response.status, status, "{code}: {}", response.body);
        assert_eq!(response.error_code(), code, "{}", response.body);
        assert_contract_headers(&response);
    }
    let unchanged = http.get(&path(&contact), Some(&ann)).await;
    assert_eq!(unchanged.body["contact"], contact);
}
