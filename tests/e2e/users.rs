//! Users over HTTP: two users and the admin bootstrapped by `migrate`.

use latchkey_tests::{Http, TestResponse, json, unique};
use reqwest::Method;

const PASSWORD: &str = "users e2e password";

async fn sign_up(http: &Http, login: &str) -> TestResponse {
    http.register(json!({"login": login, "password": PASSWORD}))
        .await
}

async fn admin(http: &Http) -> TestResponse {
    let login = std::env::var("LATCHKEY_E2E_ADMIN_LOGIN").expect("set by local/test.sh");
    let password = std::env::var("LATCHKEY_E2E_ADMIN_PASSWORD").expect("set by local/test.sh");
    let response = http.login(&login, &password).await;
    assert_eq!(
        response.status, 200,
        "the bootstrapped admin logs in: {}",
        response.body
    );
    assert_eq!(response.body["user"]["role"], "admin");
    response
}

fn id(response: &TestResponse) -> i64 {
    response.body["user"]["id"].as_i64().unwrap()
}

/// The `/users/{id}` path of the user of a register or login response.
fn user_path(response: &TestResponse) -> String {
    format!("/users/{}", id(response))
}

#[tokio::test]
async fn users_see_each_other_publicly_and_themselves_in_full() {
    let http = Http::new();
    let ann = sign_up(&http, &format!("ann_{}", unique())).await;
    let bob = sign_up(&http, &format!("bob_{}", unique())).await;

    let own = http.get(&user_path(&ann), Some(&ann.access_token())).await;
    assert_eq!(own.body["user"], ann.body["user"]);
    let other = http.get(&user_path(&bob), Some(&ann.access_token())).await;
    assert_eq!(other.status, 200);
    assert_eq!(
        other.body["user"].as_object().unwrap().len(),
        4,
        "public object"
    );

    // `/users/me` is its own route, not `/users/{id}` with id "me".
    let me = http.me(&ann.access_token()).await;
    assert_eq!(me.body["user"], ann.body["user"]);

    let page = http
        .get("/users?page_num=1&page_size=1", Some(&ann.access_token()))
        .await;
    assert_eq!(page.status, 200);
    assert_eq!(page.body["page_size"], 1);
    assert!(page.body["total"].as_i64().unwrap() >= 2);
    assert_eq!(page.body["total_pages"], page.body["total"]);

    for (path, code, status) in [
        ("/users/999999999", "not_found", 404),
        ("/users/abc", "validation_failed", 400),
        ("/users?page_size=101", "validation_failed", 400),
    ] {
        let response = http.get(path, Some(&ann.access_token())).await;
        assert_eq!(
            (response.status, response.error_code()),
            (status, code),
            "{path}"
        );
    }
    assert_eq!(http.get("/users", None).await.error_code(), "missing_token");
}

#[tokio::test]
async fn a_user_updates_themself_by_patch_or_put_and_a_password_change_logs_out_everywhere() {
    let http = Http::new();
    let login = format!("cy_{}", unique());
    let cy = sign_up(&http, &login).await;
    let path = user_path(&cy);

    let renamed = http
        .patch(
            &path,
            &cy.access_token(),
            json!({"current_password": PASSWORD, "name": "Cy"}),
        )
        .await;
    assert_eq!(
        (renamed.status, renamed.body["user"]["name"].as_str()),
        (200, Some("Cy"))
    );
    let put = http
        .send_json(
            Method::PUT,
            &path,
            &cy.access_token(),
            json!({"current_password": PASSWORD, "name": "Cy P."}),
        )
        .await;
    assert_eq!(
        (put.status, put.body["user"]["name"].as_str()),
        (200, Some("Cy P.")),
        "PUT is a partial update too"
    );
    assert_eq!(put.body["user"]["login"], login.as_str());

    let wrong = http
        .patch(
            &path,
            &cy.access_token(),
            json!({"current_password": "nope nope", "name": "X"}),
        )
        .await;
    wrong.assert_error(403, "wrong_password");
    let missing = http
        .patch(&path, &cy.access_token(), json!({"name": "X"}))
        .await;
    missing.assert_error(400, "validation_failed");

    let changed = http
        .patch(
            &path,
            &cy.access_token(),
            json!({"current_password": PASSWORD, "password": "the new password"}),
        )
        .await;
    assert_eq!(changed.status, 200);
    assert_eq!(http.me(&cy.access_token()).await.status, 401);
    assert_eq!(http.me(&changed.access_token()).await.status, 200);
    let relogin = http.login(&login, "the new password").await;
    assert_eq!(relogin.status, 200);
}

#[tokio::test]
async fn users_cannot_touch_each_other_but_the_admin_sets_name_and_role_and_deletes() {
    let http = Http::new();
    let dee = sign_up(&http, &format!("dee_{}", unique())).await;
    let eve = sign_up(&http, &format!("eve_{}", unique())).await;
    let admin = admin(&http).await;
    let dee_path = user_path(&dee);

    let forbidden = http
        .patch(
            &dee_path,
            &eve.access_token(),
            json!({"current_password": PASSWORD, "name": "x"}),
        )
        .await;
    forbidden.assert_error(403, "forbidden");
    let forbidden = http
        .send_json(
            Method::DELETE,
            &dee_path,
            &eve.access_token(),
            json!({"password": PASSWORD}),
        )
        .await;
    forbidden.assert_error(403, "forbidden");
    let taken = http
        .patch(
            &user_path(&eve),
            &eve.access_token(),
            json!({"current_password": PASSWORD, "login": dee.body["user"]["login"]}),
        )
        .await;
    taken.assert_error(409, "user_exists");

    let promoted = http
        .patch(
            &dee_path,
            &admin.access_token(),
            json!({"name": "Dee", "role": "admin"}),
        )
        .await;
    assert_eq!(
        (promoted.status, promoted.body["user"]["role"].as_str()),
        (200, Some("admin"))
    );
    let not_allowed = http
        .patch(
            &dee_path,
            &admin.access_token(),
            json!({"email": "dee@example.com"}),
        )
        .await;
    assert_eq!(not_allowed.error_code(), "forbidden");

    let deleted = http
        .send_json(Method::DELETE, &dee_path, &admin.access_token(), json!({}))
        .await;
    assert_eq!(deleted.status, 200);
    assert_eq!(deleted.body["user"]["name"], "Dee");
    assert_eq!(
        http.me(&dee.access_token()).await.error_code(),
        "invalid_token"
    );
    let gone = http.get(&dee_path, Some(&admin.access_token())).await;
    gone.assert_error(404, "not_found");
}

#[tokio::test]
async fn a_user_deletes_themself_and_the_login_can_register_again() {
    let http = Http::new();
    let login = format!("fay_{}", unique());
    let fay = sign_up(&http, &login).await;
    let path = user_path(&fay);
    let wrong = http
        .send_json(
            Method::DELETE,
            &path,
            &fay.access_token(),
            json!({"password": "Wr0ng-Passw0rd!"}),
        )
        .await;
    wrong.assert_error(403, "wrong_password");
    let deleted = http
        .send_json(
            Method::DELETE,
            &path,
            &fay.access_token(),
            json!({"password": PASSWORD}),
        )
        .await;
    assert_eq!(deleted.status, 200);
    assert_eq!(deleted.body["user"], fay.body["user"]);
    assert_eq!(
        http.refresh(&fay.refresh_token()).await.error_code(),
        "invalid_token"
    );
    sign_up(&http, &login).await;
}

#[tokio::test]
async fn listing_users_shows_no_email_or_phone_of_anyone_else() {
    let http = Http::new();
    let id_part = unique();
    let email = format!("private_{id_part}@example.com");
    let digits: String = id_part
        .chars()
        .filter(char::is_ascii_digit)
        .chain("7654321".chars())
        .take(7)
        .collect();
    let phone = format!("+1444{digits}");
    for body in [
        json!({"email": email, "password": PASSWORD}),
        json!({"phone": phone, "password": PASSWORD}),
    ] {
        let registered = http.post("/auth/register", body).await;
        assert_eq!(registered.status, 201, "{}", registered.body);
    }
    let viewer = sign_up(&http, &format!("viewer_{}", unique())).await;

    let mut page = 1;
    loop {
        let listed = http
            .get(
                &format!("/users?page_size=100&page_num={page}"),
                Some(&viewer.access_token()),
            )
            .await;
        assert_eq!(listed.status, 200, "{}", listed.body);
        for user in listed.body["users"].as_array().unwrap() {
            if user["id"] == viewer.body["user"]["id"] {
                continue;
            }
            assert!(
                user.get("email").is_none() && user.get("phone").is_none(),
                "{user}"
            );
            let login = user["login"].as_str().unwrap_or("");
            assert!(!login.contains('@'), "an email as a login: {user}");
            assert!(!login.starts_with('+'), "a phone as a login: {user}");
        }
        let text = listed.body.to_string();
        assert!(!text.contains(&email) && !text.contains(&phone), "{text}");
        if page >= listed.body["total_pages"].as_i64().unwrap() {
            break;
        }
        page += 1;
    }
}

/// The audit issue's walk-through, over HTTP: an admin helps a user who got locked out.
#[tokio::test]
async fn an_admin_sees_failures_unlocks_disables_enables_signs_out_and_sends_a_reset() {
    let http = Http::new();
    let root = admin(&http).await;
    let root_token = root.access_token();
    let login = format!("help_{}", unique());
    let email = format!("{login}@example.com");
    let user_id = id(&crate::mail::register(&http, &login, &email).await);
    for _ in 0..5 {
        let wrong = json!({"login": login, "password": "not it at all"});
        assert_eq!(http.post("/auth/login", wrong).await.status, 401);
    }
    // Registered by the mail tests' helper, with their password.
    let locked = json!({"login": login, "password": crate::PASSWORD});
    assert_eq!(http.post("/auth/login", locked.clone()).await.status, 429);

    // The admin sees the failed logins, with the client's address.
    let events = http
        .get(
            &format!("/events?user_id={user_id}&type=login_failed"),
            Some(&root_token),
        )
        .await;
    assert_eq!(events.status, 200, "{}", events.body);
    assert_eq!(events.body["total"], 5, "{}", events.body);
    assert!(
        events.body["events"][0]["ip"].is_string(),
        "{}",
        events.body
    );

    let path = |tail: &str| format!("/users/{user_id}{tail}");
    let unlocked = http
        .send(Method::DELETE, &path("/lock"), Some(&root_token), None)
        .await;
    assert_eq!(unlocked.status, 200, "{}", unlocked.body);
    let signed_in = http.post("/auth/login", locked.clone()).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);

    let disabled = http
        .patch(&path(""), &root_token, json!({"disabled": true}))
        .await;
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    assert_eq!(
        http.me(&signed_in.access_token()).await.status,
        401,
        "the user's tokens die at once"
    );
    let refused = http.post("/auth/login", locked.clone()).await;
    refused.assert_error(403, "account_disabled");

    let enabled = http
        .patch(&path(""), &root_token, json!({"disabled": false}))
        .await;
    assert_eq!(enabled.body["user"]["disabled"], false, "{}", enabled.body);
    let signed_in = http.post("/auth/login", locked.clone()).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);

    let revoked = http
        .send(Method::DELETE, &path("/sessions"), Some(&root_token), None)
        .await;
    assert_eq!(revoked.body["revoked_sessions"], 1, "{}", revoked.body);
    assert_eq!(http.me(&signed_in.access_token()).await.status, 401);
    let reset = http
        .send(
            Method::POST,
            &path("/password-reset"),
            Some(&root_token),
            None,
        )
        .await;
    assert_eq!(reset.status, 202, "{}", reset.body);

    // The user sees their own story; what the admin did shows no admin's address.
    let again = http.post("/auth/login", locked).await;
    let mine = http
        .get(
            "/users/me/events?page_size=100",
            Some(&again.access_token()),
        )
        .await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    let kinds: Vec<&str> = mine.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["type"].as_str().unwrap())
        .collect();
    for kind in [
        "login_failed",
        "account_unlocked",
        "account_disabled",
        "account_enabled",
        "sessions_revoked",
        "password_reset_requested",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    for event in mine.body["events"].as_array().unwrap() {
        if event["actor_id"] == root.body["user"]["id"] {
            assert!(
                event["ip"].is_null() && event["user_agent"].is_null(),
                "{event}"
            );
        }
    }
}
