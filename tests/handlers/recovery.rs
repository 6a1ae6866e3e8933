//! Account recovery: forgot-password and reset-password.

use std::time::{Duration, Instant};

use latchkey_tests::{TestApp, json};

use crate::{Api, PASSWORD, assert_invalid_link, count, count_rows, user_id};

const NEW_PASSWORD: &str = "a brand new password";

#[tokio::test]
async fn a_forgotten_password_is_reset_by_the_mailed_link_and_every_old_token_dies() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let amy = api.sign_up_with_email("amy", "amy@example.com").await;
    let other_session = api.login("amy", PASSWORD).await;

    let forgot = api.forgot_password("AMY@example.com").await;
    assert_eq!(
        (forgot.status, &forgot.body),
        (202, &json!({"status": "ok"}))
    );
    let mails = api.outbox("amy@example.com").await;
    let (subject, body) = mails.last().unwrap();
    assert_eq!(subject, "[Latchkey] Reset your password");
    assert!(
        body.contains("http://127.0.0.1:3000/reset-password#token="),
        "{body}"
    );
    let token = api.link_token("amy@example.com", "reset-password").await;

    let reset = api.reset_password(&token, NEW_PASSWORD).await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    assert_eq!(reset.body["user"]["id"], amy.body["user"]["id"]);
    assert_eq!(
        reset.body["user"]["email_verified"], true,
        "the mail proved it"
    );
    assert_eq!(reset.body["token_type"], "Bearer");
    assert_eq!(api.me(&reset.access_token()).await.status, 200);

    for old in [&amy, &other_session] {
        api.me(&old.access_token()).await.assert_invalid_token();
        api.refresh(&old.refresh_token())
            .await
            .assert_invalid_token();
    }
    assert_eq!(api.login("amy", PASSWORD).await.status, 401);
    assert_eq!(api.login("amy", NEW_PASSWORD).await.status, 200);
    let (subject, body) = api.outbox("amy@example.com").await.pop().unwrap();
    assert_eq!(subject, "[Latchkey] Your password was reset");
    assert!(!body.contains(NEW_PASSWORD) && !body.contains("token="));

    assert_invalid_link(&api.reset_password(&token, "yet another one").await);
}

#[tokio::test]
async fn forgot_password_answers_the_same_and_mails_nothing_without_an_account_or_email() {
    let t = TestApp::new().await;
    let api = Api(&t);
    api.sign_up("no-email").await;
    for login in ["nobody", "no-email", "+15550002222"] {
        let response = api.forgot_password(login).await;
        assert_eq!(
            (response.status, &response.body),
            (202, &json!({"status": "ok"})),
            "{login}"
        );
    }
    assert_eq!(count_rows(&t, "outbox").await, 0);
    assert_eq!(count_rows(&t, "one_time_tokens").await, 0);
}

#[tokio::test]
async fn forgot_password_takes_as_long_for_an_unknown_account_as_for_a_real_one() {
    let t = TestApp::new().await;
    let api = Api(&t);
    api.sign_up_with_email("tim", "tim@example.com").await;
    // Warm up both paths (prepared statements, pool).
    api.forgot_password("tim").await;
    api.forgot_password("nobody").await;
    // Paired, interleaved measurements: the median of the differences is robust against
    // bursts of load from other tests, which slow both members of a pair alike.
    let mut differences = Vec::new();
    let mut known_total = Duration::ZERO;
    for _ in 0..41 {
        let started = Instant::now();
        api.forgot_password("tim").await;
        let known = started.elapsed();
        let started = Instant::now();
        api.forgot_password("nobody").await;
        let unknown = started.elapsed();
        known_total += known;
        differences.push(known.as_secs_f64() - unknown.as_secs_f64());
    }
    differences.sort_by(f64::total_cmp);
    let median = differences[differences.len() / 2];
    let mean_known = known_total.as_secs_f64() / 41.0;
    assert!(
        median.abs() < 0.002 || median.abs() < mean_known * 0.25,
        "median difference {:.2} ms (known account: {:.2} ms on average)",
        median * 1e3,
        mean_known * 1e3
    );
}

#[tokio::test]
async fn a_password_that_breaks_the_rules_leaves_the_token_unspent() {
    let t = TestApp::new().await;
    let api = Api(&t);
    api.sign_up_with_email("bob", "bob@example.com").await;
    api.forgot_password("bob").await;
    let token = api.link_token("bob@example.com", "reset-password").await;
    let short = api.reset_password(&token, "abc").await;
    short.assert_error(400, "validation_failed");
    assert!(short.body["fields"]["password"].is_array());
    let missing = api.0.respond(
        ::reset_password::handler(
            &t.app,
            latchkey_tests::req::post("/auth/password/reset", &json!({"token": token})),
        )
        .await,
    );
    assert_eq!(missing.error_code(), "validation_failed");
    assert_eq!(api.reset_password(&token, NEW_PASSWORD).await.status, 200);
}

#[tokio::test]
async fn a_reset_link_dies_with_a_password_change_expiry_or_a_newer_link() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let cal = api.sign_up_with_email("cal", "cal@example.com").await;
    let sql = t.sql().await;
    let forget = || async {
        // Past the one-a-minute cap.
        sql.execute(
            "UPDATE mail_requests SET requested_at = now() - interval '2 minutes'",
            &[],
        )
        .await
        .unwrap();
        api.forgot_password("cal").await;
        api.link_token("cal@example.com", "reset-password").await
    };

    let first = forget().await;
    let second = forget().await;
    assert_invalid_link(&api.reset_password(&first, NEW_PASSWORD).await);

    api.update_self(
        &cal,
        json!({"current_password": PASSWORD, "password": "changed meanwhile"}),
    )
    .await;
    assert_invalid_link(&api.reset_password(&second, NEW_PASSWORD).await);

    let third = forget().await;
    sql.execute(
        "UPDATE one_time_tokens SET expires_at = now() - interval '1 second'",
        &[],
    )
    .await
    .unwrap();
    assert_invalid_link(&api.reset_password(&third, NEW_PASSWORD).await);
}

#[tokio::test]
async fn a_reset_clears_the_lock() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let dee = api.sign_up_with_email("dee", "dee@example.com").await;
    for _ in 0..5 {
        assert_eq!(api.login("dee", "wrong password").await.status, 401);
    }
    assert_eq!(api.login("dee", PASSWORD).await.status, 429, "locked");
    let locks = count(
        &t,
        "SELECT count(*) FROM login_locks WHERE user_id = $1",
        &[&user_id(&dee)],
    )
    .await;
    assert!(locks > 0);
    api.forgot_password("dee").await;
    let token = api.link_token("dee@example.com", "reset-password").await;
    assert_eq!(api.reset_password(&token, NEW_PASSWORD).await.status, 200);
    assert_eq!(api.login("dee", NEW_PASSWORD).await.status, 200);
}

#[tokio::test]
async fn of_two_resets_with_one_link_exactly_one_succeeds() {
    let t = TestApp::new().await;
    let api = Api(&t);
    api.sign_up_with_email("eli", "eli@example.com").await;
    api.forgot_password("eli").await;
    let token = api.link_token("eli@example.com", "reset-password").await;
    let (a, b) = tokio::join!(
        api.reset_password(&token, "first new password"),
        api.reset_password(&token, "second new password"),
    );
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [200, 400]);
}

#[tokio::test]
async fn a_reset_racing_a_new_reset_request_never_fails_with_a_server_error() {
    let t = TestApp::new().await;
    let api = Api(&t);
    api.sign_up_with_email("fin", "fin@example.com").await;
    let sql = t.sql().await;
    for round in 0..10 {
        sql.execute("DELETE FROM mail_requests", &[]).await.unwrap();
        api.forgot_password("fin").await;
        let token = api.link_token("fin@example.com", "reset-password").await;
        sql.execute("DELETE FROM mail_requests", &[]).await.unwrap();
        let password = format!("new password {round}");
        let (reset, forgot) = tokio::join!(
            api.reset_password(&token, &password),
            api.forgot_password("fin"),
        );
        assert!(
            reset.status == 200 || reset.error_code() == "invalid_link",
            "{}",
            reset.body
        );
        assert_eq!(forgot.status, 202, "{}", forgot.body);
    }
}
