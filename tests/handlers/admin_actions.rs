//! Admin actions: ending a user's sessions and lifting their failed-login locks; each an
//! audit event with the admin as actor.

use lambda_http::http::Method;
use latchkey_tests::{TestApp, TestResponse, json, req};

use crate::{Api, PASSWORD, count, events_of, user_id};

impl Api<'_> {
    pub async fn revoke_sessions(&self, access_token: &str, id: &str) -> TestResponse {
        let request = req::raw(Method::DELETE, "/users/x/sessions", String::new());
        let request = req::path_param(req::bearer(request, access_token), "id", id);
        self.0
            .respond(::revoke_sessions::handler(&self.0.app, request).await)
    }

    pub async fn send_password_reset(&self, access_token: &str, id: &str) -> TestResponse {
        let request = req::raw(Method::POST, "/users/x/password-reset", String::new());
        let request = req::path_param(req::bearer(request, access_token), "id", id);
        self.0
            .respond(::send_password_reset::handler(&self.0.app, request).await)
    }

    pub async fn unlock_user(&self, access_token: &str, id: &str) -> TestResponse {
        let request = req::raw(Method::DELETE, "/users/x/lock", String::new());
        let request = req::path_param(req::bearer(request, access_token), "id", id);
        self.0
            .respond(::unlock_user::handler(&self.0.app, request).await)
    }
}

#[tokio::test]
async fn an_admin_ends_every_session_of_a_user() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let admin = api.admin("root").await;
    let admin_id = user_id(&admin);
    let ivy = api.sign_up("ivy").await;
    let ivy_id = user_id(&ivy);
    let other_device = api.login("ivy", PASSWORD).await;

    let revoked = api
        .revoke_sessions(&admin.access_token(), &ivy_id.to_string())
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    assert_eq!(revoked.body["revoked_sessions"], 2);
    api.me(&ivy.access_token()).await.assert_invalid_token();
    api.me(&other_device.access_token())
        .await
        .assert_invalid_token();
    assert_eq!(api.refresh(&other_device.refresh_token()).await.status, 401);
    assert_eq!(
        api.me(&admin.access_token()).await.status,
        200,
        "only ivy's"
    );
    let (kind, actor_id, _) = events_of(&t, ivy_id).await.pop().unwrap();
    assert_eq!(
        (kind.as_str(), actor_id),
        ("sessions_revoked", Some(admin_id))
    );
    // Again: nothing live, still 200.
    let again = api
        .revoke_sessions(&admin.access_token(), &ivy_id.to_string())
        .await;
    assert_eq!(again.body["revoked_sessions"], 0);
}

#[tokio::test]
async fn an_admin_lifts_every_lock_of_a_user() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let admin = api.admin("root").await;
    let jay_id = user_id(&api.sign_up("jay").await);
    for _ in 0..5 {
        api.login_from("jay", "wrong password", "198.51.100.9")
            .await;
    }
    assert_eq!(
        api.login_from("jay", PASSWORD, "198.51.100.9").await.status,
        429
    );

    let unlocked = api
        .unlock_user(&admin.access_token(), &jay_id.to_string())
        .await;
    assert_eq!(unlocked.status, 200, "{}", unlocked.body);
    assert_eq!(unlocked.body["user"]["login"], "jay");
    assert_eq!(unlocked.body["user"]["role"], "user", "the full object");
    assert_eq!(
        api.login_from("jay", PASSWORD, "198.51.100.9").await.status,
        200
    );
    let kinds = events_of(&t, jay_id).await;
    assert!(
        kinds
            .iter()
            .any(|(kind, actor, _)| kind == "account_unlocked" && *actor == Some(user_id(&admin))),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn admin_actions_refuse_others_unknown_users_and_bad_ids() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let admin = api.admin("root").await;
    let kim = api.sign_up("kim").await;
    let kim_id = user_id(&kim).to_string();
    let token = admin.access_token();

    assert_eq!(
        api.revoke_sessions(&kim.access_token(), &kim_id)
            .await
            .error_code(),
        "forbidden"
    );
    assert_eq!(
        api.unlock_user(&kim.access_token(), &kim_id)
            .await
            .error_code(),
        "forbidden"
    );
    assert_eq!(
        api.me(&kim.access_token()).await.status,
        200,
        "a refused action changes nothing"
    );
    for (id, status, code) in [
        ("999999", 404, "not_found"),
        ("0", 400, "validation_failed"),
        ("abc", 400, "validation_failed"),
    ] {
        let revoke = api.revoke_sessions(&token, id).await;
        assert_eq!((revoke.status, revoke.error_code()), (status, code), "{id}");
        let unlock = api.unlock_user(&token, id).await;
        assert_eq!((unlock.status, unlock.error_code()), (status, code), "{id}");
    }
    assert_eq!(api.revoke_sessions("nope", &kim_id).await.status, 401);
    assert_eq!(api.unlock_user("nope", &kim_id).await.status, 401);
    let admin_events = count(
        &t,
        "SELECT count(*) FROM auth_events WHERE type IN ('sessions_revoked', 'account_unlocked')",
        &[],
    )
    .await;
    assert_eq!(admin_events, 0, "no event for a refused action");
}

#[tokio::test]
async fn the_last_enabled_admin_can_be_neither_demoted_nor_deleted() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let root = api.admin("root").await;
    let root_id = user_id(&root);
    // A second admin, disabled, does not count: root is still the last enabled one.
    let sue_id = user_id(&api.admin("sue").await);
    let off = api
        .update_user(&root.access_token(), sue_id, json!({"disabled": true}))
        .await;
    assert_eq!(off.status, 200, "{}", off.body);
    let demoted = api
        .update_user(
            &root.access_token(),
            root_id,
            json!({"role": "user", "current_password": PASSWORD}),
        )
        .await;
    demoted.assert_error(409, "last_admin");
    let deleted = api
        .delete_user(
            &root.access_token(),
            root_id,
            Some(json!({"password": PASSWORD})),
        )
        .await;
    deleted.assert_error(409, "last_admin");
    assert_eq!(
        api.me(&root.access_token()).await.body["user"]["role"],
        "admin"
    );

    // With a second enabled admin, one may go; then the other is the last.
    let on = api
        .update_user(&root.access_token(), sue_id, json!({"disabled": false}))
        .await;
    assert_eq!(on.status, 200, "{}", on.body);
    let sue = api.login("sue", PASSWORD).await;
    let gone = api.delete_user(&sue.access_token(), root_id, None).await;
    assert_eq!(gone.status, 200, "{}", gone.body);
    let last = api
        .update_user(
            &sue.access_token(),
            sue_id,
            json!({"role": "user", "current_password": PASSWORD}),
        )
        .await;
    assert_eq!(last.error_code(), "last_admin");
}

#[tokio::test]
async fn two_admins_demoting_each_other_at_once_leave_one_admin() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let (amy, ben) = (api.admin("amy").await, api.admin("ben").await);
    let (amy_token, ben_token) = (amy.access_token(), ben.access_token());
    let (to_user_ben, to_user_amy) = (json!({"role": "user"}), json!({"role": "user"}));
    // Both pass their admin check before either commits; the lock on the admin rows
    // decides: the second sees the first's demotion and is refused.
    let (a, b) = tokio::join!(
        api.update_user(&amy_token, user_id(&ben), to_user_ben),
        api.update_user(&ben_token, user_id(&amy), to_user_amy),
    );
    let admins = count(&t, "SELECT count(*) FROM users WHERE role = 'admin'", &[]).await;
    assert_eq!(admins, 1, "{} / {}", a.body, b.body);
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses[0], 200);
    assert!([401, 409].contains(&statuses[1]), "{statuses:?}");
}

#[tokio::test]
async fn an_admin_sends_a_user_the_reset_mail_and_the_user_resets() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let admin = api.admin("root").await;
    let lee = api.sign_up_with_email("lee", "lee@example.com").await;
    let lee_id = user_id(&lee).to_string();

    let sent = api
        .send_password_reset(&admin.access_token(), &lee_id)
        .await;
    assert_eq!(
        (sent.status, sent.body.clone()),
        (202, json!({"status": "ok"}))
    );
    let token = api.link_token("lee@example.com", "reset-password").await;
    let reset = api.reset_password(&token, "a brand new passphrase").await;
    assert_eq!(reset.status, 200, "{}", reset.body);
    assert_eq!(api.login("lee", "a brand new passphrase").await.status, 200);
    let requested = events_of(&t, user_id(&lee)).await;
    assert!(
        requested
            .iter()
            .any(|(kind, actor, _)| kind == "password_reset_requested"
                && *actor == Some(user_id(&admin))),
        "{requested:?}"
    );

    // The account's mail caps hold for admins too: a second request within the minute is
    // still 202 and queues nothing.
    let before = api.outbox("lee@example.com").await.len();
    let again = api
        .send_password_reset(&admin.access_token(), &lee_id)
        .await;
    assert_eq!(again.status, 202);
    assert_eq!(api.outbox("lee@example.com").await.len(), before);
}

#[tokio::test]
async fn send_password_reset_refuses_accounts_without_email_and_non_admins() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let admin = api.admin("root").await;
    let mo = api.sign_up("moe").await;
    let mo_id = user_id(&mo).to_string();
    let no_email = api.send_password_reset(&admin.access_token(), &mo_id).await;
    no_email.assert_error(409, "no_email");
    let forbidden = api.send_password_reset(&mo.access_token(), &mo_id).await;
    assert_eq!(forbidden.error_code(), "forbidden");
    for (id, status) in [("999999", 404), ("-1", 400)] {
        assert_eq!(
            api.send_password_reset(&admin.access_token(), id)
                .await
                .status,
            status,
            "{id}"
        );
    }
    assert_eq!(api.send_password_reset("nope", &mo_id).await.status, 401);
    let queued = count(
        &t,
        "SELECT count(*) FROM outbox WHERE subject ILIKE '%reset%'",
        &[],
    )
    .await;
    assert_eq!(queued, 0);
}
