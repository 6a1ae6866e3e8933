//! Forged and misused tokens, each refused with 401 `invalid_token` by a real handler.
//! (Expired tokens, wrong issuer, refresh-as-access and back, revoked sessions and deleted
//! users are covered beside the routes: get_me.rs, refresh.rs, logout.rs.)

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use latchkey_tests::TestApp;
use serde_json::{Value, json};
use shared::auth::tokens::Claims;

use crate::{Api, access_claims, signed};

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

fn parts(token: &str) -> (Value, Value, String) {
    let mut it = token.split('.');
    let mut decode =
        || serde_json::from_slice(&URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap()).unwrap();
    let (header, payload) = (decode(), decode());
    (
        header,
        payload,
        token.rsplit('.').next().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn an_unsigned_alg_none_token_is_refused() {
    let t = TestApp::new().await;
    let session = Api(&t).sign_up("mallory").await;
    let (_, payload, _) = parts(&session.access_token());
    for header in [
        json!({"alg": "none", "typ": "JWT"}),
        json!({"alg": "None"}),
        json!({"alg": "NONE"}),
    ] {
        let forged = format!("{}.{}.", b64(&header), b64(&payload));
        Api(&t).me(&forged).await.assert_invalid_token();
    }
}

#[tokio::test]
async fn a_tampered_payload_is_refused() {
    let t = TestApp::new().await;
    let victim = Api(&t).sign_up("victim").await;
    let attacker = Api(&t).sign_up("attacker").await;
    let (header, mut payload, signature) = parts(&attacker.access_token());
    let victim_id = victim.body["user"]["id"].as_i64().unwrap();
    payload["user_id"] = json!(victim_id);
    payload["sub"] = json!(victim_id.to_string());
    payload["role"] = json!("admin");
    let forged = format!("{}.{}.{}", b64(&header), b64(&payload), signature);
    Api(&t).me(&forged).await.assert_invalid_token();
}

#[tokio::test]
async fn a_truncated_or_stripped_signature_is_refused() {
    let t = TestApp::new().await;
    let token = Api(&t).sign_up("trunc").await.access_token();
    let (head, signature) = token.rsplit_once('.').unwrap();
    for forged in [
        format!("{head}.{}", &signature[..signature.len() - 1]),
        format!("{head}.{}", &signature[..10]),
        format!("{head}."),
        head.to_owned(),
        format!("{token}.extra"),
    ] {
        Api(&t).me(&forged).await.assert_invalid_token();
    }
}

/// Asserts that `GET /users/me` refuses `claims` though they are validly signed.
async fn assert_refused(t: &TestApp, claims: &Claims) {
    Api(t)
        .me(&signed(&t.app, claims))
        .await
        .assert_invalid_token();
}

#[tokio::test]
async fn a_token_for_another_audience_or_none_is_refused_when_an_audience_is_configured() {
    let t = TestApp::with_env(&[("JWT_AUDIENCE", "latchkey-api")]).await;
    let session = Api(&t).sign_up("aud").await;
    assert_eq!(Api(&t).me(&session.access_token()).await.status, 200);
    let mut claims = access_claims(&t.app, &session.access_token());
    claims.aud = Some("another-api".into());
    assert_refused(&t, &claims).await;
    claims.aud = None;
    assert_refused(&t, &claims).await;
}

#[tokio::test]
async fn a_validly_signed_token_naming_another_user_s_session_is_refused() {
    let t = TestApp::new().await;
    let ann = Api(&t).sign_up("ann").await;
    let bob = Api(&t).sign_up("bob").await;
    let bob_claims = access_claims(&t.app, &bob.access_token());
    let mut claims = access_claims(&t.app, &ann.access_token());
    claims.sid = bob_claims.sid;
    assert_refused(&t, &claims).await;
}

#[tokio::test]
async fn a_token_issued_in_the_future_is_not_yet_valid() {
    let t = TestApp::new().await;
    let session = Api(&t).sign_up("future").await;
    let mut claims = access_claims(&t.app, &session.access_token());
    claims.iat += 3600;
    claims.exp += 3600;
    assert_refused(&t, &claims).await;
}
