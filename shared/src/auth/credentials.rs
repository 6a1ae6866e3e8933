//! Checking a password under the guessing lock: the one sequence every route that checks
//! a password goes through (login, and the confirmations of update-user and delete-user;
//! codes will count the same way), so none of them is a way around the lock.
//!
//! The lock, per subject (an account, or an identifier that names none) and client IP
//! (IPv6 by /64), is in `login_locks`. An attempt is **counted before anything is
//! evaluated**, in one statement that also refuses it while the subject is locked for that
//! IP; a success gives the count back. So however many attempts arrive at the same
//! moment, at most [`MAX_FAILURES`] are evaluated before the lock, which then lasts
//! [`LOCK_BASE_SECS`], doubling with each further failure up to [`LOCK_MAX_SECS`]. Across
//! all IPs, [`ACCOUNT_MAX_FAILURES`] consecutive failures lock the subject until
//! [`clear`] (a password reset or an admin's unlock). Unknown identifiers are locked the
//! same way, keyed by a hash of the normalized identifier, so a lock says nothing about
//! whether an account exists.

use crate::db::{GenericClient, Param, Type};
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use tokio_postgres::Row;

use crate::accounts::events::{self, EventType, NewEvent};
use crate::app::App;
use crate::auth::password::Verdict;
use crate::http::client::Origin;
use crate::http::error::ApiError;

/// Consecutive failures, per subject and IP, that lock the subject for that IP.
pub const MAX_FAILURES: i32 = 5;
/// The first lock window; each further failure doubles it.
pub const LOCK_BASE_SECS: f64 = 30.0;
/// The longest lock window, and the `Retry-After` of a subject locked across all IPs.
pub const LOCK_MAX_SECS: f64 = 900.0;
/// Consecutive failures from all IPs together that lock the subject until cleared.
pub const ACCOUNT_MAX_FAILURES: i32 = 100;
/// The `ip` of the row that counts failures from every IP.
const ALL_IPS: &str = "*";

/// Whose password is being checked.
pub enum Claimant<'a> {
    /// An account, with the stored hash the password is checked against.
    Account {
        user_id: i64,
        password_hash: &'a str,
    },
    /// An identifier (already normalized, see `identity::lookup_key`) that names no
    /// account: a dummy hash is verified, and the identifier is locked like an account.
    Unknown { lookup_key: &'a str },
}

impl Claimant<'_> {
    /// The lock's subject: `user:<id>`, or `id:<sha-256 of the identifier>` (the
    /// identifier itself is never stored).
    fn subject(&self) -> String {
        match self {
            Self::Account { user_id, .. } => account_subject(*user_id),
            Self::Unknown { lookup_key } => {
                let digest = Sha256::new()
                    .chain_update(b"latchkey login lock\0")
                    .chain_update(lookup_key.as_bytes())
                    .finalize();
                let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
                format!("id:{hex}")
            }
        }
    }

    fn user_id(&self) -> Option<i64> {
        match self {
            Self::Account { user_id, .. } => Some(*user_id),
            Self::Unknown { .. } => None,
        }
    }

    fn password_hash(&self) -> Option<&str> {
        match self {
            Self::Account { password_hash, .. } => Some(password_hash),
            Self::Unknown { .. } => None,
        }
    }
}

fn account_subject(user_id: i64) -> String {
    format!("user:{user_id}")
}

/// The outcome of a password check that was allowed to run.
pub enum Checked {
    /// The password is right. `current_hash` is the stored hash now: the verified one, or
    /// its replacement when it was re-hashed with stronger parameters. Writes that depend
    /// on the check should apply only while it is still the stored hash.
    Valid {
        current_hash: String,
        rehashed: bool,
    },
    /// Wrong password, or an unknown identifier. Already counted against the lock.
    Invalid,
}

/// One password or code check counted against its subject's lock for one client IP,
/// before anything is evaluated. A success gives it back; a failure leaves it counted.
pub struct Attempt {
    subject: String,
    ip: String,
    user_id: Option<i64>,
    /// Whether this attempt locked the subject, should it fail: `"ip"` for this client
    /// IP, `"all_ips"` for the cross-IP cap.
    locks: Option<&'static str>,
}

impl Attempt {
    /// Counts a code check (a second factor) for account `user_id` from `origin`: the
    /// same lock as its passwords. 429 `too_many_attempts` while locked.
    pub async fn claim_for_account(
        client: &impl GenericClient,
        user_id: i64,
        origin: &Origin,
    ) -> Result<Self, ApiError> {
        Self::claim_subject(client, account_subject(user_id), Some(user_id), origin).await
    }

    /// Counts an attempt on `subject` (of account `user_id`, if any).
    async fn claim_subject(
        client: &impl GenericClient,
        subject: String,
        user_id: Option<i64>,
        origin: &Origin,
    ) -> Result<Self, ApiError> {
        let claimant = "SELECT $1::text AS subject, $3::int8 AS user_id";
        let params = [(&subject as _, Type::TEXT), (&user_id as _, Type::INT8)];
        Ok(Self::claim(client, claimant, params, origin).await?.0)
    }

    /// A login's first statement: finds the account `lookup_key` (a normalized identifier)
    /// names and counts an attempt against its lock (or, for an identifier that names
    /// none, against the identifier's), in one round trip. The row holds the account's
    /// [`crate::accounts::users::COLUMNS`] and `password_hash`, all NULL when there is none.
    pub async fn claim_for_identifier(
        client: &impl GenericClient,
        lookup_key: &str,
        origin: &Origin,
    ) -> Result<(Self, Row), ApiError> {
        let unknown = Claimant::Unknown { lookup_key }.subject();
        let claimant = format!(
            "SELECT coalesce('user:' || u.id, $1) AS subject, u.id AS user_id, {},
                    u.password_hash
             FROM (SELECT 1) AS one
             LEFT JOIN (user_identifiers i JOIN users u ON u.id = i.user_id) ON i.value = $3",
            crate::accounts::users::COLUMNS
        );
        let params = [(&unknown as _, Type::TEXT), (&lookup_key as _, Type::TEXT)];
        Self::claim(client, &claimant, params, origin).await
    }

    /// Counts an attempt on the subject of `claimant_sql` (a one-row query with `subject`
    /// and `user_id`, over parameters `$1` and `$3`: `params`) from `origin` before
    /// anything is evaluated; 429 `too_many_attempts` (with the seconds left) while the
    /// subject is locked for that IP or across all IPs. Returns the claimant's row too.
    async fn claim(
        client: &impl GenericClient,
        claimant_sql: &str,
        params: [Param<'_>; 2],
        origin: &Origin,
    ) -> Result<(Self, Row), ApiError> {
        let ip = origin.ip_key();
        // One statement, so concurrent attempts serialize on the rows: the per-IP row is
        // counted (and locked when this attempt is the fifth) unless already locked; only
        // then is the cross-IP row counted, unless it reached the cap.
        let sql = format!(
            "WITH claimant AS ({claimant_sql}), ip_row AS (
                INSERT INTO login_locks AS l (subject, ip, user_id, failures)
                SELECT subject, $2, user_id, 1 FROM claimant
                ON CONFLICT (subject, ip) DO UPDATE SET
                    failures = l.failures + 1,
                    locked_until = CASE WHEN l.failures + 1 >= $4
                        THEN now() + make_interval(secs =>
                            least($5 * 2 ^ (l.failures + 1 - $4), $6))
                        END,
                    updated_at = now()
                WHERE l.locked_until IS NULL OR l.locked_until <= now()
                RETURNING failures
             ), all_ips AS (
                INSERT INTO login_locks AS l (subject, ip, user_id, failures)
                SELECT c.subject, $7, c.user_id, 1 FROM claimant c, ip_row
                ON CONFLICT (subject, ip) DO UPDATE SET
                    failures = l.failures + 1, updated_at = now()
                WHERE l.failures < $8
                RETURNING failures
             )
             SELECT (SELECT failures FROM ip_row) AS ip_failures,
                    (SELECT failures FROM all_ips) AS all_failures, claimant.*
             FROM claimant"
        );
        let [first, third] = params;
        let row = client
            .query_typed_one(
                &sql,
                &[
                    first,
                    (&ip, Type::TEXT),
                    third,
                    (&MAX_FAILURES, Type::INT4),
                    (&LOCK_BASE_SECS, Type::FLOAT8),
                    (&LOCK_MAX_SECS, Type::FLOAT8),
                    (&ALL_IPS, Type::TEXT),
                    (&ACCOUNT_MAX_FAILURES, Type::INT4),
                ],
            )
            .await?;
        let subject: String = row.try_get("subject")?;
        let user_id: Option<i64> = row.try_get("user_id")?;
        let ip_failures: Option<i32> = row.try_get("ip_failures")?;
        let all_failures: Option<i32> = row.try_get("all_failures")?;
        let retry_after_secs = match (ip_failures, all_failures) {
            (Some(ip_failures), Some(all_failures)) => {
                let locks = if ip_failures >= MAX_FAILURES {
                    Some("ip")
                } else if all_failures >= ACCOUNT_MAX_FAILURES {
                    Some("all_ips")
                } else {
                    None
                };
                let attempt = Self {
                    subject,
                    ip,
                    user_id,
                    locks,
                };
                return Ok((attempt, row));
            }
            (None, _) => locked_for(client, &subject, &ip).await?,
            (Some(_), None) => LOCK_MAX_SECS as u64,
        };
        tracing::warn!(
            user_id,
            ip = %origin,
            request_id = %origin.request_id,
            across_ips = ip_failures.is_some(),
            "attempt refused: locked"
        );
        Err(ApiError::TooManyAttempts { retry_after_secs })
    }

    /// The `DELETE` of [`Attempt::give_back`] with its parameters numbered from `first`,
    /// for a statement that gives the attempt back along with what the success does
    /// ([`Attempt::give_back_params`]).
    pub fn give_back_sql(first: usize) -> String {
        format!(
            "DELETE FROM login_locks WHERE subject = ${first} AND ip IN (${}, ${})",
            first + 1,
            first + 2
        )
    }

    /// The parameters of [`Attempt::give_back_sql`].
    pub fn give_back_params(&self) -> [Param<'_>; 3] {
        [
            (&self.subject, Type::TEXT),
            (&self.ip, Type::TEXT),
            (&ALL_IPS, Type::TEXT),
        ]
    }

    /// A success: the subject's count for this IP and across IPs start again from zero.
    pub async fn give_back(&self, client: &impl GenericClient) -> Result<(), ApiError> {
        client
            .execute_typed(&Self::give_back_sql(1), &self.give_back_params())
            .await?;
        Ok(())
    }

    /// A right password of an account whose login still needs its second factor: this
    /// attempt is taken back (with the lock it would have set), but earlier failures stay
    /// counted; only the completed second step resets them ([`Attempt::give_back`]).
    pub async fn take_back(&self, client: &impl GenericClient) -> Result<(), ApiError> {
        client
            .execute_typed(
                "UPDATE login_locks SET failures = failures - 1,
                        locked_until = CASE WHEN failures - 1 >= $4 THEN locked_until END
                 WHERE subject = $1 AND ip IN ($2, $3) AND failures > 0",
                &[
                    (&self.subject, Type::TEXT),
                    (&self.ip, Type::TEXT),
                    (&ALL_IPS, Type::TEXT),
                    (&MAX_FAILURES, Type::INT4),
                ],
            )
            .await?;
        Ok(())
    }

    /// A failure: the attempt stays counted; when it locked the subject, an
    /// `account_locked` event says so.
    pub async fn failed(
        &self,
        client: &impl GenericClient,
        origin: &Origin,
    ) -> Result<(), ApiError> {
        if let Some(scope) = self.locks {
            let locked = NewEvent::to_user(EventType::AccountLocked, self.user_id, None)
                .detail(serde_json::json!({"scope": scope}));
            events::record(client, origin, locked).await?;
        }
        Ok(())
    }
}

/// A stored hash (or none, for an unknown identifier) held together with the attempt
/// counted against its lock: what exists between claiming an attempt and verifying it.
/// Verifying consumes it, and only a success gives the attempt back; a failure that
/// locks the subject is recorded (`account_locked`).
pub struct HashAndLock<'a> {
    claimant: Claimant<'a>,
    attempt: Attempt,
}

impl<'a> HashAndLock<'a> {
    /// Counts an attempt for `claimant` from `origin` before anything is evaluated (see
    /// [`Attempt`]).
    pub async fn claim(
        client: &impl GenericClient,
        claimant: Claimant<'a>,
        origin: &Origin,
    ) -> Result<Self, ApiError> {
        let attempt =
            Attempt::claim_subject(client, claimant.subject(), claimant.user_id(), origin).await?;
        Ok(Self { claimant, attempt })
    }

    /// `claimant` with the attempt already counted for it (by
    /// [`Attempt::claim_for_identifier`]).
    pub fn held(claimant: Claimant<'a>, attempt: Attempt) -> Self {
        Self { claimant, attempt }
    }

    /// Verifies `password` (against a dummy hash for an unknown identifier: the same
    /// cost), and replaces a right one's hash when it was made with weaker parameters than
    /// configured. A wrong one stays counted (and is recorded when it locked the subject);
    /// a right one's attempt is returned, for the caller to give back with its own change
    /// ([`Attempt::give_back_sql`]) or take back. Logged with the client IP and API
    /// Gateway's request id, never with the password or identifier.
    pub async fn check(
        self,
        app: &App,
        client: &impl GenericClient,
        password: &SecretString,
        origin: &Origin,
    ) -> Result<(Checked, Attempt), ApiError> {
        let verdict = app
            .passwords
            .verify(password, self.claimant.password_hash())
            .await?;
        let user_id = self.claimant.user_id();
        let (Verdict::Valid { needs_rehash }, Claimant::Account { password_hash, .. }) =
            (verdict, &self.claimant)
        else {
            self.attempt.failed(client, origin).await?;
            tracing::info!(
                user_id,
                known = user_id.is_some(),
                ip = %origin,
                request_id = %origin.request_id,
                "password check failed"
            );
            return Ok((Checked::Invalid, self.attempt));
        };
        let new_hash = match needs_rehash {
            true => Some(app.passwords.hash(password).await?),
            false => None,
        };
        if let (Some(new_hash), Some(user_id)) = (&new_hash, user_id) {
            rehash(client, user_id, password_hash, new_hash).await?;
        }
        tracing::info!(
            user_id,
            ip = %origin,
            request_id = %origin.request_id,
            rehashed = needs_rehash,
            "password check passed"
        );
        let checked = Checked::Valid {
            current_hash: new_hash.unwrap_or_else(|| (*password_hash).to_owned()),
            rehashed: needs_rehash,
        };
        Ok((checked, self.attempt))
    }

    /// [`HashAndLock::check`], then a right password's attempt given back (the count
    /// reset). A login, whose second factor may still be due, gives back or takes back
    /// itself.
    pub async fn verify(
        self,
        app: &App,
        client: &impl GenericClient,
        password: &SecretString,
        origin: &Origin,
    ) -> Result<Checked, ApiError> {
        let (checked, attempt) = self.check(app, client, password, origin).await?;
        if let Checked::Valid { .. } = checked {
            attempt.give_back(client).await?;
        }
        Ok(checked)
    }
}

impl App {
    /// The password-check sequence: count the attempt (429 while locked), verify, give the
    /// attempt back on success. Every auth decision is logged with the client IP and API
    /// Gateway's request id, never with the password or identifier.
    pub async fn check_password(
        &self,
        client: &impl GenericClient,
        claimant: Claimant<'_>,
        password: &SecretString,
        origin: &Origin,
    ) -> Result<Checked, ApiError> {
        let held = HashAndLock::claim(client, claimant, origin).await?;
        held.verify(self, client, password, origin).await
    }

    /// Checks `password` as the confirmation of a sensitive change to `user_id`'s own
    /// account: 429 while locked; 403 `wrong_password` (counted) when wrong; 404 when the
    /// user is gone. Returns the stored hash now, so the change can be written only if
    /// the password has not changed meanwhile.
    pub async fn confirm_password(
        &self,
        client: &impl GenericClient,
        user_id: i64,
        password: &SecretString,
        origin: &Origin,
    ) -> Result<String, ApiError> {
        let row = client
            .query_typed_opt(
                "SELECT password_hash FROM users WHERE id = $1",
                &[(&user_id, Type::INT8)],
            )
            .await?
            .ok_or(ApiError::NotFound)?;
        let password_hash: String = row.try_get("password_hash")?;
        let claimant = Claimant::Account {
            user_id,
            password_hash: &password_hash,
        };
        match self
            .check_password(client, claimant, password, origin)
            .await?
        {
            Checked::Valid { current_hash, .. } => Ok(current_hash),
            Checked::Invalid => Err(ApiError::WrongPassword),
        }
    }
}

/// Seconds left on the lock of `subject` for `ip` (at least 1).
async fn locked_for(client: &impl GenericClient, subject: &str, ip: &str) -> Result<u64, ApiError> {
    let row = client
        .query_typed_opt(
            "SELECT ceil(extract(epoch FROM locked_until - now()))::bigint AS secs
             FROM login_locks WHERE subject = $1 AND ip = $2",
            &[(&subject, Type::TEXT), (&ip, Type::TEXT)],
        )
        .await?;
    let secs: Option<i64> = match row {
        Some(row) => row.try_get("secs")?,
        None => None,
    };
    Ok(secs.unwrap_or(1).max(1) as u64)
}

/// Stores `new_hash` only if `verified_hash` is still the stored hash (a password changed
/// meanwhile is never overwritten by the old one).
async fn rehash(
    client: &impl GenericClient,
    user_id: i64,
    verified_hash: &str,
    new_hash: &str,
) -> Result<(), ApiError> {
    client
        .execute_typed(
            "UPDATE users SET password_hash = $2 WHERE id = $1 AND password_hash = $3",
            &[
                (&user_id, Type::INT8),
                (&new_hash, Type::TEXT),
                (&verified_hash, Type::TEXT),
            ],
        )
        .await?;
    Ok(())
}

/// Clears every lock of `user_id`: every IP and the cross-IP cap. For a password reset, an
/// email-change revert and an admin's unlock. Returns how many lock rows were removed.
pub async fn clear(client: &impl GenericClient, user_id: i64) -> Result<u64, ApiError> {
    Ok(client
        .execute_typed(
            "DELETE FROM login_locks WHERE user_id = $1",
            &[(&user_id, Type::INT8)],
        )
        .await?)
}

/// Forgets counts that have been idle for a day and hold no lock, except a cross-IP count
/// that reached the cap (that one waits for [`clear`]): for the maintenance job, so that
/// the table holds only recent guessing. Returns how many rows went.
pub async fn delete_stale(client: &impl GenericClient) -> Result<u64, ApiError> {
    Ok(client
        .execute_typed(
            "DELETE FROM login_locks
             WHERE updated_at < now() - interval '1 day'
               AND (locked_until IS NULL OR locked_until < now())
               AND NOT (ip = $1 AND failures >= $2)",
            &[(&ALL_IPS, Type::TEXT), (&ACCOUNT_MAX_FAILURES, Type::INT4)],
        )
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_identifiers_are_keyed_by_a_hash_never_in_clear() {
        let subject = Claimant::Unknown {
            lookup_key: "john@mail.com",
        }
        .subject();
        assert!(subject.starts_with("id:"), "{subject}");
        assert_eq!(subject.len(), 3 + 64);
        assert!(!subject.contains("john"));
        let other = Claimant::Unknown {
            lookup_key: "jane@mail.com",
        }
        .subject();
        assert_ne!(subject, other);
        let account = Claimant::Account {
            user_id: 7,
            password_hash: "",
        };
        assert_eq!(account.subject(), "user:7");
    }
}
