use lambda_http::http::Method;
use latchkey_tests::{TestApp, json, req};

use crate::Api;

async fn logout(t: &TestApp, request: lambda_http::Request) -> latchkey_tests::TestResponse {
    t.respond(::logout::handler(&t.app, request).await)
}

#[tokio::test]
async fn logging_out_with_the_refresh_token_revokes_that_session_at_once() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let (session, other) = api.sign_up_with_two_sessions("nora").await;

    let response = logout(
        &t,
        req::post(
            "/auth/logout",
            &json!({"refresh_token": session.refresh_token()}),
        ),
    )
    .await;
    assert_eq!(response.status, 200);
    assert_eq!(response.body, json!({"status": "ok"}));

    let me = api.me(&session.access_token()).await;
    assert_eq!(me.status, 401, "the access token dies before it expires");
    assert_eq!(me.error_code(), "invalid_token");
    assert_eq!(
        api.refresh(&session.refresh_token()).await.error_code(),
        "invalid_token"
    );
    assert_eq!(
        api.me(&other.access_token()).await.status,
        200,
        "other sessions live on"
    );
}

#[tokio::test]
async fn logging_out_with_a_bearer_access_token_revokes_its_session() {
    let t = TestApp::new().await;
    let session = Api(&t).sign_up("oscar").await;
    let response = logout(
        &t,
        req::bearer(
            req::raw(Method::POST, "/auth/logout", String::new()),
            &session.access_token(),
        ),
    )
    .await;
    assert_eq!(response.status, 200);
    assert_eq!(Api(&t).me(&session.access_token()).await.status, 401);
    assert_eq!(Api(&t).refresh(&session.refresh_token()).await.status, 401);
}

#[tokio::test]
async fn logging_out_twice_is_still_ok() {
    let t = TestApp::new().await;
    let session = Api(&t).sign_up("pam").await;
    let body = json!({"refresh_token": session.refresh_token()});
    assert_eq!(
        logout(&t, req::post("/auth/logout", &body)).await.status,
        200
    );
    assert_eq!(
        logout(&t, req::post("/auth/logout", &body)).await.status,
        200
    );
    let by_access = req::bearer(
        req::post("/auth/logout", &json!({})),
        &session.access_token(),
    );
    assert_eq!(
        logout(&t, by_access).await.status,
        200,
        "revoked by either token: still 200"
    );
}

#[tokio::test]
async fn tokens_that_do_not_verify_are_refused() {
    let t = TestApp::new().await;
    let session = Api(&t).sign_up("quinn").await;
    // A refresh token presented as the Bearer access token, and the reverse.
    let swapped = req::bearer(
        req::post("/auth/logout", &json!({})),
        &session.refresh_token(),
    );
    let response = logout(&t, swapped).await;
    response.assert_error(401, "invalid_token");
    let swapped = req::post(
        "/auth/logout",
        &json!({"refresh_token": session.access_token()}),
    );
    assert_eq!(logout(&t, swapped).await.error_code(), "invalid_token");
    let garbage = req::post("/auth/logout", &json!({"refresh_token": "garbage"}));
    assert_eq!(logout(&t, garbage).await.error_code(), "invalid_token");
    assert_eq!(
        Api(&t).me(&session.access_token()).await.status,
        200,
        "nothing was revoked"
    );
}

#[tokio::test]
async fn without_any_token_logout_is_missing_token() {
    let t = TestApp::new().await;
    for request in [
        req::raw(Method::POST, "/auth/logout", String::new()),
        req::post("/auth/logout", &json!({})),
        req::authorization(req::post("/auth/logout", &json!({})), "Basic dXNlcjpwYXNz"),
    ] {
        let response = logout(&t, request).await;
        assert_eq!(response.status, 401);
        assert_eq!(response.error_code(), "missing_token");
        assert_eq!(response.header("www-authenticate"), Some("Bearer"));
    }
    let mistyped = logout(&t, req::post("/auth/logout", &json!({"refresh_token": 7}))).await;
    mistyped.assert_error(400, "invalid_json");
}
