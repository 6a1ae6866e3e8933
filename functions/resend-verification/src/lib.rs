//! `POST /auth/verify-email/resend`: mail a new verification link.
//!
//! Always 202 with the same body, whether or not the account exists, has an email, or is
//! already verified. When there is something to verify (a pending email, else an
//! unverified email), a new link goes there, within the per-account caps.

use lambda_http::http::StatusCode;
use shared::accounts::users::User;
use shared::auth::one_time_tokens::Kind;
use shared::http::openapi::{BodyErrors, PublicRouteErrors, ServerErrors};
use shared::http::response::{Empty, Envelope};
use shared::mail::{self, MailRequestBody};
use shared::{ApiError, App, Body, Request, Response, http::response};

/// Ask for a new verification mail (answers the same whether or not the account exists).
#[utoipa::path(operation_id = "resend_verification", post, path = "/auth/verify-email/resend", tag = "auth",
    request_body = MailRequestBody,
    responses(
        (status = 202, description = "Accepted; a mail goes out if there is an address to verify.", body = Envelope<Empty>),
        BodyErrors, PublicRouteErrors, ServerErrors))]
pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let queued = mail::request_link(app, &req, Kind::VerifyEmail, to_verify).await?;
    tracing::info!(queued, "verification mail requested");
    Ok(response::ok(StatusCode::ACCEPTED, Empty {}))
}

/// The address a verification mail would prove: the pending email, else an unverified one.
fn to_verify(user: &User) -> Option<&str> {
    match (&user.pending_email, &user.email) {
        (Some(pending), _) => Some(pending),
        (None, Some(email)) if !user.email_verified => Some(email),
        _ => None,
    }
}
