use latchkey_tests::TestApp;
use migrate::AdminOutcome;

use crate::Api;

#[tokio::test]
async fn migrating_again_applies_nothing_new() {
    let t = TestApp::new().await;
    let outcome = migrate::run(&t.migrating(&[])).await.unwrap();
    assert!(outcome.applied.is_empty(), "{:?}", outcome.applied);
    assert_eq!(outcome.admin, AdminOutcome::NotConfigured);
}

#[tokio::test]
async fn the_admin_is_created_once_and_never_overwritten() {
    let t = TestApp::new().await;
    let app = t.migrating(&[
        ("ADMIN_LOGIN", "root"),
        ("ADMIN_PASSWORD", "admin-password-1"),
    ]);
    assert_eq!(
        migrate::run(&app).await.unwrap().admin,
        AdminOutcome::Created
    );
    let login = Api(&t).login("root", "admin-password-1").await;
    assert_eq!(login.status, 200);
    assert_eq!(login.body["user"]["role"], "admin");

    let changed = t.migrating(&[
        ("ADMIN_LOGIN", "root"),
        ("ADMIN_PASSWORD", "a-new-password"),
    ]);
    assert_eq!(
        migrate::run(&changed).await.unwrap().admin,
        AdminOutcome::AlreadyExists
    );
    assert_eq!(
        Api(&t).login("root", "admin-password-1").await.status,
        200,
        "password unchanged"
    );
}

#[tokio::test]
async fn an_existing_user_account_with_the_admin_login_fails_the_run_and_is_left_alone() {
    let t = TestApp::new().await;
    Api(&t).sign_up("boss").await;
    let app = t.migrating(&[
        ("ADMIN_LOGIN", "BOSS"),
        ("ADMIN_PASSWORD", "admin-password-1"),
    ]);
    // A deploy that names someone else's account as its admin must not pass as done: the
    // operator would believe an admin exists, and whoever holds "boss" is no admin.
    let err = migrate::run(&app).await.unwrap_err().to_string();
    assert!(err.contains("ADMIN_LOGIN"), "{err}");
    assert!(err.contains("not an admin"), "{err}");
    assert!(!err.contains("admin-password-1"), "{err}");
    let role = t
        .sql()
        .await
        .query_one("SELECT role FROM users", &[])
        .await
        .unwrap();
    assert_eq!(
        role.get::<_, String>(0),
        "user",
        "never promoted, never overwritten"
    );
}
