//! `POST /users/{id}/password-reset` (admin): queues the account-recovery mail (a reset
//! link to the user's email, as forgot-password sends it) → 202; 409 `no_email` when the
//! account has no email, 404 if no such user. The same per-account caps as forgot-password
//! apply: beyond them the answer is still 202 and nothing is sent. The request is a
//! `password_reset_requested` event with the admin as actor.

use lambda_http::http::StatusCode;
use shared::auth::AdminAction;
use shared::auth::one_time_tokens::Kind;
use shared::http::error::ErrorBody;
use shared::http::openapi::{AdminUserErrors, AuthErrors, ServerErrors};
use shared::http::response::{Empty, Envelope};
use shared::mail;
use shared::{ApiError, App, Body, Request, Response, accounts::users, http::response};

/// Send a user the password-reset mail (admin).
#[utoipa::path(operation_id = "send_password_reset", post, path = "/users/{id}/password-reset", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The user's id.")),
    responses(
        (status = 202, description = "The reset mail is queued (or, past the account's mail caps, silently not sent).", body = Envelope<Empty>),
        (status = 409, description = "`no_email`: the account has no email to send it to.", body = ErrorBody),
        AdminUserErrors, AuthErrors, ServerErrors,
        // After AdminUserErrors, whose 403 it replaces with the fuller description.
        (status = 403, description = "`account_disabled`: the account is disabled (enable it first); `forbidden`: the caller is no admin.", body = ErrorBody)))]
pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let AdminAction {
        origin,
        mut db,
        admin,
        target_id: id,
    } = app.admin_action(&req).await?;

    let tx = db.transaction().await?;
    let user = users::find_or_404(&tx, id).await?;
    if user.disabled {
        // Its link would only meet reset-password's 403: enable the account first.
        return Err(ApiError::AccountDisabled);
    }
    let email = user.email.as_deref().ok_or(ApiError::NoEmail)?;
    let queued = mail::queue_link(
        app,
        &tx,
        &origin,
        id,
        email,
        Kind::ResetPassword,
        Some(admin.id),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        user_id = id,
        by = admin.id,
        queued,
        "password reset mail requested by an admin"
    );
    Ok(response::ok(StatusCode::ACCEPTED, Empty {}))
}
