//! `DELETE /auth/mfa/totp`: turn the second factor off, confirmed by the current password
//! and a code (or a recovery code), both counted against the lock. In one transaction the
//! secret, any pending setup and the recovery codes go, every other session of the
//! account is revoked, the `mfa_disabled` event is written and a notice is queued.

use lambda_http::http::StatusCode;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use shared::accounts::events::{self, EventType, NewEvent};
use shared::accounts::users::{self, User};
use shared::auth::mfa::{self, FactorFields, Slot};
use shared::http::error::ErrorBody;
use shared::http::openapi::{BodyErrors, LockErrors, ServerErrors};
use shared::http::request::{Fields, json_body, validated};
use shared::http::response::Envelope;
use shared::mail::{self, Messages};
use shared::{ApiError, App, Body, Request, Response, auth::sessions, http::response};
use utoipa::ToSchema;

/// What this function reads: everything, and the MFA keys.
pub const USES: shared::config::Uses = shared::config::Uses::ALL;

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"current_password": "secret123", "code": "123456"}))]
struct TotpDisableBody {
    #[schema(value_type = String, format = Password)]
    current_password: Option<SecretString>,
    /// The 6 digits the authenticator shows; or give `recovery_code` instead.
    #[schema(value_type = Option<String>, pattern = "^[0-9]{6}$")]
    code: Option<SecretString>,
    /// One of the recovery codes, instead of `code`.
    #[schema(value_type = Option<String>)]
    recovery_code: Option<SecretString>,
}

#[derive(Serialize, ToSchema)]
struct TotpDisabled {
    /// The caller, with `mfa_enabled: false`.
    user: User,
}

/// Turn the second factor off (password and code).
#[utoipa::path(operation_id = "totp_disable", delete, path = "/auth/mfa/totp", tag = "mfa", security(("bearer" = [])),
    request_body = TotpDisableBody,
    responses(
        (status = 200, description = "MFA is off; every other session is revoked; a notice is mailed.", body = Envelope<TotpDisabled>),
        (status = 401, description = "`invalid_code`: wrong or already used code (counted against the lock). `missing_token` or `invalid_token`: no valid bearer access token.", body = ErrorBody),
        (status = 403, description = "`wrong_password`: the current password is wrong (counted against the lock).", body = ErrorBody),
        (status = 409, description = "`mfa_not_enabled`: the account has no second factor.", body = ErrorBody),
        BodyErrors, LockErrors, ServerErrors))]
pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let origin = app.origin(&req)?;
    let mut db = app.db().await?;
    let session = app.caller(&db, &req).await?;
    let user = &session.user;
    let body: TotpDisableBody = json_body(&req)?;
    let mut fields = Fields::default();
    let password = fields.required("current_password", body.current_password, Ok);
    let factor = FactorFields {
        code: body.code,
        recovery_code: body.recovery_code,
    }
    .required(&mut fields);
    fields.finish()?;
    let (password, factor) = (validated(password)?, validated(factor)?);

    if !user.mfa_enabled {
        return Err(ApiError::MfaNotEnabled);
    }
    app.confirm_password(&db, user.id, &password, &origin)
        .await?;
    app.check_code(&db, user.id, &factor, Slot::Enabled, &origin)
        .await?;

    let tx = db.transaction().await?;
    if !mfa::turn_off(&tx, user.id).await? {
        return Err(ApiError::MfaNotEnabled);
    }
    let revoked = sessions::revoke_others(&tx, user.id, session.session_id, "mfa_disabled").await?;
    let event = NewEvent::by_user(EventType::MfaDisabled, user.id)
        .detail(serde_json::json!({"revoked_sessions": revoked}));
    events::record(&tx, &origin, event).await?;
    if let Some(email) = &user.email {
        mail::enqueue(&tx, &Messages(&app.config.mail).mfa_disabled(email, false)).await?;
    }
    let user = users::find_or_404(&tx, user.id).await?;
    tx.commit().await?;
    tracing::info!(user_id = user.id, revoked, ip = %origin, request_id = %origin.request_id, "MFA turned off");
    Ok(response::ok(StatusCode::OK, TotpDisabled { user }))
}
