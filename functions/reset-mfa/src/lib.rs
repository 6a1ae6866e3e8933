//! `DELETE /users/{id}/mfa` (admin): turns off the second factor of a user who lost both
//! the authenticator and the recovery codes. In one transaction the secret, any pending
//! setup and the recovery codes go, every session of the user is revoked, the `mfa_reset`
//! event (the admin as actor) is written and a notice is queued to the user's address.

use lambda_http::http::StatusCode;
use serde::Serialize;
use shared::accounts::events::{self, EventType, NewEvent};
use shared::accounts::users::{self, User};
use shared::auth::AdminAction;
use shared::auth::mfa;
use shared::http::error::ErrorBody;
use shared::http::openapi::{AdminUserErrors, AuthErrors, ServerErrors};
use shared::http::response::Envelope;
use shared::mail::{self, Messages};
use shared::{ApiError, App, Body, Request, Response, auth::sessions, http::response};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
struct MfaReset {
    /// The user, with `mfa_enabled: false`.
    user: User,
}

/// Turn off a user's second factor (admin).
#[utoipa::path(operation_id = "reset_mfa", delete, path = "/users/{id}/mfa", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The user's id.")),
    responses(
        (status = 200, description = "MFA is off; every session of the user is revoked; a notice is mailed.", body = Envelope<MfaReset>),
        (status = 409, description = "`mfa_not_enabled`: the user has no second factor.", body = ErrorBody),
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
    if !mfa::turn_off(&tx, id).await? {
        return Err(ApiError::MfaNotEnabled);
    }
    let revoked = sessions::revoke_all(&tx, id, "mfa_reset").await?;
    let event = NewEvent::to_user(EventType::MfaReset, Some(id), Some(admin.id))
        .detail(serde_json::json!({"revoked_sessions": revoked}));
    events::record(&tx, &origin, event).await?;
    let user = users::find_or_404(&tx, id).await?;
    if let Some(email) = &user.email {
        mail::enqueue(&tx, &Messages(&app.config.mail).mfa_disabled(email, true)).await?;
    }
    tx.commit().await?;
    tracing::info!(
        user_id = id,
        by = admin.id,
        revoked,
        "MFA reset by an admin"
    );
    Ok(response::ok(StatusCode::OK, MfaReset { user }))
}
