//! Per-IP request limits for the routes anyone can call without a token (register, login,
//! and the mail and link routes): `IP_RATE_LIMIT_PER_MINUTE` requests per client IP (IPv6
//! by /64) per route per minute, counted in Postgres so every function instance shares
//! them. One-minute fixed windows aligned to the clock minute: beyond the budget, 429
//! `rate_limited` with `Retry-After` the exact seconds to the window's end.
//!
//! A handler limits itself with one line, before any other work:
//! `app.limit_ip(&db, &origin, "forgot-password").await?;`

use crate::db::{GenericClient, Type};

use crate::app::App;
use crate::http::client::Origin;
use crate::http::error::ApiError;

impl App {
    /// Counts this request against `bucket`'s budget for the client IP; 429
    /// `rate_limited` beyond it. Costs nothing (no query) when no limit is configured.
    pub async fn limit_ip(
        &self,
        client: &impl GenericClient,
        origin: &Origin,
        bucket: &str,
    ) -> Result<(), ApiError> {
        let Some(limit) = self.config.limits.ip_per_minute else {
            return Ok(());
        };
        let row = client
            .query_typed_one(
                "INSERT INTO ip_rate_limits AS r (bucket, ip, window_start, hits)
                 VALUES ($1, $2, date_trunc('minute', now()), 1)
                 ON CONFLICT (bucket, ip) DO UPDATE SET
                     hits = CASE WHEN r.window_start = date_trunc('minute', now())
                                 THEN r.hits + 1 ELSE 1 END,
                     window_start = date_trunc('minute', now())
                 RETURNING hits,
                     ceil(extract(epoch FROM window_start + interval '1 minute' - now()))::bigint
                         AS retry_after",
                &[(&bucket, Type::TEXT), (&origin.ip_key(), Type::TEXT)],
            )
            .await?;
        let hits: i32 = row.try_get("hits")?;
        if hits <= i32::try_from(limit).unwrap_or(i32::MAX) {
            return Ok(());
        }
        let retry_after: i64 = row.try_get("retry_after")?;
        tracing::warn!(
            bucket,
            ip = %origin,
            request_id = %origin.request_id,
            hits,
            "request refused: per-IP rate limit"
        );
        Err(ApiError::RateLimited {
            retry_after_secs: retry_after.clamp(1, 60) as u64,
        })
    }
}

/// Deletes windows that ended: for the maintenance job. Returns how many rows went.
pub async fn delete_expired(client: &impl GenericClient) -> Result<u64, ApiError> {
    Ok(client
        .execute_typed(
            "DELETE FROM ip_rate_limits WHERE window_start < date_trunc('minute', now())",
            &[],
        )
        .await?)
}
