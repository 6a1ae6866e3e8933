//! `DELETE /users/{id}/lock` (admin): clears every failed-login lock of user `{id}` (for
//! every client IP, and the cross-IP cap that only this or a password reset lifts) and
//! answers the full user; 404 if no such user. The clearing and its `account_unlocked`
//! event, with the admin as actor, commit together.

use lambda_http::http::StatusCode;
use serde::Serialize;
use shared::accounts::events::{self, EventType, NewEvent};
use shared::accounts::users::{self, User};
use shared::auth::AdminAction;
use shared::http::openapi::{AdminUserErrors, AuthErrors, ServerErrors};
use shared::http::response::Envelope;
use shared::{ApiError, App, Body, Request, Response, auth::credentials, http::response};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
struct UserUnlocked {
    user: User,
}

/// Clear a user's failed-login locks (admin).
#[utoipa::path(operation_id = "unlock_user", delete, path = "/users/{id}/lock", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The user's id.")),
    responses(
        (status = 200, description = "The user's password checks are no longer locked, from any IP (also when none was).", body = Envelope<UserUnlocked>),
        AdminUserErrors, AuthErrors, ServerErrors))]
pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let AdminAction {
        origin,
        mut db,
        admin,
        target_id: id,
    } = app.admin_action(&req).await?;

    let tx = db.transaction().await?;
    let user = users::find_or_404(&tx, id).await?;
    let cleared = credentials::clear(&tx, id).await?;
    let event = NewEvent::to_user(EventType::AccountUnlocked, Some(id), Some(admin.id))
        .detail(serde_json::json!({"cleared_locks": cleared}));
    events::record(&tx, &origin, event).await?;
    tx.commit().await?;
    tracing::info!(
        user_id = id,
        by = admin.id,
        cleared,
        "account unlocked by an admin"
    );
    Ok(response::ok(StatusCode::OK, UserUnlocked { user }))
}
