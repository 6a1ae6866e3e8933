//! The database going away under load, and statements that would run too long.

use std::time::Duration;

use latchkey_tests::proxy::FlakyProxy;
use latchkey_tests::{TestApp, json, req, unique};

use crate::{Api, PASSWORD, count_rows};

/// Upper bound for any single request while the database is down: the connect timeout
/// (1 s here) plus margin. Past it, the request counts as hung.
const HANG: Duration = Duration::from_secs(10);

fn through(t: &TestApp, proxy: &FlakyProxy) -> shared::App {
    // Whatever port the test database listens on (LOCAL_PG_PORT), the app goes through
    // the proxy's instead.
    let port = target(t).port();
    let url = t
        .database_url
        .replacen(&format!(":{port}/"), &format!(":{}/", proxy.port()), 1);
    assert_ne!(
        url, t.database_url,
        "the test database must be reached through the proxy"
    );
    t.reconfigured(&[
        ("DATABASE_URL", &url),
        ("DATABASE_CONNECT_TIMEOUT_SECS", "1"),
        ("DATABASE_POOL_SIZE", "4"),
    ])
}

fn target(t: &TestApp) -> std::net::SocketAddr {
    let port = t
        .database_url
        .split(':')
        .nth(3)
        .and_then(|p| p.split('/').next())
        .unwrap();
    format!("127.0.0.1:{port}").parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_stopping_under_load_gives_503s_then_recovers_without_losing_answered_writes()
{
    let t = TestApp::new().await;
    let proxy = FlakyProxy::start(target(&t)).await;
    let app = through(&t, &proxy);
    let prefix = format!("f{}", &unique()[..6]);

    let load = async {
        let mut answered = Vec::new();
        for i in 0..60 {
            let login = format!("{prefix}_{i}");
            let request = req::post(
                "/auth/register",
                &json!({"login": login, "password": PASSWORD}),
            );
            let outcome = tokio::time::timeout(HANG, ::register::handler(&app, request))
                .await
                .unwrap_or_else(|_| panic!("request {i} hung while the database was away"));
            let response = t.respond(outcome);
            match response.status {
                201 => answered.push(login),
                503 => assert_eq!(response.error_code(), "database_unavailable"),
                other => panic!("request {i}: unexpected {other} {}", response.body),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        answered
    };
    let outage = async {
        tokio::time::sleep(Duration::from_millis(600)).await;
        proxy.go_down();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        proxy.come_up().await;
    };
    let (answered, ()) = tokio::join!(load, outage);

    // Some requests failed during the outage, some succeeded before and after it.
    assert!(answered.len() < 60, "the outage was not felt");
    assert!(answered.len() > 10, "too few successes: {}", answered.len());
    // The same pool serves again, without a restart.
    let health = t.respond(::health::handler(&app, req::get("/health")).await);
    assert_eq!(health.status, 200, "{}", health.body);
    // Nothing that was answered 201 is missing.
    let stored: Vec<String> = t
        .sql()
        .await
        .query(
            "SELECT login FROM users WHERE login LIKE $1",
            &[&format!("{prefix}_%")],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    for login in &answered {
        assert!(
            stored.contains(login),
            "{login} was answered 201 but is not stored"
        );
    }
}

#[tokio::test]
async fn every_route_answers_503_while_the_database_is_down_and_never_500() {
    let t = TestApp::new().await;
    let registered = Api(&t).sign_up("downer").await;
    let proxy = FlakyProxy::start(target(&t)).await;
    let app = through(&t, &proxy);
    proxy.go_down();

    let access = registered.access_token();
    let refresh = registered.refresh_token();
    let calls = vec![
        ::register::handler(
            &app,
            req::post(
                "/auth/register",
                &json!({"login": "x_down", "password": PASSWORD}),
            ),
        )
        .await,
        ::login::handler(
            &app,
            req::post(
                "/auth/login",
                &json!({"login": "downer", "password": PASSWORD}),
            ),
        )
        .await,
        ::refresh::handler(
            &app,
            req::post("/auth/refresh", &json!({"refresh_token": refresh})),
        )
        .await,
        ::logout::handler(
            &app,
            req::post("/auth/logout", &json!({"refresh_token": refresh})),
        )
        .await,
        ::get_me::handler(&app, req::bearer(req::get("/users/me"), &access)).await,
        ::logout_all::handler(
            &app,
            req::bearer(req::post("/auth/logout-all", &json!({})), &access),
        )
        .await,
        ::list_users::handler(&app, req::bearer(req::get("/users"), &access)).await,
        ::health::handler(&app, req::get("/health")).await,
    ];
    for (i, outcome) in calls.into_iter().enumerate() {
        let response = t.respond(outcome);
        assert_eq!(
            (response.status, response.error_code()),
            (503, "database_unavailable"),
            "call {i}"
        );
        assert!(response.body.get("request_id").is_none());
    }
    proxy.come_up().await;
    assert_eq!(
        t.respond(::get_me::handler(&app, req::bearer(req::get("/users/me"), &access)).await)
            .status,
        200
    );
}

#[tokio::test]
async fn a_statement_stuck_behind_a_lock_times_out_with_503() {
    // As `migrate` sets it on the database role: no connection sends it.
    let t = TestApp::with_env(&[("DATABASE_STATEMENT_TIMEOUT_MS", "300")]).await;
    let quick = &t.app;
    let blocker = t.sql().await;
    blocker
        .batch_execute("BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();

    let request = req::post(
        "/auth/register",
        &json!({"login": "stuck", "password": PASSWORD}),
    );
    let outcome = tokio::time::timeout(HANG, ::register::handler(quick, request))
        .await
        .expect("no hang");
    let response = t.respond(outcome);
    response.assert_error(503, "database_unavailable");

    blocker.batch_execute("ROLLBACK").await.unwrap();
    let users = count_rows(&t, "users").await;
    assert_eq!(users, 0, "the timed-out registration left nothing behind");
    let retry = req::post(
        "/auth/register",
        &json!({"login": "stuck", "password": PASSWORD}),
    );
    assert_eq!(
        t.respond(::register::handler(quick, retry).await).status,
        201
    );
}
