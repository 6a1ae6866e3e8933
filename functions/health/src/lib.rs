//! `GET /health`: 200 when a real query succeeds, 503 `database_unavailable` otherwise.
//! Needs no token.

use lambda_http::http::StatusCode;
use serde::Serialize;
use shared::db::GenericClient;
use shared::http::error::ErrorBody;
use shared::http::response::Envelope;
use shared::{ApiError, App, Body, Request, Response, http::response};
use utoipa::ToSchema;

/// What this function reads from its environment: the database, and no signing key
/// (`template.yaml`, checked by `tests/consistency`).
pub const USES: shared::config::Uses = shared::config::Uses::DATABASE;

#[derive(Serialize, ToSchema)]
#[schema(example = json!({"database": "ok", "version": "0.1.0"}))]
struct Health {
    /// `"ok"`: a real query succeeded.
    database: &'static str,
    version: &'static str,
}

/// Liveness with a real database query; no token needed.
#[utoipa::path(operation_id = "health", get, path = "/health", tag = "service",
    responses(
        (status = 200, description = "The service and its database answer.", body = Envelope<Health>),
        (status = 503, description = "`database_unavailable`: the database does not answer.", body = ErrorBody)))]
pub async fn handler(app: &App, _req: Request) -> Result<Response<Body>, ApiError> {
    let check = async {
        let db = app.db().await?;
        db.query_typed_one("SELECT 1", &[]).await?;
        Ok::<_, ApiError>(())
    };
    check.await.map_err(|err| match err {
        ApiError::Internal(source) => ApiError::DatabaseUnavailable(source),
        other => other,
    })?;
    let version = env!("CARGO_PKG_VERSION");
    Ok(response::ok(
        StatusCode::OK,
        Health {
            database: "ok",
            version,
        },
    ))
}
