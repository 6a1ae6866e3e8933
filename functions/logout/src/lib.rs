//! `POST /auth/logout`: revoke the session of a refresh token (in the body) or of an
//! access token (as `Authorization: Bearer`). Revoking a revoked session is still 200;
//! a token that does not verify is 401 `invalid_token`.

use serde::Deserialize;
use shared::accounts::events::{self, EventType, NewEvent};
use shared::auth::tokens::TokenType;
use shared::http::error::ErrorBody;
use shared::http::openapi::{BodyErrors, ServerErrors};
use shared::http::request::{bearer_token, optional_json_body};
use shared::http::response::{Empty, Envelope};
use shared::{ApiError, App, Body, Request, Response, auth::sessions, http::response};
use utoipa::ToSchema;

/// Optional: without a body (or without `refresh_token`), the Bearer access token names the
/// session.
#[derive(Default, Deserialize, ToSchema)]
struct LogoutBody {
    refresh_token: Option<String>,
}

/// Revoke one session: the refresh token's (body) or the Bearer access token's.
#[utoipa::path(operation_id = "logout", post, path = "/auth/logout", tag = "auth", request_body(content = Option<LogoutBody>),
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The session is revoked (also when it already was).", body = Envelope<Empty>),
        (status = 401, description = "`missing_token` (neither token given) or `invalid_token` (a token that does not verify).", body = ErrorBody),
        BodyErrors, ServerErrors))]
pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let body: LogoutBody = optional_json_body(&req)?;
    let claims = match body.refresh_token {
        Some(token) => app.tokens()?.verify(token.trim(), TokenType::Refresh)?,
        None => app
            .tokens()?
            .verify(bearer_token(&req)?, TokenType::Access)?,
    };

    let origin = app.origin(&req)?;
    let mut db = app.db().await?;
    let tx = db.transaction().await?;
    // An already revoked session changes nothing, and records nothing.
    if sessions::revoke(&tx, claims.sid, claims.user_id, "logout").await? {
        let event = NewEvent::by_user(EventType::LoggedOut, claims.user_id)
            .detail(serde_json::json!({"session_id": claims.sid}));
        events::record(&tx, &origin, event).await?;
    }
    tx.commit().await?;
    tracing::info!(user_id = claims.user_id, session = %claims.sid, "session revoked");
    Ok(response::ok_empty())
}
