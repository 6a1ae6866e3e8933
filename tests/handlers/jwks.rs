//! RS256 signing end to end: the JWKS and discovery routes, sessions that survive a key
//! rotation, and proof that an independent JWT library (jwt-compact, not jsonwebtoken)
//! verifies our tokens from the published JWKS alone, as API Gateway's JWT authorizer does.

use std::sync::LazyLock;

use jwt_compact::alg::Rsa;
use jwt_compact::jwk::JsonWebKey;
use jwt_compact::prelude::*;
use latchkey_tests::{TestApp, TestResponse, req};
use rsa::RsaPrivateKey;
use rsa::pkcs1::{EncodeRsaPrivateKey, LineEnding};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey};
use serde::Deserialize;
use serde_json::{Value, json};
use shared::App;

use crate::{Api, PASSWORD, access_claims, signed};

/// A TEST-ONLY RSA key pair, generated at test time: no key material in the repository.
struct TestKey {
    private_pkcs8: String,
    private_pkcs1: String,
    public_spki: String,
}

/// k1 (the first key), k2 (its successor) and a stranger's key.
static KEYS: LazyLock<[TestKey; 3]> = LazyLock::new(|| {
    std::array::from_fn(|_| {
        let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
        TestKey {
            private_pkcs8: key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
            private_pkcs1: key.to_pkcs1_pem(LineEnding::LF).unwrap().to_string(),
            public_spki: key
                .to_public_key()
                .to_public_key_pem(LineEnding::LF)
                .unwrap(),
        }
    })
});

const ISSUER: &str = "http://latchkey.test";

/// The RS256 variables of a deployment signing with `private_pem` as `kid`, also accepting
/// the `older` public keys.
fn rs256(kid: &str, private_pem: &str, older: &[(&str, &TestKey)]) -> Vec<(String, String)> {
    let public_keys: serde_json::Map<String, Value> = older
        .iter()
        .map(|(kid, key)| (kid.to_string(), key.public_spki.clone().into()))
        .collect();
    let mut vars = vec![
        ("JWT_ALGORITHM".into(), "RS256".into()),
        ("JWT_KEY_ID".into(), kid.into()),
        ("JWT_PRIVATE_KEY".into(), private_pem.into()),
    ];
    if !older.is_empty() {
        vars.push((
            "JWT_PUBLIC_KEYS".into(),
            Value::from(public_keys).to_string(),
        ));
    }
    vars
}

fn borrowed(vars: &[(String, String)]) -> Vec<(&str, &str)> {
    vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

async fn rs256_app(kid: &str, private_pem: &str, older: &[(&str, &TestKey)]) -> TestApp {
    TestApp::with_env(&borrowed(&rs256(kid, private_pem, older))).await
}

/// A redeploy of `t`'s stack (same database) with other signing keys.
fn redeployed(t: &TestApp, kid: &str, private_pem: &str, older: &[(&str, &TestKey)]) -> App {
    t.reconfigured(&borrowed(&rs256(kid, private_pem, older)))
}

async fn get(t: &TestApp, app: &App, path: &str) -> TestResponse {
    t.respond(::jwks::handler(app, req::get(path)).await)
}

async fn me(t: &TestApp, app: &App, access_token: &str) -> TestResponse {
    let request = req::bearer(req::get("/users/me"), access_token);
    t.respond(::get_me::handler(app, request).await)
}

async fn refresh(t: &TestApp, app: &App, refresh_token: &str) -> TestResponse {
    let request = req::post("/auth/refresh", &json!({"refresh_token": refresh_token}));
    t.respond(::refresh::handler(app, request).await)
}

fn kid_of(token: &str) -> String {
    UntrustedToken::new(token)
        .unwrap()
        .header()
        .key_id
        .clone()
        .unwrap_or_default()
}

fn kids(jwks: &Value) -> Vec<&str> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|key| key["kid"].as_str().unwrap())
        .collect()
}

fn assert_standard_document(response: &TestResponse) {
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(
        response.header("cache-control"),
        Some("public, max-age=300")
    );
    assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
    assert!(
        response.body.get("status").is_none(),
        "served without the envelope"
    );
}

#[tokio::test]
async fn under_hs256_the_jwks_is_empty_and_publicly_cacheable() {
    let t = TestApp::new().await;
    let response = get(&t, &t.app, "/.well-known/jwks.json").await;
    assert_standard_document(&response);
    assert_eq!(response.body, json!({"keys": []}));
    let discovery = get(&t, &t.app, "/.well-known/openid-configuration").await;
    assert_standard_document(&discovery);
    assert_eq!(
        discovery.body["id_token_signing_alg_values_supported"],
        json!(["HS256"])
    );
}

#[tokio::test]
async fn the_discovery_document_names_our_issuer_and_where_its_keys_are() {
    let t = rs256_app("k1", &KEYS[0].private_pkcs8, &[]).await;
    let response = get(&t, &t.app, "/.well-known/openid-configuration").await;
    assert_standard_document(&response);
    let doc = &response.body;
    assert_eq!(doc["issuer"], ISSUER);
    assert_eq!(doc["jwks_uri"], format!("{ISSUER}/.well-known/jwks.json"));
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    assert_eq!(doc["subject_types_supported"], json!(["public"]));
    assert!(doc["response_types_supported"].is_array());
    assert!(
        doc.get("authorization_endpoint").is_none(),
        "we have none, and say so by omission"
    );
    // The issuer is exactly the `iss` of the tokens we sign.
    let session = Api(&t).sign_up("iss-check").await;
    let claims = access_claims(&t.app, &session.access_token());
    assert_eq!(claims.iss, doc["issuer"].as_str().unwrap());
}

#[tokio::test]
async fn other_paths_are_not_found_and_a_stage_prefix_is_tolerated() {
    let t = TestApp::new().await;
    for path in [
        "/.well-known/nope",
        "/jwks.json",
        "/a/b/.well-known/jwks.json",
    ] {
        let response = get(&t, &t.app, path).await;
        assert_eq!(response.status, 404, "{path}");
        assert_eq!(response.error_code(), "not_found");
        assert_eq!(response.header("cache-control"), Some("no-store"));
    }
    let staged = get(&t, &t.app, "/prod/.well-known/jwks.json").await;
    assert_standard_document(&staged);
}

#[tokio::test]
async fn under_rs256_a_session_survives_a_key_rotation_until_the_old_key_is_dropped() {
    // Before: k1 signs.
    let t = rs256_app("k1", &KEYS[0].private_pkcs8, &[]).await;
    let registered = Api(&t).sign_up("rotor").await;
    let login = Api(&t).login("rotor", PASSWORD).await;
    assert_eq!(login.status, 200, "{}", login.body);
    let (old_access, old_refresh) = (login.access_token(), login.refresh_token());
    assert_eq!(kid_of(&old_access), "k1");
    assert_eq!(kid_of(&registered.access_token()), "k1");
    assert_eq!(me(&t, &t.app, &old_access).await.status, 200);
    let jwks = get(&t, &t.app, "/.well-known/jwks.json").await;
    assert_standard_document(&jwks);
    assert_eq!(kids(&jwks.body), ["k1"]);
    let k1 = &jwks.body["keys"][0];
    assert_eq!(
        (&k1["kty"], &k1["use"], &k1["alg"], &k1["e"]),
        (
            &json!("RSA"),
            &json!("sig"),
            &json!("RS256"),
            &json!("AQAB")
        )
    );

    // Rotation: k2 signs (given as PKCS#1 this time); k1's public key stays listed.
    let rotated = redeployed(&t, "k2", &KEYS[1].private_pkcs1, &[("k1", &KEYS[0])]);
    let jwks = get(&t, &rotated, "/.well-known/jwks.json").await;
    assert_eq!(kids(&jwks.body), ["k2", "k1"]);
    assert_eq!(jwks.body["keys"][1], *k1, "k1 is published unchanged");
    let me_before = me(&t, &rotated, &old_access).await;
    assert_eq!(me_before.status, 200, "{}", me_before.body);
    assert_eq!(me_before.body["user"], registered.body["user"]);
    let refreshed = refresh(&t, &rotated, &old_refresh).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    let new_access = refreshed.access_token();
    assert_eq!(kid_of(&new_access), "k2");
    assert_eq!(kid_of(&refreshed.refresh_token()), "k2");
    assert_eq!(me(&t, &rotated, &new_access).await.status, 200);

    // A token whose kid nobody configured is refused.
    let stranger = redeployed(&t, "k3", &KEYS[2].private_pkcs8, &[]);
    let claims = access_claims(&rotated, &new_access);
    let foreign = signed(&stranger, &claims);
    assert_eq!(kid_of(&foreign), "k3");
    me(&t, &rotated, &foreign).await.assert_invalid_token();

    // After REFRESH_TOKEN_TTL the old key is dropped: what it signed no longer verifies,
    // what k2 signed still does.
    let settled = redeployed(&t, "k2", &KEYS[1].private_pkcs8, &[]);
    assert_eq!(
        kids(&get(&t, &settled, "/.well-known/jwks.json").await.body),
        ["k2"]
    );
    me(&t, &settled, &old_access).await.assert_invalid_token();
    assert_eq!(me(&t, &settled, &new_access).await.status, 200);
}

#[tokio::test]
async fn an_rs256_deployment_refuses_hs256_tokens_signed_with_its_public_key() {
    use jsonwebtoken::{Algorithm, EncodingKey, Header};
    let t = rs256_app("k1", &KEYS[0].private_pkcs8, &[]).await;
    let session = Api(&t).sign_up("confused").await;
    let claims = access_claims(&t.app, &session.access_token());
    // The classic confusion: HS256 keyed with the public key anyone can fetch, under our kid.
    let jwks = get(&t, &t.app, "/.well-known/jwks.json").await.body;
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("k1".into());
    for secret in [KEYS[0].public_spki.as_bytes(), jwks.to_string().as_bytes()] {
        let forged =
            jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(secret)).unwrap();
        me(&t, &t.app, &forged).await.assert_invalid_token();
    }
    // And an RS256 token means nothing to an HS256 deployment on the same database.
    let hs256 = t.reconfigured(&[]);
    me(&t, &hs256, &session.access_token())
        .await
        .assert_invalid_token();
}

const AUDIENCE: &str = "latchkey-api";

/// The claims an API Gateway JWT authorizer checks (`iss`, `aud`, with `exp` and `iat` read
/// by the library), plus what the test looks at.
#[derive(Debug, Deserialize)]
struct Checked {
    iss: String,
    aud: Option<String>,
    sub: String,
    typ: String,
}

/// Verifies `token` as an API Gateway JWT authorizer configured with our issuer and
/// [`AUDIENCE`] would, knowing only the issuer: discovery document, then `jwks_uri`, then the
/// key named by the token's `kid`; all with jwt-compact. Returns the claims, or why not.
async fn verify_independently(t: &TestApp, app: &App, token: &str) -> Result<Checked, String> {
    let discovery = get(t, app, "/.well-known/openid-configuration").await.body;
    let issuer = discovery["issuer"].as_str().unwrap();
    let jwks_path = discovery["jwks_uri"]
        .as_str()
        .unwrap()
        .strip_prefix(issuer)
        .unwrap();
    let jwks_text = ::jwks::handler(app, req::get(jwks_path))
        .await
        .map(|response| String::from_utf8(response.body().to_vec()).unwrap())
        .unwrap();

    // From here on: the JSON text of the JWKS and the token, nothing of ours.
    let untrusted = UntrustedToken::new(token).map_err(|e| e.to_string())?;
    let kid = untrusted.header().key_id.clone().ok_or("no kid")?;
    let jwks: Value = serde_json::from_str(&jwks_text).unwrap();
    let entry = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["kid"] == kid.as_str())
        .ok_or("kid not in the JWKS")?;
    assert_eq!(entry["alg"], "RS256");
    let jwk: JsonWebKey<'_> = serde_json::from_value(entry.clone()).map_err(|e| e.to_string())?;
    let key = jwt_compact::alg::RsaPublicKey::try_from(&jwk).map_err(|e| e.to_string())?;
    let verified = Rsa::rs256()
        .validator::<Checked>(&key)
        .validate(&untrusted)
        .map_err(|e| e.to_string())?;
    let claims = verified.claims();
    claims
        .validate_expiration(&TimeOptions::default())
        .map_err(|e| e.to_string())?;
    if claims.custom.iss != issuer {
        return Err(format!("iss {} is not {issuer}", claims.custom.iss));
    }
    if claims.custom.aud.as_deref() != Some(AUDIENCE) {
        return Err(format!("aud {:?} is not {AUDIENCE}", claims.custom.aud));
    }
    let (Some(iat), Some(exp)) = (claims.issued_at, claims.expiration) else {
        return Err("no iat or exp".into());
    };
    assert!(iat <= chrono::Utc::now() && exp > chrono::Utc::now());
    Ok(Checked {
        iss: claims.custom.iss.clone(),
        aud: claims.custom.aud.clone(),
        sub: claims.custom.sub.clone(),
        typ: claims.custom.typ.clone(),
    })
}

#[tokio::test]
async fn an_independent_jwt_library_verifies_our_tokens_from_the_jwks_alone() {
    // Two published keys, so the kid has to pick the right one; an audience, which API
    // Gateway's JWT authorizer requires.
    let mut vars = rs256("k2", &KEYS[1].private_pkcs8, &[("k1", &KEYS[0])]);
    vars.push(("JWT_AUDIENCE".into(), AUDIENCE.into()));
    let t = TestApp::with_env(&borrowed(&vars)).await;
    let session = Api(&t).sign_up("outsider").await;
    let user_id = session.body["user"]["id"].as_i64().unwrap();

    let checked = verify_independently(&t, &t.app, &session.access_token())
        .await
        .unwrap();
    assert_eq!(checked.iss, ISSUER);
    assert_eq!(checked.aud.as_deref(), Some(AUDIENCE));
    assert_eq!(checked.sub, user_id.to_string());
    assert_eq!(checked.typ, "access");

    // A refresh token is signed by the same key but has no audience: an authorizer refuses
    // it as a bearer token, while /auth/refresh still takes it.
    let refused = verify_independently(&t, &t.app, &session.refresh_token())
        .await
        .unwrap_err();
    assert!(refused.contains("aud"), "{refused}");
    assert_eq!(
        refresh(&t, &t.app, &session.refresh_token()).await.status,
        200
    );

    // A token signed before the rotation (by k1) verifies through the JWKS too.
    let mut before_vars = rs256("k1", &KEYS[0].private_pkcs8, &[]);
    before_vars.push(("JWT_AUDIENCE".into(), AUDIENCE.into()));
    let before = t.reconfigured(&borrowed(&before_vars));
    let claims = access_claims(&t.app, &session.access_token());
    let old = signed(&before, &claims);
    assert_eq!(kid_of(&old), "k1");
    assert!(verify_independently(&t, &t.app, &old).await.is_ok());

    // And the independent verifier is not vacuous: it refuses what it should.
    let mut expired = claims.clone();
    (expired.iat, expired.exp) = (expired.iat - 1000, expired.iat - 100);
    let expired = signed(&t.app, &expired);
    assert!(verify_independently(&t, &t.app, &expired).await.is_err());
    let impostor = redeployed(&t, "k2", &KEYS[2].private_pkcs8, &[]);
    assert!(claims.aud.is_some(), "the forgery carries the audience too");
    let forged = signed(&impostor, &claims);
    assert_eq!(kid_of(&forged), "k2");
    let refused = verify_independently(&t, &t.app, &forged).await.unwrap_err();
    assert!(refused.contains("signature"), "{refused}");
    let mut elsewhere = claims.clone();
    elsewhere.iss = "https://evil.example".into();
    let elsewhere = signed(&t.app, &elsewhere);
    assert!(verify_independently(&t, &t.app, &elsewhere).await.is_err());
}
