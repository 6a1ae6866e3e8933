//! `migrate` as a CloudFormation custom resource: the request CloudFormation sends, the
//! answer it waits for at the request's pre-signed `ResponseURL`, and the handler that
//! always gives one.
//!
//! - `Create` and `Update` apply pending migrations and bootstrap the admin: SUCCESS, or
//!   FAILED with a reason (which fails the deploy, so the API never serves a schema it
//!   does not know).
//! - `Delete` answers SUCCESS and touches nothing: a stack deletion never drops data.
//! - An `Update` to an older function version is CloudFormation rolling back a failed
//!   deploy; migrations only go forward, so it answers SUCCESS without running them.
//! - `ResourceProperties.Migrate: "false"` (the template's `MigrateOnDeploy`) answers
//!   SUCCESS without running them: the escape hatch for deploying older code onto a
//!   database that a newer release already migrated.
//! - Configuration errors, database errors and running out of time are answered too
//!   (FAILED), [`ANSWER_RESERVE`] before the Lambda deadline. Reasons carry the error
//!   chain, never a secret.
//!
//! An event without a `ResponseURL` is a manual `aws lambda invoke`: it runs the
//! migrations and returns the [`Outcome`] as the invocation's result.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use secrecy::ExposeSecret;
use serde::Serialize;
use serde_json::Value;
use shared::App;
use shared::config::ConfigError;

use crate::{Error, Outcome};

/// Kept back from the Lambda deadline for sending the answer (its retries included).
pub const ANSWER_RESERVE: Duration = Duration::from_secs(20);
/// One attempt at the PUT; three attempts with 1 s and 2 s pauses fit in the reserve.
const PUT_TIMEOUT: Duration = Duration::from_secs(5);
const PUT_ATTEMPTS: u32 = 3;
/// CloudFormation refuses answers over 4096 bytes; the reason stays well below.
const MAX_REASON_CHARS: usize = 1000;

/// What the function was invoked with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    CustomResource(Request),
    /// No `ResponseURL`: someone invoked the function by hand.
    Manual,
}

impl Invocation {
    pub fn from_event(event: &Value) -> Self {
        Request::from_event(event).map_or(Self::Manual, Self::CustomResource)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestType {
    Create,
    Update,
    Delete,
    Other(String),
}

/// The fields of a custom-resource request that the answer needs. Missing ones are
/// empty rather than an error: whatever arrived with a `ResponseURL` gets an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub request_type: RequestType,
    pub response_url: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    /// Absent on `Create`; CloudFormation's id of the resource afterwards.
    pub physical_resource_id: Option<String>,
    /// `ResourceProperties.FunctionVersion` (the template passes the migrate function's
    /// published version), and the previous one on `Update`.
    pub function_version: Option<String>,
    pub old_function_version: Option<String>,
    /// `ResourceProperties.Migrate` is `"false"`: answer without migrating.
    pub skip_migrations: bool,
}

impl Request {
    /// `None` unless `event` carries a `ResponseURL`.
    pub fn from_event(event: &Value) -> Option<Self> {
        let response_url = event.get("ResponseURL")?.as_str()?.to_owned();
        let text = |key: &str| {
            event
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let version = |properties: &str| {
            event
                .get(properties)
                .and_then(|p| p.get("FunctionVersion"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let request_type = match text("RequestType").as_str() {
            "Create" => RequestType::Create,
            "Update" => RequestType::Update,
            "Delete" => RequestType::Delete,
            other => RequestType::Other(other.to_owned()),
        };
        Some(Self {
            request_type,
            response_url,
            stack_id: text("StackId"),
            request_id: text("RequestId"),
            logical_resource_id: text("LogicalResourceId"),
            physical_resource_id: event
                .get("PhysicalResourceId")
                .and_then(Value::as_str)
                .filter(|id| !id.is_empty())
                .map(str::to_owned),
            function_version: version("ResourceProperties"),
            old_function_version: version("OldResourceProperties"),
            skip_migrations: event
                .get("ResourceProperties")
                .and_then(|p| p.get("Migrate"))
                .and_then(Value::as_str)
                .is_some_and(|migrate| migrate.eq_ignore_ascii_case("false")),
        })
    }

    /// The id CloudFormation already knows, else one derived from the stack and the
    /// logical id: the same on every update, so CloudFormation never sees a replacement
    /// (which would make it send a `Delete` for the "old" resource).
    pub fn physical_id(&self) -> String {
        if let Some(id) = &self.physical_resource_id {
            return id.clone();
        }
        // arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>
        match self
            .stack_id
            .split('/')
            .nth(1)
            .filter(|name| !name.is_empty())
        {
            Some(stack) => format!("{stack}-{}", self.logical_resource_id),
            None => format!("latchkey-{}", self.logical_resource_id),
        }
    }

    /// An `Update` whose new function version is older than the previous one: the
    /// rollback of a failed deploy.
    pub fn is_rollback(&self) -> bool {
        let number = |arn: &Option<String>| {
            arn.as_deref()
                .and_then(|arn| arn.rsplit(':').next())
                .and_then(|n| n.parse::<u64>().ok())
        };
        self.request_type == RequestType::Update
            && matches!(
                (number(&self.function_version), number(&self.old_function_version)),
                (Some(new), Some(old)) if new < old
            )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Success,
    Failed,
}

/// The JSON document PUT to the `ResponseURL`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Response {
    pub status: Status,
    pub reason: String,
    pub physical_resource_id: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    /// Readable with `!GetAtt Migration.<key>`.
    pub data: BTreeMap<String, String>,
}

impl Response {
    pub fn success(request: &Request, reason: impl Into<String>) -> Self {
        Self::new(request, Status::Success, reason.into(), BTreeMap::new())
    }

    pub fn failed(request: &Request, reason: impl Into<String>) -> Self {
        Self::new(request, Status::Failed, reason.into(), BTreeMap::new())
    }

    /// SUCCESS for a migration run, its outcome in `Data`.
    pub fn migrated(request: &Request, outcome: &Outcome) -> Self {
        let admin = serde_json::to_value(&outcome.admin)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let reason = format!(
            "applied {} migration(s); admin: {admin}",
            outcome.applied.len()
        );
        let data = BTreeMap::from([
            ("Applied".to_owned(), outcome.applied.join(",")),
            ("AppliedCount".to_owned(), outcome.applied.len().to_string()),
            ("Admin".to_owned(), admin),
        ]);
        Self::new(request, Status::Success, reason, data)
    }

    fn new(
        request: &Request,
        status: Status,
        reason: String,
        data: BTreeMap<String, String>,
    ) -> Self {
        Self {
            status,
            reason: truncate(reason, MAX_REASON_CHARS),
            physical_resource_id: request.physical_id(),
            stack_id: request.stack_id.clone(),
            request_id: request.request_id.clone(),
            logical_resource_id: request.logical_resource_id.clone(),
            data,
        }
    }
}

/// How long migrations may run: until the deadline less [`ANSWER_RESERVE`], or not at
/// all when that has passed.
pub fn migration_budget(deadline: SystemTime, now: SystemTime) -> Duration {
    deadline
        .duration_since(now)
        .unwrap_or_default()
        .saturating_sub(ANSWER_RESERVE)
}

/// An error and its causes in one line (`outer: inner: root`), with every occurrence of
/// `secrets` blanked out, cut to a size CloudFormation accepts.
pub fn reason(err: &(dyn std::error::Error + 'static), secrets: &[&str]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(err) = next {
        let text = err.to_string();
        if parts.last().is_none_or(|last| !last.contains(&text)) {
            parts.push(text);
        }
        next = err.source();
    }
    let mut line = parts.join(": ");
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        line = line.replace(secret, "***");
    }
    truncate(line, MAX_REASON_CHARS)
}

/// The password of a `postgres://user:password@host/db` URL, if it has one.
pub fn url_password(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?']).next()?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (_, password) = userinfo.split_once(':')?;
    Some(password).filter(|p| !p.is_empty())
}

fn truncate(mut text: String, max_chars: usize) -> String {
    if let Some((cut, _)) = text.char_indices().nth(max_chars) {
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// The values that must never appear in an answer or a log line.
fn secrets(app: &App) -> Vec<&str> {
    let mut secrets = Vec::new();
    if let Some(database) = &app.config.database {
        let url = database.url.expose_secret();
        secrets.push(url);
        secrets.extend(url_password(url));
    }
    if let Some(admin) = &app.config.admin {
        secrets.push(admin.password.expose_secret());
    }
    secrets
}

/// Decides the answer to a custom-resource request, running the migrations for `Create`
/// and `Update`. Never fails: every problem becomes a FAILED answer.
pub async fn answer(
    app: Result<&App, &ConfigError>,
    request: &Request,
    deadline: SystemTime,
) -> Response {
    match &request.request_type {
        RequestType::Delete => Response::success(
            request,
            "nothing to do: deleting the stack keeps the database and its schema",
        ),
        RequestType::Other(other) => {
            Response::failed(request, format!("unsupported RequestType {other:?}"))
        }
        RequestType::Update if request.is_rollback() => Response::success(
            request,
            "rollback: migrations only go forward; the schema stays as it is",
        ),
        RequestType::Create | RequestType::Update if request.skip_migrations => {
            Response::success(request, "skipped: MigrateOnDeploy is false")
        }
        RequestType::Create | RequestType::Update => {
            let app = match app {
                Ok(app) => app,
                Err(err) => return Response::failed(request, format!("configuration: {err}")),
            };
            let budget = migration_budget(deadline, SystemTime::now());
            match tokio::time::timeout(budget, crate::run(app)).await {
                Ok(Ok(outcome)) => Response::migrated(request, &outcome),
                Ok(Err(err)) => Response::failed(
                    request,
                    format!("migrations failed: {}", reason(&*err, &secrets(app))),
                ),
                Err(_) => Response::failed(
                    request,
                    format!(
                        "migrations did not finish within {} s (the function's timeout less {} s \
                         kept for this answer); raise the migrate function's Timeout",
                        budget.as_secs(),
                        ANSWER_RESERVE.as_secs()
                    ),
                ),
            }
        }
    }
}

/// Sends answers to pre-signed response URLs. Built once per process.
pub struct Responder {
    http: reqwest::Client,
}

impl Responder {
    pub fn new() -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .timeout(PUT_TIMEOUT)
            .connect_timeout(PUT_TIMEOUT)
            .build()?;
        Ok(Self { http })
    }

    /// PUTs `response` to `url`, trying [`PUT_ATTEMPTS`] times. The URL is a credential
    /// (anyone holding it can answer for the stack), so errors never quote it.
    pub async fn send(&self, url: &str, response: &Response) -> Result<(), Error> {
        let body = serde_json::to_vec(response)?;
        let mut problem = String::new();
        for attempt in 0..PUT_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_secs(1 << (attempt - 1))).await;
            }
            // No Content-Type: the URL is signed without one, and S3 checks it.
            match self.http.put(url).body(body.clone()).send().await {
                Ok(answer) if answer.status().is_success() => return Ok(()),
                Ok(answer) => problem = format!("the response URL answered {}", answer.status()),
                Err(err) => problem = err.without_url().to_string(),
            }
            tracing::warn!(attempt = attempt + 1, %problem, "answering CloudFormation failed");
        }
        Err(format!("could not answer CloudFormation: {problem}").into())
    }
}

/// One invocation: a custom-resource request is answered at its `ResponseURL` (an error
/// only if that answer cannot be delivered, so that Lambda retries the invocation);
/// anything else runs the migrations and returns their [`Outcome`].
pub async fn handle(
    app: Result<&App, &ConfigError>,
    responder: &Responder,
    event: Value,
    deadline: SystemTime,
) -> Result<Value, Error> {
    match Invocation::from_event(&event) {
        Invocation::Manual => {
            let app = app.map_err(|err| format!("configuration: {err}"))?;
            let outcome = crate::run(app).await?;
            Ok(serde_json::to_value(outcome)?)
        }
        Invocation::CustomResource(request) => {
            let response = answer(app, &request, deadline).await;
            tracing::info!(
                request_type = ?request.request_type,
                status = ?response.status,
                reason = %response.reason,
                "answering CloudFormation"
            );
            responder.send(&request.response_url, &response).await?;
            Ok(serde_json::to_value(&response)?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AdminOutcome;
    use serde_json::json;

    const STACK: &str =
        "arn:aws:cloudformation:eu-west-1:123456789012:stack/latchkey-prod/1b2c3d4e";

    fn event(request_type: &str) -> Value {
        json!({
            "RequestType": request_type,
            "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:latchkey-prod-MigrateFunction",
            "ResponseURL": "https://cloudformation-custom-resource-response-euwest1.s3.amazonaws.com/x?X-Amz-Signature=abc",
            "StackId": STACK,
            "RequestId": "5d1f0c4a-request",
            "LogicalResourceId": "Migration",
            "ResourceType": "Custom::Migrations",
            "ResourceProperties": {
                "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:latchkey-prod-MigrateFunction",
                "FunctionVersion": "arn:aws:lambda:eu-west-1:123456789012:function:latchkey-prod-MigrateFunction:7"
            }
        })
    }

    fn request(event: &Value) -> Request {
        match Invocation::from_event(event) {
            Invocation::CustomResource(request) => request,
            Invocation::Manual => panic!("expected a custom-resource request"),
        }
    }

    #[test]
    fn a_create_event_is_parsed_with_everything_the_answer_needs() {
        let request = request(&event("Create"));
        assert_eq!(request.request_type, RequestType::Create);
        assert!(
            request
                .response_url
                .starts_with("https://cloudformation-custom-resource")
        );
        assert_eq!(request.stack_id, STACK);
        assert_eq!(request.request_id, "5d1f0c4a-request");
        assert_eq!(request.logical_resource_id, "Migration");
        assert_eq!(request.physical_resource_id, None);
        assert!(request.function_version.as_deref().unwrap().ends_with(":7"));
    }

    #[test]
    fn events_without_a_response_url_are_manual_invocations() {
        assert_eq!(Invocation::from_event(&json!({})), Invocation::Manual);
        assert_eq!(Invocation::from_event(&json!(null)), Invocation::Manual);
        assert_eq!(
            Invocation::from_event(&json!({"RequestType": "Create"})),
            Invocation::Manual
        );
    }

    #[test]
    fn unknown_request_types_are_kept_to_be_answered_failed() {
        let request = request(&event("Resize"));
        assert_eq!(request.request_type, RequestType::Other("Resize".into()));
    }

    #[test]
    fn the_physical_id_is_derived_on_create_and_echoed_afterwards() {
        let created = request(&event("Create"));
        assert_eq!(created.physical_id(), "latchkey-prod-Migration");

        let mut update = event("Update");
        update["PhysicalResourceId"] = json!("latchkey-prod-Migration");
        assert_eq!(request(&update).physical_id(), "latchkey-prod-Migration");

        let mut legacy = event("Delete");
        legacy["PhysicalResourceId"] = json!("some-older-id");
        assert_eq!(request(&legacy).physical_id(), "some-older-id");
    }

    #[test]
    fn an_update_to_an_older_function_version_is_a_rollback() {
        let mut update = event("Update");
        update["OldResourceProperties"] =
            json!({"FunctionVersion": "arn:aws:lambda:r:1:function:f:6"});
        assert!(!request(&update).is_rollback(), "6 -> 7 goes forward");

        update["OldResourceProperties"] =
            json!({"FunctionVersion": "arn:aws:lambda:r:1:function:f:12"});
        assert!(request(&update).is_rollback(), "12 -> 7 goes back");

        update["OldResourceProperties"] = json!({});
        assert!(
            !request(&update).is_rollback(),
            "unknown: run the migrations"
        );

        let mut create = event("Create");
        create["OldResourceProperties"] =
            json!({"FunctionVersion": "arn:aws:lambda:r:1:function:f:12"});
        assert!(!request(&create).is_rollback());
    }

    #[test]
    fn migrations_are_skipped_only_when_the_template_says_false() {
        assert!(!request(&event("Create")).skip_migrations);
        let mut skip = event("Update");
        skip["ResourceProperties"]["Migrate"] = json!("false");
        assert!(request(&skip).skip_migrations);
        skip["ResourceProperties"]["Migrate"] = json!("true");
        assert!(!request(&skip).skip_migrations);
    }

    #[test]
    fn a_success_answer_carries_the_ids_and_the_outcome() {
        let outcome = Outcome {
            applied: vec!["V1__users".into(), "V2__contacts".into()],
            admin: AdminOutcome::Created,
            resealed_mfa_secrets: 0,
        };
        let response = Response::migrated(&request(&event("Create")), &outcome);
        assert_eq!(
            serde_json::to_value(&response).unwrap(),
            json!({
                "Status": "SUCCESS",
                "Reason": "applied 2 migration(s); admin: created",
                "PhysicalResourceId": "latchkey-prod-Migration",
                "StackId": STACK,
                "RequestId": "5d1f0c4a-request",
                "LogicalResourceId": "Migration",
                "Data": {"Admin": "created", "Applied": "V1__users,V2__contacts", "AppliedCount": "2"}
            })
        );
    }

    #[test]
    fn a_failed_answer_keeps_the_physical_id_and_states_the_reason() {
        let mut update = event("Update");
        update["PhysicalResourceId"] = json!("latchkey-prod-Migration");
        let response = Response::failed(&request(&update), "migrations failed: boom");
        let json = serde_json::to_value(&response).unwrap();
        assert_eq!(json["Status"], "FAILED");
        assert_eq!(json["Reason"], "migrations failed: boom");
        assert_eq!(json["PhysicalResourceId"], "latchkey-prod-Migration");
        assert_eq!(json["Data"], json!({}));
    }

    #[derive(Debug)]
    struct Outer(std::io::Error);

    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("database unavailable")
        }
    }

    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn reasons_follow_the_cause_chain_and_blank_out_secrets() {
        let err = Outer(std::io::Error::other(
            "could not connect to postgres://app:s3cret-pw@db.internal/latchkey",
        ));
        let url = "postgres://app:s3cret-pw@db.internal/latchkey";
        let text = reason(&err, &[url, "s3cret-pw"]);
        assert_eq!(text, "database unavailable: could not connect to ***");
        let only_password = reason(&err, &["s3cret-pw"]);
        assert!(!only_password.contains("s3cret-pw"), "{only_password}");
    }

    #[test]
    fn reasons_are_cut_to_a_size_cloudformation_accepts() {
        let err = std::io::Error::other("é".repeat(5000));
        let text = reason(&err, &[]);
        assert_eq!(text.chars().count(), MAX_REASON_CHARS + 1);
        assert!(text.ends_with('…'));
    }

    #[test]
    fn the_password_is_found_in_database_urls() {
        assert_eq!(
            url_password("postgres://u:p%40ss@h:5432/db"),
            Some("p%40ss")
        );
        assert_eq!(
            url_password("postgres://u:pw@h/db?sslmode=require"),
            Some("pw")
        );
        assert_eq!(url_password("postgres://u@h/db"), None);
        assert_eq!(url_password("postgres://h/db"), None);
        assert_eq!(url_password("host=h user=u"), None);
    }

    #[test]
    fn the_migration_budget_keeps_the_answer_reserve() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let deadline = now + Duration::from_secs(300);
        assert_eq!(
            migration_budget(deadline, now),
            Duration::from_secs(300) - ANSWER_RESERVE
        );
        assert_eq!(
            migration_budget(now + Duration::from_secs(5), now),
            Duration::ZERO
        );
        assert_eq!(
            migration_budget(now - Duration::from_secs(5), now),
            Duration::ZERO
        );
    }
}
