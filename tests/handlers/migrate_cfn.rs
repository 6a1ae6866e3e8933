//! `migrate` as a CloudFormation custom resource: the handler is called as Lambda would
//! call it, and a local HTTP listener stands in for the pre-signed `ResponseURL`,
//! recording the answer CloudFormation would receive.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use latchkey_tests::{TestApp, json};
use migrate::custom_resource::{ANSWER_RESERVE, Responder, handle};
use serde_json::Value;
use shared::App;
use shared::Config;

use crate::Api;

const STACK: &str = "arn:aws:cloudformation:eu-west-1:123456789012:stack/latchkey-test/0a1b2c3d";
const UNREACHABLE_DB: &str = "postgres://latchkey:hunter2-db-password@127.0.0.1:1/latchkey";

/// What arrived at the response URL.
struct Answer {
    method: String,
    target: String,
    content_type: Option<String>,
    body: Value,
}

/// A one-shot HTTP server answering each request with the next of `statuses`.
struct ResponseUrl {
    url: String,
    answers: mpsc::Receiver<Answer>,
}

impl ResponseUrl {
    fn answering(statuses: &[u16]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/cfn-response/abc?X-Amz-Signature=not-a-real-one",
            listener.local_addr().unwrap()
        );
        let (sender, answers) = mpsc::channel();
        let statuses = statuses.to_vec();
        std::thread::spawn(move || {
            for status in statuses {
                let Ok((stream, _)) = listener.accept() else {
                    return;
                };
                let mut reader = BufReader::new(stream);
                let mut request_line = String::new();
                reader.read_line(&mut request_line).unwrap();
                let mut length = 0;
                let mut content_type = None;
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    let (name, value) = line.split_once(':').unwrap();
                    match name.to_ascii_lowercase().as_str() {
                        "content-length" => length = value.trim().parse().unwrap(),
                        "content-type" => content_type = Some(value.trim().to_owned()),
                        _ => {}
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                let mut stream = reader.into_inner();
                write!(
                    stream,
                    "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                )
                .unwrap();
                let mut parts = request_line.split_whitespace();
                let answer = Answer {
                    method: parts.next().unwrap_or_default().to_owned(),
                    target: parts.next().unwrap_or_default().to_owned(),
                    content_type,
                    body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                };
                if sender.send(answer).is_err() {
                    return;
                }
            }
        });
        Self { url, answers }
    }

    fn answer(&self) -> Answer {
        self.answers
            .recv_timeout(Duration::from_secs(10))
            .expect("nothing was PUT to the response URL")
    }

    fn nothing_more(&self) {
        assert!(
            self.answers
                .recv_timeout(Duration::from_millis(200))
                .is_err(),
            "an unexpected extra answer"
        );
    }
}

fn event(request_type: &str, response_url: &ResponseUrl) -> Value {
    json!({
        "RequestType": request_type,
        "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:latchkey-test-MigrateFunction",
        "ResponseURL": response_url.url,
        "StackId": STACK,
        "RequestId": "req-1",
        "LogicalResourceId": "Migration",
        "ResourceType": "Custom::Migrations",
        "ResourceProperties": {"FunctionVersion": "arn:aws:lambda:eu-west-1:123456789012:function:f:3"}
    })
}

fn update_event(response_url: &ResponseUrl, old_version: u32) -> Value {
    let mut event = event("Update", response_url);
    event["PhysicalResourceId"] = json!("latchkey-test-Migration");
    event["OldResourceProperties"] = json!({"FunctionVersion": format!("arn:aws:lambda:eu-west-1:123456789012:function:f:{old_version}")});
    event
}

/// Five minutes away, as for a function with a 300 s timeout.
fn deadline() -> SystemTime {
    SystemTime::now() + Duration::from_secs(300)
}

fn responder() -> Responder {
    Responder::new().unwrap()
}

/// Handles `event` with `app` before `deadline`, asserts the invocation succeeded, and
/// returns the body of the answer `url` received.
async fn answer_to(app: &App, event: Value, url: &ResponseUrl, deadline: SystemTime) -> Value {
    handle(Ok(app), &responder(), event, deadline)
        .await
        .unwrap();
    url.answer().body
}

#[tokio::test]
async fn a_create_applies_every_migration_bootstraps_the_admin_and_answers_success() {
    let t = TestApp::new().await;
    t.sql()
        .await
        .batch_execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        .await
        .unwrap();
    let app = t.migrating(&[
        ("ADMIN_LOGIN", "root"),
        ("ADMIN_PASSWORD", "admin-password-1"),
    ]);
    let url = ResponseUrl::answering(&[200]);

    let result = handle(Ok(&app), &responder(), event("Create", &url), deadline()).await;

    assert!(result.is_ok(), "{result:?}");
    let answer = url.answer();
    assert_eq!(answer.method, "PUT");
    assert_eq!(
        answer.target,
        "/cfn-response/abc?X-Amz-Signature=not-a-real-one"
    );
    assert_eq!(
        answer.content_type, None,
        "the URL is signed without a content type"
    );
    let body = answer.body;
    assert_eq!(body["Status"], "SUCCESS", "{body}");
    assert_eq!(body["PhysicalResourceId"], "latchkey-test-Migration");
    assert_eq!(body["StackId"], STACK);
    assert_eq!(body["RequestId"], "req-1");
    assert_eq!(body["LogicalResourceId"], "Migration");
    assert_eq!(body["Data"]["Admin"], "created");
    assert!(
        body["Data"]["Applied"]
            .as_str()
            .unwrap()
            .starts_with("V1__"),
        "{body}"
    );
    assert_ne!(body["Data"]["AppliedCount"], "0");
    assert_eq!(Api(&t).login("root", "admin-password-1").await.status, 200);
    url.nothing_more();
}

#[tokio::test]
async fn an_update_keeps_the_physical_id_and_applies_only_what_is_pending() {
    let t = TestApp::new().await;
    let url = ResponseUrl::answering(&[200]);

    let body = answer_to(&t.migrating(&[]), update_event(&url, 2), &url, deadline()).await;
    assert_eq!(body["Status"], "SUCCESS", "{body}");
    assert_eq!(body["PhysicalResourceId"], "latchkey-test-Migration");
    assert_eq!(body["Data"]["AppliedCount"], "0");
    assert_eq!(body["Data"]["Admin"], "not_configured");
}

#[tokio::test]
async fn a_delete_answers_success_without_touching_the_database() {
    let t = TestApp::new().await;
    let app = t.migrating(&[("DATABASE_URL", UNREACHABLE_DB)]);
    let url = ResponseUrl::answering(&[200]);
    let mut event = event("Delete", &url);
    event["PhysicalResourceId"] = json!("latchkey-test-Migration");

    let body = answer_to(&app, event, &url, deadline()).await;
    assert_eq!(body["Status"], "SUCCESS", "{body}");
    assert_eq!(body["PhysicalResourceId"], "latchkey-test-Migration");
    let tables = t
        .sql()
        .await
        .query_one("SELECT count(*) FROM users", &[])
        .await;
    assert!(tables.is_ok(), "the schema is still there");
}

#[tokio::test]
async fn a_rollback_to_an_older_version_answers_success_without_migrating() {
    let t = TestApp::new().await;
    let app = t.migrating(&[("DATABASE_URL", UNREACHABLE_DB)]);
    let url = ResponseUrl::answering(&[200]);

    let body = answer_to(&app, update_event(&url, 9), &url, deadline()).await;
    assert_eq!(body["Status"], "SUCCESS", "{body}");
    assert!(body["Reason"].as_str().unwrap().contains("rollback"));
}

#[tokio::test]
async fn with_migrate_on_deploy_false_it_answers_success_without_migrating() {
    let t = TestApp::new().await;
    let app = t.migrating(&[("DATABASE_URL", UNREACHABLE_DB)]);
    let url = ResponseUrl::answering(&[200]);
    let mut event = update_event(&url, 2);
    event["ResourceProperties"]["Migrate"] = json!("false");

    let body = answer_to(&app, event, &url, deadline()).await;
    assert_eq!(body["Status"], "SUCCESS", "{body}");
    assert_eq!(body["Reason"], "skipped: MigrateOnDeploy is false");
}

#[tokio::test]
async fn a_failed_migration_answers_failed_with_a_reason_and_no_secret() {
    let t = TestApp::new().await;
    let app = t.migrating(&[("DATABASE_URL", UNREACHABLE_DB)]);
    let url = ResponseUrl::answering(&[200]);

    let result = handle(Ok(&app), &responder(), event("Create", &url), deadline()).await;

    assert!(result.is_ok(), "delivered, so no Lambda retry: {result:?}");
    let body = url.answer().body;
    assert_eq!(body["Status"], "FAILED", "{body}");
    assert_eq!(body["PhysicalResourceId"], "latchkey-test-Migration");
    let reason = body["Reason"].as_str().unwrap();
    assert!(reason.starts_with("migrations failed: "), "{reason}");
    assert!(!reason.contains("hunter2"), "{reason}");
    assert!(!body.to_string().contains("hunter2"));
}

#[tokio::test]
async fn a_configuration_error_is_answered_failed_naming_the_variable() {
    let broken =
        match Config::from_lookup(|name| (name == "APP_SETTINGS").then(|| "testing".into())) {
            Ok(_) => panic!("expected a configuration error"),
            Err(err) => err,
        };
    let url = ResponseUrl::answering(&[200]);

    handle(
        Err(&broken),
        &responder(),
        event("Create", &url),
        deadline(),
    )
    .await
    .unwrap();

    let body = url.answer().body;
    assert_eq!(body["Status"], "FAILED");
    assert_eq!(body["Reason"], "configuration: DATABASE_URL: is required");
}

#[tokio::test]
async fn migrations_that_outlast_the_deadline_are_answered_failed_in_time() {
    let t = TestApp::new().await;
    // Another runner holds the migrations lock, so this one waits on it.
    let other = t.sql().await;
    other
        .execute("SELECT pg_advisory_lock($1)", &[&0x6c61_7463_686b_6579_i64])
        .await
        .unwrap();
    let url = ResponseUrl::answering(&[200]);
    let started = Instant::now();
    let deadline = SystemTime::now() + ANSWER_RESERVE + Duration::from_secs(1);

    let body = answer_to(&t.migrating(&[]), event("Create", &url), &url, deadline).await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(body["Status"], "FAILED", "{body}");
    assert!(
        body["Reason"].as_str().unwrap().contains("did not finish"),
        "{body}"
    );
}

#[tokio::test]
async fn an_unknown_request_type_is_answered_failed() {
    let t = TestApp::new().await;
    let url = ResponseUrl::answering(&[200]);

    let body = answer_to(&t.migrating(&[]), event("Resize", &url), &url, deadline()).await;
    assert_eq!(body["Status"], "FAILED");
    assert_eq!(body["Reason"], "unsupported RequestType \"Resize\"");
}

#[tokio::test]
async fn the_answer_is_retried_when_the_response_url_fails_once() {
    let t = TestApp::new().await;
    let url = ResponseUrl::answering(&[503, 200]);

    let first = answer_to(&t.migrating(&[]), event("Create", &url), &url, deadline()).await;
    let second = url.answer().body;
    assert_eq!(first, second, "the same answer, sent again");
    assert_eq!(second["Status"], "SUCCESS");
}

#[tokio::test]
async fn an_answer_that_cannot_be_delivered_fails_the_invocation_so_lambda_retries() {
    let t = TestApp::new().await;
    let url = ResponseUrl::answering(&[500, 500, 500]);

    let result = handle(
        Ok(&t.migrating(&[])),
        &responder(),
        event("Create", &url),
        deadline(),
    )
    .await;

    let message = result.unwrap_err().to_string();
    assert!(
        message.contains("could not answer CloudFormation"),
        "{message}"
    );
    assert!(
        !message.contains("X-Amz-Signature"),
        "the URL is never quoted"
    );
    for _ in 0..3 {
        url.answer();
    }
}

#[tokio::test]
async fn invoked_by_hand_it_returns_what_it_did() {
    let t = TestApp::new().await;

    let result = handle(Ok(&t.migrating(&[])), &responder(), json!({}), deadline())
        .await
        .unwrap();

    assert_eq!(
        result,
        json!({"applied": [], "admin": "not_configured", "resealed_mfa_secrets": 0})
    );
}
