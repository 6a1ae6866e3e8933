//! `POST /auth/verify-email`: use a verification link's token.
//!
//! The address the token was mailed to becomes the account's verified `email` (a pending
//! email replaces the old one). A second use of a spent token while that address is still
//! the verified email answers the same 200, so link scanners and double clicks are
//! harmless; every other bad token is 400 `invalid_link`.

use lambda_http::http::StatusCode;
use serde::Serialize;
use shared::accounts::events::{self, EventType, NewEvent};
use shared::auth::one_time_tokens::{self, Kind, LinkBody};
use shared::db::{GenericClient, Type};
use shared::http::error::ErrorBody;
use shared::http::openapi::{LinkBodyErrors, PublicRouteErrors, ServerErrors};
use shared::http::request::json_body;
use shared::http::response::Envelope;
use shared::{ApiError, App, Body, Request, Response, http::response};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
struct EmailVerified {
    /// Always true.
    email_verified: bool,
}

/// Verify an email address with the token from the verification mail.
#[utoipa::path(operation_id = "verify_email", post, path = "/auth/verify-email", tag = "auth", request_body = LinkBody,
    responses(
        (status = 200, description = "The address is the account's verified email.", body = Envelope<EmailVerified>),
        (status = 409, description = "`user_exists`: another account took the address meanwhile.", body = ErrorBody),
        LinkBodyErrors, PublicRouteErrors, ServerErrors))]
pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let origin = app.origin(&req)?;
    let mut db = app.db().await?;
    app.limit_ip(&db, &origin, "verify-email").await?;
    let token = json_body::<LinkBody>(&req)?.token()?;
    let tx = db.transaction().await?;
    match one_time_tokens::spend(&tx, Kind::VerifyEmail, &token).await {
        Ok(spent) => {
            let email = spent.email.ok_or(ApiError::InvalidLink)?;
            let changed = verify(&tx, spent.user_id, &email).await?;
            let kind = match changed {
                true => EventType::EmailChanged,
                false => EventType::EmailVerified,
            };
            events::record(&tx, &origin, NewEvent::by_user(kind, spent.user_id)).await?;
            tx.commit().await?;
            tracing::info!(user_id = spent.user_id, "email verified");
        }
        Err(ApiError::InvalidLink) => {
            drop(tx);
            if !spent_and_still_verified(&db, &token).await? {
                return Err(ApiError::InvalidLink);
            }
        }
        Err(err) => return Err(err),
    }
    Ok(response::ok(
        StatusCode::OK,
        EmailVerified {
            email_verified: true,
        },
    ))
}

/// Makes `email` user `user_id`'s verified email; a pending email it was becomes the
/// email (the unique index decides if another account took it: 409 `user_exists`).
/// Makes `email` the verified email of `user_id`; true when it replaced another address
/// (a confirmed email change), false when it verified the current one.
async fn verify(client: &impl GenericClient, user_id: i64, email: &str) -> Result<bool, ApiError> {
    let row = client
        .query_typed_opt(
            "UPDATE users u SET email = $2, email_verified = true,
                pending_email = CASE WHEN u.pending_email = $2 THEN NULL ELSE u.pending_email END,
                updated_at = now()
             FROM (SELECT id, email FROM users WHERE id = $1 FOR UPDATE) old
             WHERE u.id = old.id
             RETURNING old.email IS DISTINCT FROM $2 AS changed",
            &[(&user_id, Type::INT8), (&email, Type::TEXT)],
        )
        .await?;
    Ok(match row {
        Some(row) => row.try_get("changed")?,
        None => false,
    })
}

/// Whether `token` is a spent verification token whose address is still its account's
/// verified email.
async fn spent_and_still_verified(
    client: &impl GenericClient,
    token: &str,
) -> Result<bool, ApiError> {
    let Some(spent) = one_time_tokens::find_spent(client, Kind::VerifyEmail, token).await? else {
        return Ok(false);
    };
    let Some(user) = shared::accounts::users::find(client, spent.user_id).await? else {
        return Ok(false);
    };
    Ok(user.email_verified && user.email.is_some() && user.email == spent.email)
}
