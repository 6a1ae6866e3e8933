//! The second factor over HTTP, as a new user with an authenticator app would meet it:
//! the app's codes come from the secret the setup returns, computed by another TOTP
//! implementation than the service's (`latchkey_tests::authenticator_code`), against the
//! real clock.

use latchkey_tests::{Http, TestResponse, authenticator_code, json, unique};
use reqwest::Method;

const PASSWORD: &str = "mfa e2e password";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The `amr` claim of an access token (read, not verified: the server verified it).
fn amr(response: &TestResponse) -> serde_json::Value {
    let token = response.access_token();
    let payload = token.split('.').nth(1).unwrap();
    let bytes = data_encoding::BASE64URL_NOPAD
        .decode(payload.as_bytes())
        .unwrap();
    serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()["amr"].clone()
}

async fn login(http: &Http, login: &str) -> TestResponse {
    let response = http.login(login, PASSWORD).await;
    assert_eq!(response.status, 200, "{}", response.body);
    response
}

#[tokio::test]
async fn a_user_turns_totp_on_logs_in_with_a_code_and_a_recovery_code_and_turns_it_off() {
    let http = Http::new();
    let name = format!("mfa_{}", unique());
    let registered = http
        .register(json!({"login": name, "password": PASSWORD}))
        .await;
    let access = registered.access_token();

    let setup = http
        .post_auth(
            "/auth/mfa/totp",
            &access,
            Some(json!({"current_password": PASSWORD})),
        )
        .await;
    assert_eq!(setup.status, 200, "{}", setup.body);
    let secret = setup.body["secret"].as_str().unwrap().to_owned();
    assert!(
        setup.body["otpauth_uri"]
            .as_str()
            .unwrap()
            .contains(&secret)
    );
    assert!(setup.body["qr_svg"].as_str().unwrap().contains("<svg"));

    // The step now, and the next one (one step ahead is accepted: a phone running fast).
    let t = now();
    let confirm = http
        .post_auth(
            "/auth/mfa/totp/confirm",
            &access,
            Some(json!({"code": authenticator_code(&secret, t)})),
        )
        .await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    let recovery_codes: Vec<String> = confirm.body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(recovery_codes.len(), 10);

    // The password alone opens no session any more.
    let first = login(&http, &name).await;
    assert_eq!(first.body["mfa_required"], true, "{}", first.body);
    assert!(first.body.get("access_token").is_none());
    let mfa_token = first.body["mfa_token"].as_str().unwrap().to_owned();
    let wrong = http
        .post(
            "/auth/mfa/verify",
            json!({"mfa_token": mfa_token, "code": "000000"}),
        )
        .await;
    if authenticator_code(&secret, t) != "000000" && authenticator_code(&secret, t + 30) != "000000"
    {
        wrong.assert_error(401, "invalid_code");
    }
    let next = authenticator_code(&secret, t + 30);
    let verified = http
        .post(
            "/auth/mfa/verify",
            json!({"mfa_token": mfa_token, "code": next}),
        )
        .await;
    assert_eq!(verified.status, 200, "{}", verified.body);
    assert_eq!(amr(&verified), json!(["pwd", "otp"]));
    let me = http.me(&verified.access_token()).await;
    assert_eq!(me.body["user"]["mfa_enabled"], true, "{}", me.body);

    // The same code again is a replay.
    let second = login(&http, &name).await;
    let mfa_token = second.body["mfa_token"].as_str().unwrap().to_owned();
    let replay = http
        .post(
            "/auth/mfa/verify",
            json!({"mfa_token": mfa_token, "code": next}),
        )
        .await;
    replay.assert_error(401, "invalid_code");

    // A recovery code stands in for the app, once.
    let recovered = http
        .post(
            "/auth/mfa/verify",
            json!({"mfa_token": mfa_token, "recovery_code": recovery_codes[0]}),
        )
        .await;
    assert_eq!(recovered.status, 200, "{}", recovered.body);
    assert_eq!(amr(&recovered), json!(["pwd", "otp"]));

    // Turning it off takes the password and a code (here another recovery code).
    let off = http
        .send(
            Method::DELETE,
            "/auth/mfa/totp",
            Some(&recovered.access_token()),
            Some(
                json!({"current_password": PASSWORD, "recovery_code": recovery_codes[1]})
                    .to_string(),
            ),
        )
        .await;
    assert_eq!(off.status, 200, "{}", off.body);
    assert_eq!(off.body["user"]["mfa_enabled"], false);
    let plain = login(&http, &name).await;
    assert_eq!(amr(&plain), json!(["pwd"]));
}
