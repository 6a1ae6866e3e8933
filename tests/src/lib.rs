//! Test helpers shared by the handler suite (in-process, a fresh Postgres database per
//! test) and the end-to-end suite (HTTP against the local stack).
//!
//! Needs `LATCHKEY_TEST_DATABASE_URL` (a role that may create databases) for handler tests
//! and `LATCHKEY_E2E_URL` for end-to-end tests; `local/test.sh` sets both. The code under
//! test connects through `LATCHKEY_TEST_APP_DATABASE_URL` when it is set (a connection
//! pooler such as PgBouncer in transaction mode); creating databases, migrating them and
//! arranging rows always take a direct connection.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;

use lambda_http::http::{HeaderMap, Method, header};
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::Value;
use shared::{ApiError, App, Config};

pub use serde_json::json;

pub mod contract;
pub mod proxy;

/// A response as tests look at it.
#[derive(Debug)]
pub struct TestResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl TestResponse {
    pub fn from_lambda(response: Response<Body>) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = serde_json::from_slice(response.body().as_ref()).unwrap_or(Value::Null);
        Self {
            status,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The error `code` of a contract error body, after checking its shape.
    pub fn error_code(&self) -> &str {
        assert_eq!(
            self.body["status"], "error",
            "not an error body: {}",
            self.body
        );
        assert!(
            self.body["reason"].as_str().is_some_and(|r| !r.is_empty()),
            "{}",
            self.body
        );
        self.body["code"].as_str().unwrap()
    }

    /// Asserts an error answer: `status` with the contract error body of `code`.
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status, self.error_code()),
            (status, code),
            "{}",
            self.body
        );
    }

    /// Asserts a 401 `invalid_token` with its `WWW-Authenticate: Bearer` challenge.
    pub fn assert_invalid_token(&self) {
        assert_eq!(self.status, 401, "{}", self.body);
        assert_eq!(self.error_code(), "invalid_token");
        let challenge = self.header("www-authenticate");
        assert!(
            challenge.is_some_and(|v| v.starts_with("Bearer")),
            "{challenge:?}"
        );
    }

    pub fn access_token(&self) -> String {
        self.body["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access token in {}", self.body))
            .into()
    }

    pub fn refresh_token(&self) -> String {
        self.body["refresh_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no refresh token in {}", self.body))
            .into()
    }
}

/// Asserts the contract's headers on any response.
pub fn assert_contract_headers(response: &TestResponse) {
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.header("cache-control"), Some("no-store"));
    assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
}

/// Asserts that `response` has `status` (its body shown if not) and the contract's headers.
pub fn assert_contract_response(response: &TestResponse, status: u16) {
    assert_eq!(response.status, status, "{}", response.body);
    assert_contract_headers(response);
}

/// The token of a `{APP_URL}/<page>#token=...` link in a mail body.
pub fn link_token(body: &str, page: &str) -> Option<String> {
    let marker = format!("/{page}#token=");
    let start = body.find(&marker)? + marker.len();
    let token: String = body[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    Some(token)
}

/// The messages the local SMTP server stored in the Maildir `LATCHKEY_MAILDIR` (its
/// `new/` folder), as raw RFC 5322 text, for one recipient.
pub fn maildir_messages(to: &str) -> Vec<String> {
    let dir = std::env::var("LATCHKEY_MAILDIR").expect(
        "LATCHKEY_MAILDIR is not set: run the tests with local/test.sh, which starts the \
         local SMTP server and sets it",
    );
    let mut messages: Vec<(std::time::SystemTime, String)> =
        std::fs::read_dir(std::path::Path::new(&dir).join("new"))
            .unwrap()
            .filter_map(|entry| {
                let entry = entry.ok()?;
                let modified = entry.metadata().ok()?.modified().ok()?;
                let text = std::fs::read_to_string(entry.path()).ok()?;
                let addressed = text.lines().any(|line| {
                    line.strip_prefix("To: ")
                        .is_some_and(|value| value.trim().eq_ignore_ascii_case(to))
                });
                addressed.then_some((modified, text))
            })
            .collect();
    messages.sort();
    messages.into_iter().map(|(_, text)| text).collect()
}

/// Waits up to `timeout` for a message to `to` with a `page` link in the Maildir, and
/// returns the newest link's token.
pub async fn wait_for_mailed_token(to: &str, page: &str, timeout: std::time::Duration) -> String {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let found = maildir_messages(to)
            .iter()
            .rev()
            .find_map(|text| link_token(&unfold(text), page));
        if let Some(token) = found {
            return token;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no mail to {to} with a {page} link arrived within {timeout:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// A message body as plain text: soft line breaks of quoted-printable removed, `=3D`
/// decoded (lettre encodes long plain-text lines so).
pub fn unfold(text: &str) -> String {
    text.replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=")
}

/// The code an authenticator app shows at `unix_time` for the base32 secret it was given:
/// RFC 6238 with SHA-1, 6 digits and 30 s steps, computed by another implementation than
/// the service's (`totp-lite`, not `totp-rs`), so a shared mistake cannot pass unseen.
pub fn authenticator_code(secret_base32: &str, unix_time: u64) -> String {
    let secret = data_encoding::BASE32_NOPAD
        .decode(secret_base32.as_bytes())
        .expect("the secret is base32 without padding");
    totp_lite::totp_custom::<totp_lite::Sha1>(30, 6, &secret, unix_time)
}

/// Contact names (first, last) for proving that a search takes `%`, `_` and `\`
/// literally: each name that holds one has a look-alike that a wildcard would also match.
pub const LIKE_METACHARACTER_NAMES: [(&str, &str); 6] = [
    ("100%", "Sure"),
    ("1000", "Plain"),
    ("snake_case", "Dev"),
    ("snakeXcase", "Dev"),
    ("C:\\Users", "Path"),
    ("C:Users", "Path"),
];

/// A unique suffix for logins, emails and database names.
pub fn unique() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// A fresh, migrated database and an [`App`] configured against it, as a function's
/// `main` would build it (`APP_SETTINGS=testing`).
pub struct TestApp {
    pub app: App,
    pub database_url: String,
    env: HashMap<String, String>,
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_env(&[]).await
    }

    /// A fresh database, with extra configuration variables.
    pub async fn with_env(extra: &[(&str, &str)]) -> Self {
        Self::connected_to(&app_url(), extra).await
    }

    /// Like [`TestApp::with_env`], but the code under test connects to Postgres directly
    /// even when the other tests go through a pooler: for settings only a direct
    /// connection supports (`DATABASE_PREPARED_STATEMENTS` with PgBouncer before 1.21).
    pub async fn direct_with_env(extra: &[(&str, &str)]) -> Self {
        Self::connected_to(&admin_url(), extra).await
    }

    async fn connected_to(app_url: &str, extra: &[(&str, &str)]) -> Self {
        let database = create_database().await;
        let database_url = with_database(&admin_url(), &database);
        let mut env: HashMap<String, String> = [
            ("APP_SETTINGS", "testing"),
            ("JWT_SECRET", "test-secret-test-secret-test-secret-0123"),
            ("JWT_ISSUER", "http://latchkey.test"),
            (
                "MFA_ENCRYPTION_KEY",
                "test-mfa-key-test-mfa-key-test-mfa-key-0123",
            ),
            ("DATABASE_POOL_SIZE", "4"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        env.insert("DATABASE_URL".into(), with_database(app_url, &database));
        let app = build_app(&env, extra);
        // As `migrate` does it: a direct session, then the role's statement timeout.
        let mut direct = connect(&database_url).await;
        shared::db::migrate(&mut direct).await.unwrap();
        let timeout = app.config.database.as_ref().unwrap().statement_timeout;
        shared::db::set_role_statement_timeout(&direct, timeout)
            .await
            .unwrap();
        Self {
            app,
            database_url,
            env,
        }
    }

    /// Another app on the same database with some variables changed, as after a
    /// redeploy with new configuration.
    pub fn reconfigured(&self, changes: &[(&str, &str)]) -> App {
        build_app(&self.env, changes)
    }

    /// The app `migrate` runs as: like [`TestApp::reconfigured`], but connected to Postgres
    /// directly even when the code under test goes through a pooler, since migrating takes
    /// a session (an advisory lock, `SET statement_timeout`).
    pub fn migrating(&self, changes: &[(&str, &str)]) -> App {
        let direct = [("DATABASE_URL", self.database_url.as_str())];
        build_app(&self.env, &[&direct[..], changes].concat())
    }

    /// The handler's outcome as the client would see it.
    pub fn respond(&self, outcome: Result<Response<Body>, ApiError>) -> TestResponse {
        TestResponse::from_lambda(shared::http::lambda::respond(outcome, "test-request"))
    }

    /// A direct connection for arranging and inspecting rows.
    pub async fn sql(&self) -> tokio_postgres::Client {
        connect(&self.database_url).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Ok(pool) = self.app.pool() {
            pool.close();
        }
    }
}

fn build_app(env: &HashMap<String, String>, changes: &[(&str, &str)]) -> App {
    let mut env = env.clone();
    for (k, v) in changes {
        env.insert((*k).to_owned(), (*v).to_owned());
    }
    let config = Config::from_lookup_for(|name| env.get(name).cloned(), shared::config::Uses::ALL)
        .unwrap_or_else(|err| panic!("test configuration: {err}"));
    App::new(config).unwrap_or_else(|err| panic!("test app: {err}"))
}

fn admin_url() -> String {
    std::env::var("LATCHKEY_TEST_DATABASE_URL").expect(
        "LATCHKEY_TEST_DATABASE_URL is not set: run the tests with local/test.sh, which starts \
         Postgres and sets it",
    )
}

/// Where the code under test connects: a pooler when one is configured, else Postgres.
fn app_url() -> String {
    std::env::var("LATCHKEY_TEST_APP_DATABASE_URL").unwrap_or_else(|_| admin_url())
}

/// `url` with its database name replaced.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, ""), |(b, q)| (b, q));
    let prefix = base.rsplit_once('/').map_or(base, |(prefix, _)| prefix);
    let query = if query.is_empty() {
        String::new()
    } else {
        format!("?{query}")
    };
    format!("{prefix}/{database}{query}")
}

/// Creates a database and returns its name.
async fn create_database() -> String {
    let name = format!("test_{}", unique());
    connect(&admin_url())
        .await
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    name
}

pub async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

/// Requests as API Gateway hands them to a function.
pub mod req {
    use super::*;

    pub fn json(method: Method, path: &str, body: &Value) -> Request {
        raw(method, path, body.to_string())
    }

    pub fn post(path: &str, body: &Value) -> Request {
        json(Method::POST, path, body)
    }

    pub fn get(path: &str) -> Request {
        raw(Method::GET, path, String::new())
    }

    /// A GET with query parameters as API Gateway hands them over, already decoded: `query`
    /// is split on `&` and `=` only, so values may hold `%`, `\`, spaces or any character.
    pub fn get_with_query(path: &str, query: &str) -> Request {
        get(path).with_query_string_parameters(query_parameters(query))
    }

    /// The parameters of `a=1&b=2`, split on `&` and `=` only, nothing decoded.
    fn query_parameters(query: &str) -> HashMap<String, String> {
        query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                (k.to_owned(), v.to_owned())
            })
            .collect()
    }

    /// A request with a literal body, e.g. malformed JSON.
    pub fn raw(method: Method, path: &str, body: String) -> Request {
        let (path_only, query) = path.split_once('?').unwrap_or((path, ""));
        let params = query_parameters(query);
        let body = if body.is_empty() {
            Body::Empty
        } else {
            Body::from(body)
        };
        lambda_http::http::Request::builder()
            .method(method)
            .uri(format!("https://latchkey.test{path_only}?{query}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(body)
            .unwrap()
            .with_query_string_parameters(params)
            .with_raw_http_path(path_only)
    }

    pub fn bearer(mut request: Request, token: &str) -> Request {
        request.headers_mut().insert(
            header::AUTHORIZATION,
            format!("Bearer {token}").parse().unwrap(),
        );
        request
    }

    pub fn authorization(mut request: Request, value: &str) -> Request {
        request
            .headers_mut()
            .insert(header::AUTHORIZATION, value.parse().unwrap());
        request
    }

    /// The request as API Gateway hands it over from client `ip`
    /// (`requestContext.http.sourceIp`), with a request id.
    pub fn from_ip(request: Request, ip: &str) -> Request {
        use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
        use lambda_http::request::RequestContext;
        let mut context = ApiGatewayV2httpRequestContext::default();
        context.http.source_ip = Some(ip.to_owned());
        context.request_id = Some(format!("gw-{}", super::unique()));
        request.with_request_context(RequestContext::ApiGatewayV2(context))
    }

    pub fn path_param(request: Request, name: &str, value: &str) -> Request {
        request.with_path_parameters(HashMap::from([(name.to_owned(), value.to_owned())]))
    }
}

/// An HTTP client for the local stack (`LATCHKEY_E2E_URL`, e.g. http://127.0.0.1:8000).
/// Every response it receives is checked against the OpenAPI document the stack serves.
pub struct Http {
    base: String,
    client: reqwest::Client,
}

/// Every password and token the end-to-end suite sends or receives is appended to the
/// file named by `LATCHKEY_E2E_SECRETS_FILE`, one per line, so that a later test can prove
/// none of them reached the stack's logs.
fn remember_secrets(value: &Value) {
    const SECRET_FIELDS: [&str; 10] = [
        "password",
        "current_password",
        "access_token",
        "refresh_token",
        // One-time tokens from mailed links.
        "token",
        // The second factor: its secret (also inside the URI), the login's second-step
        // token, recovery codes. (Six-digit codes are too short to search for.)
        "secret",
        "otpauth_uri",
        "mfa_token",
        "recovery_code",
        "recovery_codes",
    ];
    fn collect<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    let secret_field = SECRET_FIELDS.contains(&key.as_str());
                    match (value, secret_field) {
                        (Value::String(secret), true) => out.push(secret),
                        (Value::Array(items), true) => {
                            out.extend(items.iter().filter_map(Value::as_str));
                        }
                        _ => collect(value, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| collect(item, out)),
            _ => {}
        }
    }
    let Ok(path) = std::env::var("LATCHKEY_E2E_SECRETS_FILE") else {
        return;
    };
    let mut secrets = Vec::new();
    collect(value, &mut secrets);
    // Too short to search for without false positives ("x" would match anywhere).
    secrets.retain(|s| s.len() >= 6);
    if secrets.is_empty() {
        return;
    }
    use std::io::Write as _;
    static FILE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = FILE.lock().unwrap_or_else(|e| e.into_inner());
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for secret in secrets {
        writeln!(file, "{secret}").unwrap();
    }
}

/// The served document, fetched once per test process.
static CONTRACT: tokio::sync::OnceCell<contract::Contract> = tokio::sync::OnceCell::const_new();

impl Default for Http {
    fn default() -> Self {
        Self::new()
    }
}

impl Http {
    pub fn new() -> Self {
        let base = std::env::var("LATCHKEY_E2E_URL").expect(
            "LATCHKEY_E2E_URL is not set: run the tests with local/test.sh, which serves the API \
             and sets it",
        );
        Self {
            base: base.trim_end_matches('/').to_owned(),
            client: reqwest::Client::new(),
        }
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<String>,
    ) -> TestResponse {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = &body {
            request = request
                .header("content-type", "application/json")
                .body(body.clone());
        }
        if let Some(token) = token {
            remember_secrets(&serde_json::json!({ "access_token": token }));
        }
        if let Some(body) = body.as_deref().and_then(|b| serde_json::from_str(b).ok()) {
            remember_secrets(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        remember_secrets(&body);
        if let Err(broken) = self
            .contract()
            .await
            .check(method.as_str(), path, status, &body)
        {
            panic!("the OpenAPI document disagrees with the API: {broken}");
        }
        TestResponse {
            status,
            headers,
            body,
        }
    }

    async fn contract(&self) -> &'static contract::Contract {
        CONTRACT
            .get_or_init(|| async {
                let url = format!("{}/openapi.json", self.base);
                let document = self
                    .client
                    .get(url)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                contract::Contract::new(document)
            })
            .await
    }

    pub async fn post(&self, path: &str, body: Value) -> TestResponse {
        self.send(reqwest::Method::POST, path, None, Some(body.to_string()))
            .await
    }

    /// `POST /auth/login` with `login` and `password`.
    pub async fn login(&self, login: &str, password: &str) -> TestResponse {
        self.post(
            "/auth/login",
            serde_json::json!({"login": login, "password": password}),
        )
        .await
    }

    /// `POST /auth/refresh` with `refresh_token`.
    pub async fn refresh(&self, refresh_token: &str) -> TestResponse {
        self.post(
            "/auth/refresh",
            serde_json::json!({ "refresh_token": refresh_token }),
        )
        .await
    }

    /// `GET /users/me` with bearer `access_token`.
    pub async fn me(&self, access_token: &str) -> TestResponse {
        self.get("/users/me", Some(access_token)).await
    }

    /// `method` on `path` with bearer `token` and a JSON `body`.
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Value,
    ) -> TestResponse {
        self.send(method, path, Some(token), Some(body.to_string()))
            .await
    }

    /// `PATCH path` with bearer `token` and a JSON `body`.
    pub async fn patch(&self, path: &str, token: &str, body: Value) -> TestResponse {
        self.send_json(reqwest::Method::PATCH, path, token, body)
            .await
    }

    /// `POST /auth/register` with `body`; asserts it worked (201).
    pub async fn register(&self, body: Value) -> TestResponse {
        let response = self.post("/auth/register", body).await;
        assert_eq!(response.status, 201, "{}", response.body);
        response
    }

    pub async fn post_auth(&self, path: &str, token: &str, body: Option<Value>) -> TestResponse {
        self.send(
            reqwest::Method::POST,
            path,
            Some(token),
            body.map(|b| b.to_string()),
        )
        .await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.send(reqwest::Method::GET, path, token, None).await
    }
}
