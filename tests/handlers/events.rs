//! The audit trail: which changes write which events, in the change's own transaction,
//! and what each listing shows to whom.

use latchkey_tests::{TestApp, TestResponse, json, req};
use serde_json::Value;

use crate::{Api, PASSWORD, refresh_claims, user_id, value};

const AGENT: &str = "latchkey-tests/1.0";

impl Api<'_> {
    pub async fn my_events(&self, access_token: &str, query: &str) -> TestResponse {
        let request = req::bearer(req::get(&format!("/users/me/events{query}")), access_token);
        self.0
            .respond(::list_my_events::handler(&self.0.app, request).await)
    }

    pub async fn events(&self, access_token: &str, query: &str) -> TestResponse {
        let request = req::bearer(req::get(&format!("/events{query}")), access_token);
        self.0
            .respond(::list_events::handler(&self.0.app, request).await)
    }

    /// A login from `ip` with a `User-Agent`.
    async fn login_as_browser(&self, login: &str, password: &str, ip: &str) -> TestResponse {
        let mut request = req::from_ip(
            req::post(
                "/auth/login",
                &json!({"login": login, "password": password}),
            ),
            ip,
        );
        request
            .headers_mut()
            .insert("user-agent", AGENT.parse().unwrap());
        self.0.respond(::login::handler(&self.0.app, request).await)
    }
}

/// The `type`s of a page of events, in its order (newest first).
fn types(page: &TestResponse) -> Vec<String> {
    assert_eq!(page.status, 200, "{}", page.body);
    page.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_owned())
        .collect()
}

/// Every event row of the database, oldest first, as (type, user_id, actor_id).
async fn all_events(t: &TestApp) -> Vec<(String, Option<i64>, Option<i64>)> {
    let rows = t
        .sql()
        .await
        .query(
            "SELECT type, user_id, actor_id FROM auth_events ORDER BY id",
            &[],
        )
        .await
        .unwrap();
    rows.iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

#[tokio::test]
async fn logins_and_failures_are_in_the_users_own_trail_with_ip_and_user_agent() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let id = user_id(&api.sign_up("ann").await);
    let ok = api.login_as_browser("ann", PASSWORD, "203.0.113.7").await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let bad = api
        .login_as_browser("ann", "wrong password!", "203.0.113.8")
        .await;
    assert_eq!(bad.status, 401);

    let page = api.my_events(&ok.access_token(), "").await;
    assert_eq!(
        types(&page),
        ["login_failed", "login_succeeded", "registered"]
    );
    let events = page.body["events"].as_array().unwrap();
    assert_eq!(events[0]["ip"], "203.0.113.8");
    assert_eq!(events[0]["user_agent"], AGENT);
    assert_eq!(events[0]["user_id"], id);
    assert_eq!(events[0]["actor_id"], Value::Null, "no account proven");
    assert_eq!(events[1]["ip"], "203.0.113.7");
    assert_eq!(events[1]["actor_id"], id);
    assert_eq!(events[1]["detail"], json!({}));
    assert_eq!(page.body["total"], 3);
    // Nothing a guess typed reaches the trail.
    assert!(!page.body.to_string().contains("wrong password!"));
}

#[tokio::test]
async fn a_login_for_an_unknown_identifier_records_a_failure_naming_no_one() {
    let t = TestApp::new().await;
    let api = Api(&t);
    assert_eq!(api.login("ghost-of-nobody", PASSWORD).await.status, 401);
    assert_eq!(
        all_events(&t).await,
        [("login_failed".to_owned(), None, None)]
    );
    let detail: String = value(&t, "SELECT detail::text FROM auth_events", &[]).await;
    assert!(!detail.contains("ghost"), "{detail}");
}

#[tokio::test]
async fn the_failure_that_locks_records_account_locked_once() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let id = user_id(&api.sign_up("bob").await);
    for _ in 0..5 {
        api.login_from("bob", "not the password", "198.51.100.1")
            .await;
    }
    let locked = api.login_from("bob", PASSWORD, "198.51.100.1").await;
    assert_eq!(locked.status, 429);
    let rows = t
        .sql()
        .await
        .query(
            "SELECT user_id, detail->>'scope' FROM auth_events WHERE type = 'account_locked'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].get::<_, Option<i64>>(0), Some(id));
    assert_eq!(rows[0].get::<_, String>(1), "ip");
    let failed = all_events(&t)
        .await
        .iter()
        .filter(|e| e.0 == "login_failed")
        .count();
    assert_eq!(failed, 5, "the refused sixth attempt was never evaluated");
}

async fn logout(t: &TestApp, refresh_token: String) -> TestResponse {
    let request = req::post("/auth/logout", &json!({"refresh_token": refresh_token}));
    t.respond(::logout::handler(&t.app, request).await)
}

#[tokio::test]
async fn token_reuse_logout_and_logout_all_are_recorded() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let signed = api.sign_up("cat").await;
    let id = user_id(&signed);
    let first = signed.refresh_token();
    assert_eq!(api.refresh(&first).await.status, 200);
    assert_eq!(api.refresh(&first).await.error_code(), "token_reused");

    let second = api.login("cat", PASSWORD).await;
    assert_eq!(logout(&t, second.refresh_token()).await.status, 200);
    assert_eq!(
        logout(&t, second.refresh_token()).await.status,
        200,
        "already revoked: still 200"
    );
    let third = api.login("cat", PASSWORD).await;
    assert_eq!(api.logout_all(&third.access_token()).await.status, 200);

    let kinds: Vec<String> = all_events(&t).await.into_iter().map(|e| e.0).collect();
    assert_eq!(
        kinds,
        [
            "registered",
            "token_reused",
            "login_succeeded",
            "logged_out",
            "login_succeeded",
            "logged_out_all"
        ],
        "one logged_out: the second logout changed nothing"
    );
    let detail: Value = value(
        &t,
        "SELECT detail FROM auth_events WHERE type = 'logged_out_all'",
        &[],
    )
    .await;
    assert_eq!(detail, json!({"revoked_sessions": 1}));
    let reused: Option<i64> = value(
        &t,
        "SELECT user_id FROM auth_events WHERE type = 'token_reused'",
        &[],
    )
    .await;
    assert_eq!(reused, Some(id));
    // The session it revoked, as recorded by the rotating statement itself.
    let sid = refresh_claims(&t.app, &first).sid;
    let detail: Value = value(
        &t,
        "SELECT detail FROM auth_events WHERE type = 'token_reused'",
        &[],
    )
    .await;
    assert_eq!(detail, json!({"session_id": sid.to_string()}));
}

#[tokio::test]
async fn an_admins_role_change_revokes_the_targets_sessions_and_hides_the_admins_whereabouts() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let admin = api.admin("root").await;
    let dan = api.sign_up("dan").await;
    let dan_id = user_id(&dan);
    let request = req::from_ip(
        req::path_param(
            req::bearer(
                req::json(
                    lambda_http::http::Method::PATCH,
                    "/users/x",
                    &json!({"role": "admin"}),
                ),
                &admin.access_token(),
            ),
            "id",
            &dan_id.to_string(),
        ),
        "192.0.2.50",
    );
    let promoted = t.respond(::update_user::handler(&t.app, request).await);
    assert_eq!(promoted.status, 200, "{}", promoted.body);

    // The old token carries the old role: its session is gone.
    api.me(&dan.access_token()).await.assert_invalid_token();
    let dan_again = api.login("dan", PASSWORD).await;
    let page = api.my_events(&dan_again.access_token(), "").await;
    assert_eq!(
        types(&page),
        ["login_succeeded", "role_changed", "registered"]
    );
    let changed = &page.body["events"][1];
    assert_eq!(changed["actor_id"], user_id(&admin));
    assert_eq!(changed["detail"], json!({"from": "user", "to": "admin"}));
    assert_eq!(
        changed["ip"],
        Value::Null,
        "the admin's IP is not dan's to see"
    );
    assert_eq!(changed["user_agent"], Value::Null);

    // The admin's listing shows where it came from.
    let all = api
        .events(&admin.access_token(), "?type=role_changed")
        .await;
    assert_eq!(types(&all), ["role_changed"]);
    assert_eq!(all.body["events"][0]["ip"], "192.0.2.50");
}

#[tokio::test]
async fn deleting_an_account_keeps_its_events_with_the_deletion_last() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let eve = api.sign_up("eve").await;
    let id = user_id(&eve);
    let deleted = api
        .delete_user(&eve.access_token(), id, Some(json!({"password": PASSWORD})))
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(
        all_events(&t).await,
        [
            ("registered".to_owned(), Some(id), Some(id)),
            ("account_deleted".to_owned(), Some(id), Some(id)),
        ]
    );
}

#[tokio::test]
async fn a_change_never_commits_without_its_event() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let fay = api.sign_up("fay").await;
    // The event of logout-all cannot be written: the revocation must roll back with it.
    t.sql()
        .await
        .batch_execute(
            "ALTER TABLE auth_events ADD CONSTRAINT refuse_logout_all
             CHECK (type <> 'logged_out_all')",
        )
        .await
        .unwrap();
    let failed = api.logout_all(&fay.access_token()).await;
    assert!(failed.status >= 500, "{}", failed.body);
    assert_eq!(
        api.me(&fay.access_token()).await.status,
        200,
        "the session is still live: no revocation without its event"
    );
}

#[tokio::test]
async fn an_event_never_records_a_change_that_rolled_back() {
    let t = TestApp::new().await;
    let api = Api(&t);
    // Every new account fails at commit, after its `registered` event was written.
    t.sql()
        .await
        .batch_execute(
            "CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN RAISE EXCEPTION 'refused at commit'; END $$;
             CREATE CONSTRAINT TRIGGER refuse_new_users AFTER INSERT ON users
             DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_at_commit();",
        )
        .await
        .unwrap();
    let failed = api
        .register(json!({"login": "gus", "password": PASSWORD}))
        .await;
    assert!(failed.status >= 500, "{}", failed.body);
    assert_eq!(
        all_events(&t).await,
        [],
        "no event of an account that never was"
    );
}

#[tokio::test]
async fn list_events_is_for_admins_and_filters_by_user_type_and_time() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let admin = api.admin("root").await;
    let token = admin.access_token();
    let hal = api.sign_up("hal").await;
    let hal_id = user_id(&hal);
    api.login("hal", "not the password").await;

    assert_eq!(
        api.events(&hal.access_token(), "").await.error_code(),
        "forbidden"
    );
    let everything = types(&api.events(&token, "").await);
    assert_eq!(
        everything,
        [
            "login_failed",
            "registered",
            "login_succeeded",
            "registered"
        ]
    );
    let hals = api.events(&token, &format!("?user_id={hal_id}")).await;
    assert_eq!(types(&hals), ["login_failed", "registered"]);
    assert_eq!(hals.body["total"], 2);
    assert_eq!(
        types(
            &api.events(&token, &format!("?user_id={hal_id}&type=registered"))
                .await
        ),
        ["registered"]
    );
    assert_eq!(
        types(&api.events(&token, "?since=2999-01-01T00:00:00Z").await),
        Vec::<String>::new()
    );
    assert_eq!(
        types(
            &api.events(&token, "?since=2000-01-01T00:00:00.5-02:00&page_size=1")
                .await
        )
        .len(),
        1
    );
    let paged = api.events(&token, "?page_num=2&page_size=3").await;
    assert_eq!(types(&paged), ["registered"]);
    assert_eq!(
        (
            paged.body["total"].clone(),
            paged.body["total_pages"].clone()
        ),
        (json!(4), json!(2))
    );

    for (query, field) in [
        ("?type=LOGIN_FAILED", "type"),
        ("?type=", "type"),
        ("?since=yesterday", "since"),
        ("?user_id=0", "user_id"),
        ("?user_id=abc", "user_id"),
        ("?page_size=101", "page_size"),
    ] {
        let bad = api.events(&token, query).await;
        assert_eq!(bad.status, 400, "{query}: {}", bad.body);
        assert_eq!(bad.error_code(), "validation_failed", "{query}");
        assert!(
            bad.body["fields"][field].is_array(),
            "{query}: {}",
            bad.body
        );
    }
    assert_eq!(api.events("not-a-token", "").await.status, 401);
    assert_eq!(api.my_events("not-a-token", "").await.status, 401);
    assert_eq!(
        api.my_events(&token, "?page_num=0").await.error_code(),
        "validation_failed"
    );
}
