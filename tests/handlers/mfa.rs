//! The second factor: setting up TOTP, the login challenge and its second step, recovery
//! codes, replay and drift at step boundaries (with a fixed clock), the lock, turning it
//! off, and the routes that need a code when it is on. Codes are computed as an
//! authenticator would, by another TOTP implementation than the service's.

use lambda_http::http::Method;
use latchkey_tests::{TestApp, TestResponse, authenticator_code, json, req};
use serde_json::Value;

use crate::{Api, PASSWORD, access_claims, column, count, count_rows, events_of, user_id, value};

/// A time at the very start of a 30 s step (step 56 666 667).
const T0: u64 = 1_700_000_010;

impl Api<'_> {
    pub async fn totp_setup(&self, access_token: &str, password: &str) -> TestResponse {
        let request = req::post("/auth/mfa/totp", &json!({"current_password": password}));
        self.0
            .respond(::totp_setup::handler(&self.0.app, req::bearer(request, access_token)).await)
    }

    pub async fn totp_confirm(&self, access_token: &str, code: &str) -> TestResponse {
        let request = req::post("/auth/mfa/totp/confirm", &json!({"code": code}));
        self.0
            .respond(::totp_confirm::handler(&self.0.app, req::bearer(request, access_token)).await)
    }

    pub async fn totp_disable(&self, access_token: &str, body: Value) -> TestResponse {
        let request = req::json(Method::DELETE, "/auth/mfa/totp", &body);
        self.0
            .respond(::totp_disable::handler(&self.0.app, req::bearer(request, access_token)).await)
    }

    pub async fn mfa_verify(&self, body: Value) -> TestResponse {
        let request = req::post("/auth/mfa/verify", &body);
        self.0
            .respond(::mfa_verify::handler(&self.0.app, request).await)
    }

    pub async fn reset_mfa(&self, access_token: &str, id: i64) -> TestResponse {
        let request = req::raw(Method::DELETE, "/users/x/mfa", String::new());
        let request = req::path_param(req::bearer(request, access_token), "id", &id.to_string());
        self.0
            .respond(::reset_mfa::handler(&self.0.app, request).await)
    }
}

/// An account with TOTP on, set up at [`T0`] (the clock stays fixed there).
struct Enrolled {
    id: i64,
    secret: String,
    recovery_codes: Vec<String>,
    /// The session that turned it on.
    session: TestResponse,
}

/// Signs `login` up (with a verified `login@example.com`) and turns TOTP on with a code
/// for [`T0`].
async fn enroll(t: &TestApp, login: &str) -> Enrolled {
    let api = Api(t);
    t.app.clock.set(T0);
    let email = format!("{login}@example.com");
    let session = api.sign_up_with_email(login, &email).await;
    let id = user_id(&session);
    t.sql()
        .await
        .execute(
            "UPDATE users SET email_verified = true WHERE id = $1",
            &[&id],
        )
        .await
        .unwrap();
    let setup = api.totp_setup(&session.access_token(), PASSWORD).await;
    assert_eq!(setup.status, 200, "{}", setup.body);
    let secret = setup.body["secret"].as_str().unwrap().to_owned();
    let confirm = api
        .totp_confirm(&session.access_token(), &authenticator_code(&secret, T0))
        .await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    let recovery_codes = confirm.body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    Enrolled {
        id,
        secret,
        recovery_codes,
        session,
    }
}

/// The `mfa_token` of a correct password login of an account with TOTP on.
async fn challenge(api: &Api<'_>, login: &str) -> String {
    let response = api.login(login, PASSWORD).await;
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.body["mfa_required"], true, "{}", response.body);
    response.body["mfa_token"].as_str().unwrap().to_owned()
}

fn amr(t: &TestApp, response: &TestResponse) -> Vec<String> {
    access_claims(&t.app, &response.access_token()).amr.unwrap()
}

fn types(events: &[(String, Option<i64>, Value)]) -> Vec<&str> {
    events.iter().map(|(kind, ..)| kind.as_str()).collect()
}

#[tokio::test]
async fn turning_totp_on_then_logging_in_takes_a_code() {
    let t = TestApp::new().await;
    let api = Api(&t);
    t.app.clock.set(T0);
    let amy = api.sign_up_with_email("amy", "amy@example.com").await;
    let other_device = api.login("amy", PASSWORD).await;

    // An unverified email cannot carry a second factor.
    let unverified = api.totp_setup(&amy.access_token(), PASSWORD).await;
    assert_eq!(unverified.status, 403, "{}", unverified.body);
    assert_eq!(unverified.error_code(), "email_unverified");
    t.sql()
        .await
        .execute(
            "UPDATE users SET email_verified = true WHERE login = 'amy'",
            &[],
        )
        .await
        .unwrap();
    let wrong = api
        .totp_setup(&amy.access_token(), "not the password")
        .await;
    wrong.assert_error(403, "wrong_password");

    let setup = api.totp_setup(&amy.access_token(), PASSWORD).await;
    assert_eq!(setup.status, 200, "{}", setup.body);
    let secret = setup.body["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 32, "20 bytes in base32");
    let uri = setup.body["otpauth_uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/Latchkey:amy%40example.com?"),
        "{uri}"
    );
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    assert!(setup.body["qr_svg"].as_str().unwrap().contains("<svg"));
    // Pending: logins still need only the password.
    assert!(
        api.login("amy", PASSWORD)
            .await
            .body
            .get("access_token")
            .is_some()
    );
    // At rest the secret is encrypted.
    let stored: Vec<u8> = value(
        &t,
        "SELECT totp_pending_secret FROM users WHERE login = 'amy'",
        &[],
    )
    .await;
    let raw = data_encoding::BASE32_NOPAD
        .decode(secret.as_bytes())
        .unwrap();
    assert!(!stored.windows(raw.len()).any(|w| w == raw.as_slice()));

    let bad = api.totp_confirm(&amy.access_token(), "000000").await;
    let bad = if authenticator_code(secret, T0) == "000000" {
        api.totp_confirm(&amy.access_token(), "111111").await
    } else {
        bad
    };
    bad.assert_error(401, "invalid_code");
    let confirm = api
        .totp_confirm(&amy.access_token(), &authenticator_code(secret, T0))
        .await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    let codes = confirm.body["recovery_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);
    let distinct: std::collections::BTreeSet<_> = codes.iter().map(|c| c.as_str()).collect();
    assert_eq!(distinct.len(), 10);
    // Only hashes are stored.
    let hashes: Vec<Vec<u8>> = column(&t, "SELECT code_hash FROM mfa_recovery_codes").await;
    assert_eq!(hashes.len(), 10);
    for code in codes {
        let code = code.as_str().unwrap();
        assert!(
            hashes
                .iter()
                .all(|h| !h.windows(4).any(|w| w == &code.as_bytes()[..4]))
        );
    }

    // On: the other session is gone, this one stays; the user says so; a notice went out.
    let me = api.me(&amy.access_token()).await;
    assert_eq!(me.body["user"]["mfa_enabled"], true, "{}", me.body);
    api.me(&other_device.access_token())
        .await
        .assert_invalid_token();
    let mails = api.outbox("amy@example.com").await;
    assert!(
        mails
            .iter()
            .any(|(subject, _)| subject.contains("Two-step login is on")),
        "{mails:?}"
    );
    let again = api.totp_setup(&amy.access_token(), PASSWORD).await;
    again.assert_error(409, "mfa_enabled");

    // A password alone opens no session now.
    let login = api.login("amy", PASSWORD).await;
    assert_eq!(login.status, 200, "{}", login.body);
    assert_eq!(login.body["mfa_required"], true);
    assert_eq!(login.body["expires_in"], 300);
    assert!(login.body.get("access_token").is_none());
    let token = login.body["mfa_token"].as_str().unwrap();
    t.app.clock.set(T0 + 30);
    let verified = api
        .mfa_verify(json!({"mfa_token": token, "code": authenticator_code(secret, T0 + 30)}))
        .await;
    assert_eq!(verified.status, 200, "{}", verified.body);
    assert_eq!(amr(&t, &verified), ["pwd", "otp"]);
    assert_eq!(verified.body["user"]["mfa_enabled"], true);
    assert_eq!(api.me(&verified.access_token()).await.status, 200);
    // The token was spent.
    let reused = api
        .mfa_verify(json!({"mfa_token": token, "code": authenticator_code(secret, T0 + 60)}))
        .await;
    reused.assert_error(401, "invalid_mfa_token");

    let id = user_id(&amy);
    let events = events_of(&t, id).await;
    let kinds = types(&events);
    assert!(kinds.contains(&"mfa_enabled"), "{kinds:?}");
    assert!(kinds.contains(&"mfa_failed"), "{kinds:?}");
    let (_, _, detail) = events
        .iter()
        .rfind(|(kind, ..)| kind == "login_succeeded")
        .unwrap();
    assert_eq!(detail["second_factor"], "totp");
}

#[tokio::test]
async fn codes_count_one_step_either_way_and_never_twice() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let bea = enroll(&t, "bea").await;
    let step = |n: i64| (T0 as i64 + 30 * n) as u64;
    // The clock 10 steps on, near the end of its step (T0 starts a step).
    let now = step(10) + 29;
    t.app.clock.set(now);
    let token = challenge(&api, "bea").await;
    let verify = |code: String| {
        let token = token.clone();
        let api = Api(&t);
        async move {
            api.mfa_verify(json!({"mfa_token": token, "code": code}))
                .await
        }
    };
    for refused in [step(8), step(12), step(-1)] {
        let response = verify(authenticator_code(&bea.secret, refused)).await;
        response.assert_error(401, "invalid_code");
    }
    // One step of drift back is accepted...
    assert_eq!(
        verify(authenticator_code(&bea.secret, step(9)))
            .await
            .status,
        200
    );
    // ...and then nothing at or before that step, even within the window.
    let token = challenge(&api, "bea").await;
    let again = api
        .mfa_verify(json!({"mfa_token": token, "code": authenticator_code(&bea.secret, step(9))}))
        .await;
    again.assert_error(401, "invalid_code");
    // One step ahead (a fast phone) is accepted, and the current one after it is not.
    let ahead = api
        .mfa_verify(json!({"mfa_token": token, "code": authenticator_code(&bea.secret, step(11))}))
        .await;
    assert_eq!(ahead.status, 200, "{}", ahead.body);
    let token = challenge(&api, "bea").await;
    let older = api
        .mfa_verify(json!({"mfa_token": token, "code": authenticator_code(&bea.secret, now)}))
        .await;
    older.assert_error(401, "invalid_code");
    let kinds: Vec<String> = events_of(&t, bea.id)
        .await
        .into_iter()
        .map(|(kind, ..)| kind)
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "code_replayed").count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| *k == "mfa_failed").count(),
        3,
        "{kinds:?}"
    );
}

#[tokio::test]
async fn wrong_codes_lock_the_account_like_wrong_passwords() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let cyd = enroll(&t, "cyd").await;
    let token = challenge(&api, "cyd").await;
    let right = authenticator_code(&cyd.secret, T0 + 30);
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    t.app.clock.set(T0 + 30);
    for _ in 0..5 {
        let response = api
            .mfa_verify(json!({"mfa_token": token, "code": wrong}))
            .await;
        response.assert_error(401, "invalid_code");
    }
    // Locked: the right code is not even checked, and the token stays unspent.
    let locked = api
        .mfa_verify(json!({"mfa_token": token, "code": right}))
        .await;
    assert_eq!(locked.status, 429, "{}", locked.body);
    assert!(locked.header("retry-after").is_some());
    assert_eq!(
        api.login("cyd", PASSWORD).await.status,
        429,
        "the same lock"
    );
    let kinds = types(&events_of(&t, cyd.id).await)
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    assert!(kinds.contains(&"account_locked".to_owned()), "{kinds:?}");

    // Once the lock is lifted the token still works, and a completed login resets the count.
    t.sql()
        .await
        .execute(
            "UPDATE login_locks SET locked_until = now() - interval '1 s'",
            &[],
        )
        .await
        .unwrap();
    let done = api
        .mfa_verify(json!({"mfa_token": token, "code": right}))
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let left = count_rows(&t, "login_locks").await;
    assert_eq!(left, 0);
}

#[tokio::test]
async fn a_correct_password_alone_does_not_reset_the_count() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let dot = enroll(&t, "dot").await;
    for _ in 0..4 {
        assert_eq!(api.login("dot", "wrong password").await.status, 401);
    }
    // The right password is not a failure, but it does not wipe the four either.
    let token = challenge(&api, "dot").await;
    t.app.clock.set(T0 + 30);
    let wrong = if authenticator_code(&dot.secret, T0 + 30) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let fifth = api
        .mfa_verify(json!({"mfa_token": token, "code": wrong}))
        .await;
    assert_eq!(fifth.status, 401);
    let locked = api
        .mfa_verify(json!({"mfa_token": token, "code": authenticator_code(&dot.secret, T0 + 30)}))
        .await;
    assert_eq!(locked.status, 429, "{}", locked.body);
}

#[tokio::test]
async fn a_recovery_code_works_once_and_is_announced() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let eve = enroll(&t, "eve").await;
    let code = eve.recovery_codes[3].to_lowercase().replace('-', " ");
    let token = challenge(&api, "eve").await;
    let verified = api
        .mfa_verify(json!({"mfa_token": token, "recovery_code": code}))
        .await;
    assert_eq!(verified.status, 200, "{}", verified.body);
    assert_eq!(amr(&t, &verified), ["pwd", "otp"]);
    let token = challenge(&api, "eve").await;
    let reused = api
        .mfa_verify(json!({"mfa_token": token, "recovery_code": code}))
        .await;
    reused.assert_error(401, "invalid_code");
    let events = events_of(&t, eve.id).await;
    let (_, _, detail) = events
        .iter()
        .find(|(k, ..)| k == "recovery_code_used")
        .unwrap();
    assert_eq!(detail["remaining"], 9);
    let mails = api.outbox("eve@example.com").await;
    let (_, body) = mails
        .iter()
        .find(|(subject, _)| subject.contains("recovery code"))
        .expect("a notice");
    assert!(body.contains("9 remain"), "{body}");
    assert!(
        !body.contains(&eve.recovery_codes[3]),
        "never the code itself"
    );

    // Malformed or both: 400, nothing counted.
    let both = api
        .mfa_verify(json!({"mfa_token": token, "code": "123456", "recovery_code": code}))
        .await;
    both.assert_error(400, "validation_failed");
    let short = api
        .mfa_verify(json!({"mfa_token": token, "code": "12345"}))
        .await;
    assert_eq!(short.status, 400);
    let neither = api.mfa_verify(json!({"mfa_token": token})).await;
    assert_eq!(neither.status, 400);
}

#[tokio::test]
async fn the_mfa_token_is_bound_to_the_password_check_and_is_no_bearer_token() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let fay = enroll(&t, "fay").await;
    t.app.clock.set(T0 + 30);
    let code = authenticator_code(&fay.secret, T0 + 30);

    // Not a token at all, or an access or refresh token: 401.
    for bogus in [
        "nonsense".to_owned(),
        fay.session.access_token(),
        fay.session.refresh_token(),
        "A".repeat(43),
    ] {
        let response = api
            .mfa_verify(json!({"mfa_token": bogus, "code": code}))
            .await;
        response.assert_error(401, "invalid_mfa_token");
    }
    // Nor is the mfa_token a bearer token.
    let token = challenge(&api, "fay").await;
    api.me(&token).await.assert_invalid_token();

    // A password change voids it.
    let changed = api
        .update_user(
            &fay.session.access_token(),
            fay.id,
            json!({"current_password": PASSWORD, "password": "another long password", "code": code}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    t.app.clock.set(T0 + 60);
    let void = api
        .mfa_verify(json!({"mfa_token": token, "code": authenticator_code(&fay.secret, T0 + 60)}))
        .await;
    void.assert_error(401, "invalid_mfa_token");

    // Disabled: 403, said before any code is checked.
    let admin = api.admin("root").await;
    let login = api.login("fay", "another long password").await;
    let token = login.body["mfa_token"].as_str().unwrap().to_owned();
    t.sql()
        .await
        .execute("UPDATE users SET disabled = true WHERE id = $1", &[&fay.id])
        .await
        .unwrap();
    let disabled = api
        .mfa_verify(json!({"mfa_token": token, "code": authenticator_code(&fay.secret, T0 + 90)}))
        .await;
    disabled.assert_error(403, "account_disabled");
    t.sql()
        .await
        .execute(
            "UPDATE users SET disabled = false WHERE id = $1",
            &[&fay.id],
        )
        .await
        .unwrap();
    // Disabled by an admin and enabled again, the token stays void.
    let admin_token = admin.access_token();
    for flag in [true, false] {
        let changed = api
            .update_user(&admin_token, fay.id, json!({"disabled": flag}))
            .await;
        assert_eq!(changed.status, 200, "{}", changed.body);
    }
    t.app.clock.set(T0 + 90);
    let void = api
        .mfa_verify(json!({"mfa_token": token, "code": authenticator_code(&fay.secret, T0 + 90)}))
        .await;
    void.assert_error(401, "invalid_mfa_token");

    // Expired after 5 minutes.
    let login = api.login("fay", "another long password").await;
    let token = login.body["mfa_token"].as_str().unwrap().to_owned();
    t.sql()
        .await
        .execute("UPDATE one_time_tokens SET expires_at = now() - interval '1 s' WHERE kind = 'mfa_login'", &[])
        .await
        .unwrap();
    let expired = api
        .mfa_verify(json!({"mfa_token": token, "code": authenticator_code(&fay.secret, T0 + 90)}))
        .await;
    expired.assert_error(401, "invalid_mfa_token");
}

#[tokio::test]
async fn changing_the_email_or_password_needs_a_code_when_mfa_is_on() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let gus = enroll(&t, "gus").await;
    let access = gus.session.access_token();
    for change in [
        json!({"current_password": PASSWORD, "password": "another long password"}),
        json!({"current_password": PASSWORD, "email": "gus2@example.com"}),
    ] {
        let without = api.update_user(&access, gus.id, change).await;
        without.assert_error(401, "mfa_required");
    }
    // A name needs no code.
    let name = api
        .update_user(
            &access,
            gus.id,
            json!({"current_password": PASSWORD, "name": "Gus"}),
        )
        .await;
    assert_eq!(name.status, 200, "{}", name.body);
    // With one: done; the code is then used up.
    t.app.clock.set(T0 + 30);
    let code = authenticator_code(&gus.secret, T0 + 30);
    let with = api
        .update_user(
            &access,
            gus.id,
            json!({"current_password": PASSWORD, "email": "gus2@example.com", "code": code}),
        )
        .await;
    assert_eq!(with.status, 200, "{}", with.body);
    let replay = api
        .update_user(
            &access,
            gus.id,
            json!({"current_password": PASSWORD, "email": "gus3@example.com", "code": code}),
        )
        .await;
    replay.assert_error(401, "invalid_code");
}

#[tokio::test]
async fn a_reset_link_needs_the_code_too_and_never_turns_mfa_off() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let hal = enroll(&t, "hal").await;
    assert_eq!(api.forgot_password("hal").await.status, 202);
    let token = api.link_token("hal@example.com", "reset-password").await;
    let without = api.reset_password(&token, "a new long password").await;
    without.assert_error(401, "mfa_required");
    let request = |code: &str| {
        req::post(
            "/auth/password/reset",
            &json!({"token": token, "password": "a new long password", "code": code}),
        )
    };
    t.app.clock.set(T0 + 30);
    let right = authenticator_code(&hal.secret, T0 + 30);
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let refused = t.respond(::reset_password::handler(&t.app, request(wrong)).await);
    refused.assert_error(401, "invalid_code");
    // Nothing changed: the old password still works, the token is still good.
    assert_eq!(api.login("hal", PASSWORD).await.body["mfa_required"], true);
    let reset = t.respond(::reset_password::handler(&t.app, request(&right)).await);
    assert_eq!(reset.status, 200, "{}", reset.body);
    assert_eq!(reset.body["user"]["mfa_enabled"], true);
    assert_eq!(
        api.login("hal", "a new long password").await.body["mfa_required"],
        true
    );
}

#[tokio::test]
async fn turning_totp_off_takes_the_password_and_a_code() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let ian = enroll(&t, "ian").await;
    let access = ian.session.access_token();
    t.app.clock.set(T0 + 30);
    let token = challenge(&api, "ian").await;
    let other = api
        .mfa_verify(json!({"mfa_token": token, "code": authenticator_code(&ian.secret, T0 + 30)}))
        .await;
    assert_eq!(other.status, 200);

    let no_code = api
        .totp_disable(&access, json!({"current_password": PASSWORD}))
        .await;
    assert_eq!(no_code.status, 400, "{}", no_code.body);
    t.app.clock.set(T0 + 60);
    let code = authenticator_code(&ian.secret, T0 + 60);
    let wrong_password = api
        .totp_disable(
            &access,
            json!({"current_password": "nope nope", "code": code}),
        )
        .await;
    wrong_password.assert_error(403, "wrong_password");
    let off = api
        .totp_disable(&access, json!({"current_password": PASSWORD, "code": code}))
        .await;
    assert_eq!(off.status, 200, "{}", off.body);
    assert_eq!(off.body["user"]["mfa_enabled"], false);
    api.me(&other.access_token()).await.assert_invalid_token();
    assert_eq!(
        api.me(&access).await.status,
        200,
        "the caller's own session stays"
    );
    let login = api.login("ian", PASSWORD).await;
    assert!(login.body.get("access_token").is_some(), "{}", login.body);
    assert_eq!(amr(&t, &login), ["pwd"]);
    let remaining = count(
        &t,
        "SELECT count(*) FROM mfa_recovery_codes WHERE user_id = $1",
        &[&ian.id],
    )
    .await;
    assert_eq!(remaining, 0);
    let again = api
        .totp_disable(&access, json!({"current_password": PASSWORD, "code": code}))
        .await;
    again.assert_error(409, "mfa_not_enabled");
    assert!(types(&events_of(&t, ian.id).await).contains(&"mfa_disabled"));
    let mails = api.outbox("ian@example.com").await;
    assert!(
        mails
            .iter()
            .any(|(subject, _)| subject.contains("Two-step login is off"))
    );
}

#[tokio::test]
async fn confirming_needs_a_pending_setup() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let jo = api.sign_up("joe").await; // no email: nobody else's address to guard
    let missing = api.totp_confirm(&jo.access_token(), "123456").await;
    missing.assert_error(409, "mfa_setup_missing");
    let setup = api.totp_setup(&jo.access_token(), PASSWORD).await;
    assert_eq!(setup.status, 200, "{}", setup.body);
    let malformed = api.totp_confirm(&jo.access_token(), "12 34").await;
    assert_eq!(malformed.status, 400);
    let no_token = t.respond(
        ::totp_setup::handler(
            &t.app,
            req::post("/auth/mfa/totp", &json!({"current_password": PASSWORD})),
        )
        .await,
    );
    assert_eq!(no_token.status, 401);
}

#[tokio::test]
async fn an_admin_resets_a_lost_second_factor() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let admin = api.admin("root").await;
    let kay = enroll(&t, "kay").await;
    let stranger = api.sign_up("lou").await;
    let forbidden = api.reset_mfa(&stranger.access_token(), kay.id).await;
    forbidden.assert_error(403, "forbidden");

    let reset = api.reset_mfa(&admin.access_token(), kay.id).await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    assert_eq!(reset.body["user"]["mfa_enabled"], false);
    api.me(&kay.session.access_token())
        .await
        .assert_invalid_token();
    assert!(
        api.login("kay", PASSWORD)
            .await
            .body
            .get("access_token")
            .is_some()
    );
    let again = api.reset_mfa(&admin.access_token(), kay.id).await;
    again.assert_error(409, "mfa_not_enabled");
    assert_eq!(
        api.reset_mfa(&admin.access_token(), 999_999).await.status,
        404
    );
    let (_, actor, _) = events_of(&t, kay.id)
        .await
        .into_iter()
        .find(|(k, ..)| k == "mfa_reset")
        .unwrap();
    assert_eq!(actor, Some(user_id(&admin)));
    let mails = api.outbox("kay@example.com").await;
    assert!(
        mails
            .iter()
            .any(|(_, body)| body.contains("by an administrator"))
    );
}

#[tokio::test]
async fn after_a_key_rotation_migrate_re_encrypts_every_secret_and_codes_still_work() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let ned = enroll(&t, "ned").await;
    let sealed = |t: &TestApp| {
        let url = t.database_url.clone();
        async move {
            latchkey_tests::connect(&url)
                .await
                .query_one("SELECT totp_secret FROM users WHERE login = 'ned'", &[])
                .await
                .unwrap()
                .get::<_, Vec<u8>>(0)
        }
    };
    let before = sealed(&t).await;
    let new_key = "the new MFA key, long enough to be accepted";
    let old_key = "test-mfa-key-test-mfa-key-test-mfa-key-0123";
    let rotated = [
        ("MFA_ENCRYPTION_KEY", new_key),
        ("MFA_PREVIOUS_ENCRYPTION_KEY", old_key),
    ];
    let outcome = migrate::run(&t.migrating(&rotated)).await.unwrap();
    assert_eq!(outcome.resealed_mfa_secrets, 1);
    let after = sealed(&t).await;
    assert_ne!(before, after);
    // Run again: nothing left under the old key.
    assert_eq!(
        migrate::run(&t.migrating(&rotated))
            .await
            .unwrap()
            .resealed_mfa_secrets,
        0
    );

    // A deployment that knows only the new key checks the code.
    let new_only = t.reconfigured(&[("MFA_ENCRYPTION_KEY", new_key)]);
    new_only.clock.set(T0 + 30);
    let token = challenge(&api, "ned").await;
    let body = json!({"mfa_token": token, "code": authenticator_code(&ned.secret, T0 + 30)});
    let verified =
        t.respond(::mfa_verify::handler(&new_only, req::post("/auth/mfa/verify", &body)).await);
    assert_eq!(verified.status, 200, "{}", verified.body);
    // One that knows only the old key fails loudly (500), never lets a code through.
    let old_only = t.reconfigured(&[]);
    old_only.clock.set(T0 + 60);
    let token = challenge(&api, "ned").await;
    let body = json!({"mfa_token": token, "code": authenticator_code(&ned.secret, T0 + 60)});
    let refused =
        t.respond(::mfa_verify::handler(&old_only, req::post("/auth/mfa/verify", &body)).await);
    assert_eq!(refused.status, 500, "{}", refused.body);
}

#[tokio::test]
async fn with_admin_require_mfa_admin_actions_need_a_second_factor() {
    let t = TestApp::new().await;
    let strict = t.reconfigured(&[("ADMIN_REQUIRE_MFA", "true")]);
    let api = Api(&t);
    let root = enroll(&t, "root").await;
    t.sql()
        .await
        .execute("UPDATE users SET role = 'admin' WHERE id = $1", &[&root.id])
        .await
        .unwrap();
    let target = api.sign_up("moe").await;
    let (t_ref, strict) = (&t, &strict);
    let revoke = |token: String| {
        let request = req::raw(Method::DELETE, "/users/x/sessions", String::new());
        let request = req::path_param(
            req::bearer(request, &token),
            "id",
            &user_id(&target).to_string(),
        );
        async move { t_ref.respond(::revoke_sessions::handler(strict, request).await) }
    };
    // The session that set MFA up signed in with a password only.
    let password_only = revoke(root.session.access_token()).await;
    password_only.assert_error(403, "mfa_required");
    // The default outside production lets it through.
    let relaxed = api
        .revoke_sessions(&root.session.access_token(), &user_id(&target).to_string())
        .await;
    assert_eq!(relaxed.status, 200, "{}", relaxed.body);
    let token = challenge(&api, "root").await;
    t.app.clock.set(T0 + 30);
    let with_otp = api
        .mfa_verify(json!({"mfa_token": token, "code": authenticator_code(&root.secret, T0 + 30)}))
        .await;
    assert_eq!(with_otp.status, 200);
    assert_eq!(revoke(with_otp.access_token()).await.status, 200);
}
