//! OpenAPI pieces every route's `#[utoipa::path]` shares: the error responses that many
//! routes can give, described once. The `docs` function assembles the document.

use utoipa::openapi::{RefOr, Schema};
use utoipa::{IntoResponses, PartialSchema};

use crate::http::error::ErrorBody;

/// `T`'s schema with no property required: for fields that are flattened in only
/// sometimes (e.g. a token pair that comes with an update only when the password changed).
pub fn all_optional<T: PartialSchema>() -> RefOr<Schema> {
    let mut schema = T::schema();
    if let RefOr::T(Schema::Object(object)) = &mut schema {
        object.required.clear();
    }
    schema
}

/// Routes that read a JSON body.
#[derive(IntoResponses)]
pub enum BodyErrors<'a> {
    /// `invalid_json` (not JSON, not an object, a field of the wrong JSON type) or
    /// `validation_failed` (a rule broken; `fields` lists every message).
    #[response(status = 400)]
    BadRequest(ErrorBody<'a>),
    /// `payload_too_large`: the body is over 64 KiB.
    #[response(status = 413)]
    PayloadTooLarge(ErrorBody<'a>),
}

/// Routes that check the caller's password or a code, counted against the account's lock.
#[derive(IntoResponses)]
pub enum LockErrors<'a> {
    /// `too_many_attempts`: too many wrong passwords or codes in a row; `Retry-After` says
    /// when the lock ends.
    #[response(status = 429, headers(("Retry-After" = u64, description = "Seconds until the lock ends.")))]
    Locked(ErrorBody<'a>),
}

/// Routes that take a mailed link's token in a JSON body.
#[derive(IntoResponses)]
pub enum LinkBodyErrors<'a> {
    /// `invalid_link` (the token is unknown, expired, used, superseded or void; one answer
    /// for all), `invalid_json` or `validation_failed`.
    #[response(status = 400)]
    BadRequest(ErrorBody<'a>),
    /// `payload_too_large`: the body is over 64 KiB.
    #[response(status = 413)]
    PayloadTooLarge(ErrorBody<'a>),
}

/// Routes anyone may call without a token, limited per client IP (`IP_RATE_LIMIT_PER_MINUTE`).
#[derive(IntoResponses)]
pub enum PublicRouteErrors<'a> {
    /// `forbidden`: behind CloudFront, a request without the origin secret.
    #[response(status = 403)]
    Forbidden(ErrorBody<'a>),
    /// `rate_limited`: too many requests from this client IP; `Retry-After` says when the
    /// rate window ends.
    #[response(status = 429, headers(("Retry-After" = u64, description = "Seconds until the rate window ends.")))]
    RateLimited(ErrorBody<'a>),
}

/// Routes that need `Authorization: Bearer <access token>`.
#[derive(IntoResponses)]
pub enum AuthErrors<'a> {
    /// `missing_token` (no `Bearer` header) or `invalid_token` (bad signature, expired,
    /// wrong type, revoked session, deleted user); with `WWW-Authenticate: Bearer`.
    #[response(status = 401)]
    Unauthorized(ErrorBody<'a>),
}

/// Admin routes acting on user `{id}`, beyond [`AuthErrors`].
#[derive(IntoResponses)]
pub enum AdminUserErrors<'a> {
    /// `validation_failed`: the id is not a positive integer.
    #[response(status = 400)]
    BadId(ErrorBody<'a>),
    /// `forbidden`: the caller is not an admin (nothing changes). `mfa_required`: with
    /// `ADMIN_REQUIRE_MFA`, the admin's session was not signed in with a second factor.
    #[response(status = 403)]
    Forbidden(ErrorBody<'a>),
    /// `not_found`: no such user.
    #[response(status = 404)]
    NotFound(ErrorBody<'a>),
}

/// Every route that touches the database.
#[derive(IntoResponses)]
pub enum ServerErrors<'a> {
    /// `internal_error`: a bug on our side; the body carries `request_id`.
    #[response(status = 500)]
    Internal(ErrorBody<'a>),
    /// `database_unavailable`: the database cannot be reached or timed out; retry later.
    #[response(status = 503)]
    Unavailable(ErrorBody<'a>),
}
