use latchkey_tests::{TestApp, req};

use crate::assert_contract_response;

/// `t`'s app redeployed against a database nobody listens on (port 1: connecting fails at
/// once).
fn unreachable_database(t: &TestApp) -> shared::App {
    t.reconfigured(&[
        (
            "DATABASE_URL",
            "postgres://latchkey:latchkey@127.0.0.1:1/latchkey",
        ),
        ("DATABASE_CONNECT_TIMEOUT_SECS", "1"),
    ])
}

#[tokio::test]
async fn health_reports_the_database_and_version_without_a_token() {
    let t = TestApp::new().await;
    let response = t.respond(::health::handler(&t.app, req::get("/health")).await);
    assert_contract_response(&response, 200);
    assert_eq!(response.body["status"], "ok");
    assert_eq!(response.body["database"], "ok");
    assert_eq!(response.body["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn health_is_503_when_the_database_cannot_be_reached() {
    let t = TestApp::new().await;
    let unreachable = unreachable_database(&t);
    let response = t.respond(::health::handler(&unreachable, req::get("/health")).await);
    assert_eq!(response.status, 503);
    assert_eq!(response.error_code(), "database_unavailable");
    assert!(
        !response.body.to_string().contains("127.0.0.1"),
        "no internals: {}",
        response.body
    );
}

#[tokio::test]
async fn any_route_answers_503_when_the_database_is_down() {
    let t = TestApp::new().await;
    let unreachable = unreachable_database(&t);
    let body = latchkey_tests::json!({"login": "nobody", "password": "whatever1"});
    let response = t.respond(::login::handler(&unreachable, req::post("/auth/login", &body)).await);
    assert_eq!(response.status, 503);
    assert_eq!(response.error_code(), "database_unavailable");
}
