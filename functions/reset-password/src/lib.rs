//! `POST /auth/password/reset`: set a new password with a reset link's token.
//!
//! The new password is checked before the token is touched (a bad one is 400
//! `validation_failed` and the token stays usable). Then, in one transaction: the token is
//! spent, the password set, every session revoked, the failed-login lock cleared, the
//! email marked verified (the mail proved control of it) and a notice queued; the answer
//! is the user with a new session's token pair. Any failure rolls it all back, token
//! included: a disabled account gets 403 `account_disabled`, and nothing changes.
//!
//! With a second factor on, the request also needs `code` (or `recovery_code`), checked
//! before anything else changes and counted against the account's lock: missing is 401
//! `mfa_required`, wrong 401 `invalid_code` (429 `too_many_attempts` while locked), and the
//! token stays unspent. A reset never turns the second factor off.

use lambda_http::http::StatusCode;
use secrecy::SecretString;
use serde::Deserialize;
use shared::accounts::events::{self, EventType, NewEvent};
use shared::accounts::identity::Password;
use shared::accounts::users::{self, User};
use shared::auth::mfa::{FactorFields, Slot};
use shared::auth::one_time_tokens::{self, Kind};
use shared::auth::tokens::SignedIn;
use shared::db::{GenericClient, Type};
use shared::http::error::ErrorBody;
use shared::http::openapi::{LinkBodyErrors, PublicRouteErrors, ServerErrors};
use shared::http::request::{Fields, json_body, validated};
use shared::http::response::Envelope;
use shared::mail::{self, Messages};
use shared::{ApiError, App, Body, Request, Response, auth::credentials, auth::sessions};
use utoipa::ToSchema;

/// What this function reads: everything, and the MFA keys (it checks TOTP codes).
pub const USES: shared::config::Uses = shared::config::Uses::ALL;

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"token": "q3J0b2tlbi1mcm9tLXRoZS1saW5rLWZyYWdtZW50LXgx", "password": "new secret 123"}))]
struct ResetPasswordBody {
    /// The `token` from the reset link's fragment.
    #[schema(value_type = String)]
    token: Option<String>,
    /// The new password: `PASSWORD_MIN_LENGTH` (6) to 1024 characters.
    #[schema(value_type = String, format = Password)]
    password: Option<SecretString>,
    /// With a second factor on: the 6 digits the authenticator shows (401 `mfa_required`
    /// without it or `recovery_code`).
    #[schema(value_type = Option<String>, pattern = "^[0-9]{6}$")]
    code: Option<SecretString>,
    /// Instead of `code`: one of the recovery codes (each works once).
    #[schema(value_type = Option<String>)]
    recovery_code: Option<SecretString>,
}

/// Set a new password with the token from the reset mail; signs in with a new session.
#[utoipa::path(operation_id = "reset_password", post, path = "/auth/password/reset", tag = "auth", request_body = ResetPasswordBody,
    responses(
        (status = 200, description = "Password reset; every other session revoked; signed in.", body = Envelope<SignedIn>),
        (status = 401, description = "`mfa_required`: the account has a second factor and the request has neither `code` nor `recovery_code`. `invalid_code`: that code is wrong or was used before (counted against the lock). Either way nothing changes and the token stays unspent.", body = ErrorBody),
        LinkBodyErrors, PublicRouteErrors, ServerErrors,
        // After PublicRouteErrors, whose 403 it replaces with the fuller description.
        (status = 403, description = "`account_disabled`: an admin disabled the account; nothing changed and the token stays unspent. `forbidden`: behind CloudFront, a request without the origin secret.", body = ErrorBody)))]
pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let origin = app.origin(&req)?;
    let mut db = app.db().await?;
    app.limit_ip(&db, &origin, "reset-password").await?;
    let body: ResetPasswordBody = json_body(&req)?;
    let mut fields = Fields::default();
    let token = fields.required_text("token", body.token);
    let password = fields.required("password", body.password, |p| {
        Password::parse_new(p, &app.config.passwords, &[])
    });
    let factor = FactorFields {
        code: body.code,
        recovery_code: body.recovery_code,
    }
    .parse(&mut fields);
    fields.finish()?;
    let (token, password) = (validated(token)?, validated(password)?);

    // With a second factor on, its code comes first, counted against the lock; a missing
    // or wrong one changes nothing and leaves the token unspent.
    if let Some(peeked) = one_time_tokens::peek(&db, Kind::ResetPassword, &token).await?
        && peeked.live
        && peeked.mfa_enabled
        && !peeked.disabled
    {
        let factor = factor.ok_or(ApiError::MfaCodeRequired)?;
        app.check_code(&db, peeked.user_id, &factor, Slot::Enabled, &origin)
            .await?;
    }
    let password_hash = app.passwords.hash(password.secret()).await?;

    let tx = db.transaction().await?;
    let spent = one_time_tokens::spend(&tx, Kind::ResetPassword, &token).await?;
    // Second factor (a later issue): with MFA on, the `code` or `recovery_code` is checked
    // here, before anything changes; a missing or wrong one returns an error, which rolls
    // the transaction back and leaves the token unspent.
    let user = set_password(&tx, spent.user_id, &password_hash).await?;
    credentials::clear(&tx, user.id).await?;
    let revoked = sessions::revoke_all(&tx, user.id, "password_reset").await?;
    let session = sessions::open(&tx, user.id, app.tokens()?.refresh_ttl()).await?;
    if let Some(email) = &spent.email {
        mail::enqueue(&tx, &Messages(&app.config.mail).password_reset(email)).await?;
    }
    let event = NewEvent::by_user(EventType::PasswordReset, user.id)
        .detail(serde_json::json!({"revoked_sessions": revoked}));
    events::record(&tx, &origin, event).await?;
    tx.commit().await?;

    tracing::info!(user_id = user.id, revoked, "password reset");
    app.signed_in(StatusCode::OK, &user, &session)
}

/// Stores the new hash and marks the email verified: 403 `account_disabled` (and nothing
/// changes: the caller rolls back) for a disabled account.
async fn set_password(
    client: &impl GenericClient,
    user_id: i64,
    password_hash: &str,
) -> Result<User, ApiError> {
    let row = client
        .query_typed_opt(
            &format!(
                "UPDATE users u SET password_hash = $2, email_verified = true, updated_at = now()
                 WHERE u.id = $1 AND NOT u.disabled RETURNING {}",
                users::COLUMNS
            ),
            &[(&user_id, Type::INT8), (&password_hash, Type::TEXT)],
        )
        .await?
        .ok_or(ApiError::AccountDisabled)?;
    User::from_row(&row)
}
