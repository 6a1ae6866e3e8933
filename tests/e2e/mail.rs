//! Verified email and account recovery through the whole local stack: the function
//! queues the mail, the maintenance loop delivers it over SMTP to the local server, the
//! test opens the message file in the Maildir and follows its link, as a person would.

use std::time::Duration;

use latchkey_tests::{Http, json, unique, wait_for_mailed_token};
use reqwest::Method;

use crate::PASSWORD;

/// Locally a mail leaves within 5 s of the request that queued it.
const MAIL_WITHIN: Duration = Duration::from_secs(5);

pub(crate) async fn register(
    http: &Http,
    login: &str,
    email: &str,
) -> latchkey_tests::TestResponse {
    http.register(json!({"login": login, "email": email, "password": PASSWORD}))
        .await
}

#[tokio::test]
async fn a_new_user_verifies_their_email_from_the_mail_they_received() {
    let http = Http::new();
    let id = unique();
    let email = format!("verify-{id}@example.com");
    let registered = register(&http, &format!("verify-{id}"), &email).await;
    assert_eq!(registered.body["user"]["email_verified"], false);

    let token = wait_for_mailed_token(&email, "verify-email", MAIL_WITHIN).await;
    let verified = http
        .post("/auth/verify-email", json!({ "token": token }))
        .await;
    assert_eq!(
        (verified.status, &verified.body),
        (200, &json!({"status": "ok", "email_verified": true}))
    );
    let me = http.me(&registered.access_token()).await;
    assert_eq!(me.body["user"]["email_verified"], true);
}

#[tokio::test]
async fn a_forgotten_password_is_reset_from_the_mail_and_old_tokens_are_refused() {
    let http = Http::new();
    let id = unique();
    let (login, email) = (format!("forgot-{id}"), format!("forgot-{id}@example.com"));
    let registered = register(&http, &login, &email).await;

    let forgot = http
        .post("/auth/password/forgot", json!({ "login": email }))
        .await;
    assert_eq!(
        (forgot.status, &forgot.body),
        (202, &json!({"status": "ok"}))
    );
    let unknown = http
        .post(
            "/auth/password/forgot",
            json!({ "login": format!("nobody-{id}") }),
        )
        .await;
    assert_eq!((unknown.status, &unknown.body), (202, &forgot.body));

    let token = wait_for_mailed_token(&email, "reset-password", MAIL_WITHIN).await;
    let new_password = format!("new password {id}");
    let reset = http
        .post(
            "/auth/password/reset",
            json!({"token": token, "password": new_password}),
        )
        .await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    assert_eq!(reset.body["user"]["email_verified"], true);

    let old_access = http.me(&registered.access_token()).await;
    assert_eq!(old_access.error_code(), "invalid_token");
    let old_refresh = http.refresh(&registered.refresh_token()).await;
    assert_eq!(old_refresh.error_code(), "invalid_token");
    let old_password = http.login(&login, PASSWORD).await;
    assert_eq!(old_password.status, 401);
    let logged_in = http.login(&login, &new_password).await;
    assert_eq!(logged_in.status, 200, "{}", logged_in.body);
    let again = http
        .post(
            "/auth/password/reset",
            json!({"token": token, "password": "yet another password"}),
        )
        .await;
    again.assert_error(400, "invalid_link");
}

#[tokio::test]
async fn an_email_change_is_reverted_from_the_notice_sent_to_the_old_address() {
    let http = Http::new();
    let id = unique();
    let (old, new) = (
        format!("owner-{id}@example.com"),
        format!("taker-{id}@example.com"),
    );
    let registered = register(&http, &format!("owner-{id}"), &old).await;
    let user_id = registered.body["user"]["id"].as_i64().unwrap();

    let changed = http
        .send(
            Method::PATCH,
            &format!("/users/{user_id}"),
            Some(&registered.access_token()),
            Some(json!({"current_password": PASSWORD, "email": new}).to_string()),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(changed.body["user"]["email"], old.as_str());
    assert_eq!(changed.body["user"]["pending_email"], new.as_str());

    // The new address proves itself...
    let verify = wait_for_mailed_token(&new, "verify-email", MAIL_WITHIN).await;
    let verified = http
        .post("/auth/verify-email", json!({ "token": verify }))
        .await;
    assert_eq!(verified.status, 200, "{}", verified.body);
    // ...and the old owner takes the account back from the notice.
    let revert = wait_for_mailed_token(&old, "revert-email", MAIL_WITHIN).await;
    let reverted = http
        .post("/auth/email-change/revert", json!({ "token": revert }))
        .await;
    assert_eq!(
        (reverted.status, &reverted.body),
        (200, &json!({"status": "ok"}))
    );

    let revoked = http.me(&registered.access_token()).await;
    assert_eq!(revoked.error_code(), "invalid_token");
    let back = http.login(&old, PASSWORD).await;
    assert_eq!(back.status, 200, "{}", back.body);
    assert_eq!(back.body["user"]["email"], old.as_str());
    assert_eq!(back.body["user"]["email_verified"], true);
    assert!(back.body["user"]["pending_email"].is_null());
}
