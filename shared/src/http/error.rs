//! The one error type handlers return, and its mapping to the contract's error body.

use std::collections::BTreeMap;

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::http::response;

/// Per-field validation messages, as sent in `fields` of a `validation_failed` error.
pub type FieldErrors = BTreeMap<std::borrow::Cow<'static, str>, Vec<String>>;

/// Every outcome a client can see other than success. Each variant's doc names its status
/// and code; [`ApiError::into_response`] is the only place that turns one into HTTP.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 `invalid_json`: malformed JSON or a value of the wrong JSON type.
    #[error("{0}")]
    InvalidJson(String),
    /// 400 `validation_failed`: well-formed input that breaks a rule, per field.
    #[error("validation failed")]
    Validation(FieldErrors),
    /// 400 `invalid_link`: a one-time token (from a mailed link) that is unknown,
    /// expired, used, superseded or void.
    #[error("invalid link")]
    InvalidLink,
    /// 401 `missing_token`: no `Authorization: Bearer <token>` where one is required.
    #[error("missing bearer token")]
    MissingToken,
    /// 401 `invalid_token`: a token that does not verify, is of the wrong type, or whose
    /// session or user is gone.
    #[error("invalid token")]
    InvalidToken,
    /// 401 `token_reused`: an already-rotated refresh token; its session is now revoked.
    #[error("refresh token reused")]
    TokenReused,
    /// 401 `invalid_credentials`: unknown login or wrong password, indistinguishably.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// 401 `invalid_code`: a wrong, replayed or malformed TOTP code or recovery code;
    /// counted against the account's lock.
    #[error("invalid code")]
    InvalidCode,
    /// 401 `invalid_mfa_token`: an `mfa_token` that is unknown, expired, spent, or void
    /// (the password, the second factor or the disabled state changed since).
    #[error("invalid mfa token")]
    InvalidMfaToken,
    /// 401 `mfa_required`: the account has a second factor, and this change needs its
    /// `code` or a `recovery_code` too.
    #[error("mfa code required")]
    MfaCodeRequired,
    /// 403 `forbidden`: authenticated, but not allowed to do this.
    #[error("forbidden")]
    Forbidden,
    /// 403 `wrong_password`: the confirming password is not the caller's.
    #[error("wrong password")]
    WrongPassword,
    /// 403 `email_unverified`: the account's email must be verified first
    /// (`REQUIRE_VERIFIED_EMAIL`).
    #[error("email unverified")]
    EmailUnverified,
    /// 403 `account_disabled`: an admin disabled the account; no route opens a session
    /// for it.
    #[error("account disabled")]
    AccountDisabled,
    /// 403 `mfa_required`: with `ADMIN_REQUIRE_MFA`, an admin action needs a session
    /// signed in with a second factor (`otp` in `amr`).
    #[error("admin session without a second factor")]
    AdminMfaRequired,
    /// 404 `not_found`.
    #[error("not found")]
    NotFound,
    /// 409 `user_exists`: the login, email or phone belongs to another account.
    #[error("user exists")]
    UserExists,
    /// 409 `last_admin`: the change would leave no admin (a demotion or deletion of the
    /// only one).
    #[error("last admin")]
    LastAdmin,
    /// 409 `no_email`: the account has no email to send a mail to.
    #[error("no email")]
    NoEmail,
    /// 409 `mfa_enabled`: the account already has a second factor.
    #[error("mfa already enabled")]
    MfaEnabled,
    /// 409 `mfa_not_enabled`: the account has no second factor to use or turn off.
    #[error("mfa not enabled")]
    MfaNotEnabled,
    /// 409 `mfa_setup_missing`: no TOTP setup is waiting for confirmation.
    #[error("no pending mfa setup")]
    MfaSetupMissing,
    /// 413 `payload_too_large`: a body over [`crate::http::request::MAX_BODY_BYTES`].
    #[error("payload too large")]
    PayloadTooLarge,
    /// 429 `too_many_attempts`, with `Retry-After` in seconds: the account (or unknown
    /// identifier) is locked for this client IP, or across all IPs.
    #[error("too many attempts")]
    TooManyAttempts { retry_after_secs: u64 },
    /// 429 `rate_limited`, with `Retry-After` in seconds: too many requests from this
    /// client IP to this route this minute.
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    /// 503 `database_unavailable`: the database could not be reached or timed out.
    #[error("database unavailable")]
    DatabaseUnavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// 500 `internal_error`: anything else; logged with its cause, opaque to the client.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The body of every error response.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(example = json!({"status": "error", "code": "validation_failed",
    "reason": "The request has invalid fields.", "fields": {"email": ["must be an email address like name@example.com"]}}))]
pub struct ErrorBody<'a> {
    /// Always `"error"`.
    #[schema(pattern = "^error$")]
    status: &'static str,
    /// What went wrong, in snake_case: `invalid_json`, `validation_failed`, `invalid_link`,
    /// `missing_token`, `invalid_token`, `token_reused`, `invalid_credentials`, `forbidden`,
    /// `wrong_password`, `email_unverified`, `account_disabled`, `invalid_code`, `invalid_mfa_token`,
    /// `mfa_required`, `not_found`, `user_exists`, `last_admin`, `no_email`, `mfa_enabled`,
    /// `mfa_not_enabled`, `mfa_setup_missing`, `payload_too_large`,
    /// `too_many_attempts`, `rate_limited`, `database_unavailable`, `internal_error`.
    code: &'static str,
    /// One human sentence.
    reason: &'a str,
    /// `validation_failed` only: the messages for each field.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<std::collections::BTreeMap<String, Vec<String>>>)]
    fields: Option<&'a FieldErrors>,
    /// 500 only: quote it when reporting the problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
}

impl ApiError {
    /// A 500 for an error that is ours, not the client's.
    pub fn internal(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self::Internal(err.into())
    }

    /// One validation message for one field.
    pub fn invalid_field(field: &'static str, message: impl Into<String>) -> Self {
        Self::Validation(BTreeMap::from([(field.into(), vec![message.into()])]))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidJson(_) | Self::Validation(_) | Self::InvalidLink => {
                StatusCode::BAD_REQUEST
            }
            Self::MissingToken | Self::InvalidToken | Self::TokenReused => StatusCode::UNAUTHORIZED,
            Self::InvalidCredentials
            | Self::InvalidCode
            | Self::InvalidMfaToken
            | Self::MfaCodeRequired => StatusCode::UNAUTHORIZED,
            Self::Forbidden
            | Self::WrongPassword
            | Self::EmailUnverified
            | Self::AccountDisabled
            | Self::AdminMfaRequired => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::UserExists
            | Self::LastAdmin
            | Self::NoEmail
            | Self::MfaEnabled
            | Self::MfaNotEnabled
            | Self::MfaSetupMissing => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyAttempts { .. } | Self::RateLimited { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Self::DatabaseUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidJson(_) => "invalid_json",
            Self::Validation(_) => "validation_failed",
            Self::InvalidLink => "invalid_link",
            Self::MissingToken => "missing_token",
            Self::InvalidToken => "invalid_token",
            Self::TokenReused => "token_reused",
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidCode => "invalid_code",
            Self::InvalidMfaToken => "invalid_mfa_token",
            Self::MfaCodeRequired | Self::AdminMfaRequired => "mfa_required",
            Self::Forbidden => "forbidden",
            Self::WrongPassword => "wrong_password",
            Self::EmailUnverified => "email_unverified",
            Self::AccountDisabled => "account_disabled",
            Self::NotFound => "not_found",
            Self::UserExists => "user_exists",
            Self::LastAdmin => "last_admin",
            Self::NoEmail => "no_email",
            Self::MfaEnabled => "mfa_enabled",
            Self::MfaNotEnabled => "mfa_not_enabled",
            Self::MfaSetupMissing => "mfa_setup_missing",
            Self::PayloadTooLarge => "payload_too_large",
            Self::TooManyAttempts { .. } => "too_many_attempts",
            Self::RateLimited { .. } => "rate_limited",
            Self::DatabaseUnavailable(_) => "database_unavailable",
            Self::Internal(_) => "internal_error",
        }
    }

    fn reason(&self) -> &str {
        match self {
            Self::InvalidJson(reason) => reason,
            Self::Validation(_) => "The request has invalid fields.",
            Self::InvalidLink => "The link is invalid, expired or already used; ask for a new one.",
            Self::MissingToken => "A bearer access token is required.",
            Self::InvalidToken => "The token is invalid, expired or revoked.",
            Self::TokenReused => {
                "The refresh token was already used; the session has been revoked."
            }
            Self::InvalidCredentials => "Invalid login or password.",
            Self::InvalidCode => "The code is wrong, expired or already used.",
            Self::InvalidMfaToken => {
                "The sign-in step expired or is no longer valid; log in again."
            }
            Self::MfaCodeRequired => {
                "This change needs a code from your authenticator or a recovery code."
            }
            Self::AdminMfaRequired => {
                "Admin actions need a session signed in with a second factor."
            }
            Self::Forbidden => "You are not allowed to do this.",
            Self::WrongPassword => "The password is wrong.",
            Self::EmailUnverified => "Verify your email address first.",
            Self::AccountDisabled => "The account is disabled.",
            Self::NotFound => "Not found.",
            Self::UserExists => "User already exists",
            Self::LastAdmin => "This is the last admin: promote another account first.",
            Self::NoEmail => "The account has no email address.",
            Self::MfaEnabled => "A second factor is already on; turn it off first.",
            Self::MfaNotEnabled => "The account has no second factor.",
            Self::MfaSetupMissing => "Start a TOTP setup first.",
            Self::PayloadTooLarge => "The request body is larger than 64 KiB.",
            Self::TooManyAttempts { .. } => "Too many failed attempts; try again later.",
            Self::RateLimited { .. } => "Too many requests from your address; try again later.",
            Self::DatabaseUnavailable(_) => "The database is unavailable; try again shortly.",
            Self::Internal(_) => "Something went wrong on our side.",
        }
    }

    /// The wire form: status, the contract's headers, and the error body. Server-side
    /// errors are logged here, once, with their cause chain; the client sees only the code
    /// and, for a 500, the request id to quote.
    pub fn into_response(self, request_id: &str) -> Response<Body> {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(code = self.code(), error = %ErrorChain(&self), "request failed");
        } else {
            tracing::info!(
                code = self.code(),
                status = status.as_u16(),
                "request refused"
            );
        }
        let body = ErrorBody {
            status: "error",
            code: self.code(),
            reason: self.reason(),
            fields: match &self {
                Self::Validation(fields) => Some(fields),
                _ => None,
            },
            request_id: matches!(self, Self::Internal(_)).then_some(request_id),
        };
        let mut response = response::json(status, &body);
        let headers = response.headers_mut();
        match &self {
            Self::InvalidToken | Self::TokenReused => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Bearer error="invalid_token""#),
                );
            }
            // RFC 9110 §15.5.2: every 401 names a scheme. The others (missing_token,
            // invalid_credentials, and any later 401) are a challenge without an error.
            _ if status == StatusCode::UNAUTHORIZED => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Self::TooManyAttempts { retry_after_secs } | Self::RateLimited { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            _ => {}
        }
        response
    }
}

/// Displays an error followed by each of its sources: `a: b: c`.
struct ErrorChain<'a>(&'a dyn std::error::Error);

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(err) = source {
            write!(f, ": {err}")?;
            source = err.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(response: &Response<Body>) -> serde_json::Value {
        serde_json::from_slice(response.body().as_ref()).unwrap()
    }

    #[test]
    fn an_internal_error_shows_only_its_code_and_request_id() {
        let err = ApiError::internal(std::io::Error::other("password=hunter2 in SQL"));
        let response = err.into_response("req-1");
        assert_eq!(response.status(), 500);
        let text = String::from_utf8(response.body().to_vec()).unwrap();
        assert!(!text.contains("hunter2"));
        assert_eq!(
            body(&response),
            serde_json::json!({"status": "error", "code": "internal_error",
                "reason": "Something went wrong on our side.", "request_id": "req-1"})
        );
    }

    #[test]
    fn every_401_carries_a_bearer_challenge() {
        for err in [
            ApiError::MissingToken,
            ApiError::InvalidToken,
            ApiError::TokenReused,
            ApiError::InvalidCredentials,
        ] {
            let response = err.into_response("r");
            assert_eq!(response.status(), 401);
            let challenge = response.headers()[header::WWW_AUTHENTICATE]
                .to_str()
                .unwrap();
            assert!(challenge.starts_with("Bearer"));
        }
    }

    #[test]
    fn throttling_says_when_to_retry() {
        let response = ApiError::TooManyAttempts {
            retry_after_secs: 30,
        }
        .into_response("r");
        assert_eq!(response.status(), 429);
        assert_eq!(response.headers()[header::RETRY_AFTER], "30");
        assert_eq!(body(&response)["code"], "too_many_attempts");
    }

    #[test]
    fn validation_errors_list_their_fields() {
        let response = ApiError::invalid_field("email", "must be an email").into_response("r");
        assert_eq!(
            body(&response)["fields"],
            serde_json::json!({"email": ["must be an email"]})
        );
        assert!(body(&response).get("request_id").is_none());
    }
}
