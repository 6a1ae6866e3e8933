//! Races forced with real concurrency against real Postgres: the database, not a
//! read-then-write in the handlers, decides each outcome. (Concurrent registration of one
//! login and concurrent use of one refresh token are in register.rs and refresh.rs.)

use latchkey_tests::{TestApp, TestResponse, json, req};

use crate::{Api, PASSWORD, count, count_rows, user_id};

const ROUNDS: usize = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_racing_a_refresh_always_ends_with_the_session_revoked() {
    let t = TestApp::with_env(&[("DATABASE_POOL_SIZE", "8")]).await;
    let api = Api(&t);
    api.sign_up("racer").await;
    for round in 0..ROUNDS {
        let session = api.login("racer", PASSWORD).await;
        let token = session.refresh_token();
        let body = json!({"refresh_token": token});
        let (logout, refresh) = tokio::join!(
            ::logout::handler(&t.app, req::post("/auth/logout", &body)),
            ::refresh::handler(&t.app, req::post("/auth/refresh", &body)),
        );
        let (logout, refresh) = (t.respond(logout), t.respond(refresh));
        assert_eq!(logout.status, 200, "round {round}: logout always succeeds");
        // Whichever came first, nothing of that session is usable afterwards.
        assert_eq!(
            api.me(&session.access_token()).await.status,
            401,
            "round {round}"
        );
        if refresh.status == 200 {
            assert_eq!(
                api.me(&refresh.access_token()).await.status,
                401,
                "round {round}: refreshed pair survived logout"
            );
            assert_eq!(
                api.refresh(&refresh.refresh_token()).await.status,
                401,
                "round {round}"
            );
        } else {
            assert_eq!(refresh.error_code(), "invalid_token", "round {round}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_with_the_old_password_never_survives_a_concurrent_password_change() {
    // A slower hash widens the window in which the two requests overlap.
    let t = TestApp::with_env(&[("SCRYPT_LOG_N", "13"), ("DATABASE_POOL_SIZE", "8")]).await;
    let api = Api(&t);
    let owner = api.sign_up("changer").await;
    let id = user_id(&owner);
    let mut password = PASSWORD.to_owned();
    let mut token = owner.access_token();
    // The change verifies one hash and makes another; the login verifies one. Starting the
    // login later and later across rounds sweeps it over the whole change, so some rounds
    // land with the change committing while the login is hashing (the dangerous case).
    let started = std::time::Instant::now();
    t.app
        .passwords
        .hash(&secrecy::SecretString::from("calibration".to_owned()))
        .await
        .unwrap();
    let hash_time = started.elapsed();
    let rounds = 24;
    for round in 0..rounds {
        let delay = hash_time * 3 * round / rounds;
        let new_password = format!("new password {round}");
        let change = req::bearer(
            req::json(
                lambda_http::http::Method::PATCH,
                "/users/x",
                &json!({"current_password": password, "password": new_password}),
            ),
            &token,
        );
        let change = req::path_param(change, "id", &id.to_string());
        let login = req::post(
            "/auth/login",
            &json!({"login": "changer", "password": password}),
        );
        let late_login = async {
            tokio::time::sleep(delay).await;
            ::login::handler(&t.app, login).await
        };
        let (changed, logged_in) = tokio::join!(::update_user::handler(&t.app, change), late_login);
        let (changed, logged_in): (TestResponse, TestResponse) =
            (t.respond(changed), t.respond(logged_in));
        assert_eq!(changed.status, 200, "round {round}: {}", changed.body);
        if logged_in.status == 200 {
            // It logged in before the change: the change revoked that session.
            assert_eq!(
                api.me(&logged_in.access_token()).await.status,
                401,
                "round {round}: old-password session survived"
            );
        } else {
            assert_eq!(
                logged_in.error_code(),
                "invalid_credentials",
                "round {round}"
            );
        }
        assert_eq!(
            api.login("changer", &password).await.status,
            401,
            "round {round}: old password still works"
        );
        password = new_password;
        token = changed.access_token();
        assert_eq!(api.me(&token).await.status, 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_user_while_they_add_contacts_leaves_no_orphan_and_no_500() {
    let t = TestApp::with_env(&[("DATABASE_POOL_SIZE", "12")]).await;
    let api = Api(&t);
    for round in 0..ROUNDS {
        let login = format!("leaver{round}");
        let user = api.sign_up(&login).await;
        let token = user.access_token();
        let creates = (0..8).map(|i| {
            let body = json!({"first_name": format!("C{i}"), "last_name": "Race"});
            ::create_contact::handler(&t.app, req::bearer(req::post("/contacts", &body), &token))
        });
        let delete = req::bearer(
            req::json(
                lambda_http::http::Method::DELETE,
                "/users/x",
                &json!({"password": PASSWORD}),
            ),
            &token,
        );
        let delete = ::delete_user::handler(
            &t.app,
            req::path_param(delete, "id", &user_id(&user).to_string()),
        );
        let (created, deleted) = tokio::join!(futures::future::join_all(creates), delete);
        assert_eq!(t.respond(deleted).status, 200, "round {round}");
        for outcome in created {
            let response = t.respond(outcome);
            assert!(
                response.status == 201
                    || (response.status == 401 && response.error_code() == "invalid_token"),
                "round {round}: {} {}",
                response.status,
                response.body
            );
        }
    }
    let orphans = count(&t, "SELECT count(*) FROM contacts c WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = c.owner_id)", &[]).await;
    assert_eq!(orphans, 0);
    let left = count_rows(&t, "contacts").await;
    assert_eq!(left, 0, "every contact went with its user");
}

/// Makes every insert into `table` first delete the account it names (its `column`), as a
/// `delete-user` committing between a handler's checks and its insert would: the insert
/// then breaks the foreign key, deterministically.
async fn delete_the_account_before_each_insert_into(t: &TestApp, table: &str, column: &str) {
    t.sql()
        .await
        .batch_execute(&format!(
            "CREATE FUNCTION delete_account_first() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN DELETE FROM users WHERE id = NEW.{column}; RETURN NEW; END $$;
             CREATE TRIGGER delete_account_first BEFORE INSERT ON {table}
             FOR EACH ROW EXECUTE FUNCTION delete_account_first();"
        ))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_contact_for_an_account_deleted_mid_request_is_401_invalid_token() {
    let t = TestApp::new().await;
    let ann = Api(&t).sign_up("ann").await;
    delete_the_account_before_each_insert_into(&t, "contacts", "owner_id").await;
    let body = json!({"first_name": "A", "last_name": "B"});
    let request = req::bearer(req::post("/contacts", &body), &ann.access_token());
    let response = t.respond(::create_contact::handler(&t.app, request).await);
    assert_eq!(
        (response.status, response.error_code()),
        (401, "invalid_token"),
        "{}",
        response.body
    );
    assert_eq!(crate::count_rows(&t, "contacts").await, 0);
}

#[tokio::test]
async fn a_session_for_an_account_deleted_mid_request_is_401_and_changes_nothing() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let ann = api.sign_up("ann").await;
    delete_the_account_before_each_insert_into(&t, "sessions", "user_id").await;
    // A password change opens the caller's new session in its transaction.
    let body = json!({"current_password": PASSWORD, "password": "a-new-long-passphrase-42"});
    let response = api
        .update_user(&ann.access_token(), user_id(&ann), body)
        .await;
    assert_eq!(
        (response.status, response.error_code()),
        (401, "invalid_credentials"),
        "{}",
        response.body
    );
    // The statement failed as a whole: the account, its password and its session are as
    // they were.
    t.sql()
        .await
        .batch_execute("DROP TRIGGER delete_account_first ON sessions")
        .await
        .unwrap();
    assert_eq!(api.me(&ann.access_token()).await.status, 200);
    assert_eq!(api.login("ann", PASSWORD).await.status, 200);
}
