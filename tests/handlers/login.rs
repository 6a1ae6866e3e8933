use latchkey_tests::{TestApp, json};

use crate::{Api, PASSWORD, assert_contract_headers, count_rows, only_password_hash};

#[tokio::test]
async fn a_user_logs_in_with_login_email_or_phone_in_any_case() {
    let t = TestApp::new().await;
    let api = Api(&t);
    api.sign_up_with_email_and_phone("Carol", "carol@example.com", "+15550003333")
        .await;
    for identifier in [
        "Carol",
        "carol",
        " CAROL ",
        "carol@example.com",
        "Carol@Example.com",
        "+15550003333",
        "+1 555 000 3333",
    ] {
        let response = api.login(identifier, PASSWORD).await;
        assert_eq!(response.status, 200, "{identifier}: {}", response.body);
        assert_contract_headers(&response);
        assert_eq!(response.body["user"]["login"], "Carol");
        assert_eq!(response.body["token_type"], "Bearer");
        assert_eq!(api.me(&response.access_token()).await.status, 200);
    }
}

#[tokio::test]
async fn an_unknown_login_and_a_wrong_password_get_the_same_answer() {
    let t = TestApp::new().await;
    let api = Api(&t);
    api.sign_up("dave").await;
    let wrong_password = api.login("dave", "not the password").await;
    let unknown_login = api.login("nobody-here", PASSWORD).await;
    assert_eq!(wrong_password.status, 401);
    assert_eq!(wrong_password.error_code(), "invalid_credentials");
    assert_eq!(wrong_password.body, unknown_login.body);
    assert_eq!(wrong_password.status, unknown_login.status);
    assert_eq!(wrong_password.headers, unknown_login.headers);
}

#[tokio::test]
async fn each_login_opens_its_own_session() {
    let t = TestApp::new().await;
    let api = Api(&t);
    api.sign_up("erin").await;
    let first = api.login("erin", PASSWORD).await;
    let second = api.login("erin", PASSWORD).await;
    let sessions = count_rows(&t, "sessions").await;
    assert_eq!(sessions, 3, "register + two logins");
    assert_ne!(first.access_token(), second.access_token());
}

#[tokio::test]
async fn five_failures_lock_the_account_and_the_lock_doubles() {
    let t = TestApp::new().await;
    let api = Api(&t);
    api.sign_up("frank").await;
    for attempt in 1..=5 {
        let response = api.login("frank", "wrong password").await;
        assert_eq!(response.status, 401, "attempt {attempt}");
    }
    // Locked: even the right password is refused, without being evaluated.
    let locked = api.login("frank", PASSWORD).await;
    assert_eq!(locked.status, 429);
    assert_eq!(locked.error_code(), "too_many_attempts");
    let retry: u64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!((29..=30).contains(&retry), "retry-after {retry}");

    // When the window has passed, one more failure locks again for twice as long.
    let sql = t.sql().await;
    sql.execute(
        "UPDATE login_locks SET locked_until = now() - interval '1 second'",
        &[],
    )
    .await
    .unwrap();
    assert_eq!(api.login("frank", "wrong again").await.status, 401);
    let relocked = api.login("frank", PASSWORD).await;
    assert_eq!(relocked.status, 429);
    let retry: u64 = relocked.header("retry-after").unwrap().parse().unwrap();
    assert!((59..=60).contains(&retry), "retry-after {retry}");

    // The window never exceeds 15 minutes.
    sql.execute(
        "UPDATE login_locks SET failures = 20, locked_until = NULL WHERE ip <> '*'",
        &[],
    )
    .await
    .unwrap();
    api.login("frank", "wrong").await;
    let capped = api.login("frank", PASSWORD).await;
    let retry: u64 = capped.header("retry-after").unwrap().parse().unwrap();
    assert!((899..=900).contains(&retry), "retry-after {retry}");
}

#[tokio::test]
async fn a_successful_login_resets_the_failure_count() {
    let t = TestApp::new().await;
    let api = Api(&t);
    api.sign_up("gina").await;
    for _ in 0..4 {
        api.login("gina", "wrong password").await;
    }
    assert_eq!(api.login("gina", PASSWORD).await.status, 200);
    let row = count_rows(&t, "login_locks").await;
    assert_eq!(row, 0, "the count is given back");
    for _ in 0..4 {
        assert_eq!(api.login("gina", "wrong password").await.status, 401);
    }
    assert_eq!(
        api.login("gina", PASSWORD).await.status,
        200,
        "four new failures do not lock"
    );
}

#[tokio::test]
async fn a_hash_with_weaker_parameters_is_replaced_at_the_next_login() {
    let t = TestApp::with_env(&[("SCRYPT_LOG_N", "8")]).await;
    Api(&t).sign_up("henry").await;
    let stronger = t.reconfigured(&[("SCRYPT_LOG_N", "10")]);
    let request = latchkey_tests::req::post(
        "/auth/login",
        &json!({"login": "henry", "password": PASSWORD}),
    );
    let response = t.respond(::login::handler(&stronger, request).await);
    assert_eq!(response.status, 200);
    let hash = only_password_hash(&t).await;
    assert!(hash.starts_with("$scrypt$ln=10,"), "{hash}");
    // And the new hash still verifies the same password.
    assert_eq!(Api(&t).login("henry", PASSWORD).await.status, 200);
}

#[tokio::test]
async fn missing_fields_are_validation_errors_and_wrong_types_invalid_json() {
    let t = TestApp::new().await;
    let request = latchkey_tests::req::post("/auth/login", &json!({"login": ""}));
    let response = t.respond(::login::handler(&t.app, request).await);
    assert_eq!(response.status, 400);
    assert_eq!(response.error_code(), "validation_failed");
    assert!(
        response.body["fields"]["login"].is_array()
            && response.body["fields"]["password"].is_array()
    );

    let request =
        latchkey_tests::req::post("/auth/login", &json!({"login": "x", "password": 123456}));
    let response = t.respond(::login::handler(&t.app, request).await);
    assert_eq!(response.status, 400);
    assert_eq!(response.error_code(), "invalid_json");
    assert!(!response.body.to_string().contains("123456"));
}

#[tokio::test]
async fn a_refused_login_carries_a_www_authenticate_challenge() {
    let t = TestApp::new().await;
    let api = Api(&t);
    api.sign_up("wanda").await;
    for refused in [
        api.login("wanda", "wrong password").await,
        api.login("nobody-at-all", "wrong password").await,
    ] {
        assert_eq!(refused.status, 401);
        assert_eq!(refused.error_code(), "invalid_credentials");
        let challenge = refused.header("www-authenticate");
        assert!(
            challenge.is_some_and(|c| c.starts_with("Bearer")),
            "{challenge:?}"
        );
    }
}
