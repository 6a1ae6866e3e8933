//! Contacts: create, read, list and search, update (PATCH and PUT), delete; each user's
//! address book is theirs alone.

use chrono::NaiveDate;
use lambda_http::http::Method;
use latchkey_tests::{LIKE_METACHARACTER_NAMES, TestApp, TestResponse, json, req};
use serde_json::Value;
use shared::App;

use crate::{
    Api, PASSWORD, assert_contract_headers, assert_contract_response, column, count_rows, keys,
};

/// The contact routes as in-process calls.
pub struct Book<'a>(pub &'a TestApp);

/// A `YYYY-MM-DD` date.
pub fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

/// An app whose clock is pinned; dropping it gives the app the system clock back.
struct Pinned<'a>(&'a App);

impl std::ops::Deref for Pinned<'_> {
    type Target = App;

    fn deref(&self) -> &App {
        self.0
    }
}

impl Drop for Pinned<'_> {
    fn drop(&mut self) {
        self.0.clock.set(0);
    }
}

impl Book<'_> {
    /// The app with its clock fixed at noon UTC on `today`, for as long as the guard
    /// lives: a call's temporary, so the next call counts from the real date again.
    fn on(&self, today: NaiveDate) -> Pinned<'_> {
        let noon = today.and_hms_opt(12, 0, 0).unwrap().and_utc().timestamp();
        self.0.app.clock.set(noon as u64);
        Pinned(&self.0.app)
    }

    pub async fn create(&self, token: &str, body: Value) -> TestResponse {
        let request = req::bearer(req::post("/contacts", &body), token);
        self.0
            .respond(::create_contact::handler(&self.0.app, request).await)
    }

    pub async fn create_on(&self, token: &str, body: Value, today: NaiveDate) -> TestResponse {
        let request = req::bearer(req::post("/contacts", &body), token);
        self.0
            .respond(::create_contact::handler(&self.on(today), request).await)
    }

    /// Creates a contact and asserts it worked; returns the contact.
    pub async fn add(&self, token: &str, body: Value) -> Value {
        let response = self.create(token, body).await;
        assert_eq!(response.status, 201, "{}", response.body);
        response.body["contact"].clone()
    }

    pub async fn get(&self, token: &str, id: &str) -> TestResponse {
        let request = req::path_param(req::bearer(req::get("/contacts/x"), token), "id", id);
        self.0
            .respond(::get_contact::handler(&self.0.app, request).await)
    }

    pub async fn update(&self, token: &str, id: &str, body: Value) -> TestResponse {
        self.update_with(Method::PATCH, token, id, body.to_string())
            .await
    }

    /// PATCH or PUT with a literal body.
    pub async fn update_with(
        &self,
        method: Method,
        token: &str,
        id: &str,
        body: String,
    ) -> TestResponse {
        let request = req::raw(method, "/contacts/x", body);
        let request = req::path_param(req::bearer(request, token), "id", id);
        self.0
            .respond(::update_contact::handler(&self.0.app, request).await)
    }

    pub async fn update_on(
        &self,
        token: &str,
        id: &str,
        body: Value,
        today: NaiveDate,
    ) -> TestResponse {
        let request = req::json(Method::PATCH, "/contacts/x", &body);
        let request = req::path_param(req::bearer(request, token), "id", id);
        self.0
            .respond(::update_contact::handler(&self.on(today), request).await)
    }

    pub async fn delete(&self, token: &str, id: &str) -> TestResponse {
        let request = req::raw(Method::DELETE, "/contacts/x", String::new());
        let request = req::path_param(req::bearer(request, token), "id", id);
        self.0
            .respond(::delete_contact::handler(&self.0.app, request).await)
    }

    /// `GET /contacts?{query}`, the query as it arrives decoded (see [`req::get_with_query`]).
    pub async fn list(&self, token: &str, query: &str) -> TestResponse {
        let request = req::bearer(req::get_with_query("/contacts", query), token);
        self.0
            .respond(::list_contacts::handler(&self.0.app, request).await)
    }

    pub async fn birthdays_on(&self, token: &str, query: &str, today: NaiveDate) -> TestResponse {
        let request = req::bearer(req::get_with_query("/contacts/birthdays", query), token);
        self.0
            .respond(::upcoming_birthdays::handler(&self.on(today), request).await)
    }
}

/// A fresh app with Ann signed up: the app and her access token.
pub async fn app_with_ann() -> (TestApp, String) {
    let t = TestApp::new().await;
    let ann = Api(&t).sign_up("ann").await.access_token();
    (t, ann)
}

/// A fresh app with Ann signed up and one contact of hers made from `body`: the app, her
/// access token and the contact.
async fn app_with_anns_contact(body: Value) -> (TestApp, String, Value) {
    let (t, ann) = app_with_ann().await;
    let contact = Book(&t).add(&ann, body).await;
    (t, ann, contact)
}

/// The `id` of a contact as a path segment.
pub fn id(contact: &Value) -> String {
    contact["id"].as_i64().unwrap().to_string()
}

/// The ids of the `contacts` of a response, in order.
pub fn ids(response: &TestResponse) -> Vec<i64> {
    response.body["contacts"]
        .as_array()
        .unwrap_or_else(|| panic!("no contacts in {}", response.body))
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect()
}

fn timestamp(value: &Value) -> chrono::DateTime<chrono::Utc> {
    value.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_user_adds_a_contact_and_reads_it_back() {
    let (t, ann) = app_with_ann().await;
    let book = Book(&t);

    let created = book
        .create(
            &ann,
            json!({"first_name": "  Jane ", "last_name": "Doe", "email": " Jane.Doe@Example.COM ",
            "phone": "+1 (555) 010-9999", "birthday": "1990-02-28", "notes": " Met at RustConf.\n"}),
        )
        .await;

    assert_contract_response(&created, 201);
    let contact = &created.body["contact"];
    assert_eq!(
        keys(contact),
        [
            "birthday",
            "created_at",
            "email",
            "first_name",
            "id",
            "last_name",
            "notes",
            "phone",
            "updated_at"
        ]
    );
    assert_eq!(
        (
            contact["first_name"].as_str(),
            contact["last_name"].as_str()
        ),
        (Some("Jane"), Some("Doe")),
        "names are trimmed"
    );
    assert_eq!(contact["email"], "jane.doe@example.com", "lower-cased");
    assert_eq!(contact["phone"], "+15550109999", "E.164");
    assert_eq!(contact["birthday"], "1990-02-28");
    assert_eq!(contact["notes"], "Met at RustConf.");
    assert_eq!(contact["created_at"], contact["updated_at"]);
    assert_eq!(created.body["status"], "ok");

    let read = book.get(&ann, &id(contact)).await;
    assert_contract_response(&read, 200);
    assert_eq!(&read.body["contact"], contact);
}

#[tokio::test]
async fn only_the_names_are_required_and_the_rest_may_be_null() {
    let (t, ann) = app_with_ann().await;

    let contact = Book(&t)
        .add(
            &ann,
            json!({"first_name": "Li", "last_name": "Wei", "email": null, "notes": "  "}),
        )
        .await;

    for field in ["email", "phone", "birthday", "notes"] {
        assert!(contact[field].is_null(), "{field}: {contact}");
    }
}

#[tokio::test]
async fn creating_a_contact_reports_every_invalid_field_at_once() {
    let (t, ann) = app_with_ann().await;

    let response = Book(&t)
        .create(
            &ann,
            json!({"last_name": " ", "email": "not-an-email", "phone": "555-1234",
            "birthday": "1990-02-30", "notes": "n".repeat(2001)}),
        )
        .await;

    assert_eq!(response.status, 400);
    assert_eq!(response.error_code(), "validation_failed");
    assert_contract_headers(&response);
    let fields = &response.body["fields"];
    assert_eq!(fields["first_name"], json!(["is required"]));
    assert_eq!(fields["last_name"], json!(["must be 1 to 100 characters"]));
    assert_eq!(
        fields["email"],
        json!(["must be an email address like name@example.com"])
    );
    assert_eq!(
        fields["phone"],
        json!(["must be an E.164 phone number: + and 8 to 15 digits"])
    );
    assert_eq!(
        fields["birthday"],
        json!(["must be a real date written YYYY-MM-DD"])
    );
    assert_eq!(fields["notes"], json!(["must be at most 2000 characters"]));
    let count = count_rows(&t, "contacts").await;
    assert_eq!(count, 0, "nothing was stored");
}

#[tokio::test]
async fn names_are_at_most_100_characters_without_control_characters() {
    let (t, ann) = app_with_ann().await;
    let book = Book(&t);

    let longest = book
        .create(
            &ann,
            json!({"first_name": "é".repeat(100), "last_name": "x"}),
        )
        .await;
    let too_long = book
        .create(
            &ann,
            json!({"first_name": "é".repeat(101), "last_name": "x"}),
        )
        .await;
    let nul = book
        .create(&ann, json!({"first_name": "a\u{0}b", "last_name": "x"}))
        .await;

    assert_eq!(longest.status, 201);
    assert_eq!(
        too_long.body["fields"]["first_name"],
        json!(["must be 1 to 100 characters"])
    );
    assert_eq!(nul.status, 400, "a NUL never reaches the database");
    assert_eq!(
        nul.body["fields"]["first_name"],
        json!(["must not contain control characters"])
    );
}

#[tokio::test]
async fn a_birthday_may_be_today_but_not_tomorrow() {
    let (t, ann) = app_with_ann().await;
    let book = Book(&t);
    let today = date("2024-02-29");

    let born_today = book
        .create_on(
            &ann,
            json!({"first_name": "New", "last_name": "Born", "birthday": "2024-02-29"}),
            today,
        )
        .await;
    let born_tomorrow = book
        .create_on(
            &ann,
            json!({"first_name": "Not", "last_name": "Yet", "birthday": "2024-03-01"}),
            today,
        )
        .await;
    let far_future = book
        .create(
            &ann,
            json!({"first_name": "Not", "last_name": "Yet", "birthday": "2999-01-01"}),
        )
        .await;

    assert_eq!(born_today.status, 201, "{}", born_today.body);
    assert_eq!(born_today.body["contact"]["birthday"], "2024-02-29");
    for refused in [&born_tomorrow, &far_future] {
        assert_eq!(refused.status, 400);
        assert_eq!(
            refused.body["fields"]["birthday"],
            json!(["must not be in the future"])
        );
    }
}

/// A day pinned for one call holds for that call only: the next plain call counts from
/// the real date again.
#[tokio::test]
async fn a_pinned_day_holds_for_its_call_only() {
    let (t, ann) = app_with_ann().await;
    let book = Book(&t);

    let pinned = book
        .create_on(
            &ann,
            json!({"first_name": "Old", "last_name": "Day", "birthday": "1999-12-31"}),
            date("2000-01-01"),
        )
        .await;
    assert_eq!(pinned.status, 201, "{}", pinned.body);

    // In the future on 2000-01-01, in the past on any day this test runs.
    let after = book
        .create(
            &ann,
            json!({"first_name": "Real", "last_name": "Day", "birthday": "2010-05-05"}),
        )
        .await;
    assert_eq!(after.status, 201, "{}", after.body);
}

#[tokio::test]
async fn malformed_or_mistyped_bodies_are_invalid_json() {
    let (t, ann, contact) =
        app_with_anns_contact(json!({"first_name": "A", "last_name": "B"})).await;
    let book = Book(&t);

    let create = |body: &str| {
        let request = req::bearer(req::raw(Method::POST, "/contacts", body.to_owned()), &ann);
        let t = &t;
        async move { t.respond(::create_contact::handler(&t.app, request).await) }
    };
    let mut responses = vec![
        create("{\"first_name\": ").await,
        create("[\"Ann\", \"Lee\"]").await,
        create("").await,
        create(r#"{"first_name": 1, "last_name": "B"}"#).await,
        create(r#"{"first_name": "A", "last_name": "B", "birthday": 19900228}"#).await,
    ];
    for body in [
        "{oops",
        r#"{"email": ["a@b.co"]}"#,
        r#"{"first_name": false}"#,
    ] {
        responses.push(
            book.update_with(Method::PATCH, &ann, &id(&contact), body.into())
                .await,
        );
    }

    for response in responses {
        assert_eq!(response.status, 400, "{}", response.body);
        assert_eq!(response.error_code(), "invalid_json");
        assert!(response.body.get("fields").is_none());
    }
}

#[tokio::test]
async fn a_body_over_64_kib_is_refused() {
    let (t, ann) = app_with_ann().await;

    let response = Book(&t)
        .create(
            &ann,
            json!({"first_name": "A", "last_name": "B", "notes": "n".repeat(70_000)}),
        )
        .await;

    response.assert_error(413, "payload_too_large");
}

#[tokio::test]
async fn every_contact_route_needs_a_valid_access_token() {
    let t = TestApp::new().await;
    let ann = Api(&t).sign_up("ann").await;
    let book = Book(&t);
    let contact = book
        .add(
            &ann.access_token(),
            json!({"first_name": "A", "last_name": "B"}),
        )
        .await;

    for (token, code) in [
        (None, "missing_token"),
        (Some("garbage".to_owned()), "invalid_token"),
        (Some(ann.refresh_token()), "invalid_token"),
    ] {
        let with_token = |request| match &token {
            Some(token) => req::bearer(request, token.as_ref()),
            None => request,
        };
        let with_id = |request| req::path_param(with_token(request), "id", &id(&contact));
        let body = json!({"first_name": "X", "last_name": "Y"});
        let app = &t.app;
        let responses = [
            ::create_contact::handler(app, with_token(req::post("/contacts", &body))).await,
            ::list_contacts::handler(app, with_token(req::get("/contacts"))).await,
            ::get_contact::handler(app, with_id(req::get("/contacts/x"))).await,
            ::update_contact::handler(app, with_id(req::json(Method::PATCH, "/c/x", &body))).await,
            ::update_contact::handler(app, with_id(req::json(Method::PUT, "/c/x", &body))).await,
            ::delete_contact::handler(app, with_id(req::raw(Method::DELETE, "/c/x", "".into())))
                .await,
            ::upcoming_birthdays::handler(app, with_token(req::get("/contacts/birthdays"))).await,
        ];
        for (i, outcome) in responses.into_iter().enumerate() {
            let response = t.respond(outcome);
            assert_eq!(response.status, 401, "route {i} with {token:?}");
            assert_eq!(response.error_code(), code, "route {i}");
            assert!(
                response
                    .header("www-authenticate")
                    .is_some_and(|v| v.starts_with("Bearer")),
                "route {i}"
            );
        }
    }
    let still_there = book.get(&ann.access_token(), &id(&contact)).await;
    assert_eq!(still_there.body["contact"], contact, "nothing changed");
}

#[tokio::test]
async fn a_revoked_session_or_deleted_user_can_no_longer_reach_contacts() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let ann = api.sign_up("ann").await;
    let book = Book(&t);
    book.add(
        &ann.access_token(),
        json!({"first_name": "A", "last_name": "B"}),
    )
    .await;

    api.logout_all(&ann.access_token()).await;
    let after_logout = book.list(&ann.access_token(), "").await;

    after_logout.assert_error(401, "invalid_token");
}

#[tokio::test]
async fn two_users_never_see_or_touch_each_others_contacts() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let ann = api.sign_up("ann").await.access_token();
    let bob = api.sign_up("bob").await.access_token();
    let book = Book(&t);
    let anns = book
        .add(
            &ann,
            json!({"first_name": "Shared", "last_name": "Name", "birthday": "1990-06-01"}),
        )
        .await;
    let bobs = book
        .add(
            &bob,
            json!({"first_name": "Shared", "last_name": "Name", "birthday": "1990-06-01"}),
        )
        .await;
    let today = date("2025-06-01");

    // Bob cannot read, change, replace or delete Ann's contact: it does not exist for him.
    let attempts = [
        book.get(&bob, &id(&anns)).await,
        book.update(&bob, &id(&anns), json!({"first_name": "Hacked"}))
            .await,
        book.update_with(
            Method::PUT,
            &bob,
            &id(&anns),
            json!({"notes": "mine now"}).to_string(),
        )
        .await,
        book.update(&bob, &id(&anns), json!({})).await,
        book.delete(&bob, &id(&anns)).await,
    ];
    for response in attempts {
        assert_eq!(response.status, 404, "{}", response.body);
        assert_eq!(response.error_code(), "not_found");
        assert_eq!(
            response.body,
            json!({"status": "error", "code": "not_found", "reason": "Not found."}),
            "exactly like an id that does not exist"
        );
    }
    let missing = book.get(&bob, "999999").await;
    assert_eq!(
        missing.body,
        json!({"status": "error", "code": "not_found", "reason": "Not found."})
    );

    // Each list, search and birthday list holds only the caller's own contact.
    for (token, own) in [(&ann, &anns), (&bob, &bobs)] {
        let listed = book.list(token, "").await;
        assert_eq!(ids(&listed), [own["id"].as_i64().unwrap()]);
        assert_eq!(listed.body["total"], 1);
        let searched = book.list(token, "q=shared").await;
        assert_eq!(ids(&searched), [own["id"].as_i64().unwrap()]);
        let birthdays = book.birthdays_on(token, "days=0", today).await;
        assert_eq!(ids(&birthdays), [own["id"].as_i64().unwrap()]);
    }
    let untouched = book.get(&ann, &id(&anns)).await;
    assert_eq!(untouched.body["contact"], anns);
}

#[tokio::test]
async fn an_unknown_id_is_404_and_a_malformed_one_400() {
    let (t, ann) = app_with_ann().await;
    let book = Book(&t);

    let missing = [
        book.get(&ann, "424242").await,
        book.update(&ann, "424242", json!({"first_name": "X"}))
            .await,
        book.delete(&ann, "424242").await,
    ];
    for response in missing {
        response.assert_error(404, "not_found");
    }
    for bad in [
        "abc",
        "0",
        "-3",
        "1.5",
        "",
        "99999999999999999999",
        "birthdays",
    ] {
        let responses = [
            book.get(&ann, bad).await,
            book.update(&ann, bad, json!({"first_name": "X"})).await,
            book.delete(&ann, bad).await,
        ];
        for response in responses {
            assert_eq!(response.status, 400, "{bad}: {}", response.body);
            assert_eq!(response.error_code(), "validation_failed");
            assert_eq!(
                response.body["fields"]["id"],
                json!(["must be a positive integer"])
            );
        }
    }
}

#[tokio::test]
async fn a_patch_changes_only_the_fields_it_names_and_moves_updated_at() {
    let (t, ann) = app_with_ann().await;
    let book = Book(&t);
    let before = book
        .add(
            &ann,
            json!({"first_name": "Jane", "last_name": "Doe", "email": "jane@example.com",
            "phone": "+15550100000", "birthday": "1990-02-28", "notes": "old"}),
        )
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;

    let response = book
        .update(
            &ann,
            &id(&before),
            json!({"last_name": " Roe ", "email": "Jane@Roe.ORG", "unknown": "ignored"}),
        )
        .await;

    assert_contract_response(&response, 200);
    let after = &response.body["contact"];
    assert_eq!(after["last_name"], "Roe");
    assert_eq!(after["email"], "jane@roe.org");
    for unchanged in [
        "id",
        "first_name",
        "phone",
        "birthday",
        "notes",
        "created_at",
    ] {
        assert_eq!(after[unchanged], before[unchanged], "{unchanged}");
    }
    assert!(timestamp(&after["updated_at"]) > timestamp(&before["updated_at"]));
    assert_eq!(book.get(&ann, &id(&before)).await.body["contact"], *after);
}

#[tokio::test]
async fn null_clears_optional_fields_but_cannot_remove_a_name() {
    let (t, ann, contact) = app_with_anns_contact(
        json!({"first_name": "Jane", "last_name": "Doe", "email": "jane@example.com",
            "phone": "+15550100000", "birthday": "1990-02-28", "notes": "old"}),
    )
    .await;
    let book = Book(&t);

    let cleared = book
        .update(
            &ann,
            &id(&contact),
            json!({"email": null, "phone": null, "birthday": null, "notes": ""}),
        )
        .await;
    let unnamed = book
        .update(
            &ann,
            &id(&contact),
            json!({"first_name": null, "last_name": null}),
        )
        .await;

    assert_eq!(cleared.status, 200, "{}", cleared.body);
    for field in ["email", "phone", "birthday", "notes"] {
        assert!(cleared.body["contact"][field].is_null(), "{field}");
    }
    assert_eq!(cleared.body["contact"]["first_name"], "Jane");
    assert_eq!(unnamed.status, 400);
    assert_eq!(unnamed.error_code(), "validation_failed");
    assert_eq!(
        unnamed.body["fields"],
        json!({"first_name": ["cannot be removed"], "last_name": ["cannot be removed"]})
    );
}

#[tokio::test]
async fn an_empty_patch_returns_the_contact_unchanged() {
    let (t, ann, contact) =
        app_with_anns_contact(json!({"first_name": "Jane", "last_name": "Doe"})).await;
    let book = Book(&t);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;

    let response = book.update(&ann, &id(&contact), json!({})).await;

    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(
        response.body["contact"], contact,
        "updated_at stays: nothing was named"
    );
}

#[tokio::test]
async fn put_is_a_partial_update_too() {
    let (t, ann, contact) = app_with_anns_contact(
        json!({"first_name": "Jane", "last_name": "Doe", "notes": "keep me"}),
    )
    .await;
    let book = Book(&t);

    let response = book
        .update_with(
            Method::PUT,
            &ann,
            &id(&contact),
            json!({"phone": "+44 20 7946 0958"}).to_string(),
        )
        .await;

    assert_eq!(response.status, 200, "{}", response.body);
    let after = &response.body["contact"];
    assert_eq!(after["phone"], "+442079460958");
    assert_eq!(
        (after["first_name"].as_str(), after["notes"].as_str()),
        (Some("Jane"), Some("keep me"))
    );
}

#[tokio::test]
async fn an_update_is_validated_like_a_create_and_changes_nothing_when_refused() {
    let (t, ann, contact) =
        app_with_anns_contact(json!({"first_name": "Jane", "last_name": "Doe"})).await;
    let book = Book(&t);

    let response = book
        .update_on(
            &ann,
            &id(&contact),
            json!({"first_name": "", "email": "jane@", "phone": "12345",
            "birthday": "2024-03-01", "notes": "bad \u{7} bell", "last_name": "Valid"}),
            date("2024-02-29"),
        )
        .await;
    let leap_day_is_fine = book
        .update_on(
            &ann,
            &id(&contact),
            json!({"birthday": "2024-02-29"}),
            date("2024-02-29"),
        )
        .await;

    assert_eq!(response.status, 400);
    assert_eq!(response.error_code(), "validation_failed");
    let fields = &response.body["fields"];
    assert_eq!(
        keys(fields),
        ["birthday", "email", "first_name", "notes", "phone"]
    );
    assert_eq!(fields["birthday"], json!(["must not be in the future"]));
    assert_eq!(leap_day_is_fine.status, 200, "{}", leap_day_is_fine.body);
    let stored = &leap_day_is_fine.body["contact"];
    assert_eq!(
        (stored["last_name"].as_str(), stored["birthday"].as_str()),
        (Some("Doe"), Some("2024-02-29")),
        "the refused update changed nothing"
    );
}

#[tokio::test]
async fn deleting_a_contact_returns_it_as_it_was_and_it_is_gone() {
    let (t, ann, contact) = app_with_anns_contact(
        json!({"first_name": "Jane", "last_name": "Doe", "birthday": "1990-02-28"}),
    )
    .await;
    let book = Book(&t);
    let other = book
        .add(&ann, json!({"first_name": "Keep", "last_name": "Me"}))
        .await;

    let deleted = book.delete(&ann, &id(&contact)).await;
    let again = book.delete(&ann, &id(&contact)).await;
    let read = book.get(&ann, &id(&contact)).await;

    assert_contract_response(&deleted, 200);
    assert_eq!(deleted.body["contact"], contact);
    again.assert_error(404, "not_found");
    read.assert_error(404, "not_found");
    assert_eq!(
        ids(&book.list(&ann, "").await),
        [other["id"].as_i64().unwrap()]
    );
}

#[tokio::test]
async fn deleting_a_user_deletes_their_contacts_and_no_one_elses() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let ann = api.sign_up("ann").await;
    let bob = api.sign_up("bob").await.access_token();
    let book = Book(&t);
    for name in ["One", "Two"] {
        book.add(
            &ann.access_token(),
            json!({"first_name": name, "last_name": "Ann's"}),
        )
        .await;
    }
    let bobs = book
        .add(&bob, json!({"first_name": "One", "last_name": "Bob's"}))
        .await;

    let deleted = api
        .delete_self(&ann, Some(json!({"password": PASSWORD})))
        .await;

    assert_eq!(deleted.status, 200, "{}", deleted.body);
    let owners: Vec<i64> = column(&t, "SELECT owner_id FROM contacts").await;
    assert_eq!(owners.len(), 1, "Ann's contacts went with her");
    assert_eq!(
        ids(&book.list(&bob, "").await),
        [bobs["id"].as_i64().unwrap()]
    );
}

#[tokio::test]
async fn the_list_is_ordered_by_id_and_paginated() {
    let (t, ann) = app_with_ann().await;
    let book = Book(&t);
    let mut created = Vec::new();
    for i in 0..5 {
        let contact = book
            .add(
                &ann,
                json!({"first_name": format!("C{i}"), "last_name": "X"}),
            )
            .await;
        created.push(contact["id"].as_i64().unwrap());
    }

    let first = book.list(&ann, "page_size=2").await;
    let last = book.list(&ann, "page_num=3&page_size=2").await;
    let beyond = book.list(&ann, "page_num=4&page_size=2").await;
    let default = book.list(&ann, "").await;

    assert_contract_response(&first, 200);
    assert_eq!(ids(&first), created[..2]);
    assert_eq!(
        (
            &first.body["page_num"],
            &first.body["page_size"],
            &first.body["total"],
            &first.body["total_pages"]
        ),
        (&json!(1), &json!(2), &json!(5), &json!(3))
    );
    assert_eq!(ids(&last), created[4..]);
    assert_eq!(ids(&beyond), Vec::<i64>::new());
    assert_eq!(
        (&beyond.body["total"], &beyond.body["total_pages"]),
        (&json!(5), &json!(3)),
        "a page past the end still says how many there are"
    );
    assert_eq!(ids(&default), created);
    assert_eq!(
        (&default.body["page_num"], &default.body["page_size"]),
        (&json!(1), &json!(20))
    );
    assert_eq!(
        default.body["contacts"][0],
        book.get(&ann, &created[0].to_string()).await.body["contact"]
    );
}

#[tokio::test]
async fn an_empty_address_book_is_an_empty_page() {
    let (t, ann) = app_with_ann().await;

    let response = Book(&t).list(&ann, "").await;

    assert_eq!(response.status, 200);
    assert_eq!(
        response.body,
        json!({"status": "ok", "contacts": [], "page_num": 1, "page_size": 20, "total": 0,
            "total_pages": 0})
    );
}

#[tokio::test]
async fn page_parameters_out_of_range_are_refused() {
    let (t, ann) = app_with_ann().await;
    let book = Book(&t);

    for query in [
        "page_num=0",
        "page_size=0",
        "page_size=101",
        "page_num=x",
        "page_size=2.5",
    ] {
        let response = book.list(&ann, query).await;
        assert_eq!(response.status, 400, "{query}");
        assert_eq!(response.error_code(), "validation_failed");
    }
    let both = book.list(&ann, "page_num=0&page_size=101").await;
    assert_eq!(
        both.body["fields"],
        json!({"page_num": ["must be an integer from 1 to 2147483647"],
            "page_size": ["must be an integer from 1 to 100"]})
    );
}

/// Ann's address book for the search tests; returns the ids by first name.
async fn search_fixture(book: &Book<'_>, token: &str) -> std::collections::HashMap<String, i64> {
    let mut ids = std::collections::HashMap::new();
    for (first, last, email) in [
        ("Anna", "Smith", Some("anna@mail.com")),
        ("Hanna", "Jones", Some("hj@work.org")),
        ("Bob", "Annandale", None),
        ("Carol", "King", Some("carol.ANNE@mail.com")),
        ("Жанна", "Иванова", Some("zhanna@mail.ru")),
        ("Dave", "Smithson", Some("dave@work.org")),
    ] {
        let contact = book
            .add(
                token,
                json!({"first_name": first, "last_name": last, "email": email}),
            )
            .await;
        ids.insert(first.to_owned(), contact["id"].as_i64().unwrap());
    }
    ids
}

#[tokio::test]
async fn filters_are_case_insensitive_substrings_combined_with_and() {
    let (t, ann) = app_with_ann().await;
    let book = Book(&t);
    let by_name = search_fixture(&book, &ann).await;
    let expect = |names: &[&str]| -> Vec<i64> {
        let mut ids: Vec<i64> = names.iter().map(|n| by_name[*n]).collect();
        ids.sort();
        ids
    };

    let cases: [(&str, &[&str]); 9] = [
        ("first_name=ANN", &["Anna", "Hanna"]),
        ("last_name=smith", &["Anna", "Dave"]),
        ("email=WORK.org", &["Hanna", "Dave"]),
        ("first_name=a&last_name=smith", &["Anna", "Dave"]),
        ("first_name=ann&last_name=smith", &["Anna"]),
        ("first_name=ann&email=work", &["Hanna"]),
        ("first_name=ЖАН", &["Жанна"]),
        ("first_name=zzz", &[]),
        (
            "first_name=&last_name= ",
            &["Anna", "Hanna", "Bob", "Carol", "Жанна", "Dave"],
        ),
    ];
    for (query, names) in cases {
        let response = book.list(&ann, query).await;
        assert_eq!(response.status, 200, "{query}: {}", response.body);
        assert_eq!(ids(&response), expect(names), "{query}");
        assert_eq!(response.body["total"], names.len(), "{query}");
    }
}

#[tokio::test]
async fn q_matches_first_name_last_name_or_email() {
    let (t, ann) = app_with_ann().await;
    let book = Book(&t);
    let by_name = search_fixture(&book, &ann).await;

    let found = book.list(&ann, "q=ann&page_size=2").await;
    let narrowed = book.list(&ann, "q=ann&email=mail.com").await;

    // "ann" is in Anna, Hanna (first names), Annandale (a last name), carol.anne@ and
    // zhanna@ (emails); not in Dave Smithson.
    let mut all = [
        by_name["Anna"],
        by_name["Hanna"],
        by_name["Bob"],
        by_name["Carol"],
        by_name["Жанна"],
    ];
    all.sort();
    assert_eq!(ids(&found), all[..2]);
    assert_eq!(
        (&found.body["total"], &found.body["total_pages"]),
        (&json!(5), &json!(3))
    );
    assert_eq!(ids(&narrowed), [by_name["Anna"], by_name["Carol"]]);
}

#[tokio::test]
async fn percent_underscore_and_backslash_in_a_search_are_literal() {
    let (t, ann) = app_with_ann().await;
    let book = Book(&t);
    let mut by_name = std::collections::HashMap::new();
    for (first, last) in LIKE_METACHARACTER_NAMES {
        let contact = book
            .add(&ann, json!({"first_name": first, "last_name": last}))
            .await;
        by_name.insert(first, contact["id"].as_i64().unwrap());
    }

    for (query, expected) in [
        ("q=%", vec!["100%"]),
        ("first_name=0%", vec!["100%"]),
        ("q=_", vec!["snake_case"]),
        ("first_name=e_c", vec!["snake_case"]),
        ("q=\\", vec!["C:\\Users"]),
        ("first_name=:\\U", vec!["C:\\Users"]),
    ] {
        let response = book.list(&ann, query).await;
        assert_eq!(response.status, 200, "{query}: {}", response.body);
        let expected: Vec<i64> = expected.iter().map(|name| by_name[name]).collect();
        assert_eq!(ids(&response), expected, "{query}");
    }
}

#[tokio::test]
async fn search_terms_are_bounded_and_free_of_control_characters() {
    let (t, ann) = app_with_ann().await;
    let book = Book(&t);

    let longest = book.list(&ann, &format!("q={}", "a".repeat(254))).await;
    let too_long = book
        .list(
            &ann,
            &format!("q={}&email={}", "a".repeat(255), "b".repeat(300)),
        )
        .await;
    let nul = book.list(&ann, "first_name=a\u{0}b").await;

    assert_eq!(longest.status, 200);
    assert_eq!(too_long.status, 400);
    assert_eq!(
        too_long.body["fields"],
        json!({"q": ["must be at most 254 characters"],
            "email": ["must be at most 254 characters"]})
    );
    assert_eq!(nul.status, 400);
    assert_eq!(
        nul.body["fields"]["first_name"],
        json!(["must not contain control characters"])
    );
}
