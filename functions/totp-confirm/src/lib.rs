//! `POST /auth/mfa/totp/confirm`: finish turning on a second factor with a code from the
//! authenticator that took the pending secret. The code counts against the lock and
//! becomes the account's last accepted time step. Then, in one transaction: the secret
//! is the account's, ten fresh recovery codes replace any earlier ones (only their hashes
//! are kept; they are shown this once), every other session of the account is revoked,
//! the `mfa_enabled` event is written and a notice is queued to the account's address.

use lambda_http::http::StatusCode;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use shared::accounts::events::{self, EventType, NewEvent};
use shared::auth::mfa::{self, FactorFields, Slot};
use shared::db::{GenericClient, Type};
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
#[schema(example = json!({"code": "123456"}))]
struct TotpConfirmBody {
    /// The 6 digits the authenticator shows for the pending secret.
    #[schema(value_type = String, pattern = "^[0-9]{6}$")]
    code: Option<SecretString>,
}

/// The recovery codes, shown this once.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"recovery_codes": ["7KQ3-M9XD-2HWA", "..."]}))]
struct RecoveryCodes {
    /// Ten single-use codes (60 random bits each) that stand in for a TOTP code when the
    /// authenticator is lost. Only their hashes are kept: store them now.
    recovery_codes: Vec<String>,
}

/// Confirm the pending TOTP setup with a code; MFA is on.
#[utoipa::path(operation_id = "totp_confirm", post, path = "/auth/mfa/totp/confirm", tag = "mfa", security(("bearer" = [])),
    request_body = TotpConfirmBody,
    responses(
        (status = 200, description = "MFA is on; every other session is revoked; a notice is mailed.", body = Envelope<RecoveryCodes>),
        (status = 401, description = "`invalid_code`: wrong or already used code (counted against the lock). `missing_token` or `invalid_token`: no valid bearer access token.", body = ErrorBody),
        (status = 409, description = "`mfa_enabled`: a second factor is already on. `mfa_setup_missing`: no setup is pending.", body = ErrorBody),
        BodyErrors, LockErrors, ServerErrors))]
pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let origin = app.origin(&req)?;
    let mut db = app.db().await?;
    let session = app.caller(&db, &req).await?;
    let user = &session.user;
    let body: TotpConfirmBody = json_body(&req)?;
    let mut fields = Fields::default();
    let factor = FactorFields {
        code: body.code,
        recovery_code: None,
    }
    .parse(&mut fields);
    if factor.is_none() {
        fields.add("code", "is required".into());
    }
    fields.finish()?;
    let factor = validated(factor)?;

    if user.mfa_enabled {
        return Err(ApiError::MfaEnabled);
    }
    let pending: Option<Vec<u8>> = db
        .query_typed_one(
            "SELECT totp_pending_secret FROM users WHERE id = $1",
            &[(&user.id, Type::INT8)],
        )
        .await?
        .try_get(0)?;
    let pending = pending.ok_or(ApiError::MfaSetupMissing)?;
    app.check_code(&db, user.id, &factor, Slot::Pending, &origin)
        .await?;

    let (shown, hashes) = mfa::recovery_codes();
    let tx = db.transaction().await?;
    // Only the secret the code was checked against: a setup started meanwhile waits.
    let enabled = tx
        .execute_typed(
            "UPDATE users SET mfa_enabled = true, totp_secret = totp_pending_secret,
                              totp_pending_secret = NULL, updated_at = now()
             WHERE id = $1 AND NOT mfa_enabled AND totp_pending_secret = $2",
            &[(&user.id, Type::INT8), (&pending, Type::BYTEA)],
        )
        .await?;
    if enabled != 1 {
        return Err(ApiError::MfaSetupMissing);
    }
    mfa::replace_recovery_codes(&tx, user.id, &hashes).await?;
    let revoked = sessions::revoke_others(&tx, user.id, session.session_id, "mfa_enabled").await?;
    let event = NewEvent::by_user(EventType::MfaEnabled, user.id)
        .detail(serde_json::json!({"revoked_sessions": revoked}));
    events::record(&tx, &origin, event).await?;
    if let Some(email) = &user.email {
        mail::enqueue(&tx, &Messages(&app.config.mail).mfa_enabled(email)).await?;
    }
    tx.commit().await?;
    tracing::info!(user_id = user.id, revoked, ip = %origin, request_id = %origin.request_id, "MFA turned on");
    Ok(response::ok(
        StatusCode::OK,
        RecoveryCodes {
            recovery_codes: shown,
        },
    ))
}
