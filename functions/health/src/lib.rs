//! `GET /health`: 200 when a real query succeeds, 503 `database_unavailable` otherwise.
//! Needs no token.

use lambda_http::http::StatusCode;
use serde::Serialize;
use shared::{ApiError, App, Body, Request, Response, response};

#[derive(Serialize)]
struct Health {
    database: &'static str,
    version: &'static str,
}

pub async fn handler(app: &App, _req: Request) -> Result<Response<Body>, ApiError> {
    let check = async {
        let db = app.db().await?;
        let statement = db.prepare_cached("SELECT 1").await?;
        db.query_one(&statement, &[]).await?;
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
