//! `POST /auth/mfa/verify`: the second step of a login with a second factor. The
//! `mfa_token` from `login` and a code (or a recovery code) open the session, with `amr`
//! `["pwd", "otp"]`.
//!
//! Each client IP has a per-minute budget of these requests. The token is looked at
//! first: unknown, expired, spent or void (the password, the second factor or the
//! disabled state changed since the login) is 401 `invalid_mfa_token`, a disabled account
//! 403 `account_disabled`. The code then counts against the account's lock like a
//! password (429 while locked, without checking it or spending the token); a wrong or
//! replayed one is 401 `invalid_code` and leaves the token unspent. Only a completed
//! verification gives the count back. The token is spent in the transaction that opens
//! the session, so of two concurrent uses one wins.

use lambda_http::http::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use shared::accounts::events::{self, EventType, NewEvent};
use shared::accounts::users;
use shared::auth::mfa::{FactorFields, Slot, Used};
use shared::auth::one_time_tokens::{self, Kind};
use shared::auth::tokens::SignedIn;
use shared::http::error::ErrorBody;
use shared::http::openapi::{BodyErrors, ServerErrors};
use shared::http::request::{Fields, json_body, validated};
use shared::http::response::Envelope;
use shared::{ApiError, App, Body, Request, Response, auth::sessions};
use utoipa::ToSchema;

/// What this function reads: everything, and the MFA keys.
pub const USES: shared::config::Uses = shared::config::Uses::ALL;

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"mfa_token": "q3J0b2tlbi1mcm9tLXRoZS1sb2dpbi1zdGVwLXgxMjM", "code": "123456"}))]
struct MfaVerifyBody {
    /// From the login's answer.
    #[schema(value_type = String)]
    mfa_token: Option<SecretString>,
    /// The 6 digits the authenticator shows; or give `recovery_code` instead.
    #[schema(value_type = Option<String>, pattern = "^[0-9]{6}$")]
    code: Option<SecretString>,
    /// One of the recovery codes, instead of `code`; each works once.
    #[schema(value_type = Option<String>)]
    recovery_code: Option<SecretString>,
}

/// Complete a login with a second factor; opens a session.
#[utoipa::path(operation_id = "mfa_verify", post, path = "/auth/mfa/verify", tag = "mfa", request_body = MfaVerifyBody,
    responses(
        (status = 200, description = "Signed in; the access token's `amr` is `[\"pwd\", \"otp\"]`.", body = Envelope<SignedIn>),
        (status = 401, description = "`invalid_mfa_token`: the token is unknown, expired, spent or void (log in again). `invalid_code`: wrong or already used code (counted against the lock; the token stays usable).", body = ErrorBody),
        (status = 403, description = "`account_disabled`: an admin disabled the account. `forbidden`: behind CloudFront, a request without the origin secret.", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`: the account is locked for this client IP (the code is not checked, the token not spent); `rate_limited`: too many requests from this client IP.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the lock or the rate window ends."))),
        BodyErrors, ServerErrors))]
pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let origin = app.origin(&req)?;
    let mut db = app.db().await?;
    app.limit_ip(&db, &origin, "mfa-verify").await?;
    let body: MfaVerifyBody = json_body(&req)?;
    let mut fields = Fields::default();
    let token = fields.required_text("mfa_token", body.mfa_token);
    let factor = FactorFields {
        code: body.code,
        recovery_code: body.recovery_code,
    }
    .required(&mut fields);
    fields.finish()?;
    let (token, factor) = (validated(token)?, validated(factor)?);

    let not_a_token = |err| match err {
        ApiError::InvalidLink => ApiError::InvalidMfaToken,
        err => err,
    };
    let peeked = one_time_tokens::peek(&db, Kind::MfaLogin, token.expose_secret())
        .await
        .map_err(not_a_token)?
        .ok_or(ApiError::InvalidMfaToken)?;
    if peeked.disabled {
        return Err(ApiError::AccountDisabled);
    }
    if !peeked.live || !peeked.mfa_enabled {
        return Err(ApiError::InvalidMfaToken);
    }
    let user_id = peeked.user_id;
    let used = app
        .check_code(&db, user_id, &factor, Slot::Enabled, &origin)
        .await?;

    let tx = db.transaction().await?;
    one_time_tokens::spend(&tx, Kind::MfaLogin, token.expose_secret())
        .await
        .map_err(not_a_token)?;
    let session =
        sessions::open_after_second_factor(&tx, user_id, app.tokens()?.refresh_ttl()).await?;
    let factor = match used {
        Used::Totp { .. } => "totp",
        Used::RecoveryCode => "recovery_code",
    };
    let event = NewEvent::by_user(EventType::LoginSucceeded, user_id)
        .detail(serde_json::json!({"second_factor": factor}));
    events::record(&tx, &origin, event).await?;
    let user = users::find_or_404(&tx, user_id).await?;
    tx.commit().await?;
    tracing::info!(user_id, ip = %origin, request_id = %origin.request_id, factor, "user logged in with a second factor");
    app.signed_in(StatusCode::OK, &user, &session)
}
