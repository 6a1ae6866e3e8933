//! Sessions: one per login (one refresh-token family). The database row is the truth:
//! an access token is honoured only while its session is live, and a refresh token only
//! while its `jti` is the session's current one.

use std::time::Duration;

use crate::db::{self, GenericClient, Type};
use uuid::Uuid;

use crate::accounts::events::{self, EventType};
use crate::accounts::users::{self, User};
use crate::auth::credentials::Attempt;
use crate::auth::tokens::Claims;
use crate::http::client::Origin;
use crate::http::error::ApiError;

/// A session as the next token pair needs it: its id, the `jti` the refresh token must
/// carry, and how and when its login was authenticated (`amr`, `auth_time`), which every
/// access token of the session repeats.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: Uuid,
    pub refresh_jti: Uuid,
    pub amr: Vec<String>,
    /// The login's time (the session's `created_at`), in seconds since the epoch.
    pub auth_time: i64,
}

/// What every statement that opens or rotates a session returns for [`NewSession`].
const RETURNING: &str = "amr, floor(extract(epoch FROM created_at))::bigint AS auth_time";

impl NewSession {
    fn from_row(row: &tokio_postgres::Row, refresh_jti: Uuid) -> Result<Self, ApiError> {
        Ok(Self {
            id: row.try_get("id")?,
            refresh_jti,
            amr: row.try_get("amr")?,
            auth_time: row.try_get("auth_time")?,
        })
    }
}

/// Opens a session for `user_id` that lives `ttl` unless refreshed, authenticated by a
/// password (`amr` `["pwd"]`).
pub async fn open(
    client: &impl GenericClient,
    user_id: i64,
    ttl: Duration,
) -> Result<NewSession, ApiError> {
    open_with(client, user_id, ttl, &["pwd"]).await
}

/// [`open`] for a login that passed a second factor too (`amr` `["pwd", "otp"]`).
pub async fn open_after_second_factor(
    client: &impl GenericClient,
    user_id: i64,
    ttl: Duration,
) -> Result<NewSession, ApiError> {
    open_with(client, user_id, ttl, &["pwd", "otp"]).await
}

async fn open_with(
    client: &impl GenericClient,
    user_id: i64,
    ttl: Duration,
    amr: &[&str],
) -> Result<NewSession, ApiError> {
    let refresh_jti = Uuid::new_v4();
    let sql = format!(
        "INSERT INTO sessions (user_id, refresh_jti, expires_at, amr)
         VALUES ($1, $2, now() + make_interval(secs => $3), $4)
         RETURNING id, {RETURNING}"
    );
    let row = client
        .query_typed_one(
            &sql,
            &[
                (&user_id, Type::INT8),
                (&refresh_jti, Type::UUID),
                (&ttl.as_secs_f64(), Type::FLOAT8),
                (&amr, Type::TEXT_ARRAY),
            ],
        )
        .await
        // The account was deleted while the request was under way: answer as the next
        // sign-in will be answered, not with a 500.
        .map_err(|err| {
            db::on_constraint(err, "sessions_user_id_fkey", ApiError::InvalidCredentials)
        })?;
    NewSession::from_row(&row, refresh_jti)
}

/// A login's second statement, after its password check: gives the attempt back (the
/// lock's count starts again), opens a session only if `user_id`'s password hash is still
/// `verified_hash` (the one the password was just checked against) and the account is
/// enabled, and records `login_succeeded` with it: one round trip, committed together.
/// `None` when the password changed or the account was disabled meanwhile (both revoke
/// every session: the old password must not open a new one after them). The user's row is
/// read `FOR SHARE`, so an open password change makes this wait for its commit and then
/// re-check the hash.
pub async fn open_for_login(
    client: &impl GenericClient,
    user_id: i64,
    verified_hash: &str,
    ttl: Duration,
    attempt: &Attempt,
    origin: &Origin,
) -> Result<Option<NewSession>, ApiError> {
    let refresh_jti = Uuid::new_v4();
    let sql = format!(
        "WITH given_back AS ({}),
         s AS (
            INSERT INTO sessions (user_id, refresh_jti, expires_at)
            (SELECT id, $2, now() + make_interval(secs => $3) FROM users
             WHERE id = $1 AND password_hash = $4 AND NOT disabled FOR SHARE)
            RETURNING id, user_id, {RETURNING}
         ), logged AS ({})
         SELECT id, amr, auth_time FROM s",
        Attempt::give_back_sql(5),
        events::insert_from(
            EventType::LoginSucceeded,
            "(SELECT user_id, user_id AS actor_id, '{}'::jsonb AS detail FROM s) AS opened",
            8,
            9
        ),
    );
    let (ip, user_agent) = events::origin_values(origin);
    let [subject, lock_ip, all_ips] = attempt.give_back_params();
    let row = client
        .query_typed_opt(
            &sql,
            &[
                (&user_id, Type::INT8),
                (&refresh_jti, Type::UUID),
                (&ttl.as_secs_f64(), Type::FLOAT8),
                (&verified_hash, Type::TEXT),
                subject,
                lock_ip,
                all_ips,
                (&ip, Type::TEXT),
                (&user_agent, Type::TEXT),
            ],
        )
        .await?;
    row.map(|row| NewSession::from_row(&row, refresh_jti))
        .transpose()
}

/// Rotates the session of a verified refresh token, in one statement: if the presented
/// `jti` is the current one, it is replaced by a new one and the session's user returned
/// with the session (its login's `amr` and `auth_time` unchanged);
/// if it is an older one, the token was reused and the whole session is revoked (401
/// `token_reused`). An unknown, revoked or expired session is 401 `invalid_token`.
///
/// A rotation moves the expiry `ttl` ahead, but never past `max_age` from the session's
/// creation (its login): then the user logs in again.
///
/// The row lock decides races: of concurrent presentations of one token, the first wins
/// and every later one sees the new `jti`, counts as reuse, and revokes the session. A
/// reuse's `token_reused` event (from `origin`) is written by the same statement, so it
/// commits exactly with the revocation: one round trip, no transaction around it.
pub async fn rotate(
    client: &impl GenericClient,
    refresh: &Claims,
    ttl: Duration,
    max_age: Duration,
    origin: &Origin,
) -> Result<(User, NewSession), ApiError> {
    let new_jti = Uuid::new_v4();
    let sql = format!(
        "WITH s AS (
            UPDATE sessions SET
                refresh_jti = CASE WHEN refresh_jti = $3 THEN $4 ELSE refresh_jti END,
                refreshed_at = CASE WHEN refresh_jti = $3 THEN now() ELSE refreshed_at END,
                expires_at = CASE WHEN refresh_jti = $3
                    THEN least(now() + make_interval(secs => $5),
                               created_at + make_interval(secs => $6))
                    ELSE expires_at END,
                revoked_at = CASE WHEN refresh_jti = $3 THEN NULL ELSE now() END,
                revoked_reason = CASE WHEN refresh_jti = $3 THEN NULL ELSE 'refresh_token_reused' END
            WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > now()
            RETURNING id AS session_id, user_id, refresh_jti = $4 AS rotated, {RETURNING}
         ), reused AS ({})
         SELECT s.rotated, s.session_id, s.amr, s.auth_time, {} FROM s
         JOIN users u ON u.id = s.user_id",
        events::insert_from(
            EventType::TokenReused,
            "(SELECT user_id, NULL::bigint AS actor_id,
                     jsonb_build_object('session_id', session_id) AS detail
              FROM s WHERE NOT rotated) AS reuse",
            7,
            8
        ),
        users::COLUMNS
    );
    let (ip, user_agent) = events::origin_values(origin);
    let row = client
        .query_typed_opt(
            &sql,
            &[
                (&refresh.sid, Type::UUID),
                (&refresh.user_id, Type::INT8),
                (&refresh.jti, Type::UUID),
                (&new_jti, Type::UUID),
                (&ttl.as_secs_f64(), Type::FLOAT8),
                (&max_age.as_secs_f64(), Type::FLOAT8),
                (&ip, Type::TEXT),
                (&user_agent, Type::TEXT),
            ],
        )
        .await?
        .ok_or(ApiError::InvalidToken)?;
    let rotated: bool = row.try_get("rotated")?;
    if !rotated {
        tracing::warn!(session = %refresh.sid, user_id = refresh.user_id, "refresh token reused; session revoked");
        return Err(ApiError::TokenReused);
    }
    let session = NewSession {
        id: row.try_get("session_id")?,
        refresh_jti: new_jti,
        amr: row.try_get("amr")?,
        auth_time: row.try_get("auth_time")?,
    };
    Ok((User::from_row(&row)?, session))
}

/// Revokes one session of `user_id`; false when it was already revoked (not an error).
pub async fn revoke(
    client: &impl GenericClient,
    session_id: Uuid,
    user_id: i64,
    reason: &str,
) -> Result<bool, ApiError> {
    let revoked = client
        .execute_typed(
            "UPDATE sessions SET revoked_at = now(), revoked_reason = $3
             WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
            &[
                (&session_id, Type::UUID),
                (&user_id, Type::INT8),
                (&reason, Type::TEXT),
            ],
        )
        .await?;
    Ok(revoked == 1)
}

/// Revokes every live session of `user_id`; returns how many.
pub async fn revoke_all(
    client: &impl GenericClient,
    user_id: i64,
    reason: &str,
) -> Result<u64, ApiError> {
    revoke_all_but(client, user_id, None, reason).await
}

/// Revokes every live session of `user_id` but `keep` (the caller's own); returns how
/// many.
pub async fn revoke_others(
    client: &impl GenericClient,
    user_id: i64,
    keep: Uuid,
    reason: &str,
) -> Result<u64, ApiError> {
    revoke_all_but(client, user_id, Some(keep), reason).await
}

async fn revoke_all_but(
    client: &impl GenericClient,
    user_id: i64,
    keep: Option<Uuid>,
    reason: &str,
) -> Result<u64, ApiError> {
    Ok(client
        .execute_typed(
            "UPDATE sessions SET revoked_at = now(), revoked_reason = $2
             WHERE user_id = $1 AND revoked_at IS NULL AND ($3::uuid IS NULL OR id <> $3)",
            &[
                (&user_id, Type::INT8),
                (&reason, Type::TEXT),
                (&keep, Type::UUID),
            ],
        )
        .await?)
}

/// The answer of a route that revoked sessions: how many were live.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Revoked {
    /// How many live sessions were revoked.
    pub revoked_sessions: u64,
}
