//! Disabling an account (update-user's `disabled`, admins only): its sessions end at once,
//! no route opens a new one until it is enabled again, and the last enabled admin stays.

use latchkey_tests::{TestApp, json};

use crate::{Api, PASSWORD, count, events_of, user_id};

#[tokio::test]
async fn a_disabled_account_loses_its_sessions_and_gets_none_until_enabled() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let admin = api.admin("root").await;
    let admin_id = user_id(&admin);
    let dee = api.sign_up_with_email("dee", "dee@example.com").await;
    let dee_id = user_id(&dee);
    let laptop = api.login("dee", PASSWORD).await;
    // A reset link mailed before the account is disabled.
    assert_eq!(api.forgot_password("dee").await.status, 202);
    let reset_token = api.link_token("dee@example.com", "reset-password").await;
    let mails_before = api.outbox("dee@example.com").await.len();

    let disabled = api
        .update_user(&admin.access_token(), dee_id, json!({"disabled": true}))
        .await;
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    assert_eq!(disabled.body["user"]["disabled"], true);

    // Every token dies at once.
    api.me(&dee.access_token()).await.assert_invalid_token();
    api.me(&laptop.access_token()).await.assert_invalid_token();
    let refreshed = api.refresh(&laptop.refresh_token()).await;
    refreshed.assert_error(401, "invalid_token");
    // The right password learns it is disabled; a wrong one learns nothing.
    let login = api.login("dee", PASSWORD).await;
    login.assert_error(403, "account_disabled");
    let wrong = api.login("dee", "not the password").await;
    wrong.assert_error(401, "invalid_credentials");
    // Recovery opens nothing: forgot-password sends nothing (same 202), an admin cannot
    // send a reset, and the earlier link is refused without being spent.
    assert_eq!(api.forgot_password("dee").await.status, 202);
    let sent = api
        .send_password_reset(&admin.access_token(), &dee_id.to_string())
        .await;
    sent.assert_error(403, "account_disabled");
    assert_eq!(api.outbox("dee@example.com").await.len(), mails_before);
    let reset = api
        .reset_password(&reset_token, "a new long passphrase")
        .await;
    reset.assert_error(403, "account_disabled");
    let live_sessions = count(
        &t,
        "SELECT count(*) FROM sessions WHERE user_id = $1 AND revoked_at IS NULL",
        &[&dee_id],
    )
    .await;
    assert_eq!(live_sessions, 0);

    let enabled = api
        .update_user(&admin.access_token(), dee_id, json!({"disabled": false}))
        .await;
    assert_eq!(enabled.status, 200, "{}", enabled.body);
    assert_eq!(enabled.body["user"]["disabled"], false);
    // The link refused while disabled was not spent, and the old password still works
    // until it is used.
    assert_eq!(api.login("dee", PASSWORD).await.status, 200);
    let reset = api
        .reset_password(&reset_token, "a new long passphrase")
        .await;
    assert_eq!(reset.status, 200, "{}", reset.body);

    let events = events_of(&t, dee_id).await;
    let disabled_event = events
        .iter()
        .find(|(kind, ..)| kind == "account_disabled")
        .expect("an account_disabled event");
    assert_eq!(disabled_event.1, Some(admin_id));
    assert_eq!(disabled_event.2, json!({"revoked_sessions": 2}));
    assert!(
        events.contains(&("account_enabled".to_owned(), Some(admin_id), json!({}))),
        "{events:?}"
    );
}

#[tokio::test]
async fn only_an_admin_disables_and_only_someone_else() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let admin = api.admin("root").await;
    let admin_id = user_id(&admin);
    let eve = api.sign_up("eve").await;
    let eve_id = user_id(&eve);
    let fay_id = user_id(&api.sign_up("fay").await);

    // A user disabling another, a user disabling herself, the admin disabling himself.
    for (token, id, body) in [
        (eve.access_token(), fay_id, json!({"disabled": true})),
        (
            eve.access_token(),
            eve_id,
            json!({"disabled": true, "current_password": PASSWORD}),
        ),
        (
            admin.access_token(),
            admin_id,
            json!({"disabled": true, "current_password": PASSWORD}),
        ),
    ] {
        let refused = api.update_user(&token, id, body).await;
        refused.assert_error(403, "forbidden");
    }
    let null = api
        .update_user(&admin.access_token(), fay_id, json!({"disabled": null}))
        .await;
    null.assert_error(400, "validation_failed");
    assert!(null.body["fields"]["disabled"].is_array(), "{}", null.body);
    let text = api
        .update_user(&admin.access_token(), fay_id, json!({"disabled": "yes"}))
        .await;
    text.assert_error(400, "invalid_json");
    let nobody = api
        .update_user(&admin.access_token(), 9_999, json!({"disabled": true}))
        .await;
    nobody.assert_error(404, "not_found");

    // Nothing changed, nothing recorded.
    let disabled = count(&t, "SELECT count(*) FROM users WHERE disabled", &[]).await;
    assert_eq!(disabled, 0);
    assert_eq!(api.me(&eve.access_token()).await.status, 200);
    let events = events_of(&t, fay_id).await;
    assert!(
        events.iter().all(|(kind, ..)| kind != "account_disabled"),
        "{events:?}"
    );
}

#[tokio::test]
async fn two_admins_disabling_each_other_at_once_leave_one_enabled() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let (amy, ben) = (api.admin("amy").await, api.admin("ben").await);
    let (amy_token, ben_token) = (amy.access_token(), ben.access_token());
    let off = || json!({"disabled": true});
    // Both pass their admin check before either commits; the lock on the enabled admins'
    // rows decides: the second sees the first's change and is refused.
    let (a, b) = tokio::join!(
        api.update_user(&amy_token, user_id(&ben), off()),
        api.update_user(&ben_token, user_id(&amy), off()),
    );
    let enabled_admins = count(
        &t,
        "SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled",
        &[],
    )
    .await;
    assert_eq!(enabled_admins, 1, "{} / {}", a.body, b.body);
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses[0], 200);
    assert!([401, 409].contains(&statuses[1]), "{statuses:?}");
}
