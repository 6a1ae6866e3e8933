use latchkey_tests::{TestApp, json, req, unique};
use migrate::AdminOutcome;

use crate::Api;

/// The app `migrate` runs as, told to bootstrap the admin `login` with `password`.
fn migrating_with_admin(t: &TestApp, login: &str, password: &str) -> shared::App {
    t.migrating(&[("ADMIN_LOGIN", login), ("ADMIN_PASSWORD", password)])
}

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
    let app = migrating_with_admin(&t, "root", "admin-password-1");
    assert_eq!(
        migrate::run(&app).await.unwrap().admin,
        AdminOutcome::Created
    );
    let login = Api(&t).login("root", "admin-password-1").await;
    assert_eq!(login.status, 200);
    assert_eq!(login.body["user"]["role"], "admin");

    let changed = migrating_with_admin(&t, "root", "a-new-password");
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
    let app = migrating_with_admin(&t, "BOSS", "admin-password-1");
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

/// `t`'s database URL as `role` with `password`.
fn as_role(t: &TestApp, role: &str, password: &str) -> String {
    let (scheme, rest) = t.database_url.split_once("://").unwrap();
    let (_, host_and_db) = rest.rsplit_once('@').unwrap();
    format!("{scheme}://{role}:{password}@{host_and_db}")
}

#[tokio::test]
async fn with_an_api_role_the_functions_read_and_write_rows_and_nothing_else() {
    let t = TestApp::new().await;
    let role = format!("api_{}", unique());
    let api_url = as_role(&t, &role, "api role password 1");
    let migrating = t.migrating(&[("API_DATABASE_URL", api_url.as_str())]);
    migrate::run(&migrating).await.unwrap();
    // Every deploy runs it again: the role exists by then, and keeps its rights.
    migrate::run(&migrating).await.unwrap();

    // The functions, connected as that role, sign up, log in and read.
    let functions = t.reconfigured(&[("DATABASE_URL", api_url.as_str())]);
    let body = json!({"login": "ada", "password": crate::PASSWORD});
    let registered =
        t.respond(::register::handler(&functions, req::post("/auth/register", &body)).await);
    assert_eq!(registered.status, 201, "{}", registered.body);
    let login = t.respond(::login::handler(&functions, req::post("/auth/login", &body)).await);
    assert_eq!(login.status, 200, "{}", login.body);
    let me = req::bearer(req::get("/users/me"), &login.access_token());
    assert_eq!(
        t.respond(::get_me::handler(&functions, me).await).status,
        200
    );

    // But no change to the schema, and no access to the migrations' history.
    let api = latchkey_tests::connect(&api_url).await;
    for statement in [
        "CREATE TABLE intruder (id int)",
        "DROP TABLE contacts",
        "ALTER TABLE users ADD COLUMN intruder int",
        "TRUNCATE sessions",
        "SELECT * FROM refinery_schema_history",
    ] {
        let err = api.batch_execute(statement).await.unwrap_err();
        assert_eq!(
            err.code(),
            Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE),
            "{statement}: {err}"
        );
    }
    // Its statement timeout comes with the role (pooler-safe: no session setting).
    let timeout: String = api
        .query_one("SHOW statement_timeout", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(timeout, "5s");

    // A new password in the secret takes effect with the next run.
    let rotated = as_role(&t, &role, "api role password 2");
    let migrating = t.migrating(&[("API_DATABASE_URL", rotated.as_str())]);
    migrate::run(&migrating).await.unwrap();
    latchkey_tests::connect(&rotated).await;
}

#[tokio::test]
async fn an_api_role_that_is_the_owner_itself_fails_the_run() {
    let t = TestApp::new().await;
    let migrating = t.migrating(&[("API_DATABASE_URL", t.database_url.as_str())]);
    let err = migrate::run(&migrating).await.unwrap_err().to_string();
    assert!(err.contains("API_DATABASE_URL"), "{err}");
    assert!(!err.contains(&t.database_url), "no URL in the error: {err}");
}
