//! Verified email: the verification mail on registration, verify-email, resend-verification,
//! email changes (pending email, notice and revert), the password-change notice and
//! REQUIRE_VERIFIED_EMAIL.

use latchkey_tests::{TestApp, json};

use crate::{Api, PASSWORD, assert_invalid_link, count_rows, user_id};

/// A well-formed token that was never issued.
const UNKNOWN_TOKEN: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

#[tokio::test]
async fn registering_with_an_email_mails_a_link_that_verifies_it() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let ann = api.sign_up_with_email("ann", "Ann@Example.com").await;
    assert_eq!(ann.body["user"]["email_verified"], false);
    assert!(ann.body["user"]["pending_email"].is_null());

    let mails = api.outbox("ann@example.com").await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    let (subject, body) = &mails[0];
    assert_eq!(subject, "[Latchkey] Confirm your email address");
    assert!(
        body.contains("http://127.0.0.1:3000/verify-email#token="),
        "{body}"
    );
    assert!(!body.contains(PASSWORD));

    let token = api.link_token("ann@example.com", "verify-email").await;
    let verified = api.verify_email(&token).await;
    assert_eq!(verified.status, 200, "{}", verified.body);
    assert_eq!(
        verified.body,
        json!({"status": "ok", "email_verified": true})
    );
    let me = api.me(&ann.access_token()).await;
    assert_eq!(me.body["user"]["email_verified"], true);

    let again = api.verify_email(&token).await;
    assert_eq!(
        (again.status, &again.body),
        (200, &verified.body),
        "a second click answers as the first"
    );
}

#[tokio::test]
async fn registering_without_an_email_mails_nothing() {
    let t = TestApp::new().await;
    let api = Api(&t);
    api.register(json!({"phone": "+15550001111", "password": PASSWORD}))
        .await;
    assert_eq!(count_rows(&t, "outbox").await, 0);
}

#[tokio::test]
async fn unknown_malformed_missing_and_wrong_kind_tokens_are_refused() {
    let t = TestApp::new().await;
    let api = Api(&t);
    api.sign_up_with_email("bea", "bea@example.com").await;
    for bad in [UNKNOWN_TOKEN, "abc", "not base64!", &"A".repeat(44)] {
        assert_invalid_link(&api.verify_email(bad).await);
        assert_invalid_link(&api.revert_email_change(bad).await);
        assert_invalid_link(&api.reset_password(bad, "a new password").await);
    }
    let missing = api.0.respond(
        ::verify_email::handler(
            &t.app,
            latchkey_tests::req::post("/auth/verify-email", &json!({})),
        )
        .await,
    );
    missing.assert_error(400, "validation_failed");
    assert_eq!(missing.body["fields"]["token"], json!(["is required"]));
    let wrong_type = api.0.respond(
        ::verify_email::handler(
            &t.app,
            latchkey_tests::req::post("/auth/verify-email", &json!({"token": 5})),
        )
        .await,
    );
    assert_eq!(wrong_type.error_code(), "invalid_json");

    // A verification token is no reset token, and the reverse.
    let verify = api.link_token("bea@example.com", "verify-email").await;
    assert_invalid_link(&api.reset_password(&verify, "a new password").await);
    assert_invalid_link(&api.revert_email_change(&verify).await);
    assert_eq!(api.forgot_password("bea").await.status, 202);
    let reset = api.link_token("bea@example.com", "reset-password").await;
    assert_invalid_link(&api.verify_email(&reset).await);
    assert_eq!(api.verify_email(&verify).await.status, 200, "still unspent");
}

#[tokio::test]
async fn an_expired_verification_link_is_refused() {
    let t = TestApp::new().await;
    let api = Api(&t);
    api.sign_up_with_email("cid", "cid@example.com").await;
    let token = api.link_token("cid@example.com", "verify-email").await;
    t.sql()
        .await
        .execute(
            "UPDATE one_time_tokens SET expires_at = now() - interval '1 second'",
            &[],
        )
        .await
        .unwrap();
    assert_invalid_link(&api.verify_email(&token).await);
}

#[tokio::test]
async fn resending_supersedes_the_previous_link() {
    let t = TestApp::new().await;
    let api = Api(&t);
    api.sign_up_with_email("dan", "dan@example.com").await;
    let first = api.link_token("dan@example.com", "verify-email").await;
    let resent = api.resend_verification("DAN@example.com").await;
    assert_eq!(resent.status, 202);
    assert_eq!(resent.body, json!({"status": "ok"}));
    let second = api.link_token("dan@example.com", "verify-email").await;
    assert_ne!(first, second);
    assert_invalid_link(&api.verify_email(&first).await);
    assert_eq!(api.verify_email(&second).await.status, 200);
}

#[tokio::test]
async fn resending_answers_the_same_for_every_account_and_mails_only_what_needs_verifying() {
    let t = TestApp::new().await;
    let api = Api(&t);
    api.sign_up("no-email").await;
    api.sign_up_with_email("eve", "eve@example.com").await;
    let token = api.link_token("eve@example.com", "verify-email").await;
    api.verify_email(&token).await;
    let before = api.outbox("eve@example.com").await.len();

    for login in ["nobody-at-all", "no-email", "eve", "eve@example.com"] {
        let response = api.resend_verification(login).await;
        assert_eq!(
            (response.status, &response.body),
            (202, &json!({"status": "ok"})),
            "{login}"
        );
    }
    assert_eq!(
        api.outbox("eve@example.com").await.len(),
        before,
        "a verified email gets nothing"
    );
    assert_eq!(
        count_rows(&t, "outbox").await,
        1,
        "only the registration's mail"
    );

    let missing = api.resend_verification("  ").await;
    missing.assert_error(400, "validation_failed");
}

#[tokio::test]
async fn mail_only_routes_send_at_most_one_a_minute_five_an_hour_and_twenty_a_day() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let fay = api.sign_up_with_email("fay", "fay@example.com").await;
    let id = user_id(&fay);
    let sql = t.sql().await;
    let resets = || async { api.outbox("fay@example.com").await.len() };
    let base = resets().await;

    assert_eq!(api.forgot_password("fay").await.status, 202);
    assert_eq!(api.resend_verification("fay").await.status, 202);
    assert_eq!(api.forgot_password("fay").await.status, 202);
    assert_eq!(resets().await, base + 1, "one per 60 s across the routes");

    // Four more, spaced over the hour: the fifth in the hour goes, the sixth does not.
    for _ in 0..5 {
        sql.execute(
            "UPDATE mail_requests SET requested_at = requested_at - interval '61 seconds'
             WHERE user_id = $1",
            &[&id],
        )
        .await
        .unwrap();
        api.forgot_password("fay").await;
    }
    assert_eq!(resets().await, base + 5, "five per hour");

    // Earlier in the day: 20 in all.
    sql.execute(
        "UPDATE mail_requests SET requested_at = requested_at - interval '2 hours'
         WHERE user_id = $1",
        &[&id],
    )
    .await
    .unwrap();
    sql.execute(
        "INSERT INTO mail_requests (user_id, requested_at)
         SELECT $1, now() - interval '3 hours' FROM generate_series(1, 15)",
        &[&id],
    )
    .await
    .unwrap();
    assert_eq!(api.forgot_password("fay").await.status, 202);
    assert_eq!(resets().await, base + 5, "twenty per day");
    sql.execute(
        "UPDATE mail_requests SET requested_at = now() - interval '25 hours'
         WHERE user_id = $1",
        &[&id],
    )
    .await
    .unwrap();
    api.forgot_password("fay").await;
    assert_eq!(resets().await, base + 6, "a new day, a new allowance");
}

#[tokio::test]
async fn a_new_email_waits_as_pending_until_verified_and_the_old_address_is_told() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let gus = api.sign_up_with_email("gus", "gus@example.com").await;
    let id = user_id(&gus);
    api.forgot_password("gus").await;
    let old_reset = api.link_token("gus@example.com", "reset-password").await;

    let changed = api
        .update_user(
            &gus.access_token(),
            id,
            json!({"current_password": PASSWORD, "email": "Gus@New.example"}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let user = &changed.body["user"];
    assert_eq!(user["email"], "gus@example.com");
    assert_eq!(user["pending_email"], "gus@new.example");

    let notice = api.outbox("gus@example.com").await;
    let (subject, body) = notice.last().unwrap();
    assert_eq!(subject, "[Latchkey] Your email address is being changed");
    assert!(body.contains("/revert-email#token="), "{body}");
    assert!(!body.contains("gus@new.example"));
    assert_eq!(api.login("gus@new.example", PASSWORD).await.status, 401);
    assert_eq!(api.login("gus@example.com", PASSWORD).await.status, 200);

    let token = api.link_token("gus@new.example", "verify-email").await;
    assert_eq!(api.verify_email(&token).await.status, 200);
    let me = api.me(&gus.access_token()).await;
    assert_eq!(me.body["user"]["email"], "gus@new.example");
    assert!(me.body["user"]["pending_email"].is_null());
    assert_eq!(me.body["user"]["email_verified"], true);
    assert_eq!(api.login("gus@new.example", PASSWORD).await.status, 200);
    assert_eq!(api.login("gus@example.com", PASSWORD).await.status, 401);
    assert_invalid_link(&api.reset_password(&old_reset, "a new password").await);
}

#[tokio::test]
async fn reverting_from_the_old_address_restores_it_and_signs_everyone_out() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let hal = api.sign_up_with_email("hal", "hal@example.com").await;
    let id = user_id(&hal);
    // Someone with the password moves the email and proves the new one.
    api.update_user(
        &hal.access_token(),
        id,
        json!({"current_password": PASSWORD, "email": "thief@example.com"}),
    )
    .await;
    let verify = api.link_token("thief@example.com", "verify-email").await;
    api.verify_email(&verify).await;
    for _ in 0..5 {
        assert_eq!(api.login("hal", "wrong password").await.status, 401);
    }
    assert_eq!(api.login("hal", PASSWORD).await.status, 429, "locked");

    let revert = api.link_token("hal@example.com", "revert-email").await;
    let reverted = api.revert_email_change(&revert).await;
    assert_eq!(
        (reverted.status, &reverted.body),
        (200, &json!({"status": "ok"}))
    );
    api.me(&hal.access_token()).await.assert_invalid_token();
    let back = api.login("hal@example.com", PASSWORD).await;
    assert_eq!(back.status, 200, "lock cleared: {}", back.body);
    let user = &back.body["user"];
    assert_eq!(
        (user["email"].as_str(), user["email_verified"].as_bool()),
        (Some("hal@example.com"), Some(true))
    );
    assert!(user["pending_email"].is_null());
    assert_eq!(api.login("thief@example.com", PASSWORD).await.status, 401);
    assert_invalid_link(&api.revert_email_change(&revert).await);
    assert_invalid_link(&api.verify_email(&verify).await);
}

#[tokio::test]
async fn a_pending_email_link_is_void_once_another_change_replaced_it() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let ian = api.sign_up_with_email("ian", "ian@example.com").await;
    let (token, id) = (ian.access_token(), user_id(&ian));
    let change = |email: &'static str| {
        let (token, api) = (token.clone(), &api);
        async move {
            api.update_user(
                &token,
                id,
                json!({"current_password": PASSWORD, "email": email}),
            )
            .await
        }
    };
    change("first@example.com").await;
    let first = api.link_token("first@example.com", "verify-email").await;
    change("ian@example.com").await;
    let me = api.me(&ian.access_token()).await;
    assert!(
        me.body["user"]["pending_email"].is_null(),
        "going back cancels"
    );
    assert_invalid_link(&api.verify_email(&first).await);
    assert_eq!(api.outbox("ian@example.com").await.len(), 2);
}

#[tokio::test]
async fn verifying_an_address_another_account_took_meanwhile_is_a_conflict() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let jay = api.sign_up_with_email("jay", "jay@example.com").await;
    api.update_self(
        &jay,
        json!({"current_password": PASSWORD, "email": "shared@example.com"}),
    )
    .await;
    let token = api.link_token("shared@example.com", "verify-email").await;
    api.sign_up_with_email("kim", "shared@example.com").await;
    let response = api.verify_email(&token).await;
    response.assert_error(409, "user_exists");
    let taken = api
        .update_self(
            &jay,
            json!({"current_password": PASSWORD, "email": "SHARED@example.com"}),
        )
        .await;
    taken.assert_error(409, "user_exists");
}

#[tokio::test]
async fn an_account_without_an_email_takes_a_new_one_at_once_unverified() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let lou = api.sign_up("lou").await;
    let changed = api
        .update_self(
            &lou,
            json!({"current_password": PASSWORD, "email": "lou@example.com"}),
        )
        .await;
    let user = &changed.body["user"];
    assert_eq!(
        (user["email"].as_str(), user["email_verified"].as_bool()),
        (Some("lou@example.com"), Some(false))
    );
    let token = api.link_token("lou@example.com", "verify-email").await;
    assert_eq!(api.verify_email(&token).await.status, 200);

    let cleared = api
        .update_self(&lou, json!({"current_password": PASSWORD, "email": null}))
        .await;
    assert_eq!(cleared.body["user"]["email_verified"], false);
    assert_invalid_link(&api.verify_email(&token).await);
}

#[tokio::test]
async fn a_password_change_is_notified_to_the_email() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let max = api.sign_up_with_email("max", "max@example.com").await;
    api.update_self(
        &max,
        json!({"current_password": PASSWORD, "password": "another password"}),
    )
    .await;
    let mails = api.outbox("max@example.com").await;
    let (subject, body) = mails.last().unwrap();
    assert_eq!(subject, "[Latchkey] Your password was changed");
    assert!(!body.contains("another password") && !body.contains("token="));
}

#[tokio::test]
async fn with_require_verified_email_an_unverified_account_cannot_log_in() {
    let t = TestApp::with_env(&[("REQUIRE_VERIFIED_EMAIL", "true")]).await;
    let api = Api(&t);
    api.sign_up_with_email("ned", "ned@example.com").await;
    api.sign_up("no-mail").await;
    let refused = api.login("ned", PASSWORD).await;
    refused.assert_error(403, "email_unverified");
    let wrong = api.login("ned", "wrong password").await;
    assert_eq!(
        (wrong.status, wrong.error_code()),
        (401, "invalid_credentials"),
        "nothing is said before the password is right"
    );
    assert_eq!(api.login("no-mail", PASSWORD).await.status, 200);
    let token = api.link_token("ned@example.com", "verify-email").await;
    api.verify_email(&token).await;
    assert_eq!(api.login("ned", PASSWORD).await.status, 200);
}
