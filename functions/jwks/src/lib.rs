//! `GET /.well-known/jwks.json` (the public keys that verify our tokens, RFC 7517) and
//! `GET /.well-known/openid-configuration` (OpenID Connect Discovery 1.0: where those keys
//! are). This is how a third party, such as an API Gateway JWT authorizer, verifies our
//! RS256 access tokens without calling us. Both documents are served as their standards
//! define them, without the envelope, and may be cached publicly. Needs no token and no
//! database.

use lambda_http::RequestExt;
use serde::Serialize;
use shared::http::error::ErrorBody;
use shared::{ApiError, App, Body, Request, Response, http::response};
use utoipa::ToSchema;

/// What this function reads from its environment: the token settings and keys, and no
/// database (`template.yaml`, checked by `tests/consistency`).
pub const USES: shared::config::Uses = shared::config::Uses::TOKENS;

pub const JWKS_PATH: &str = "/.well-known/jwks.json";
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";

/// One function serves both routes; the request path says which.
pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let path = match req.raw_http_path() {
        "" => req.uri().path(),
        raw => raw,
    };
    if is_route(path, JWKS_PATH) {
        jwks(app)
    } else if is_route(path, DISCOVERY_PATH) {
        openid_configuration(app)
    } else {
        Err(ApiError::NotFound)
    }
}

/// `path` is `route`, or `route` under one leading stage segment: behind a named API
/// Gateway stage the raw path starts with the stage (`/prod/.well-known/jwks.json`).
fn is_route(path: &str, route: &str) -> bool {
    match path.strip_suffix(route) {
        Some("") => true,
        Some(stage) => stage
            .strip_prefix('/')
            .is_some_and(|name| !name.is_empty() && !name.contains('/')),
        None => false,
    }
}

/// The signing keys: `{"keys": [{"kty": "RSA", "kid", "use": "sig", "alg": "RS256", "n",
/// "e"}, ...]}`, the current key first, then the older (or next) keys of
/// `JWT_PUBLIC_KEYS`, so tokens signed before a rotation still verify. Empty under HS256:
/// a shared secret is never published.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "service",
    responses(
        (status = 200, description = "The JSON Web Key Set (RFC 7517) of the keys that verify \
            our tokens; empty under HS256. Not enveloped.",
            content_type = "application/json", body = JwksDocument,
            example = json!({"keys": [{"kty": "RSA", "kid": "2025-01", "use": "sig",
                "alg": "RS256", "n": "sXch...", "e": "AQAB"}]})),
        (status = 404, description = "`not_found`.", body = ErrorBody)))]
pub fn jwks(app: &App) -> Result<Response<Body>, ApiError> {
    response::public_json(app.tokens()?.jwks())
}

/// The JWKS as the OpenAPI document describes it (the body itself is jsonwebtoken's
/// `JwkSet`; these types exist for the schema only).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct JwksDocument {
    /// The current key first, then the others.
    keys: Vec<JwkDocument>,
}

/// One RSA public key (RFC 7517, RFC 7518 §6.3.1).
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
pub struct JwkDocument {
    /// `"RSA"`.
    kty: String,
    /// The key id: a token's `kid` header names the key that verifies it.
    kid: String,
    /// `"sig"`.
    #[serde(rename = "use")]
    key_use: String,
    /// `"RS256"`.
    alg: String,
    /// The modulus, base64url without padding.
    n: String,
    /// The public exponent, base64url without padding (usually `"AQAB"`).
    e: String,
}

/// OpenID Connect Discovery 1.0 metadata, limited to what is true of Latchkey: it issues
/// JWTs and publishes their keys, but it is not an OpenID provider (no authorization
/// endpoint, no OAuth token endpoint, no ID tokens). Verifiers that discover keys from the
/// issuer (API Gateway's JWT authorizer, jose libraries) need only `issuer` and `jwks_uri`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"issuer": "https://auth.example.com",
    "jwks_uri": "https://auth.example.com/.well-known/jwks.json",
    "response_types_supported": [], "subject_types_supported": ["public"],
    "id_token_signing_alg_values_supported": ["RS256"],
    "claims_supported": ["iss", "sub", "aud", "exp", "iat", "jti", "user_id", "sid", "typ", "role",
        "amr", "auth_time"],
    "service_documentation": "https://auth.example.com/docs"}))]
pub struct Discovery<'a> {
    /// `JWT_ISSUER`: exactly the `iss` of every token.
    issuer: &'a str,
    /// Where the keys are: the issuer followed by `/.well-known/jwks.json`.
    jwks_uri: String,
    /// Required by the standard; empty because there is no authorization endpoint.
    response_types_supported: [&'static str; 0],
    /// `public`: `sub` is the user id, the same for every client.
    subject_types_supported: [&'static str; 1],
    /// The one algorithm our tokens are signed with (`JWT_ALGORITHM`).
    id_token_signing_alg_values_supported: [&'static str; 1],
    /// The claims our access tokens carry (`aud` only when `JWT_AUDIENCE` is set).
    claims_supported: &'static [&'static str],
    /// The human-readable API documentation.
    service_documentation: String,
}

/// Where our tokens' keys are (OpenID Connect Discovery 1.0), so that a verifier given
/// only the issuer finds them.
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "service",
    responses(
        (status = 200, description = "OpenID Connect Discovery metadata: the issuer and \
            where its keys are. Not enveloped.", content_type = "application/json",
            body = Discovery),
        (status = 404, description = "`not_found`.", body = ErrorBody)))]
pub fn openid_configuration(app: &App) -> Result<Response<Body>, ApiError> {
    let config = app
        .config
        .tokens
        .as_ref()
        .ok_or_else(|| ApiError::internal("jwks was built without the token settings"))?;
    let issuer = config.issuer.as_str();
    let base = issuer.trim_end_matches('/');
    let algorithm = config.signing.algorithm_name();
    response::public_json(&Discovery {
        issuer,
        jwks_uri: format!("{base}{JWKS_PATH}"),
        response_types_supported: [],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: [algorithm],
        claims_supported: &[
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "jti",
            "user_id",
            "sid",
            "typ",
            "role",
            "amr",
            "auth_time",
        ],
        service_documentation: format!("{base}/docs"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_matches_alone_or_under_one_stage() {
        assert!(is_route("/.well-known/jwks.json", JWKS_PATH));
        assert!(is_route("/prod/.well-known/jwks.json", JWKS_PATH));
        assert!(!is_route("/a/b/.well-known/jwks.json", JWKS_PATH));
        assert!(!is_route("//.well-known/jwks.json", JWKS_PATH));
        assert!(!is_route("x/.well-known/jwks.json", JWKS_PATH));
        assert!(!is_route("/.well-known/jwks.json/", JWKS_PATH));
        assert!(!is_route("/.well-known/jwks", JWKS_PATH));
    }
}
