//! `DATABASE_PREPARED_STATEMENTS=true`: each statement prepared once per connection and
//! reused by name. These apps connect directly even when the other tests go through
//! PgBouncer, whose transaction mode before 1.21 cannot follow named statements.

use latchkey_tests::{TestApp, json};
use shared::db::GenericClient;

use crate::{Api, PASSWORD, user_id};

async fn prepared_app() -> TestApp {
    // One connection: every call below runs on the connection the assertions inspect.
    TestApp::direct_with_env(&[
        ("DATABASE_PREPARED_STATEMENTS", "true"),
        ("DATABASE_POOL_SIZE", "1"),
    ])
    .await
}

/// The statements the app's own connection holds prepared, by their text.
async fn prepared_statements(t: &TestApp) -> Vec<String> {
    let db = t.app.db().await.unwrap();
    db.query_typed("SELECT statement FROM pg_prepared_statements", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// What a migration may do: change the type of `users.name`.
async fn retype_name(sql: &tokio_postgres::Client, to: &str) {
    sql.batch_execute(&format!("ALTER TABLE users ALTER COLUMN name TYPE {to}"))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_whole_session_runs_on_statements_prepared_once_per_connection() {
    let t = prepared_app().await;
    let api = Api(&t);
    let registered = api.sign_up("pia").await; // a transaction
    let session = api.login("pia", PASSWORD).await;
    assert_eq!(session.status, 200, "{}", session.body);
    for _ in 0..3 {
        let me = api.me(&session.access_token()).await;
        assert_eq!(me.status, 200, "{}", me.body);
        assert_eq!(me.body["user"]["login"], "pia");
    }
    let rotated = api.refresh(&session.refresh_token()).await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let again = api.refresh(&rotated.refresh_token()).await;
    assert_eq!(again.status, 200, "the same named statement rotates again");
    let reused = api.refresh(&session.refresh_token()).await;
    assert_eq!(reused.error_code(), "token_reused");
    let events = crate::events_of(&t, user_id(&registered)).await;
    assert!(
        events.iter().any(|(kind, ..)| kind == "token_reused"),
        "the reuse's event is written by the prepared rotation: {events:?}"
    );

    let statements = prepared_statements(&t).await;
    let holds = |needle: &str| statements.iter().any(|sql| sql.contains(needle));
    assert!(holds("FROM sessions s JOIN users u"), "{statements:#?}");
    assert!(holds("UPDATE sessions SET"), "{statements:#?}");
    assert!(holds("INSERT INTO users"), "{statements:#?}");
    // Each text once: three get-me calls and two rotations prepared nothing twice.
    let mut distinct = statements.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), statements.len(), "{statements:#?}");
}

#[tokio::test]
async fn by_default_no_statement_is_left_prepared_on_the_connection() {
    let t = TestApp::direct_with_env(&[("DATABASE_POOL_SIZE", "1")]).await;
    let api = Api(&t);
    let session = api.sign_up("quinn").await;
    assert_eq!(api.me(&session.access_token()).await.status, 200);
    assert_eq!(
        api.refresh(&session.refresh_token()).await.status,
        200,
        "rotation"
    );
    assert_eq!(prepared_statements(&t).await, Vec::<String>::new());
}

#[tokio::test]
async fn a_migration_that_changes_a_returned_column_costs_a_transaction_one_503_and_nothing_else() {
    let t = prepared_app().await;
    let api = Api(&t);
    let session = api.sign_up("rafa").await;
    let renamed = api
        .update_self(
            &session,
            json!({"name": "Rafa", "current_password": PASSWORD}),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert_eq!(api.me(&session.access_token()).await.status, 200);

    // What a migration may do under warm functions: every cached statement that returns
    // `name` now describes the wrong result type.
    let sql = t.sql().await;
    retype_name(&sql, "varchar(400)").await;

    // Outside a transaction the statement is sent again, unnamed: the caller sees nothing.
    let me = api.me(&session.access_token()).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["user"]["name"], "Rafa");

    // Inside one (register's insert returns the new user), the transaction is lost: 503,
    // retryable, nothing written.
    api.sign_up("sam").await;
    retype_name(&sql, "text").await;
    let lost = api
        .register(json!({"login": "tess", "password": PASSWORD}))
        .await;
    assert_eq!(lost.status, 503, "{}", lost.body);
    assert_eq!(lost.error_code(), "database_unavailable");
    let written = sql
        .query("SELECT 1 FROM users WHERE login = 'tess'", &[])
        .await
        .unwrap();
    assert!(written.is_empty(), "the lost transaction wrote nothing");
    // The connection's statements went with it: the retry prepares them afresh.
    let retried = api
        .register(json!({"login": "tess", "password": PASSWORD}))
        .await;
    assert_eq!(retried.status, 201, "{}", retried.body);
}
