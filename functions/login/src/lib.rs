//! `POST /auth/login`: exchange a login (or email, or phone) and password for a session.
//!
//! Unknown logins and wrong passwords get the same 401 after the same amount of work (a
//! dummy hash is verified for unknown logins). Each client IP has a per-minute budget of
//! login requests (`shared::auth::ratelimit`), and each attempt is counted against the lock of
//! the account (or unknown identifier) for that IP before the password is evaluated
//! (`shared::auth::credentials`): while locked, 429 with `Retry-After`. A hash made with weaker
//! parameters than configured is replaced on success. A disabled account gets 403
//! `account_disabled`, said only after a correct password. The session opens only if the
//! stored hash is still the one the password was verified against and the account is
//! still enabled, so a concurrent password change or disabling always wins.
//!
//! With a second factor on, a correct password opens no session: the answer is an
//! `mfa_token` (5 minutes, single use, bound to this password check) for `mfa-verify`,
//! and the attempt stays counted against the lock until a code completes the login.

use lambda_http::http::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use shared::accounts::events::{self, EventType, NewEvent};
use shared::accounts::identity::lookup_key;
use shared::accounts::users::User;
use shared::auth::credentials::{Attempt, Checked, Claimant, HashAndLock};
use shared::auth::mfa::CHALLENGE_TTL;
use shared::auth::one_time_tokens::{self, Kind};
use shared::auth::tokens::SignedIn;
use shared::http::error::ErrorBody;
use shared::http::openapi::{BodyErrors, ServerErrors};
use shared::http::request::{Fields, json_body, validated};
use shared::http::response::{self, Envelope};
use shared::{ApiError, App, Body, Request, Response, auth::sessions};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"login": "john@mail.com", "password": "secret123"}))]
struct LoginBody {
    /// The login, the email or the phone, in any case.
    #[schema(value_type = String)]
    login: Option<String>,
    #[schema(value_type = String, format = Password)]
    password: Option<SecretString>,
}

/// The second step a login with a second factor needs: `mfa-verify` with this token and
/// a code.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"mfa_required": true, "mfa_token": "q3J0b2tlbi1mcm9tLXRoZS1sb2dpbi1zdGVwLXgxMjM", "expires_in": 300}))]
struct MfaChallenge {
    /// Always `true`: no session was opened yet.
    mfa_required: bool,
    /// For `POST /auth/mfa/verify`; single use, void once the password, the second
    /// factor or the disabled state changes.
    mfa_token: String,
    /// Seconds the `mfa_token` lives.
    expires_in: u64,
}

/// What a correct password earns: a session, or (with a second factor on) the step
/// before it.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // documents the body only
enum LoginResponse<'a> {
    SignedIn(Envelope<SignedIn<'a>>),
    MfaRequired(Envelope<MfaChallenge>),
}

/// Log in with a login, email or phone and a password; opens a session, or with a second
/// factor on answers the `mfa_token` for `mfa-verify`.
#[utoipa::path(operation_id = "login", post, path = "/auth/login", tag = "auth", request_body = LoginBody,
    responses(
        (status = 200, description = "Signed in; or, with a second factor on, `mfa_required` with the `mfa_token` for `POST /auth/mfa/verify` (no session yet).", body = LoginResponse),
        (status = 401, description = "`invalid_credentials`: unknown login or wrong password (the same answer for both).", body = ErrorBody),
        (status = 403, description = "`forbidden`: behind CloudFront, a request without the origin secret. `account_disabled`: an admin disabled the account (said only after a correct password). `email_unverified`: with `REQUIRE_VERIFIED_EMAIL`, the account's email is not verified yet (said only after a correct password).", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`: the account is locked for this client IP after 5 failures in a row (or across all IPs after 100); `rate_limited`: too many requests from this client IP.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the lock or the rate window ends."))),
        BodyErrors, ServerErrors))]
pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let origin = app.origin(&req)?;
    let mut db = app.db().await?;
    app.limit_ip(&db, &origin, "login").await?;
    let body: LoginBody = json_body(&req)?;
    let mut fields = Fields::default();
    let login = fields.required_text("login", body.login);
    let password = fields.required("password", body.password, |p: SecretString| {
        if p.expose_secret().is_empty() {
            Err("is required".to_owned())
        } else {
            Ok(p)
        }
    });
    fields.finish()?;
    let (login, password) = (validated(login)?, validated(password)?);

    // Two round trips for a login: the account's lookup with the attempt's count, then
    // the count's reset with the session and its event.
    let key = lookup_key(&login);
    let (attempt, row) = Attempt::claim_for_identifier(&db, &key, &origin).await?;
    let account = match row.try_get::<_, Option<i64>>("id")? {
        Some(_) => Some((
            User::from_row(&row)?,
            row.try_get::<_, String>("password_hash")?,
        )),
        None => None,
    };
    let claimant = match &account {
        Some((user, hash)) => Claimant::Account {
            user_id: user.id,
            password_hash: hash,
        },
        None => Claimant::Unknown { lookup_key: &key },
    };
    let (checked, attempt) = HashAndLock::held(claimant, attempt)
        .check(app, &db, &password, &origin)
        .await?;
    let user_id = account.as_ref().map(|(user, _)| user.id);
    let (Some((user, _)), Checked::Valid { current_hash, .. }) = (account, checked) else {
        // Without the identifier: for an unknown one, no account is named at all.
        let failed = NewEvent::to_user(EventType::LoginFailed, user_id, None);
        events::record(&db, &origin, failed).await?;
        return Err(ApiError::InvalidCredentials);
    };

    let refused = if user.disabled {
        Some((ApiError::AccountDisabled, "login refused: account disabled"))
    } else if app.config.mail.require_verified_email && user.email.is_some() && !user.email_verified
    {
        Some((ApiError::EmailUnverified, "login refused: email unverified"))
    } else {
        None
    };
    if user.mfa_enabled {
        // The right password is not a failure, but only the second step resets the count.
        attempt.take_back(&db).await?;
    } else if refused.is_some() {
        attempt.give_back(&db).await?;
    }
    if let Some((err, message)) = refused {
        tracing::info!(user_id = user.id, ip = %origin, request_id = %origin.request_id, "{message}");
        return Err(err);
    }
    if user.mfa_enabled {
        return challenge(&mut db, &user, &current_hash, &origin).await;
    }
    // The session opens only if the password is still the one just verified: a password
    // change that committed during the hashing above revoked every session, and this
    // login must not slip in after it with the old password.
    let ttl = app.tokens()?.refresh_ttl();
    let session = sessions::open_for_login(&db, user.id, &current_hash, ttl, &attempt, &origin)
        .await?
        .ok_or_else(|| {
            tracing::info!(
                user_id = user.id,
                ip = %origin,
                request_id = %origin.request_id,
                "login failed: password changed meanwhile"
            );
            ApiError::InvalidCredentials
        })?;
    tracing::info!(
        user_id = user.id,
        ip = %origin,
        request_id = %origin.request_id,
        "user logged in"
    );
    app.signed_in(StatusCode::OK, &user, &session)
}

/// A correct password for an account with a second factor: the `mfa_token`, issued only
/// while the password is still the one just verified.
async fn challenge(
    db: &mut shared::db::Client,
    user: &User,
    verified_hash: &str,
    origin: &shared::http::client::Origin,
) -> Result<Response<Body>, ApiError> {
    // In a transaction: the account's row lock orders concurrent logins, each
    // superseding the token before it.
    let tx = db.transaction().await?;
    let token = one_time_tokens::issue_after_password(
        &tx,
        user.id,
        Kind::MfaLogin,
        CHALLENGE_TTL,
        verified_hash,
    )
    .await?
    .ok_or(ApiError::InvalidCredentials)?;
    tx.commit().await?;
    tracing::info!(user_id = user.id, ip = %origin, request_id = %origin.request_id, "password accepted; second factor asked");
    Ok(response::ok(
        StatusCode::OK,
        MfaChallenge {
            mfa_required: true,
            mfa_token: token.expose().to_owned(),
            expires_in: CHALLENGE_TTL.as_secs(),
        },
    ))
}
