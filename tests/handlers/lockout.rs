//! The password-guessing lock: per account (or unknown identifier) and client IP, counted
//! before the hash is evaluated, with a cap across IPs.

use futures::future::join_all;

use super::{Api, PASSWORD};
use latchkey_tests::{TestApp, TestResponse};

/// Fires `n` logins at once from `ip` and returns their answers.
async fn concurrent_logins(
    api: &Api<'_>,
    login: &str,
    password: &str,
    ip: &str,
    n: usize,
) -> Vec<TestResponse> {
    join_all((0..n).map(|_| api.login_from(login, password, ip))).await
}

fn statuses(responses: &[TestResponse]) -> (usize, usize) {
    let evaluated = responses.iter().filter(|r| r.status == 401).count();
    let refused = responses
        .iter()
        .filter(|r| r.status == 429 && r.error_code() == "too_many_attempts")
        .count();
    assert_eq!(evaluated + refused, responses.len(), "only 401 or 429");
    (evaluated, refused)
}

#[tokio::test]
async fn fifty_concurrent_wrong_passwords_get_at_most_five_evaluations_then_429() {
    let t = TestApp::with_env(&[("DATABASE_POOL_SIZE", "20")]).await;
    let api = Api(&t);
    api.sign_up("lockme").await;
    let before = t.app.passwords.evaluations();
    let responses = concurrent_logins(&api, "lockme", "wrong password", "203.0.113.5", 50).await;
    let (evaluated, refused) = statuses(&responses);
    assert!(evaluated <= 5, "{evaluated} attempts were evaluated");
    assert!(refused >= 45, "{refused} refused");
    assert!(
        t.app.passwords.evaluations() - before <= 5,
        "{} scrypt evaluations",
        t.app.passwords.evaluations() - before
    );
    let locked = api.login_from("lockme", PASSWORD, "203.0.113.5").await;
    assert_eq!(locked.status, 429, "the right password is refused too");
    assert!(locked.header("retry-after").is_some());
}

#[tokio::test]
async fn unknown_identifiers_are_locked_the_same_way_and_never_stored() {
    let t = TestApp::with_env(&[("DATABASE_POOL_SIZE", "20")]).await;
    let api = Api(&t);
    let responses = concurrent_logins(&api, "Nobody@Example.com", "wrong", "203.0.113.6", 50).await;
    let (evaluated, refused) = statuses(&responses);
    assert!(evaluated <= 5, "{evaluated} attempts were evaluated");
    assert!(refused >= 45);
    // The same identifier typed differently is the same lock.
    let again = api
        .login_from(" nobody@example.com ", "wrong", "203.0.113.6")
        .await;
    assert_eq!(again.status, 429);
    let sql = t.sql().await;
    let rows = sql
        .query("SELECT subject FROM login_locks", &[])
        .await
        .unwrap();
    assert!(!rows.is_empty());
    for row in rows {
        let subject: String = row.get(0);
        assert!(subject.starts_with("id:"), "{subject}");
        assert!(!subject.to_lowercase().contains("nobody"), "{subject}");
    }
}

#[tokio::test]
async fn a_lock_holds_for_one_client_ip_and_an_ipv6_slash_64_is_one_client() {
    let t = TestApp::new().await;
    let api = Api(&t);
    api.sign_up("ivy").await;
    for _ in 0..5 {
        let failed = api
            .login_from("ivy", "wrong password", "2001:db8:1:2::1")
            .await;
        assert_eq!(failed.status, 401);
    }
    let same_prefix = api
        .login_from("ivy", PASSWORD, "2001:db8:1:2:ffff::9")
        .await;
    assert_eq!(same_prefix.status, 429, "same /64, same lock");
    let other_ip = api.login_from("ivy", PASSWORD, "198.51.100.1").await;
    assert_eq!(other_ip.status, 200, "another client is not locked out");
    let other_prefix = api.login_from("ivy", PASSWORD, "2001:db8:1:3::1").await;
    assert_eq!(other_prefix.status, 200);
}

#[tokio::test]
async fn a_hundred_failures_across_ips_lock_the_account_until_cleared() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let ivan = api.sign_up("ivan").await;
    for ip in 0..20 {
        for _ in 0..5 {
            let failed = api
                .login_from("ivan", "wrong password", &format!("192.0.2.{ip}"))
                .await;
            assert_eq!(failed.status, 401, "ip {ip}");
        }
    }
    let fresh_ip = api.login_from("ivan", PASSWORD, "198.51.100.77").await;
    assert_eq!(
        (fresh_ip.status, fresh_ip.error_code()),
        (429, "too_many_attempts"),
        "locked across IPs"
    );
    assert_eq!(fresh_ip.header("retry-after"), Some("900"));

    let db = t.app.db().await.unwrap();
    let cleared = shared::auth::credentials::clear(&db, super::user_id(&ivan))
        .await
        .unwrap();
    assert!(cleared >= 21, "every IP and the cap: {cleared}");
    assert_eq!(
        api.login_from("ivan", PASSWORD, "192.0.2.1").await.status,
        200
    );
}

#[tokio::test]
async fn idle_counts_are_forgotten_but_a_capped_account_stays_locked() {
    let t = TestApp::new().await;
    let api = Api(&t);
    api.sign_up("olga").await;
    api.login_from("olga", "wrong", "192.0.2.1").await;
    api.login_from("someone-else", "wrong", "192.0.2.1").await;
    let sql = t.sql().await;
    sql.execute(
        "UPDATE login_locks SET updated_at = now() - interval '2 days'",
        &[],
    )
    .await
    .unwrap();
    sql.execute(
        "UPDATE login_locks SET failures = 100 WHERE subject LIKE 'user:%' AND ip = '*'",
        &[],
    )
    .await
    .unwrap();
    let db = t.app.db().await.unwrap();
    let deleted = shared::auth::credentials::delete_stale(&db).await.unwrap();
    assert_eq!(
        deleted, 3,
        "both per-IP rows and the unknown identifier's cap row"
    );
    let capped = api.login_from("olga", PASSWORD, "192.0.2.2").await;
    assert_eq!(capped.status, 429, "the cap is kept");
}
