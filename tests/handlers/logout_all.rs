use latchkey_tests::{TestApp, json};

use crate::{Api, PASSWORD};

#[tokio::test]
async fn logout_all_revokes_every_session_of_the_caller_and_only_theirs() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let (first, second) = api.sign_up_with_two_sessions("uma").await;
    let third = api.login("uma", PASSWORD).await;
    let stranger = api.sign_up("victor").await;

    let response = api.logout_all(&second.access_token()).await;
    assert_eq!(response.status, 200);
    assert_eq!(
        response.body,
        json!({"status": "ok", "revoked_sessions": 3})
    );

    for session in [&first, &second, &third] {
        assert_eq!(api.me(&session.access_token()).await.status, 401);
        assert_eq!(api.refresh(&session.refresh_token()).await.status, 401);
    }
    assert_eq!(api.me(&stranger.access_token()).await.status, 200);
    let again = api.login("uma", PASSWORD).await;
    assert_eq!(
        api.me(&again.access_token()).await.status,
        200,
        "logging in again works"
    );
}

#[tokio::test]
async fn logout_all_needs_a_live_access_token() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let session = api.sign_up("wendy").await;
    assert_eq!(
        api.logout_all(&session.refresh_token()).await.error_code(),
        "invalid_token"
    );
    api.logout_all(&session.access_token()).await;
    let after = api.logout_all(&session.access_token()).await;
    after.assert_error(401, "invalid_token");
    let request = latchkey_tests::req::post("/auth/logout-all", &json!({}));
    let anonymous = t.respond(::logout_all::handler(&t.app, request).await);
    anonymous.assert_error(401, "missing_token");
}
