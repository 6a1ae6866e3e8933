//! `POST /auth/logout-all`: revoke every session of the caller, the current one included.

use lambda_http::http::StatusCode;
use shared::accounts::events::{self, EventType, NewEvent};
use shared::auth::sessions::Revoked;
use shared::http::openapi::{AuthErrors, ServerErrors};
use shared::http::response::Envelope;
use shared::{ApiError, App, Body, Request, Response, auth::sessions, http::response};

/// Revoke every session of the caller, the current one included.
#[utoipa::path(operation_id = "logout_all", post, path = "/auth/logout-all", tag = "auth", security(("bearer" = [])),
    responses(
        (status = 200, description = "Every session is revoked.", body = Envelope<Revoked>),
        AuthErrors, ServerErrors))]
pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let origin = app.origin(&req)?;
    let mut db = app.db().await?;
    let caller = app.caller(&db, &req).await?;
    let tx = db.transaction().await?;
    let revoked_sessions = sessions::revoke_all(&tx, caller.user.id, "logout_all").await?;
    let event = NewEvent::by_user(EventType::LoggedOutAll, caller.user.id)
        .detail(serde_json::json!({"revoked_sessions": revoked_sessions}));
    events::record(&tx, &origin, event).await?;
    tx.commit().await?;
    tracing::info!(
        user_id = caller.user.id,
        revoked_sessions,
        "all sessions revoked"
    );
    Ok(response::ok(StatusCode::OK, Revoked { revoked_sessions }))
}
