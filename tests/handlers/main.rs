//! Handler tests: each function's handler called in-process with real requests, against
//! a fresh, migrated Postgres database per test.

mod abuse;
mod admin_actions;
mod birthdays;
mod contacts;
mod db_faults;
mod disabled;
mod docs;
mod email;
mod events;
mod get_me;
mod health;
mod jwks;
mod lockout;
mod login;
mod logout;
mod logout_all;
mod maintenance;
mod mfa;
mod migrate;
mod migrate_cfn;
mod prepared;
mod races;
mod recovery;
mod refresh;
mod register;
mod token_attacks;
mod users;
mod users_delete;
mod users_update;

use latchkey_tests::{TestApp, TestResponse, json, req};
pub use latchkey_tests::{assert_contract_headers, assert_contract_response};
use serde_json::Value;
use shared::App;
use shared::auth::tokens::{Claims, TokenType};

/// The API's routes as in-process calls.
pub struct Api<'a>(pub &'a TestApp);

pub const PASSWORD: &str = "correct horse battery";

impl Api<'_> {
    pub async fn register(&self, body: Value) -> TestResponse {
        let request = req::post("/auth/register", &body);
        self.0
            .respond(::register::handler(&self.0.app, request).await)
    }

    /// Registers the identifiers of `body` (and any other field in it) with [`PASSWORD`]
    /// and asserts it worked.
    pub async fn sign_up_with(&self, mut body: Value) -> TestResponse {
        body["password"] = json!(PASSWORD);
        let response = self.register(body).await;
        assert_eq!(response.status, 201, "{}", response.body);
        response
    }

    /// Registers `login` with [`PASSWORD`] and asserts it worked.
    pub async fn sign_up(&self, login: &str) -> TestResponse {
        self.sign_up_with(json!({ "login": login })).await
    }

    /// Registers `login` with `email` and [`PASSWORD`] and asserts it worked.
    pub async fn sign_up_with_email(&self, login: &str, email: &str) -> TestResponse {
        self.sign_up_with(json!({"login": login, "email": email}))
            .await
    }

    /// Registers `login` with `email`, `phone` and [`PASSWORD`] and asserts it worked.
    pub async fn sign_up_with_email_and_phone(
        &self,
        login: &str,
        email: &str,
        phone: &str,
    ) -> TestResponse {
        self.sign_up_with(json!({"login": login, "email": email, "phone": phone}))
            .await
    }

    /// Registers `login` (a first session) and logs in again with [`PASSWORD`] (a second
    /// one), asserting both worked; returns the two responses.
    pub async fn sign_up_with_two_sessions(&self, login: &str) -> (TestResponse, TestResponse) {
        let first = self.sign_up(login).await;
        let second = self.login(login, PASSWORD).await;
        assert_eq!(second.status, 200, "{}", second.body);
        (first, second)
    }

    pub async fn login(&self, login: &str, password: &str) -> TestResponse {
        let request = req::post(
            "/auth/login",
            &json!({"login": login, "password": password}),
        );
        self.0.respond(::login::handler(&self.0.app, request).await)
    }

    /// A login from client IP `ip`.
    pub async fn login_from(&self, login: &str, password: &str, ip: &str) -> TestResponse {
        let request = req::post(
            "/auth/login",
            &json!({"login": login, "password": password}),
        );
        let request = req::from_ip(request, ip);
        self.0.respond(::login::handler(&self.0.app, request).await)
    }

    pub async fn refresh(&self, refresh_token: &str) -> TestResponse {
        let request = req::post("/auth/refresh", &json!({"refresh_token": refresh_token}));
        self.0
            .respond(::refresh::handler(&self.0.app, request).await)
    }

    pub async fn me(&self, access_token: &str) -> TestResponse {
        let request = req::bearer(req::get("/users/me"), access_token);
        self.0
            .respond(::get_me::handler(&self.0.app, request).await)
    }

    /// Registers `login` and makes it an admin (as `migrate` would have); returns a login
    /// response whose tokens carry the admin role.
    pub async fn admin(&self, login: &str) -> TestResponse {
        self.sign_up(login).await;
        let sql = self.0.sql().await;
        sql.execute(
            "UPDATE users SET role = 'admin' WHERE login = $1",
            &[&login],
        )
        .await
        .unwrap();
        self.login(login, PASSWORD).await
    }

    pub async fn get_user(&self, access_token: &str, id: &str) -> TestResponse {
        let request = req::path_param(req::bearer(req::get("/users/x"), access_token), "id", id);
        self.0
            .respond(::get_user::handler(&self.0.app, request).await)
    }

    pub async fn list_users(&self, access_token: &str, query: &str) -> TestResponse {
        let request = req::bearer(req::get(&format!("/users?{query}")), access_token);
        self.0
            .respond(::list_users::handler(&self.0.app, request).await)
    }

    pub async fn update_user(&self, access_token: &str, id: i64, body: Value) -> TestResponse {
        let request = req::json(lambda_http::http::Method::PATCH, "/users/x", &body);
        let request = req::path_param(req::bearer(request, access_token), "id", &id.to_string());
        self.0
            .respond(::update_user::handler(&self.0.app, request).await)
    }

    /// `PATCH /users/{id}` by the user of `session` (a register or login response) on
    /// their own account.
    pub async fn update_self(&self, session: &TestResponse, body: Value) -> TestResponse {
        self.update_user(&session.access_token(), user_id(session), body)
            .await
    }

    pub async fn delete_user(
        &self,
        access_token: &str,
        id: i64,
        body: Option<Value>,
    ) -> TestResponse {
        let method = lambda_http::http::Method::DELETE;
        let request = match body {
            Some(body) => req::json(method, "/users/x", &body),
            None => req::raw(method, "/users/x", String::new()),
        };
        let request = req::path_param(req::bearer(request, access_token), "id", &id.to_string());
        self.0
            .respond(::delete_user::handler(&self.0.app, request).await)
    }

    /// `DELETE /users/{id}` by the user of `session` (a register or login response) of
    /// their own account.
    pub async fn delete_self(&self, session: &TestResponse, body: Option<Value>) -> TestResponse {
        self.delete_user(&session.access_token(), user_id(session), body)
            .await
    }

    pub async fn verify_email(&self, token: &str) -> TestResponse {
        let request = req::post("/auth/verify-email", &json!({ "token": token }));
        self.0
            .respond(::verify_email::handler(&self.0.app, request).await)
    }

    pub async fn resend_verification(&self, login: &str) -> TestResponse {
        let request = req::post("/auth/verify-email/resend", &json!({ "login": login }));
        self.0
            .respond(::resend_verification::handler(&self.0.app, request).await)
    }

    pub async fn forgot_password(&self, login: &str) -> TestResponse {
        let request = req::post("/auth/password/forgot", &json!({ "login": login }));
        self.0
            .respond(::forgot_password::handler(&self.0.app, request).await)
    }

    pub async fn reset_password(&self, token: &str, password: &str) -> TestResponse {
        let body = json!({ "token": token, "password": password });
        let request = req::post("/auth/password/reset", &body);
        self.0
            .respond(::reset_password::handler(&self.0.app, request).await)
    }

    pub async fn revert_email_change(&self, token: &str) -> TestResponse {
        let request = req::post("/auth/email-change/revert", &json!({ "token": token }));
        self.0
            .respond(::revert_email_change::handler(&self.0.app, request).await)
    }

    /// The mails queued for `to`, oldest first, as (subject, body).
    pub async fn outbox(&self, to: &str) -> Vec<(String, String)> {
        let sql = self.0.sql().await;
        sql.query(
            "SELECT subject, body FROM outbox WHERE recipient = $1 ORDER BY id",
            &[&to],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
    }

    /// The token of the newest `{APP_URL}/<page>#token=...` link queued for `to`.
    pub async fn link_token(&self, to: &str, page: &str) -> String {
        let mails = self.outbox(to).await;
        mails
            .iter()
            .rev()
            .find_map(|(_, body)| latchkey_tests::link_token(body, page))
            .unwrap_or_else(|| panic!("no {page} link mailed to {to} in {mails:?}"))
    }

    pub async fn logout_all(&self, access_token: &str) -> TestResponse {
        let request = req::bearer(req::post("/auth/logout-all", &json!({})), access_token);
        self.0
            .respond(::logout_all::handler(&self.0.app, request).await)
    }
}

/// The (type, actor_id, detail) of `user_id`'s audit events, oldest first.
pub async fn events_of(t: &TestApp, user_id: i64) -> Vec<(String, Option<i64>, Value)> {
    let rows = t
        .sql()
        .await
        .query(
            "SELECT type, actor_id, detail FROM auth_events WHERE user_id = $1 ORDER BY id",
            &[&user_id],
        )
        .await
        .unwrap();
    rows.iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

/// The `user.id` of a response.
pub fn user_id(response: &TestResponse) -> i64 {
    response.body["user"]["id"].as_i64().unwrap()
}

/// Asserts a 400 `invalid_link`: a mailed link's token that is refused.
pub fn assert_invalid_link(response: &TestResponse) {
    assert_eq!(response.status, 400, "{}", response.body);
    assert_eq!(response.error_code(), "invalid_link");
}

/// How many rows `table` has.
pub async fn count_rows(t: &TestApp, table: &str) -> i64 {
    count(t, &format!("SELECT count(*) FROM {table}"), &[]).await
}

/// The number a `SELECT count(*) ...` query answers.
pub async fn count(
    t: &TestApp,
    query: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> i64 {
    value(t, query, params).await
}

/// The first column of the one row `query` returns.
pub async fn value<T: for<'a> tokio_postgres::types::FromSql<'a>>(
    t: &TestApp,
    query: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> T {
    t.sql().await.query_one(query, params).await.unwrap().get(0)
}

/// The first column of every row `query` returns.
pub async fn column<T: for<'a> tokio_postgres::types::FromSql<'a>>(
    t: &TestApp,
    query: &str,
) -> Vec<T> {
    t.sql()
        .await
        .query(query, &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// The stored password hash of the one user there is.
pub async fn only_password_hash(t: &TestApp) -> String {
    value(t, "SELECT password_hash FROM users", &[]).await
}

/// The claims of `access_token`, verified by `app`'s own keys.
pub fn access_claims(app: &App, access_token: &str) -> Claims {
    app.tokens()
        .unwrap()
        .verify(access_token, TokenType::Access)
        .unwrap()
}

/// The claims of `refresh_token`, verified by `app`'s own keys.
pub fn refresh_claims(app: &App, refresh_token: &str) -> Claims {
    app.tokens()
        .unwrap()
        .verify(refresh_token, TokenType::Refresh)
        .unwrap()
}

/// `claims` signed with `app`'s current key: as valid a signature as on a token it issued.
pub fn signed(app: &App, claims: &Claims) -> String {
    app.tokens().unwrap().sign(claims).unwrap()
}

/// The sorted keys of a JSON object.
pub fn keys(object: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = object
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {object}"))
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    keys
}
