//! `DELETE /users/{id}/sessions` (admin): ends every session of user `{id}` at once (its
//! access tokens are refused from the next request on); 404 if no such user. The
//! revocation and its `sessions_revoked` event, with the admin as actor, commit together.

use lambda_http::http::StatusCode;
use shared::accounts::events::{self, EventType, NewEvent};
use shared::auth::AdminAction;
use shared::auth::sessions::{self, Revoked};
use shared::http::openapi::{AdminUserErrors, AuthErrors, ServerErrors};
use shared::http::response::Envelope;
use shared::{ApiError, App, Body, Request, Response, accounts::users, http::response};

/// End every session of a user (admin).
#[utoipa::path(operation_id = "revoke_sessions", delete, path = "/users/{id}/sessions", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The user's id.")),
    responses(
        (status = 200, description = "Every live session of the user is revoked.", body = Envelope<Revoked>),
        AdminUserErrors, AuthErrors, ServerErrors))]
pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let AdminAction {
        origin,
        mut db,
        admin,
        target_id: id,
    } = app.admin_action(&req).await?;

    let tx = db.transaction().await?;
    users::find_or_404(&tx, id).await?;
    let revoked_sessions = sessions::revoke_all(&tx, id, "admin_revoked").await?;
    let event = NewEvent::to_user(EventType::SessionsRevoked, Some(id), Some(admin.id))
        .detail(serde_json::json!({"revoked_sessions": revoked_sessions}));
    events::record(&tx, &origin, event).await?;
    tx.commit().await?;
    tracing::info!(
        user_id = id,
        by = admin.id,
        revoked_sessions,
        "sessions revoked by an admin"
    );
    Ok(response::ok(StatusCode::OK, Revoked { revoked_sessions }))
}
