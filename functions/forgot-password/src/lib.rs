//! `POST /auth/password/forgot`: mail a password-reset link.
//!
//! Always 202 with the same body, after the same statements, whether or not the account
//! exists, has an email or is disabled: the answer reveals nothing. A link goes to the
//! account's (current, not pending) email, within the per-account caps, unless an admin
//! disabled the account.

use lambda_http::http::StatusCode;
use shared::accounts::users::User;
use shared::auth::one_time_tokens::Kind;
use shared::http::openapi::{BodyErrors, PublicRouteErrors, ServerErrors};
use shared::http::response::{Empty, Envelope};
use shared::mail::{self, MailRequestBody};
use shared::{ApiError, App, Body, Request, Response, http::response};

/// Ask for a password-reset mail (answers the same whether or not the account exists).
#[utoipa::path(operation_id = "forgot_password", post, path = "/auth/password/forgot", tag = "auth",
    request_body = MailRequestBody,
    responses(
        (status = 202, description = "Accepted; a reset link goes to the account's email, if it has one and is not disabled.", body = Envelope<Empty>),
        BodyErrors, PublicRouteErrors, ServerErrors))]
pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let queued = mail::request_link(app, &req, Kind::ResetPassword, |user: &User| {
        user.email.as_deref().filter(|_| !user.disabled)
    })
    .await?;
    tracing::info!(queued, "password reset requested");
    Ok(response::ok(StatusCode::ACCEPTED, Empty {}))
}
