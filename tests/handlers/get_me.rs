use latchkey_tests::{TestApp, req};

use crate::{Api, access_claims, assert_contract_response, signed};

#[tokio::test]
async fn the_caller_sees_their_full_user() {
    let t = TestApp::new().await;
    let registered = Api(&t).sign_up("rita").await;
    let me = Api(&t).me(&registered.access_token()).await;
    assert_contract_response(&me, 200);
    assert_eq!(me.body["status"], "ok");
    assert_eq!(me.body["user"], registered.body["user"]);
}

#[tokio::test]
async fn no_or_malformed_authorization_is_missing_token() {
    let t = TestApp::new().await;
    for value in [
        None,
        Some("Basic abc"),
        Some("Bearer"),
        Some("Bearer    "),
        Some("token"),
    ] {
        let request = match value {
            Some(value) => req::authorization(req::get("/users/me"), value),
            None => req::get("/users/me"),
        };
        let response = t.respond(::get_me::handler(&t.app, request).await);
        assert_eq!(response.status, 401, "{value:?}");
        assert_eq!(response.error_code(), "missing_token");
        assert_eq!(response.header("www-authenticate"), Some("Bearer"));
    }
}

#[tokio::test]
async fn invalid_expired_or_orphaned_tokens_are_invalid_token() {
    let t = TestApp::new().await;
    let registered = Api(&t).sign_up("sam").await;
    let mut claims = access_claims(&t.app, &registered.access_token());
    let mut expired = claims.clone();
    expired.exp = chrono::Utc::now().timestamp() - 1;
    claims.sid = uuid::Uuid::new_v4();
    let unknown_session = signed(&t.app, &claims);
    let expired = signed(&t.app, &expired);
    let mut other_issuer = access_claims(&t.app, &registered.access_token());
    other_issuer.iss = "https://someone-else.example".into();
    let foreign_issuer = signed(&t.app, &other_issuer);
    for token in [
        "not-a-jwt",
        &registered.refresh_token(),
        &unknown_session,
        &expired,
        &foreign_issuer,
    ] {
        let response = Api(&t).me(token).await;
        assert_eq!(response.status, 401);
        assert_eq!(response.error_code(), "invalid_token");
    }
}

#[tokio::test]
async fn a_deleted_user_s_token_is_refused_at_once() {
    let t = TestApp::new().await;
    let registered = Api(&t).sign_up("tom").await;
    t.sql()
        .await
        .execute("DELETE FROM users", &[])
        .await
        .unwrap();
    let response = Api(&t).me(&registered.access_token()).await;
    response.assert_error(401, "invalid_token");
}
