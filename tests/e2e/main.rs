//! End-to-end tests: real HTTP against the local stack (`cargo lambda watch` on
//! `LATCHKEY_E2E_URL`, real Postgres), as a client of the API would use it.

mod contacts;
mod idle;
mod mail;
mod mfa;
mod users;

use latchkey_tests::{
    Http, TestResponse, assert_contract_headers, assert_contract_response, json, unique,
};
use reqwest::Method;

const PASSWORD: &str = "e2e password 123";

#[tokio::test]
async fn health_answers_without_a_token() {
    let response = Http::new().get("/health", None).await;
    assert_contract_response(&response, 200);
    assert_eq!(response.body["status"], "ok");
    assert_eq!(response.body["database"], "ok");
    assert!(response.body["version"].is_string());
}

#[tokio::test]
async fn a_new_user_registers_logs_in_by_each_identifier_refreshes_and_logs_out() {
    let http = Http::new();
    let id = unique();
    let (login, email) = (format!("e2e_{id}"), format!("E2E_{id}@Example.com"));
    let phone = format!(
        "+1555{}",
        &id.chars()
            .filter(char::is_ascii_digit)
            .chain("1234567".chars())
            .take(7)
            .collect::<String>()
    );

    let registered = http
        .register(json!({"login": login, "email": email, "phone": phone,
            "password": PASSWORD, "name": "E2E"}))
        .await;
    assert_contract_headers(&registered);
    assert_eq!(registered.body["user"]["email"], email.to_lowercase());
    assert_eq!(registered.body["token_type"], "Bearer");

    for identifier in [login.as_str(), &email.to_uppercase(), phone.as_str()] {
        let response = http.login(identifier, PASSWORD).await;
        assert_eq!(response.status, 200, "{identifier}: {}", response.body);
        assert_eq!(response.body["user"]["login"], login.as_str());
    }

    let me = http.me(&registered.access_token()).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["user"], registered.body["user"]);

    let refreshed = http.refresh(&registered.refresh_token()).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    assert_eq!(http.me(&refreshed.access_token()).await.status, 200);

    let logout = http
        .post(
            "/auth/logout",
            json!({"refresh_token": refreshed.refresh_token()}),
        )
        .await;
    assert_eq!(
        (logout.status, &logout.body),
        (200, &json!({"status": "ok"}))
    );
    for token in [refreshed.access_token(), registered.access_token()] {
        let refused = http.me(&token).await;
        refused.assert_invalid_token();
    }
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_the_session() {
    let http = Http::new();
    let registered = http
        .post(
            "/auth/register",
            json!({"login": format!("reuse_{}", unique()), "password": PASSWORD}),
        )
        .await;
    let rotated = http.refresh(&registered.refresh_token()).await;
    assert_eq!(rotated.status, 200);
    let reused = http.refresh(&registered.refresh_token()).await;
    assert_eq!(reused.status, 401);
    assert_eq!(reused.error_code(), "token_reused");
    assert_eq!(http.me(&rotated.access_token()).await.status, 401);
    let newest = http.refresh(&rotated.refresh_token()).await;
    assert_eq!(newest.error_code(), "invalid_token");
}

#[tokio::test]
async fn logout_all_ends_every_session_and_logout_by_bearer_ends_one() {
    let http = Http::new();
    let login = format!("all_{}", unique());
    let first = http
        .post(
            "/auth/register",
            json!({"login": login, "password": PASSWORD}),
        )
        .await;
    let second = http.login(&login, PASSWORD).await;
    let third = http.login(&login, PASSWORD).await;

    let one = http
        .post_auth("/auth/logout", &third.access_token(), None)
        .await;
    assert_eq!(one.status, 200);
    assert_eq!(http.me(&third.access_token()).await.status, 401);
    assert_eq!(http.me(&first.access_token()).await.status, 200);

    let all = http
        .post_auth("/auth/logout-all", &second.access_token(), None)
        .await;
    assert_eq!(all.status, 200);
    assert_eq!(all.body, json!({"status": "ok", "revoked_sessions": 2}));
    for session in [&first, &second] {
        assert_eq!(http.me(&session.access_token()).await.status, 401);
    }
}

#[tokio::test]
async fn error_paths_answer_with_the_contract_error_body() {
    let http = Http::new();
    let taken = format!("dup_{}", unique());
    http.post(
        "/auth/register",
        json!({"login": taken, "password": PASSWORD}),
    )
    .await;

    let cases: Vec<(TestResponse, u16, &str)> = vec![
        (
            http.send(
                Method::POST,
                "/auth/register",
                None,
                Some("{not json".into()),
            )
            .await,
            400,
            "invalid_json",
        ),
        (
            http.post("/auth/register", json!({"login": 42, "password": PASSWORD}))
                .await,
            400,
            "invalid_json",
        ),
        (
            http.post("/auth/register", json!({"email": "nope", "password": "x"}))
                .await,
            400,
            "validation_failed",
        ),
        (
            http.post(
                "/auth/register",
                json!({"login": taken.to_uppercase(), "password": PASSWORD}),
            )
            .await,
            409,
            "user_exists",
        ),
        (
            http.post(
                "/auth/register",
                json!({"login": "big", "password": PASSWORD, "name": "n".repeat(70_000)}),
            )
            .await,
            413,
            "payload_too_large",
        ),
        (
            http.login(&taken, "Wr0ng-Passw0rd!").await,
            401,
            "invalid_credentials",
        ),
        (
            http.post(
                "/auth/login",
                json!({"login": format!("ghost_{}", unique()), "password": "Wr0ng-Passw0rd!"}),
            )
            .await,
            401,
            "invalid_credentials",
        ),
        (
            http.post("/auth/refresh", json!({"refresh_token": "garbage"}))
                .await,
            401,
            "invalid_token",
        ),
        (
            http.post("/auth/refresh", json!({})).await,
            400,
            "validation_failed",
        ),
        (http.get("/users/me", None).await, 401, "missing_token"),
        (
            http.get("/users/me", Some("garbage")).await,
            401,
            "invalid_token",
        ),
        (
            http.send(Method::POST, "/auth/logout", None, None).await,
            401,
            "missing_token",
        ),
        (
            http.post_auth("/auth/logout-all", "garbage", None).await,
            401,
            "invalid_token",
        ),
    ];
    for (response, status, code) in cases {
        assert_eq!(response.status, status, "{code}: {}", response.body);
        assert_eq!(response.error_code(), code);
        assert_contract_headers(&response);
        assert!(response.body.get("request_id").is_none());
        let text = response.body.to_string();
        assert!(!text.contains(PASSWORD) && !text.contains("Wr0ng-Passw0rd!"));
    }
}

#[tokio::test]
async fn repeated_failures_lock_the_account_with_retry_after() {
    let http = Http::new();
    let login = format!("lock_{}", unique());
    http.post(
        "/auth/register",
        json!({"login": login, "password": PASSWORD}),
    )
    .await;
    for _ in 0..5 {
        let failed = http.login(&login, "Wr0ng-Passw0rd!").await;
        assert_eq!(failed.status, 401);
    }
    let locked = http.login(&login, PASSWORD).await;
    assert_eq!(locked.status, 429);
    assert_eq!(locked.error_code(), "too_many_attempts");
    let retry: u64 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=30).contains(&retry), "{retry}");
}
