//! `POST /auth/refresh`: trade a refresh token for a new pair, rotating the session.
//!
//! The presented token must verify as a refresh token; the session then rotates in one
//! statement, one round trip (see `shared::auth::sessions::rotate`): an already-rotated token is
//! reuse, which revokes the whole session (401 `token_reused`) and records the event in
//! that same statement.

use lambda_http::http::StatusCode;
use serde::Deserialize;
use shared::auth::tokens::{SignedIn, TokenType};
use shared::http::error::ErrorBody;
use shared::http::openapi::{BodyErrors, ServerErrors};
use shared::http::request::{Fields, json_body, validated};
use shared::http::response::Envelope;
use shared::{ApiError, App, Body, Request, Response, auth::sessions};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
struct RefreshBody {
    /// The current refresh token of the session.
    #[schema(value_type = String)]
    refresh_token: Option<String>,
}

/// Trade a refresh token for a new pair, rotating the session's refresh token.
#[utoipa::path(operation_id = "refresh", post, path = "/auth/refresh", tag = "auth", request_body = RefreshBody,
    responses(
        (status = 200, description = "A new token pair (the presented refresh token is now spent).", body = Envelope<SignedIn>),
        (status = 401, description = "`invalid_token` (does not verify, or its session is revoked or expired) or `token_reused` (an already-rotated token: the session is now revoked).", body = ErrorBody),
        BodyErrors, ServerErrors))]
pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let body: RefreshBody = json_body(&req)?;
    let mut fields = Fields::default();
    let token = fields.required_text("refresh_token", body.refresh_token);
    fields.finish()?;
    let claims = app
        .tokens()?
        .verify(validated(token)?.trim(), TokenType::Refresh)?;

    let origin = app.origin(&req)?;
    let db = app.db().await?;
    let (ttl, max_age) = (app.tokens()?.refresh_ttl(), app.tokens()?.session_max_age());
    // One statement, one round trip: a reuse revokes the session and records its event
    // together.
    let (user, session) = sessions::rotate(&db, &claims, ttl, max_age, &origin).await?;
    app.signed_in(StatusCode::OK, &user, &session)
}
