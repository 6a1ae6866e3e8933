use lambda_http::http::Method;
use latchkey_tests::{TestApp, json};

use crate::{Api, PASSWORD, user_id};

#[tokio::test]
async fn a_user_changes_their_profile_with_their_password() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let ann = api.sign_up("ann").await;
    let id = user_id(&ann);
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let response = api
        .update_user(&ann.access_token(), id, json!({"current_password": PASSWORD,
            "name": "Ann A.", "login": "annie", "email": "Ann@Example.com", "phone": "+15550009999"}))
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    let user = &response.body["user"];
    assert_eq!(
        (user["name"].as_str(), user["login"].as_str()),
        (Some("Ann A."), Some("annie"))
    );
    assert_eq!(
        (user["email"].as_str(), user["phone"].as_str()),
        (Some("ann@example.com"), Some("+15550009999"))
    );
    assert_ne!(
        user["updated_at"], ann.body["user"]["updated_at"],
        "updated_at moves"
    );
    assert_eq!(user["created_at"], ann.body["user"]["created_at"]);
    assert!(
        response.body.get("access_token").is_none(),
        "no new pair without a password change"
    );

    assert_eq!(api.login("annie", PASSWORD).await.status, 200);
    assert_eq!(api.login("ann@example.com", PASSWORD).await.status, 200);
    assert_eq!(
        api.login("ann", PASSWORD).await.status,
        401,
        "the old login is free now"
    );
    assert_eq!(
        api.me(&ann.access_token()).await.status,
        200,
        "sessions survive a profile change"
    );
}

#[tokio::test]
async fn null_clears_email_phone_and_name_but_not_login_or_password() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let bob = api
        .register(
            json!({"login": "bob", "email": "bob@example.com", "phone": "+15550001234",
            "name": "Bob", "password": PASSWORD}),
        )
        .await;
    let cleared = api
        .update_self(
            &bob,
            json!({"current_password": PASSWORD,
            "email": null, "phone": null, "name": null}),
        )
        .await;
    assert_eq!(cleared.status, 200, "{}", cleared.body);
    let user = &cleared.body["user"];
    assert!(user["email"].is_null() && user["phone"].is_null() && user["name"].is_null());
    assert_eq!(
        api.register(json!({"login": "bob2", "email": "bob@example.com", "password": PASSWORD}))
            .await
            .status,
        201,
        "a cleared email is free again"
    );

    let refused = api
        .update_self(
            &bob,
            json!({"current_password": PASSWORD,
            "login": null, "password": null}),
        )
        .await;
    assert_eq!(refused.status, 400);
    assert_eq!(
        refused.body["fields"]["login"],
        json!(["cannot be removed"])
    );
    assert_eq!(
        refused.body["fields"]["password"],
        json!(["cannot be removed"])
    );
}

#[tokio::test]
async fn changing_the_password_revokes_every_session_and_returns_a_fresh_pair() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let (first, second) = api.sign_up_with_two_sessions("cyd").await;
    let response = api
        .update_self(
            &first,
            json!({"current_password": PASSWORD, "password": "a brand new password"}),
        )
        .await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.body["token_type"], "Bearer");
    for old in [&first, &second] {
        assert_eq!(api.me(&old.access_token()).await.status, 401);
        assert_eq!(api.refresh(&old.refresh_token()).await.status, 401);
    }
    assert_eq!(api.me(&response.access_token()).await.status, 200);
    assert_eq!(api.refresh(&response.refresh_token()).await.status, 200);
    assert_eq!(api.login("cyd", PASSWORD).await.status, 401);
    assert_eq!(api.login("cyd", "a brand new password").await.status, 200);
}

#[tokio::test]
async fn the_current_password_is_required_and_must_be_right() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let dee = api.sign_up("dee").await;
    let id = user_id(&dee);
    let missing = api
        .update_user(&dee.access_token(), id, json!({"name": "Dee"}))
        .await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.error_code(), "validation_failed");
    assert_eq!(
        missing.body["fields"]["current_password"],
        json!(["is required"])
    );

    let wrong = api
        .update_user(
            &dee.access_token(),
            id,
            json!({"current_password": "nope nope", "name": "X"}),
        )
        .await;
    wrong.assert_error(403, "wrong_password");
    let me = api.me(&dee.access_token()).await;
    assert_eq!(
        me.body["user"]["name"],
        serde_json::Value::Null,
        "nothing changed"
    );
}

#[tokio::test]
async fn guessing_the_current_password_is_throttled_like_login() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let eve = api.sign_up("eve").await;
    for _ in 0..5 {
        let wrong = api
            .update_self(
                &eve,
                json!({"current_password": "guess guess", "name": "E"}),
            )
            .await;
        assert_eq!(wrong.status, 403);
    }
    let locked = api
        .update_self(&eve, json!({"current_password": PASSWORD, "name": "E"}))
        .await;
    locked.assert_error(429, "too_many_attempts");
    assert!(locked.header("retry-after").is_some());
    assert_eq!(
        api.login("eve", PASSWORD).await.status,
        429,
        "the same lock as login"
    );
}

#[tokio::test]
async fn nobody_changes_someone_else_except_an_admin_setting_name_and_role() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let fay = api.sign_up("fay").await;
    let gus = api.sign_up("gus").await;
    let forbidden = api
        .update_user(
            &gus.access_token(),
            user_id(&fay),
            json!({"current_password": PASSWORD, "name": "Hacked"}),
        )
        .await;
    forbidden.assert_error(403, "forbidden");

    let admin = api.admin("root").await;
    let promoted = api
        .update_user(
            &admin.access_token(),
            user_id(&fay),
            json!({"name": "Fay", "role": "admin"}),
        )
        .await;
    assert_eq!(promoted.status, 200, "{}", promoted.body);
    assert_eq!(
        (
            promoted.body["user"]["name"].as_str(),
            promoted.body["user"]["role"].as_str()
        ),
        (Some("Fay"), Some("admin"))
    );
    // Her tokens carried the old role: the role change ended her sessions (API.md). Signed
    // in again, she has the new one.
    api.me(&fay.access_token()).await.assert_invalid_token();
    let fay = api.login("fay", PASSWORD).await;
    let seen = api
        .get_user(&fay.access_token(), &user_id(&gus).to_string())
        .await;
    assert_eq!(
        seen.body["user"].as_object().unwrap().len(),
        12,
        "fay now sees full objects"
    );

    for body in [
        json!({"email": "x@example.com"}),
        json!({"password": "new password 1"}),
        json!({"login": "newlogin"}),
        json!({"phone": "+15550004444"}),
    ] {
        let response = api
            .update_user(&admin.access_token(), user_id(&gus), body.clone())
            .await;
        assert_eq!(
            (response.status, response.error_code()),
            (403, "forbidden"),
            "{body}"
        );
    }
    let missing = api
        .update_user(&admin.access_token(), 999_999, json!({"name": "Nobody"}))
        .await;
    missing.assert_error(404, "not_found");
    let bad_role = api
        .update_user(
            &admin.access_token(),
            user_id(&gus),
            json!({"role": "superuser"}),
        )
        .await;
    bad_role.assert_error(400, "validation_failed");
}

#[tokio::test]
async fn a_user_cannot_make_themself_admin() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let hal = api.sign_up("hal").await;
    let response = api
        .update_self(&hal, json!({"current_password": PASSWORD, "role": "admin"}))
        .await;
    response.assert_error(403, "forbidden");
}

#[tokio::test]
async fn a_taken_identifier_is_a_conflict_and_changes_nothing() {
    let t = TestApp::new().await;
    let api = Api(&t);
    api.register(json!({"login": "ida", "email": "ida@example.com", "password": PASSWORD}))
        .await;
    let jon = api.sign_up("jon").await;
    for body in [
        json!({"login": "IDA"}),
        json!({"email": "IDA@example.com"}),
        json!({"login": "ida@example.com"}),
    ] {
        let mut body = body;
        body["current_password"] = json!(PASSWORD);
        body["name"] = json!("Changed");
        let response = api.update_self(&jon, body.clone()).await;
        assert_eq!(
            (response.status, response.error_code()),
            (409, "user_exists"),
            "{body}"
        );
    }
    let me = api.me(&jon.access_token()).await;
    assert_eq!(me.body["user"], jon.body["user"], "not half-written");
}

#[tokio::test]
async fn bad_values_and_bad_json_are_client_errors() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let kai = api.sign_up("kai").await;
    let invalid = api
        .update_self(&kai, json!({"current_password": PASSWORD,
            "email": "nope", "phone": "123", "login": "a b", "password": "short", "name": "n".repeat(101)}))
        .await;
    assert_eq!(invalid.status, 400);
    let fields = invalid.body["fields"].as_object().unwrap();
    for field in ["email", "phone", "login", "password", "name"] {
        assert!(fields.contains_key(field), "{field}");
    }
    let mistyped = api
        .update_self(&kai, json!({"current_password": PASSWORD, "name": 5}))
        .await;
    mistyped.assert_error(400, "invalid_json");

    let request = latchkey_tests::req::raw(Method::PUT, "/users/x", "{oops".into());
    let request = latchkey_tests::req::bearer(request, &kai.access_token());
    let request = latchkey_tests::req::path_param(request, "id", &user_id(&kai).to_string());
    let response = t.respond(::update_user::handler(&t.app, request).await);
    response.assert_error(400, "invalid_json");
}
