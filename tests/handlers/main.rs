//! Handler tests: each function's handler called in-process with real requests, against
//! a fresh, migrated Postgres database per test.

mod abuse;
mod birthdays;
mod contacts;
mod db_faults;
mod docs;
mod get_me;
mod health;
mod jwks;
mod lockout;
mod login;
mod logout;
mod logout_all;
mod migrate;
mod migrate_cfn;
mod races;
mod refresh;
mod register;
mod token_attacks;
mod users;
mod users_delete;
mod users_update;

use latchkey_tests::{TestApp, TestResponse, json, req};
use serde_json::Value;

/// The API's routes as in-process calls.
pub struct Api<'a>(pub &'a TestApp);

pub const PASSWORD: &str = "correct horse battery";

impl Api<'_> {
    pub async fn register(&self, body: Value) -> TestResponse {
        let request = req::post("/auth/register", &body);
        self.0
            .respond(::register::handler(&self.0.app, request).await)
    }

    /// Registers `login` with [`PASSWORD`] and asserts it worked.
    pub async fn sign_up(&self, login: &str) -> TestResponse {
        let response = self
            .register(json!({"login": login, "password": PASSWORD}))
            .await;
        assert_eq!(response.status, 201, "{}", response.body);
        response
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

    pub async fn logout_all(&self, access_token: &str) -> TestResponse {
        let request = req::bearer(req::post("/auth/logout-all", &json!({})), access_token);
        self.0
            .respond(::logout_all::handler(&self.0.app, request).await)
    }
}

/// The `user.id` of a response.
pub fn user_id(response: &TestResponse) -> i64 {
    response.body["user"]["id"].as_i64().unwrap()
}

/// Asserts the contract's headers on any response.
pub fn assert_contract_headers(response: &TestResponse) {
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.header("cache-control"), Some("no-store"));
    assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
}
