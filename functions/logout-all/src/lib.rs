//! `POST /auth/logout-all`: revoke every session of the caller, the current one included.

use lambda_http::http::StatusCode;
use serde::Serialize;
use shared::{ApiError, App, Body, Request, Response, response, sessions};

#[derive(Serialize)]
struct LoggedOut {
    revoked_sessions: u64,
}

pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let db = app.db().await?;
    let caller = app.caller(&db, &req).await?;
    let revoked_sessions = sessions::revoke_all(&db, caller.user.id, "logout_all").await?;
    tracing::info!(
        user_id = caller.user.id,
        revoked_sessions,
        "all sessions revoked"
    );
    Ok(response::ok(StatusCode::OK, LoggedOut { revoked_sessions }))
}
