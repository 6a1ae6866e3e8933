use lambda_http::http::Method;
use latchkey_tests::{TestApp, json, req, unique};

use crate::{
    Api, PASSWORD, assert_contract_headers, assert_contract_response, count_rows,
    only_password_hash,
};

#[tokio::test]
async fn registering_returns_the_full_user_and_a_token_pair() {
    let t = TestApp::new().await;
    let login = format!("ann_{}", unique());
    let response = Api(&t)
        .register(
            json!({"login": login, "password": PASSWORD, "name": " Ann ",
            "email": " Ann@Example.COM ", "phone": "+1 555 000 1111"}),
        )
        .await;

    assert_contract_response(&response, 201);
    let body = &response.body;
    assert_eq!(body["status"], "ok");
    let user = &body["user"];
    assert_eq!(user["login"], login.as_str());
    assert_eq!(user["name"], "Ann");
    assert_eq!(user["email"], "ann@example.com");
    assert_eq!(user["phone"], "+15550001111");
    assert_eq!(user["role"], "user");
    assert!(user["id"].is_i64());
    assert!(user["created_at"].as_str().unwrap().ends_with('Z'));
    let keys: Vec<&String> = user.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 12, "exactly the full user object: {keys:?}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert!(body["access_token"].is_string() && body["refresh_token"].is_string());
    assert!(!response.body.to_string().contains(PASSWORD));
}

#[tokio::test]
async fn registration_opens_a_session_whose_access_token_works() {
    let t = TestApp::new().await;
    let registered = Api(&t).sign_up(&format!("bob_{}", unique())).await;
    let me = Api(&t).me(&registered.access_token()).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["user"], registered.body["user"]);
}

#[tokio::test]
async fn without_a_login_the_email_then_the_phone_becomes_the_login() {
    let t = TestApp::new().await;
    let by_email = Api(&t)
        .register(json!({"email": "Eve@Example.com", "password": PASSWORD}))
        .await;
    assert_eq!(by_email.body["user"]["login"], "eve@example.com");
    let by_phone = Api(&t)
        .register(json!({"phone": "+44 20 7946 0000", "password": PASSWORD}))
        .await;
    assert_eq!(by_phone.body["user"]["login"], "+442079460000");
    assert_eq!(by_phone.body["user"]["email"], serde_json::Value::Null);
}

#[tokio::test]
async fn a_taken_login_email_or_phone_is_a_conflict_whatever_its_case() {
    let t = TestApp::new().await;
    let api = Api(&t);
    api.sign_up_with_email_and_phone("Taken", "taken@example.com", "+15550002222")
        .await;
    for body in [
        json!({"login": "tAKEN", "password": PASSWORD}),
        json!({"login": "other1", "email": "TAKEN@example.com", "password": PASSWORD}),
        json!({"login": "other2", "phone": "+1 555 000 2222", "password": PASSWORD}),
        // An identifier names one account across kinds: someone's email is not a free login.
        json!({"login": "taken@example.com", "password": PASSWORD}),
    ] {
        let response = api.register(body.clone()).await;
        assert_eq!(response.status, 409, "{body}");
        assert_eq!(response.error_code(), "user_exists");
        assert_eq!(response.body["reason"], "User already exists");
    }
    let count = count_rows(&t, "users").await;
    assert_eq!(count, 1, "no half-written rows");
}

#[tokio::test]
async fn concurrent_registrations_of_one_login_create_exactly_one_user() {
    let t = TestApp::with_env(&[("DATABASE_POOL_SIZE", "20")]).await;
    let login = format!("race_{}", unique());
    let attempts = (0..20).map(|_| {
        let request = req::post(
            "/auth/register",
            &json!({"login": login, "password": PASSWORD}),
        );
        ::register::handler(&t.app, request)
    });
    let outcomes = futures::future::join_all(attempts).await;
    let statuses: Vec<u16> = outcomes.into_iter().map(|o| t.respond(o).status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        19,
        "{statuses:?}"
    );
    let users = count_rows(&t, "users").await;
    assert_eq!(users, 1);
}

#[tokio::test]
async fn invalid_fields_are_all_reported_at_once() {
    let t = TestApp::new().await;
    let response = Api(&t)
        .register(
            json!({"login": "a b", "email": "not-an-email", "phone": "12345",
            "password": "short", "name": "x".repeat(101)}),
        )
        .await;
    assert_eq!(response.status, 400);
    assert_eq!(response.error_code(), "validation_failed");
    let fields = response.body["fields"].as_object().unwrap();
    for field in ["login", "email", "phone", "password", "name"] {
        assert!(
            fields[field].as_array().is_some_and(|m| !m.is_empty()),
            "{field}: {fields:?}"
        );
    }
    assert!(
        !response.body.to_string().contains("short"),
        "the password is never echoed"
    );
}

#[tokio::test]
async fn an_identifier_and_a_password_are_required() {
    let t = TestApp::new().await;
    let response = Api(&t).register(json!({"name": "Nobody"})).await;
    assert_eq!(response.status, 400);
    assert_eq!(response.error_code(), "validation_failed");
    assert!(response.body["fields"]["login"].is_array());
    assert_eq!(response.body["fields"]["password"], json!(["is required"]));
}

#[tokio::test]
async fn password_length_follows_the_configured_minimum_and_the_1024_maximum() {
    let t = TestApp::with_env(&[("PASSWORD_MIN_LENGTH", "10")]).await;
    let short = Api(&t)
        .register(json!({"login": "minlen", "password": "123456789"}))
        .await;
    assert_eq!(short.status, 400);
    let long = Api(&t)
        .register(json!({"login": "maxlen", "password": "p".repeat(1025)}))
        .await;
    assert_eq!(long.status, 400);
    let fine = Api(&t)
        .register(json!({"login": "fine", "password": "p".repeat(1024)}))
        .await;
    assert_eq!(fine.status, 201);
}

#[tokio::test]
async fn malformed_or_mistyped_json_is_invalid_json() {
    let t = TestApp::new().await;
    for body in [
        "{",
        "",
        "[]",
        r#"{"login": 5, "password": "secret123"}"#,
        r#"{"login": "x", "password": ["secret123"]}"#,
        r#"["ann", null, null, "secret123"]"#,
    ] {
        let request = req::raw(Method::POST, "/auth/register", body.to_owned());
        let response = t.respond(::register::handler(&t.app, request).await);
        assert_eq!(response.status, 400, "{body}");
        assert_eq!(response.error_code(), "invalid_json", "{body}");
        assert_contract_headers(&response);
    }
}

#[tokio::test]
async fn a_body_over_64_kib_is_refused_with_413() {
    let t = TestApp::new().await;
    let body = json!({"login": "big", "password": PASSWORD, "name": "n".repeat(70_000)});
    let response = Api(&t).register(body).await;
    assert_eq!(response.status, 413);
    assert_eq!(response.error_code(), "payload_too_large");
}

#[tokio::test]
async fn the_password_is_stored_only_as_an_scrypt_phc_string() {
    let t = TestApp::new().await;
    Api(&t).sign_up("hashcheck").await;
    let hash = only_password_hash(&t).await;
    assert!(hash.starts_with("$scrypt$ln=10,r=8,p=1$"), "{hash}");
    assert!(!hash.contains(PASSWORD));
}
