//! Password-guessing throttle, per account: five consecutive failures lock the account
//! for 30 s, each further failure doubles the window up to 15 min; a success resets it.
//! Every place that checks a password (login, and the confirmations of update and
//! delete) goes through here, so none of them is a way around the lock.

use deadpool_postgres::GenericClient;

use crate::error::ApiError;

/// Failures in a row that lock an account.
pub const MAX_FAILURES: i32 = 5;
/// The first lock window; each further failure doubles it.
pub const LOCK_BASE_SECS: f64 = 30.0;
/// The longest lock window.
pub const LOCK_MAX_SECS: f64 = 900.0;

/// SQL for the columns [`Lock::from_row`] reads, for a `users` table aliased `u`.
pub const COLUMNS: &str = "u.password_hash, u.failed_logins,
    CASE WHEN u.locked_until > now()
         THEN ceil(extract(epoch FROM u.locked_until - now()))::bigint END AS locked_for";

/// An account's password hash and lock state, as read with [`COLUMNS`].
pub struct Lock {
    pub password_hash: String,
    pub failed_logins: i32,
    locked_for_secs: Option<i64>,
}

impl Lock {
    pub fn from_row(row: &tokio_postgres::Row) -> Result<Self, ApiError> {
        Ok(Self {
            password_hash: row.try_get("password_hash")?,
            failed_logins: row.try_get("failed_logins")?,
            locked_for_secs: row.try_get("locked_for")?,
        })
    }

    /// 429 `too_many_attempts` with `Retry-After` while the account is locked.
    pub fn ensure_unlocked(&self) -> Result<(), ApiError> {
        match self.locked_for_secs {
            Some(secs) => Err(ApiError::TooManyAttempts {
                retry_after_secs: secs.max(1) as u64,
            }),
            None => Ok(()),
        }
    }
}

/// Counts a failure; the fifth in a row and every later one (re)starts the lock window.
pub async fn record_failure(client: &impl GenericClient, user_id: i64) -> Result<(), ApiError> {
    let statement = client
        .prepare_cached(
            "UPDATE users SET
                failed_logins = failed_logins + 1,
                locked_until = CASE WHEN failed_logins + 1 >= $2
                    THEN now() + make_interval(secs => least($3 * 2 ^ (failed_logins + 1 - $2), $4))
                    ELSE locked_until END
             WHERE id = $1",
        )
        .await?;
    client
        .execute(
            &statement,
            &[&user_id, &MAX_FAILURES, &LOCK_BASE_SECS, &LOCK_MAX_SECS],
        )
        .await?;
    Ok(())
}

/// Clears the failure count and, when given, stores `rehashed`: the same password hashed
/// with the configured parameters, replacing `verified_hash` only if that is still the
/// stored hash (a password changed meanwhile is never overwritten by the old one).
pub async fn record_success(
    client: &impl GenericClient,
    user_id: i64,
    rehash: Option<(&str, &str)>,
) -> Result<(), ApiError> {
    let statement = client
        .prepare_cached(
            "UPDATE users SET failed_logins = 0, locked_until = NULL,
                password_hash = CASE WHEN password_hash = $3 THEN $2 ELSE password_hash END
             WHERE id = $1",
        )
        .await?;
    let (rehashed, verified_hash) = rehash.unzip();
    client
        .execute(&statement, &[&user_id, &rehashed, &verified_hash])
        .await?;
    Ok(())
}
