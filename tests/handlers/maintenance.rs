//! `maintenance`: outbox delivery over SMTP (a real server: the local one `local/test.sh`
//! starts, named by `SMTP_URL`), retries with backoff when the server is down or hangs,
//! and the clean-up of what expired.

use std::time::{Duration, Instant};

use latchkey_tests::{TestApp, json, unique};
use maintenance::{Maintenance, Sender};
use shared::App;

use crate::{Api, PASSWORD, column, count, count_rows, user_id};

/// An address nothing listens on.
async fn closed_port_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("smtp://127.0.0.1:{port}")
}

/// A server that accepts connections and never says a word, like a hung mail server.
async fn hanging_server_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("smtp://127.0.0.1:{port}")
}

fn real_server_url() -> String {
    std::env::var("SMTP_URL").expect(
        "SMTP_URL is not set: run the tests with local/test.sh, which starts the local SMTP \
         server and sets it",
    )
}

fn maintenance(app: &App) -> Maintenance<'_> {
    Maintenance::new(app, Sender::new(&app.config.mail).unwrap())
}

#[tokio::test]
async fn mail_the_server_refuses_stays_queued_and_is_retried_later() {
    let t = TestApp::new().await;
    let api = Api(&t);
    api.register(json!({"login": "ann", "email": "ann@example.com", "password": PASSWORD}))
        .await;
    let down = t.reconfigured(&[
        ("SMTP_URL", &closed_port_url().await),
        ("MAIL_RETRY_BASE_SECS", "30"),
    ]);

    let report = maintenance(&down).round().await.unwrap();
    assert_eq!((report.sent, report.failed), (0, 1));
    let sql = t.sql().await;
    let row = sql
        .query_one(
            "SELECT attempts, last_error, body,
                    extract(epoch FROM next_attempt_at - now())::float8 AS wait
             FROM outbox",
            &[],
        )
        .await
        .unwrap();
    let (attempts, error, body, wait): (i32, String, String, f64) =
        (row.get(0), row.get(1), row.get(2), row.get(3));
    assert_eq!(attempts, 1);
    assert!(!error.is_empty());
    let token = latchkey_tests::link_token(&body, "verify-email").unwrap();
    assert!(!error.contains(&token), "no secret in last_error");
    assert!((25.0..=31.0).contains(&wait), "backoff {wait}");

    let again = maintenance(&down).round().await.unwrap();
    assert_eq!(again.failed, 0, "not due before its backoff");
    sql.execute("UPDATE outbox SET next_attempt_at = now()", &[])
        .await
        .unwrap();
    maintenance(&down).round().await.unwrap();
    let wait: f64 = sql
        .query_one(
            "SELECT extract(epoch FROM next_attempt_at - now())::float8 FROM outbox",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!((55.0..=61.0).contains(&wait), "doubled backoff {wait}");
}

#[tokio::test]
async fn a_hanging_mail_server_slows_no_request_and_the_mail_leaves_once_a_server_answers() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let hung = t.reconfigured(&[
        ("SMTP_URL", &hanging_server_url().await),
        ("SMTP_TIMEOUT_SECS", "2"),
        ("MAIL_RETRY_BASE_SECS", "0"),
    ]);
    let email = format!("fault-{}@example.com", unique());
    let new_email = format!("fault-new-{}@example.com", unique());

    // While maintenance waits on the hung server, requests that queue mail answer at once.
    let requests = async {
        let started = Instant::now();
        let ann = api
            .register(json!({"login": format!("fault-{}", unique()), "email": &email, "password": PASSWORD}))
            .await;
        assert_eq!(ann.status, 201);
        let forgot = api.forgot_password(&email).await;
        assert_eq!(forgot.status, 202);
        let changed = api
            .update_self(
                &ann,
                json!({"current_password": PASSWORD, "email": &new_email}),
            )
            .await;
        assert_eq!(changed.status, 200);
        started.elapsed()
    };
    let stuck_round = async {
        // Give the requests a head start so the round finds their mail.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let started = Instant::now();
        let report = maintenance(&hung).round().await.unwrap();
        (report, started.elapsed())
    };
    let (requests_took, (report, round_took)) = tokio::join!(requests, stuck_round);
    assert!(
        requests_took < Duration::from_millis(1500),
        "requests took {requests_took:?}"
    );
    assert_eq!(
        (report.sent, report.failed),
        (0, 1),
        "one timeout, the rest of the batch put back untried"
    );
    assert!(
        (Duration::from_secs(2)..Duration::from_secs(4)).contains(&round_took),
        "{round_took:?}"
    );

    let queued = count(&t, "SELECT count(*) FROM outbox WHERE sent_at IS NULL", &[]).await;
    assert_eq!(
        queued, 4,
        "verification, reset, new-address link, old-address notice"
    );

    let back = t.reconfigured(&[("SMTP_URL", &real_server_url())]);
    let delivered = maintenance(&back).round().await.unwrap();
    assert_eq!((delivered.sent, delivered.failed), (4, 0));
    assert_eq!(
        count_rows(&t, "outbox").await,
        0,
        "mail that held a token is deleted once delivered"
    );
    let token =
        latchkey_tests::wait_for_mailed_token(&new_email, "verify-email", Duration::from_secs(5))
            .await;
    assert_eq!(api.verify_email(&token).await.status, 200);
    let message = latchkey_tests::maildir_messages(&email).join("\n");
    assert!(
        message.contains("Subject: [Latchkey] Reset your password"),
        "{message}"
    );
    assert!(message.contains("From: Latchkey <no-reply@latchkey.localhost>"));
}

#[tokio::test]
async fn a_delivered_notice_is_kept_a_day_and_then_deleted() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let email = format!("notice-{}@example.com", unique());
    let bea = api
        .register(
            json!({"login": format!("n-{}", unique()), "email": &email, "password": PASSWORD}),
        )
        .await;
    api.update_self(
        &bea,
        json!({"current_password": PASSWORD, "password": "another password"}),
    )
    .await;
    let app = t.reconfigured(&[("SMTP_URL", &real_server_url())]);
    let report = maintenance(&app).round().await.unwrap();
    assert_eq!(report.sent, 2);
    let sql = t.sql().await;
    let sent: Vec<bool> = column(&t, "SELECT sent_at IS NOT NULL FROM outbox").await;
    assert_eq!(sent, [true], "only the notice is kept, as sent");
    sql.execute(
        "UPDATE outbox SET sent_at = now() - interval '25 hours'",
        &[],
    )
    .await
    .unwrap();
    maintenance(&app).round().await.unwrap();
    assert_eq!(count_rows(&t, "outbox").await, 0);
}

#[tokio::test]
async fn clean_up_deletes_only_what_expired_or_was_spent() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let cy = api
        .register(json!({"login": "cyd", "email": "cyd@example.com", "password": PASSWORD}))
        .await;
    let id = user_id(&cy);
    api.login("cyd", PASSWORD).await;
    api.forgot_password("cyd").await;
    let sql = t.sql().await;
    // Arrange: one of each kind of dead row next to live ones.
    sql.batch_execute(&format!(
        "UPDATE sessions SET expires_at = now() - interval '1 second'
           WHERE id = (SELECT min(id::text)::uuid FROM sessions WHERE user_id = {id});
         INSERT INTO one_time_tokens (token_hash, user_id, kind, email, expires_at, used_at, superseded_at)
         VALUES (sha256('a'), {id}, 'verify_email', 'x', now() - interval '1 s', NULL, now()),
                (sha256('b'), {id}, 'a_later_kind', NULL, now() - interval '1 s', NULL, NULL),
                (sha256('c'), {id}, 'verify_email', 'x', now() + interval '1 h', now() - interval '2 h', NULL),
                (sha256('d'), {id}, 'revert_email', 'x', now() + interval '1 h', now() - interval '1 minute', NULL);
         INSERT INTO outbox (recipient, subject, body, holds_token, expires_at)
         VALUES ('gone@example.com', 's', 'b', true, now() - interval '1 s');
         INSERT INTO mail_requests (user_id, requested_at)
         VALUES ({id}, now() - interval '25 hours'), ({id}, now() - interval '23 hours');"
    ))
    .await
    .unwrap();
    // Not delivered: nothing listens.
    let app = t.reconfigured(&[("SMTP_URL", &closed_port_url().await)]);
    let deleted = maintenance(&app).clean_up().await.unwrap();
    // A session, tokens a, b and c (d was spent a minute ago), the expired mail, the
    // request over a day old.
    assert_eq!(deleted, 6);

    assert_eq!(count_rows(&t, "sessions").await, 1);
    // Left: the registration's verification token, the reset token, and 'd'.
    assert_eq!(count_rows(&t, "one_time_tokens").await, 3);
    assert_eq!(count_rows(&t, "outbox").await, 2);
    assert_eq!(count_rows(&t, "mail_requests").await, 2);
}

#[tokio::test]
async fn a_scheduled_invocation_keeps_delivering_for_its_poll_window() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let app = t.reconfigured(&[("SMTP_URL", &real_server_url())]);
    let email = format!("poll-{}@example.com", unique());
    let maintenance = maintenance(&app);
    let invocation = maintenance.run_for(Duration::from_secs(3), Duration::from_millis(300));
    let later_mail = async {
        // Queued after the invocation's first round: a one-round invocation would miss it.
        tokio::time::sleep(Duration::from_secs(1)).await;
        api.register(
            json!({"login": format!("p-{}", unique()), "email": &email, "password": PASSWORD}),
        )
        .await;
    };
    let started = Instant::now();
    let (report, ()) = tokio::join!(invocation, later_mail);
    let took = started.elapsed();
    assert_eq!(report.unwrap().sent, 1);
    assert!(
        (Duration::from_millis(2500)..Duration::from_secs(5)).contains(&took),
        "{took:?}"
    );
    assert_eq!(count_rows(&t, "outbox").await, 0);
    latchkey_tests::wait_for_mailed_token(&email, "verify-email", Duration::from_secs(1)).await;
}

#[tokio::test]
async fn audit_events_older_than_the_retention_go_in_bounded_batches() {
    let t = TestApp::new().await;
    let api = Api(&t);
    api.sign_up("ret").await;
    t.sql()
        .await
        .batch_execute(
            "INSERT INTO auth_events (type, at)
             SELECT 'login_failed', now() - interval '31 days' FROM generate_series(1, 1005);
             INSERT INTO auth_events (type, at) VALUES ('login_failed', now() - interval '29 days');",
        )
        .await
        .unwrap();
    let app = t.reconfigured(&[
        ("SMTP_URL", &closed_port_url().await),
        ("AUDIT_RETENTION_DAYS", "30"),
    ]);
    let events = || async { count_rows(&t, "auth_events").await };
    assert_eq!(events().await, 1007);
    // A round deletes at most CLEANUP_BATCH (1000) events; the next round the rest.
    maintenance(&app).clean_up().await.unwrap();
    assert_eq!(events().await, 7);
    maintenance(&app).clean_up().await.unwrap();
    assert_eq!(
        events().await,
        2,
        "kept: the registration and the 29-day-old event"
    );
}
