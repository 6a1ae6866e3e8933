//! Handler tests: each function's handler called in-process with real requests, against
//! a fresh, migrated Postgres database per test.

mod get_me;
mod health;
mod login;
mod logout;
mod logout_all;
mod migrate;
mod refresh;
mod register;

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

    pub async fn logout_all(&self, access_token: &str) -> TestResponse {
        let request = req::bearer(req::post("/auth/logout-all", &json!({})), access_token);
        self.0
            .respond(::logout_all::handler(&self.0.app, request).await)
    }
}

/// Asserts the contract's headers on any response.
pub fn assert_contract_headers(response: &TestResponse) {
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.header("cache-control"), Some("no-store"));
    assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
}
