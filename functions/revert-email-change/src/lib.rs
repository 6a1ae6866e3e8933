//! `POST /auth/email-change/revert`: undo an email change with the token from the notice
//! mailed to the old address.
//!
//! The old address becomes the verified email again, the pending (or new) one is dropped,
//! every session is revoked and the failed-login lock cleared: someone who took over the
//! account and moved its email loses it again.

use shared::accounts::events::{self, EventType, NewEvent};
use shared::auth::one_time_tokens::{self, Kind, LinkBody};
use shared::db::{GenericClient, Type};
use shared::http::error::ErrorBody;
use shared::http::openapi::{LinkBodyErrors, PublicRouteErrors, ServerErrors};
use shared::http::request::json_body;
use shared::http::response::{Empty, Envelope};
use shared::{
    ApiError, App, Body, Request, Response, auth::credentials, auth::sessions, http::response,
};

/// Undo an email change with the token from the notice sent to the old address.
#[utoipa::path(operation_id = "revert_email_change", post, path = "/auth/email-change/revert", tag = "auth",
    request_body = LinkBody,
    responses(
        (status = 200, description = "The old address is the verified email again; every session is revoked.", body = Envelope<Empty>),
        (status = 409, description = "`user_exists`: the old address now belongs to another account.", body = ErrorBody),
        LinkBodyErrors, PublicRouteErrors, ServerErrors))]
pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let origin = app.origin(&req)?;
    let mut db = app.db().await?;
    app.limit_ip(&db, &origin, "revert-email-change").await?;
    let token = json_body::<LinkBody>(&req)?.token()?;
    let tx = db.transaction().await?;
    let spent = one_time_tokens::spend(&tx, Kind::RevertEmail, &token).await?;
    let old_email = spent.email.ok_or(ApiError::InvalidLink)?;
    restore_email(&tx, spent.user_id, &old_email).await?;
    credentials::clear(&tx, spent.user_id).await?;
    let revoked = sessions::revoke_all(&tx, spent.user_id, "email_change_reverted").await?;
    let event = NewEvent::by_user(EventType::EmailChangeReverted, spent.user_id)
        .detail(serde_json::json!({"revoked_sessions": revoked}));
    events::record(&tx, &origin, event).await?;
    tx.commit().await?;
    tracing::info!(user_id = spent.user_id, revoked, "email change reverted");
    Ok(response::ok_empty())
}

async fn restore_email(
    client: &impl GenericClient,
    user_id: i64,
    email: &str,
) -> Result<(), ApiError> {
    client
        .execute_typed(
            "UPDATE users SET email = $2, email_verified = true, pending_email = NULL,
                updated_at = now()
             WHERE id = $1",
            &[(&user_id, Type::INT8), (&email, Type::TEXT)],
        )
        .await?;
    Ok(())
}
