//! `POST /auth/mfa/totp`: start turning on a second factor. Confirmed by the current
//! password (counted against the lock like a login), it makes a fresh 20-byte secret,
//! stores it encrypted as the account's pending setup (replacing an earlier pending one)
//! and shows it once: as base32, as an `otpauth://` URI and as a QR code to scan. Nothing
//! changes for logins until `totp-confirm` proves an authenticator has it. An account
//! whose email is not verified cannot start one (so nobody puts a second factor on an
//! address that is not theirs).

use lambda_http::http::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use shared::auth::mfa;
use shared::db::{GenericClient, Type};
use shared::http::error::ErrorBody;
use shared::http::openapi::{AuthErrors, BodyErrors, LockErrors, ServerErrors};
use shared::http::request::{Fields, json_body, validated};
use shared::http::response::Envelope;
use shared::{ApiError, App, Body, Request, Response, http::response};
use utoipa::ToSchema;

/// What this function reads: everything, and the MFA keys.
pub const USES: shared::config::Uses = shared::config::Uses::ALL;

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"current_password": "secret123"}))]
struct TotpSetupBody {
    #[schema(value_type = String, format = Password)]
    current_password: Option<SecretString>,
}

/// The new secret, shown this once; confirm it with a code at `POST /auth/mfa/totp/confirm`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
    "otpauth_uri": "otpauth://totp/Latchkey:john%40mail.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Latchkey",
    "qr_svg": "<?xml version=\"1.0\" standalone=\"yes\"?><svg ...>"}))]
struct TotpSetup {
    /// The secret in base32 (RFC 4648, no padding), for typing into an authenticator.
    secret: String,
    /// The same as an `otpauth://totp/` URI (SHA-1, 6 digits, 30 s).
    otpauth_uri: String,
    /// The URI as a QR code, an SVG document.
    qr_svg: String,
}

/// Start a TOTP setup (shows the secret once).
#[utoipa::path(operation_id = "totp_setup", post, path = "/auth/mfa/totp", tag = "mfa", security(("bearer" = [])),
    request_body = TotpSetupBody,
    responses(
        (status = 200, description = "A pending setup; nothing changes for logins until it is confirmed.", body = Envelope<TotpSetup>),
        (status = 403, description = "`wrong_password`: the current password is wrong (counted against the lock). `email_unverified`: the account's email is not verified yet.", body = ErrorBody),
        (status = 409, description = "`mfa_enabled`: a second factor is already on.", body = ErrorBody),
        BodyErrors, AuthErrors, LockErrors, ServerErrors))]
pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let origin = app.origin(&req)?;
    let db = app.db().await?;
    let caller = app.caller(&db, &req).await?.user;
    let body: TotpSetupBody = json_body(&req)?;
    let mut fields = Fields::default();
    let password = fields.required("current_password", body.current_password, Ok);
    fields.finish()?;
    let password = validated(password)?;

    if caller.mfa_enabled {
        return Err(ApiError::MfaEnabled);
    }
    if caller.email.is_some() && !caller.email_verified {
        return Err(ApiError::EmailUnverified);
    }
    app.confirm_password(&db, caller.id, &password, &origin)
        .await?;

    let keys = app.mfa()?;
    let account = caller.email.as_deref().unwrap_or(&caller.login);
    let (secret, shown) = mfa::enroll(keys.issuer(), account)?;
    let sealed = keys.seal(caller.id, &secret)?;
    let stored = db
        .execute_typed(
            "UPDATE users SET totp_pending_secret = $2 WHERE id = $1 AND NOT mfa_enabled",
            &[(&caller.id, Type::INT8), (&sealed, Type::BYTEA)],
        )
        .await?;
    if stored != 1 {
        return Err(ApiError::MfaEnabled);
    }
    tracing::info!(user_id = caller.id, ip = %origin, request_id = %origin.request_id, "TOTP setup started");
    Ok(response::ok(
        StatusCode::OK,
        TotpSetup {
            secret: shown.secret.expose_secret().to_owned(),
            otpauth_uri: shown.otpauth_uri.expose_secret().to_owned(),
            qr_svg: shown.qr_svg.expose_secret().to_owned(),
        },
    ))
}
