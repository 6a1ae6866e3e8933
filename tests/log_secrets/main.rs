//! After the end-to-end suite: no password or token it used appears anywhere in the logs
//! the local stack wrote (every function's output, as Lambda would ship it to CloudWatch),
//! nor anywhere in the audit events it recorded.
//!
//! Ignored in the plain `cargo test` run, because it needs the suite to have finished;
//! `local/test.sh` runs it right after, with `--ignored`.

/// Every password and token the end-to-end suite used, as it recorded them.
fn recorded_secrets() -> std::collections::BTreeSet<String> {
    let secrets_file = std::env::var("LATCHKEY_E2E_SECRETS_FILE").expect("set by local/test.sh");
    std::fs::read_to_string(secrets_file)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
#[ignore = "run by local/test.sh after the end-to-end suite"]
async fn no_password_or_token_of_the_end_to_end_run_is_in_the_audit_events() {
    let secrets = recorded_secrets();
    let url = std::env::var("DATABASE_URL")
        .expect("set by local/test.sh: the end-to-end stack's database");
    let db = latchkey_tests::connect(&url).await;
    let rows = db
        .query("SELECT row_to_json(e)::text FROM auth_events e", &[])
        .await
        .unwrap();
    // Guard: the events of a stack that served the suite (its logins at least).
    assert!(rows.len() >= 50, "only {} events recorded", rows.len());
    let events: Vec<String> = rows.iter().map(|row| row.get(0)).collect();
    let leaked = secrets
        .iter()
        .filter(|secret| events.iter().any(|event| event.contains(secret.as_str())))
        .count();
    assert_eq!(
        leaked,
        0,
        "{leaked} of {} secrets found in the audit events",
        secrets.len()
    );
    println!(
        "{} passwords and tokens checked against {} audit events: none found",
        secrets.len(),
        events.len()
    );
}

#[test]
#[ignore = "run by local/test.sh after the end-to-end suite"]
fn no_password_or_token_of_the_end_to_end_run_is_in_the_logs() {
    let secrets = recorded_secrets();
    let log_file = std::env::var("LATCHKEY_E2E_LOG").expect("set by local/test.sh");
    let log = std::fs::read_to_string(log_file).unwrap();

    // Guards: the run did record secrets, and this is the log of a stack that served them.
    assert!(
        secrets.len() >= 50,
        "only {} secrets recorded",
        secrets.len()
    );
    assert!(
        log.contains("user registered") && log.contains("user logged in"),
        "not the stack's log"
    );

    let leaked: Vec<&String> = secrets
        .iter()
        .filter(|secret| log.contains(secret.as_str()))
        .collect();
    assert!(
        leaked.is_empty(),
        "{} of {} secrets found in the logs",
        leaked.len(),
        secrets.len()
    );
    println!(
        "{} passwords and tokens checked against {} log lines: none found",
        secrets.len(),
        log.lines().count()
    );
}
