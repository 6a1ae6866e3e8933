use latchkey_tests::{TestApp, json};

use crate::{Api, assert_contract_response, keys, user_id};

const PUBLIC_KEYS: [&str; 4] = ["created_at", "id", "login", "name"];

#[tokio::test]
async fn a_user_sees_themself_in_full_and_others_in_public() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let ann = api.sign_up("ann").await;
    let bob = api.sign_up("bob").await;

    let own = api
        .get_user(&ann.access_token(), &user_id(&ann).to_string())
        .await;
    assert_contract_response(&own, 200);
    assert_eq!(own.body["user"], ann.body["user"]);

    let other = api
        .get_user(&ann.access_token(), &user_id(&bob).to_string())
        .await;
    assert_eq!(other.status, 200);
    assert_eq!(keys(&other.body["user"]), PUBLIC_KEYS);
    assert_eq!(other.body["user"]["login"], "bob");
}

#[tokio::test]
async fn an_admin_sees_everyone_in_full() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let bob = api.sign_up("bob").await;
    let admin = api.admin("root").await;
    let seen = api
        .get_user(&admin.access_token(), &user_id(&bob).to_string())
        .await;
    assert_eq!(seen.body["user"], bob.body["user"]);
}

#[tokio::test]
async fn an_unknown_id_is_404_and_a_malformed_one_400() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let ann = api.sign_up("ann").await;
    let missing = api.get_user(&ann.access_token(), "999999").await;
    missing.assert_error(404, "not_found");
    for bad in ["abc", "0", "-3", "1.5", "99999999999999999999"] {
        let response = api.get_user(&ann.access_token(), bad).await;
        assert_eq!(response.status, 400, "{bad}");
        assert_eq!(response.error_code(), "validation_failed");
        assert!(response.body["fields"]["id"].is_array());
    }
}

#[tokio::test]
async fn reading_users_needs_a_valid_token() {
    let t = TestApp::new().await;
    let request = latchkey_tests::req::get("/users/1");
    let response = t.respond(::get_user::handler(&t.app, request).await);
    response.assert_error(401, "missing_token");
    let listed = Api(&t).list_users("garbage", "").await;
    listed.assert_error(401, "invalid_token");
}

#[tokio::test]
async fn the_list_is_ordered_by_id_and_paginated() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(user_id(&api.sign_up(&format!("user{i}")).await));
    }
    let me = api.login("user2", crate::PASSWORD).await;

    let first = api.list_users(&me.access_token(), "page_size=2").await;
    assert_contract_response(&first, 200);
    assert_eq!(first.body["page_num"], 1);
    assert_eq!(first.body["page_size"], 2);
    assert_eq!(first.body["total"], 5);
    assert_eq!(first.body["total_pages"], 3);
    let listed: Vec<i64> = first.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_i64().unwrap())
        .collect();
    assert_eq!(listed, ids[..2]);

    let second = api
        .list_users(&me.access_token(), "page_num=2&page_size=2")
        .await;
    let users = second.body["users"].as_array().unwrap();
    assert_eq!(users.len(), 2);
    assert_eq!(
        (users[0]["id"].as_i64(), users[1]["id"].as_i64()),
        (Some(ids[2]), Some(ids[3]))
    );
    assert_eq!(users[0], me.body["user"], "the caller's own row: full");
    assert_eq!(keys(&users[1]), PUBLIC_KEYS, "someone else: public");

    let last = api
        .list_users(&me.access_token(), "page_num=3&page_size=2")
        .await;
    assert_eq!(last.body["users"].as_array().unwrap().len(), 1);
    let beyond = api
        .list_users(&me.access_token(), "page_num=9&page_size=2")
        .await;
    assert_eq!(beyond.status, 200);
    assert_eq!(beyond.body["users"], json!([]));
    assert_eq!(
        (
            beyond.body["total"].as_i64(),
            beyond.body["total_pages"].as_i64()
        ),
        (Some(5), Some(3))
    );
}

#[tokio::test]
async fn the_caller_s_own_row_is_full_and_an_admin_sees_all_rows_full() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let ann = api.sign_up("ann").await;
    api.sign_up("bob").await;
    let listed = api.list_users(&ann.access_token(), "").await;
    let users = listed.body["users"].as_array().unwrap();
    assert_eq!(users[0], ann.body["user"], "own row in full");
    assert_eq!(keys(&users[1]), PUBLIC_KEYS);

    let admin = api.admin("root").await;
    let listed = api.list_users(&admin.access_token(), "page_size=100").await;
    for user in listed.body["users"].as_array().unwrap() {
        assert_eq!(user.as_object().unwrap().len(), 12, "full: {user}");
    }
}

#[tokio::test]
async fn page_parameters_out_of_range_are_validation_errors() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let ann = api.sign_up("ann").await;
    for query in [
        "page_num=0",
        "page_size=0",
        "page_size=101",
        "page_num=abc",
        "page_size=1.5",
    ] {
        let response = api.list_users(&ann.access_token(), query).await;
        assert_eq!(response.status, 400, "{query}");
        assert_eq!(response.error_code(), "validation_failed");
    }
    let both = api
        .list_users(&ann.access_token(), "page_num=-1&page_size=500")
        .await;
    let fields = both.body["fields"].as_object().unwrap();
    assert!(fields.contains_key("page_num") && fields.contains_key("page_size"));
}

#[tokio::test]
async fn other_users_never_see_an_email_or_phone_not_even_as_a_login() {
    let t = TestApp::new().await;
    let api = Api(&t);
    let by_email = api
        .register(json!({"email": "Eve@Mail.com", "password": crate::PASSWORD}))
        .await;
    let by_phone = api
        .register(json!({"phone": "+15551234567", "password": crate::PASSWORD}))
        .await;
    let look_alike = api
        .register(json!({"login": "15557654321", "password": crate::PASSWORD}))
        .await;
    let with_login = api
        .register(
            json!({"login": "zed", "email": "zed@mail.com", "phone": "+15550001111",
            "password": crate::PASSWORD}),
        )
        .await;
    let viewer = api.sign_up("viewer").await;

    let listed = api
        .list_users(&viewer.access_token(), "page_size=100")
        .await;
    assert_eq!(listed.status, 200);
    let text = listed.body.to_string();
    for secret in [
        "eve@mail.com",
        "+15551234567",
        "15557654321",
        "zed@mail.com",
        "+15550001111",
    ] {
        assert!(!text.contains(secret), "{secret} leaked in {text}");
    }
    for registered in [&by_email, &by_phone, &look_alike] {
        let seen = api
            .get_user(&viewer.access_token(), &user_id(registered).to_string())
            .await;
        assert_eq!(keys(&seen.body["user"]), PUBLIC_KEYS);
        assert_eq!(seen.body["user"]["login"], serde_json::Value::Null);
    }
    let zed = api
        .get_user(&viewer.access_token(), &user_id(&with_login).to_string())
        .await;
    assert_eq!(zed.body["user"]["login"], "zed");

    let own = api
        .get_user(&by_email.access_token(), &user_id(&by_email).to_string())
        .await;
    assert_eq!(
        own.body["user"]["email"], "eve@mail.com",
        "the owner sees it"
    );
}

#[tokio::test]
async fn a_closed_directory_is_for_admins_only() {
    let t = TestApp::with_env(&[("USER_DIRECTORY", "admins")]).await;
    let api = Api(&t);
    let ann = api.sign_up("ann").await;
    let bob = api.sign_up("bob").await;

    let listed = api.list_users(&ann.access_token(), "").await;
    listed.assert_error(403, "forbidden");
    let other = api
        .get_user(&ann.access_token(), &user_id(&bob).to_string())
        .await;
    other.assert_error(403, "forbidden");
    let own = api
        .get_user(&ann.access_token(), &user_id(&ann).to_string())
        .await;
    assert_eq!(own.status, 200, "a user may still read themself");

    let admin = api.admin("root").await;
    let listed = api.list_users(&admin.access_token(), "").await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.body["total"], 3);
    let seen = api
        .get_user(&admin.access_token(), &user_id(&bob).to_string())
        .await;
    assert_eq!(seen.body["user"], bob.body["user"]);
}

/// Users `bulk<from>..=bulk<to>` straight into the table (trigger-kept identifiers
/// included); nobody logs in as them.
async fn insert_users(t: &TestApp, from: i64, to: i64) {
    t.sql()
        .await
        .execute(
            "INSERT INTO users (login, password_hash)
             SELECT 'bulk' || g, '$scrypt$ln=10,r=8,p=1$c2FsdA$aGFzaA'
             FROM generate_series($1::bigint, $2::bigint) AS g",
            &[&from, &to],
        )
        .await
        .unwrap();
}

async fn analyze(t: &TestApp) {
    t.sql().await.batch_execute("ANALYZE users").await.unwrap();
}

#[tokio::test]
async fn the_total_is_counted_below_the_limit_and_estimated_from_it_on() {
    let t = TestApp::with_env(&[("EXACT_TOTAL_LIMIT", "4")]).await;
    let api = Api(&t);
    let reader = api.sign_up("reader").await.access_token();
    insert_users(&t, 1, 2).await;
    let total = |page: &latchkey_tests::TestResponse| {
        (
            page.body["total"].as_i64(),
            page.body["total_pages"].as_i64(),
        )
    };

    let small = api.list_users(&reader, "page_size=2").await;
    assert_eq!(
        total(&small),
        (Some(3), Some(2)),
        "3 users, below the limit: exact"
    );

    insert_users(&t, 3, 4).await;
    let unanalyzed = api.list_users(&reader, "page_size=2").await;
    assert_eq!(
        total(&unanalyzed),
        (Some(4), Some(2)),
        "5 users, never analyzed: the count stops at the limit, which is the floor"
    );

    analyze(&t).await;
    let estimated = api.list_users(&reader, "page_size=2").await;
    assert_eq!(
        total(&estimated),
        (Some(5), Some(3)),
        "the planner's estimate, current after ANALYZE"
    );

    insert_users(&t, 5, 11).await;
    let last = api.list_users(&reader, "page_num=3&page_size=5").await;
    assert_eq!(last.body["users"].as_array().unwrap().len(), 2);
    assert_eq!(
        total(&last),
        (Some(12), Some(3)),
        "a partial last page gives the exact end, though the estimate still says 5"
    );

    analyze(&t).await;
    t.sql()
        .await
        .batch_execute("DELETE FROM users WHERE login IN ('bulk1', 'bulk2')")
        .await
        .unwrap();
    let large = api.list_users(&reader, "page_size=2").await;
    assert_eq!(
        total(&large),
        (Some(12), Some(6)),
        "from twice the limit on, the estimate answers without counting (10 users now, \
         until autovacuum re-analyzes)"
    );
    let users = large.body["users"].as_array().unwrap();
    assert_eq!(users.len(), 2, "the page itself is always exact");
}
