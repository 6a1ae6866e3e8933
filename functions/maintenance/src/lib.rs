//! `maintenance`: delivers the mail outbox and deletes what has expired.
//!
//! A round claims due mail in a bounded batch (moving each row's `next_attempt_at` ahead
//! by a lease, so concurrent rounds never send one mail twice and a crashed round's mail
//! is retried), sends each over SMTP, and then deletes it (it held a token) or marks it
//! sent; a failure is recorded (`last_error`, without the mail) and retried with
//! exponential backoff from `MAIL_RETRY_BASE_SECS` up to an hour, until the mail expires.
//! Then it deletes, in bounded batches: expired sessions, expired, superseded or spent
//! one-time tokens, expired or delivered mail, and mail-request records over a day old;
//! and idle password-guessing counts and ended per-IP rate windows.

mod smtp;

use std::time::Duration;

use serde::Serialize;
use shared::db::{GenericClient, Type};
use shared::{ApiError, App, accounts::events, auth::credentials, auth::ratelimit};

/// What this function reads from its environment: the database, and no signing key
/// (`template.yaml`, checked by `tests/consistency`).
pub const USES: shared::config::Uses = shared::config::Uses::DATABASE;
pub use smtp::{SendError, Sender};

/// Mails claimed per round; a round that fills it runs again at once.
pub const BATCH: i64 = 50;
/// Rows deleted per table per statement.
pub const CLEANUP_BATCH: i64 = 1000;
/// How long a claimed mail is left alone before another round may retry it: longer than
/// any SMTP conversation (`SMTP_TIMEOUT_SECS` is at most 120).
const LEASE_SECS: f64 = 300.0;
/// The longest wait between two attempts.
const MAX_BACKOFF_SECS: f64 = 3600.0;

pub struct Maintenance<'a> {
    app: &'a App,
    sender: Sender,
}

/// What one round did.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub sent: u64,
    pub failed: u64,
    pub deleted: u64,
}

impl<'a> Maintenance<'a> {
    pub fn new(app: &'a App, sender: Sender) -> Self {
        Self { app, sender }
    }

    /// Delivers every due mail, then cleans up.
    pub async fn round(&self) -> Result<Report, ApiError> {
        let mut report = Report::default();
        loop {
            let (sent, failed) = self.deliver_batch().await?;
            report.sent += sent;
            report.failed += failed;
            if failed > 0 || sent < BATCH as u64 {
                break;
            }
        }
        report.deleted = self.clean_up().await?;
        if report.sent + report.failed + report.deleted > 0 {
            tracing::info!(
                sent = report.sent,
                failed = report.failed,
                deleted = report.deleted,
                "maintenance round"
            );
        }
        Ok(report)
    }

    /// A round every `interval` for ever (the local loop); a failed round (e.g. the
    /// database is down) is logged and the next one tries again.
    pub async fn run_forever(&self, interval: Duration) {
        tracing::info!(
            interval_ms = interval.as_millis() as u64,
            "maintenance loop started"
        );
        loop {
            self.logged_round().await;
            tokio::time::sleep(interval).await;
        }
    }

    /// One invocation on Lambda: a round, then further rounds every `interval` until
    /// `poll` has passed (`MAINTENANCE_POLL_SECS`), so that with a one-minute schedule
    /// mail waits seconds, not a minute, without any function having to wake this one.
    pub async fn run_for(&self, poll: Duration, interval: Duration) -> Result<Report, ApiError> {
        let started = tokio::time::Instant::now();
        let mut total = self.round().await?;
        while started.elapsed() + interval < poll {
            tokio::time::sleep(interval).await;
            if let Some(report) = self.logged_round().await {
                total.sent += report.sent;
                total.failed += report.failed;
                total.deleted += report.deleted;
            }
        }
        Ok(total)
    }

    async fn logged_round(&self) -> Option<Report> {
        self.round()
            .await
            .inspect_err(|err| {
                tracing::warn!(code = err.code(), error = %err, "maintenance round failed");
            })
            .ok()
    }

    /// Claims up to [`BATCH`] due mails and tries each once; returns (sent, failed).
    pub async fn deliver_batch(&self) -> Result<(u64, u64), ApiError> {
        let db = self.app.db().await?;
        let rows = db
            .query_typed(
                "UPDATE outbox SET attempts = attempts + 1,
                    next_attempt_at = now() + make_interval(secs => $2)
                 WHERE id IN (
                     SELECT id FROM outbox
                     WHERE sent_at IS NULL AND next_attempt_at <= now() AND expires_at > now()
                     ORDER BY next_attempt_at LIMIT $1
                     FOR UPDATE SKIP LOCKED)
                 RETURNING id, recipient, subject, body, holds_token, attempts",
                &[(&BATCH, Type::INT8), (&LEASE_SECS, Type::FLOAT8)],
            )
            .await?;
        let (mut sent, mut failed) = (0, 0);
        let mut rows = rows.into_iter();
        for row in rows.by_ref() {
            let id: i64 = row.try_get("id")?;
            let outcome = self
                .sender
                .send(
                    row.try_get("recipient")?,
                    row.try_get("subject")?,
                    row.try_get("body")?,
                )
                .await;
            match outcome {
                Ok(()) => {
                    delivered(&db, id, row.try_get("holds_token")?).await?;
                    sent += 1;
                }
                Err(err) => {
                    let attempts: i32 = row.try_get("attempts")?;
                    let delay = self.backoff(attempts);
                    tracing::warn!(mail = id, attempts, retry_in_secs = delay, error = %err, "mail not delivered");
                    failed_attempt(&db, id, &err, delay).await?;
                    failed += 1;
                    // The server is down or hanging: the rest of the batch would only wait
                    // for it too. They go back, untried, for a later round.
                    break;
                }
            }
        }
        let untried: Vec<i64> = rows
            .map(|row| row.try_get("id"))
            .collect::<Result<_, _>>()?;
        if !untried.is_empty() {
            db.execute_typed(
                "UPDATE outbox SET attempts = attempts - 1, next_attempt_at = now()
                 WHERE id = ANY($1)",
                &[(&untried, Type::INT8_ARRAY)],
            )
            .await?;
        }
        Ok((sent, failed))
    }

    /// Seconds before the next attempt after `attempts` failed ones.
    fn backoff(&self, attempts: i32) -> f64 {
        let base = self.app.config.mail.retry_base.as_secs_f64();
        let exponent = attempts.clamp(1, 20) - 1;
        (base * 2f64.powi(exponent)).min(MAX_BACKOFF_SECS)
    }

    /// Deletes what has expired, at most [`CLEANUP_BATCH`] rows per table; returns how
    /// many rows went. Rows a request holds locked are left for the next round, so clean-up
    /// never waits for, or deadlocks with, a request.
    pub async fn clean_up(&self) -> Result<u64, ApiError> {
        const DELETIONS: [&str; 4] = [
            "DELETE FROM sessions WHERE id IN (
                SELECT id FROM sessions WHERE expires_at < now()
                LIMIT $1 FOR UPDATE SKIP LOCKED)",
            // Spent tokens stay an hour, so a second click on a verification link is
            // still recognised.
            "DELETE FROM one_time_tokens WHERE id IN (
                SELECT id FROM one_time_tokens
                WHERE expires_at < now() OR superseded_at IS NOT NULL
                   OR used_at < now() - interval '1 hour'
                LIMIT $1 FOR UPDATE SKIP LOCKED)",
            "DELETE FROM outbox WHERE id IN (
                SELECT id FROM outbox
                WHERE (sent_at IS NULL AND expires_at < now())
                   OR sent_at < now() - interval '1 day'
                LIMIT $1 FOR UPDATE SKIP LOCKED)",
            "DELETE FROM mail_requests WHERE ctid IN (
                SELECT ctid FROM mail_requests
                WHERE requested_at < now() - interval '1 day'
                LIMIT $1 FOR UPDATE SKIP LOCKED)",
        ];
        let db = self.app.db().await?;
        let mut deleted = 0;
        for sql in DELETIONS {
            deleted += db
                .execute_typed(sql, &[(&CLEANUP_BATCH, Type::INT8)])
                .await?;
        }
        deleted += credentials::delete_stale(&db).await?;
        deleted += events::delete_expired(&db, self.app.config.audit_retention_days, CLEANUP_BATCH)
            .await?;
        deleted += ratelimit::delete_expired(&db).await?;
        Ok(deleted)
    }
}

/// A mail the server accepted: deleted if it held a token, else kept a day as sent.
async fn delivered(
    client: &impl GenericClient,
    id: i64,
    holds_token: bool,
) -> Result<(), ApiError> {
    let sql = match holds_token {
        true => "DELETE FROM outbox WHERE id = $1",
        false => "UPDATE outbox SET sent_at = now(), last_error = NULL WHERE id = $1",
    };
    client.execute_typed(sql, &[(&id, Type::INT8)]).await?;
    Ok(())
}

async fn failed_attempt(
    client: &impl GenericClient,
    id: i64,
    err: &SendError,
    delay_secs: f64,
) -> Result<(), ApiError> {
    client
        .execute_typed(
            "UPDATE outbox SET last_error = left($2, 500),
                next_attempt_at = now() + make_interval(secs => $3)
             WHERE id = $1",
            &[
                (&id, Type::INT8),
                (&err.to_string(), Type::TEXT),
                (&delay_secs, Type::FLOAT8),
            ],
        )
        .await?;
    Ok(())
}
