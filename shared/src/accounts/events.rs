//! The audit trail (API.md "Audit events"): one row of `auth_events` per
//! security-relevant change, written by [`record`] with the same client as the change, so
//! that inside a transaction the two commit or roll back together. Failed logins, locks
//! and token reuse change nothing else and are recorded on their own.
//!
//! What an event may carry is fixed here: the account concerned, who caused it, the
//! client IP and user agent ([`Origin`]), and a `detail` object of non-secret particulars
//! (an old and new role, say). Never a password, token, one-time code or hash: no
//! function passes one, and the log-secrets test reads the whole table after the
//! end-to-end run.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::{GenericClient, Param, Type};
use crate::http::client::Origin;
use crate::http::error::ApiError;
use crate::http::page::{Page, PageInfo};
use crate::http::totals;

/// What happened. Serialized as its snake_case name (`login_failed`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    Registered,
    LoginSucceeded,
    LoginFailed,
    AccountLocked,
    TokenReused,
    LoggedOut,
    LoggedOutAll,
    PasswordChanged,
    PasswordResetRequested,
    PasswordReset,
    EmailVerificationSent,
    EmailVerified,
    EmailChangeRequested,
    EmailChanged,
    EmailChangeReverted,
    LoginChanged,
    PhoneChanged,
    RoleChanged,
    AccountDisabled,
    AccountEnabled,
    AccountUnlocked,
    SessionsRevoked,
    AccountDeleted,
    MfaEnabled,
    MfaDisabled,
    MfaReset,
    MfaFailed,
    RecoveryCodeUsed,
    CodeReplayed,
}

impl EventType {
    /// Every type, in the contract's order.
    pub const ALL: [EventType; 29] = [
        Self::Registered,
        Self::LoginSucceeded,
        Self::LoginFailed,
        Self::AccountLocked,
        Self::TokenReused,
        Self::LoggedOut,
        Self::LoggedOutAll,
        Self::PasswordChanged,
        Self::PasswordResetRequested,
        Self::PasswordReset,
        Self::EmailVerificationSent,
        Self::EmailVerified,
        Self::EmailChangeRequested,
        Self::EmailChanged,
        Self::EmailChangeReverted,
        Self::LoginChanged,
        Self::PhoneChanged,
        Self::RoleChanged,
        Self::AccountDisabled,
        Self::AccountEnabled,
        Self::AccountUnlocked,
        Self::SessionsRevoked,
        Self::AccountDeleted,
        Self::MfaEnabled,
        Self::MfaDisabled,
        Self::MfaReset,
        Self::MfaFailed,
        Self::RecoveryCodeUsed,
        Self::CodeReplayed,
    ];

    /// The stored and serialized name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::LoginSucceeded => "login_succeeded",
            Self::LoginFailed => "login_failed",
            Self::AccountLocked => "account_locked",
            Self::TokenReused => "token_reused",
            Self::LoggedOut => "logged_out",
            Self::LoggedOutAll => "logged_out_all",
            Self::PasswordChanged => "password_changed",
            Self::PasswordResetRequested => "password_reset_requested",
            Self::PasswordReset => "password_reset",
            Self::EmailVerificationSent => "email_verification_sent",
            Self::EmailVerified => "email_verified",
            Self::EmailChangeRequested => "email_change_requested",
            Self::EmailChanged => "email_changed",
            Self::EmailChangeReverted => "email_change_reverted",
            Self::LoginChanged => "login_changed",
            Self::PhoneChanged => "phone_changed",
            Self::RoleChanged => "role_changed",
            Self::AccountDisabled => "account_disabled",
            Self::AccountEnabled => "account_enabled",
            Self::AccountUnlocked => "account_unlocked",
            Self::SessionsRevoked => "sessions_revoked",
            Self::AccountDeleted => "account_deleted",
            Self::MfaEnabled => "mfa_enabled",
            Self::MfaDisabled => "mfa_disabled",
            Self::MfaReset => "mfa_reset",
            Self::MfaFailed => "mfa_failed",
            Self::RecoveryCodeUsed => "recovery_code_used",
            Self::CodeReplayed => "code_replayed",
        }
    }

    /// The type of a stored or requested name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// One event to write: what happened, to which account, caused by whom.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub kind: EventType,
    /// The account concerned (`None`: a failed login with an identifier of no account).
    pub user_id: Option<i64>,
    /// Who caused it: the account itself, an admin, or `None` (the system, or a caller
    /// who is no account).
    pub actor_id: Option<i64>,
    /// Non-secret particulars, a JSON object.
    pub detail: serde_json::Value,
}

impl NewEvent {
    /// An account's own doing: it is both the subject and the actor.
    pub fn by_user(kind: EventType, user_id: i64) -> Self {
        Self {
            kind,
            user_id: Some(user_id),
            actor_id: Some(user_id),
            detail: serde_json::json!({}),
        }
    }

    /// Something done to `user_id` by another account (an admin), or by no account.
    pub fn to_user(kind: EventType, user_id: Option<i64>, actor_id: Option<i64>) -> Self {
        Self {
            kind,
            user_id,
            actor_id,
            detail: serde_json::json!({}),
        }
    }

    /// With these particulars (a JSON object of non-secret values).
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}

/// An `INSERT` of a `kind` event for every row of `rows` (a row source of the caller's
/// statement with `user_id`, `actor_id` and `detail` columns), from the client whose IP and
/// user agent are parameters `$ip_param` and `$user_agent_param` ([`origin_values`]).
/// Used as a data-modifying CTE, it records the event in the statement that makes the
/// change: the two commit together, in one round trip.
pub fn insert_from(
    kind: EventType,
    rows: &str,
    ip_param: usize,
    user_agent_param: usize,
) -> String {
    format!(
        "INSERT INTO auth_events (type, user_id, actor_id, ip, user_agent, detail)
         SELECT '{}', user_id, actor_id, ${ip_param}::text, ${user_agent_param}::text, detail
         FROM {rows}",
        kind.as_str()
    )
}

/// The client's IP and user agent as [`insert_from`]'s parameters take them.
pub fn origin_values(origin: &Origin) -> (Option<String>, Option<String>) {
    (
        origin.address.map(|ip| ip.to_string()),
        origin.user_agent.clone(),
    )
}

/// Writes `event`, from the client `origin`, through `client`: inside a transaction it
/// commits or rolls back with the change it records.
pub async fn record(
    client: &impl GenericClient,
    origin: &Origin,
    event: NewEvent,
) -> Result<(), ApiError> {
    let (ip, user_agent) = origin_values(origin);
    client
        .execute_typed(
            "INSERT INTO auth_events (type, user_id, actor_id, ip, user_agent, detail)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                (&event.kind.as_str(), Type::TEXT),
                (&event.user_id, Type::INT8),
                (&event.actor_id, Type::INT8),
                (&ip, Type::TEXT),
                (&user_agent, Type::TEXT),
                (&event.detail, Type::JSONB),
            ],
        )
        .await?;
    Ok(())
}

/// An event as the listing routes answer it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 42, "at": "2026-11-22T03:21:11Z", "type": "login_failed",
    "user_id": 7, "actor_id": 7, "ip": "203.0.113.7", "user_agent": "curl/8.5.0", "detail": {}}))]
pub struct Event {
    pub id: i64,
    pub at: DateTime<Utc>,
    #[serde(rename = "type")]
    #[schema(value_type = EventType)]
    pub kind: String,
    /// The account concerned; null for a failed login with an identifier of no account.
    pub user_id: Option<i64>,
    /// Who caused it: the account itself, an admin, or null (the system, or a caller who
    /// is no account).
    pub actor_id: Option<i64>,
    /// The client IP; null where hidden (an admin's, in the user's own listing).
    pub ip: Option<String>,
    /// The client's `User-Agent`, at most 256 characters; null where hidden or absent.
    pub user_agent: Option<String>,
    /// Non-secret particulars, e.g. `{"from": "user", "to": "admin"}` for `role_changed`.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

/// A page of events, newest first: what both listings answer.
#[derive(Serialize, ToSchema)]
pub struct EventsPage {
    pub events: Vec<Event>,
    #[serde(flatten)]
    pub page: PageInfo,
}

/// The columns [`Event::from_row`] reads, of `auth_events e`.
pub const COLUMNS: &str = "e.id, e.at, e.type, e.user_id, e.actor_id, e.ip, e.user_agent, e.detail";

impl Event {
    pub fn from_row(row: &tokio_postgres::Row) -> Result<Self, ApiError> {
        Ok(Self {
            id: row.try_get("id")?,
            at: row.try_get("at")?,
            kind: row.try_get("type")?,
            user_id: row.try_get("user_id")?,
            actor_id: row.try_get("actor_id")?,
            ip: row.try_get("ip")?,
            user_agent: row.try_get("user_agent")?,
            detail: row.try_get("detail")?,
        })
    }

    /// As its subject may see it: where another account (an admin) caused it, that
    /// account's IP and user agent are not the subject's to see.
    pub fn for_subject(mut self) -> Self {
        if self.actor_id.is_some() && self.actor_id != self.user_id {
            self.ip = None;
            self.user_agent = None;
        }
        self
    }
}

/// Which events a listing shows; every field narrows it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter {
    pub user_id: Option<i64>,
    pub kind: Option<EventType>,
    pub since: Option<DateTime<Utc>>,
}

/// A page of the events `filter` selects, newest first, with the listing's total: exact
/// below `exact_limit`, otherwise at least the limit (counting stops there, so a page
/// costs the same at a million events). The statement is built from constant fragments
/// for the filters present (one statement text per variant), so that each uses its index:
/// `(user_id, id)`, `(type, id)`, or the primary key, read backwards.
pub async fn list(
    client: &impl GenericClient,
    filter: Filter,
    page: Page,
    exact_limit: i64,
) -> Result<(Vec<Event>, i64), ApiError> {
    let kind = filter.kind.map(EventType::as_str);
    let mut params: Vec<Param<'_>> = Vec::new();
    let mut conditions = Vec::new();
    if let Some(user_id) = &filter.user_id {
        params.push((user_id, Type::INT8));
        conditions.push(format!("e.user_id = ${}", params.len()));
    }
    if let Some(kind) = &kind {
        params.push((kind, Type::TEXT));
        conditions.push(format!("e.type = ${}", params.len()));
    }
    if let Some(since) = &filter.since {
        params.push((since, Type::TIMESTAMPTZ));
        conditions.push(format!("e.at >= ${}", params.len()));
    }
    let condition = match conditions.is_empty() {
        true => "true".to_owned(),
        false => conditions.join(" AND "),
    };
    let (size, offset) = (page.size, page.offset());
    params.push((&size, Type::INT8));
    params.push((&offset, Type::INT8));
    params.push((&exact_limit, Type::INT8));
    let n = params.len();
    let sql = format!(
        "WITH page AS (
            SELECT {COLUMNS} FROM auth_events e WHERE {condition}
            ORDER BY e.id DESC LIMIT ${} OFFSET ${})
         SELECT (SELECT count(*) FROM (SELECT 1 FROM auth_events e WHERE {condition}
                 LIMIT ${n}) AS b) AS counted, page.*
         FROM (SELECT 1) AS one LEFT JOIN page ON true
         ORDER BY page.id DESC",
        n - 2,
        n - 1,
    );
    let rows = client.query_typed(&sql, &params).await?;
    let mut events = Vec::with_capacity(rows.len());
    for row in &rows {
        if row.try_get::<_, Option<i64>>("id")?.is_some() {
            events.push(Event::from_row(row)?);
        }
    }
    let counted: i64 = match rows.first() {
        Some(row) => row.try_get("counted")?,
        None => 0,
    };
    let total = totals::bounded(counted, exact_limit, page, events.len());
    Ok((events, total))
}

/// Retention: deletes at most `batch` events older than `days` days, oldest first (by the
/// `at` index); returns how many went. Rows another transaction holds are skipped.
pub async fn delete_expired(
    client: &impl GenericClient,
    days: i32,
    batch: i64,
) -> Result<u64, ApiError> {
    Ok(client
        .execute_typed(
            "DELETE FROM auth_events WHERE id IN (
                SELECT id FROM auth_events WHERE at < now() - make_interval(days => $1)
                ORDER BY at LIMIT $2 FOR UPDATE SKIP LOCKED)",
            &[(&days, Type::INT4), (&batch, Type::INT8)],
        )
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_round_trips_through_its_name_and_serde() {
        for kind in EventType::ALL {
            assert_eq!(EventType::parse(kind.as_str()), Some(kind));
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                serde_json::json!(kind.as_str())
            );
        }
        assert_eq!(EventType::parse("LOGIN_FAILED"), None);
        assert_eq!(EventType::parse(""), None);
    }

    fn event(user_id: Option<i64>, actor_id: Option<i64>) -> Event {
        Event {
            id: 1,
            at: Utc::now(),
            kind: "role_changed".into(),
            user_id,
            actor_id,
            ip: Some("203.0.113.7".into()),
            user_agent: Some("curl/8".into()),
            detail: serde_json::json!({}),
        }
    }

    #[test]
    fn an_admins_whereabouts_are_hidden_from_the_subject_but_not_the_users_own() {
        let admins = event(Some(7), Some(1)).for_subject();
        assert_eq!((admins.ip, admins.user_agent), (None, None));
        let own = event(Some(7), Some(7)).for_subject();
        assert!(own.ip.is_some() && own.user_agent.is_some());
        let system = event(Some(7), None).for_subject();
        assert!(system.ip.is_some());
    }
}
