//! JWT access and refresh tokens: the contract's claims, signing and verification, and the
//! public keys (JWKS) that let others verify them.

use std::collections::HashMap;
use std::time::Duration;

use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rsa::RsaPublicKey;
use rsa::traits::PublicKeyParts;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::accounts::identity::Role;
use crate::accounts::users::User;
use crate::auth::keys::SigningConfig;
use crate::auth::sessions::NewSession;
use crate::config::{ConfigError, TokenConfig};
use crate::http::error::ApiError;

/// `typ`: a token of one type is never accepted as the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    Access,
    Refresh,
}

/// The claims of both token types.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    /// The user id as a string (RFC 7519).
    pub sub: String,
    pub user_id: i64,
    /// The session (one login, one refresh-token family).
    pub sid: Uuid,
    pub jti: Uuid,
    pub iat: i64,
    pub exp: i64,
    pub typ: TokenType,
    /// Access tokens only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Access tokens only, when `JWT_AUDIENCE` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// Access tokens only: how the session's login was authenticated (RFC 8176 names:
    /// `["pwd"]`, `["pwd", "otp"]` after a second factor). Refreshing keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amr: Option<Vec<String>>,
    /// Access tokens only: when the session's login happened (OpenID Connect's
    /// `auth_time`, seconds since the epoch). Refreshing keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
}

/// What login, register, refresh and a password change return (RFC 6749 §5.1 names).
/// Holds bearer credentials, so it is not `Debug`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    pub refresh_token: String,
}

/// The answer of register, login and refresh: the user next to a fresh token pair.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SignedIn<'a> {
    pub user: &'a User,
    #[serde(flatten)]
    pub tokens: TokenPair,
}

impl crate::App {
    /// The answer of a route that opens or rotates a session (register, login, refresh,
    /// reset-password): `status` and the user next to a fresh token pair for `session`.
    pub fn signed_in(
        &self,
        status: lambda_http::http::StatusCode,
        user: &User,
        session: &NewSession,
    ) -> Result<lambda_http::Response<lambda_http::Body>, ApiError> {
        let tokens = self.tokens()?.issue(user.id, user.role, session)?;
        Ok(crate::http::response::ok(status, SignedIn { user, tokens }))
    }
}

/// Signs and verifies tokens with the configured algorithm and keys.
///
/// Exactly one algorithm is accepted: the configured one. An RS256 deployment rejects
/// HS256 tokens (including ones "signed" with its public key as the secret) and `alg:
/// none`; an HS256 deployment rejects RS256 tokens.
pub struct Tokens {
    header: Header,
    encoding: EncodingKey,
    keys: VerifyingKeys,
    jwks: JwkSet,
    /// Access tokens: `aud` required when `JWT_AUDIENCE` is set.
    access_validation: Validation,
    /// Refresh tokens carry no `aud`: they are for `/auth/refresh` only, and without one a
    /// gateway's JWT authorizer (which requires its audience) refuses them as bearer tokens.
    refresh_validation: Validation,
    issuer: String,
    audience: Option<String>,
    access_ttl: Duration,
    /// `REFRESH_TOKEN_TTL`, never more than `SESSION_MAX_AGE`.
    refresh_ttl: Duration,
    session_max_age: Duration,
}

/// The `typ` header of each kind of token.
fn header_typ(typ: TokenType) -> &'static str {
    match typ {
        TokenType::Access => "at+jwt",
        TokenType::Refresh => "JWT",
    }
}

/// How far in the future a token's `iat` may lie: the clock skew tolerated between the
/// instance that signed it and the one verifying it.
const IAT_SKEW_SECS: i64 = 60;

/// The keys a token may be verified with.
enum VerifyingKeys {
    /// HS256: the one shared secret; a `kid` plays no part.
    Secret(DecodingKey),
    /// RS256: the key named by the token's `kid`; an unknown or missing `kid` fails.
    ByKeyId(HashMap<String, DecodingKey>),
}

impl Tokens {
    pub fn new(config: &TokenConfig) -> Result<Self, ConfigError> {
        crate::auth::jwt_crypto::install();
        let algorithm = config.signing.algorithm();
        let mut header = Header::new(algorithm);
        let (encoding, keys, jwks) = match &config.signing {
            SigningConfig::Hs256 { secret } => {
                let secret = secret.expose_secret().as_bytes();
                (
                    EncodingKey::from_secret(secret),
                    VerifyingKeys::Secret(DecodingKey::from_secret(secret)),
                    // A shared secret is never published.
                    JwkSet::default(),
                )
            }
            SigningConfig::Rs256(rsa) => {
                header.kid = Some(rsa.key_id.clone());
                let current = std::iter::once((&rsa.key_id, &rsa.public_key));
                let mut keys = HashMap::new();
                let mut jwks = JwkSet::default();
                for (kid, public_key) in current.chain(&rsa.other_keys) {
                    let (key, jwk) = published(kid, public_key)?;
                    keys.insert(kid.clone(), key);
                    jwks.keys.push(jwk);
                }
                (
                    EncodingKey::from_rsa_der(rsa.private_key_der()),
                    VerifyingKeys::ByKeyId(keys),
                    jwks,
                )
            }
        };
        let validation = |audience: Option<&String>| {
            let mut validation = Validation::new(algorithm);
            validation.leeway = 0;
            validation.set_issuer(&[&config.issuer]);
            match audience {
                Some(audience) => {
                    validation.set_audience(&[audience]);
                    validation.set_required_spec_claims(&["exp", "iat", "iss", "sub", "aud"]);
                }
                None => {
                    validation.validate_aud = false;
                    validation.set_required_spec_claims(&["exp", "iat", "iss", "sub"]);
                }
            }
            validation
        };
        let access_validation = validation(config.audience.as_ref());
        let refresh_validation = validation(None);
        Ok(Self {
            header,
            encoding,
            keys,
            jwks,
            access_validation,
            refresh_validation,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            access_ttl: config.access_ttl,
            refresh_ttl: config.refresh_ttl.min(config.session_max_age),
            session_max_age: config.session_max_age,
        })
    }

    /// How long a session lives unless refreshed (and a refresh token is valid).
    pub fn refresh_ttl(&self) -> Duration {
        self.refresh_ttl
    }

    /// `SESSION_MAX_AGE`: no refresh extends a session past this age from its login.
    pub fn session_max_age(&self) -> Duration {
        self.session_max_age
    }

    /// The public keys that verify our tokens, as RFC 7517 JWKs (`kid`, `use: sig`,
    /// `alg: RS256`, `n`, `e`): the current key first, then the others of
    /// `JWT_PUBLIC_KEYS`. Empty under HS256.
    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }

    /// A fresh access token, carrying the session's `amr` and `auth_time`, and the
    /// refresh token whose `jti` the session stores.
    pub fn issue(
        &self,
        user_id: i64,
        role: Role,
        session: &NewSession,
    ) -> Result<TokenPair, ApiError> {
        let now = chrono::Utc::now().timestamp();
        let claims = |typ, jti, ttl: Duration| Claims {
            iss: self.issuer.clone(),
            sub: user_id.to_string(),
            user_id,
            sid: session.id,
            jti,
            iat: now,
            exp: now + ttl.as_secs() as i64,
            typ,
            role: None,
            aud: None,
            amr: None,
            auth_time: None,
        };
        let access = Claims {
            role: Some(role),
            aud: self.audience.clone(),
            amr: Some(session.amr.clone()),
            auth_time: Some(session.auth_time),
            ..claims(TokenType::Access, Uuid::new_v4(), self.access_ttl)
        };
        let refresh = claims(TokenType::Refresh, session.refresh_jti, self.refresh_ttl);
        Ok(TokenPair {
            access_token: self.sign(&access)?,
            token_type: "Bearer",
            expires_in: self.access_ttl.as_secs(),
            refresh_token: self.sign(&refresh)?,
        })
    }

    /// Signs arbitrary claims with the configured key (also used by tests to forge tokens
    /// with chosen claims).
    /// Access tokens carry the header `typ: at+jwt` (RFC 9068), refresh tokens `typ: JWT`,
    /// so a verifier that checks `typ` (as RFC 9068 §4 asks) never takes a refresh token
    /// for an access token.
    pub fn sign(&self, claims: &Claims) -> Result<String, ApiError> {
        let mut header = self.header.clone();
        header.typ = Some(header_typ(claims.typ).to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding).map_err(ApiError::internal)
    }

    /// Verifies the algorithm (only the configured one), the key (under RS256 the one the
    /// `kid` header names), the signature, `iss`, `aud` (of access tokens, when configured),
    /// `exp`, an `iat` not in the future, and `typ`. Any failure is 401 `invalid_token`; why is logged at
    /// debug level only.
    pub fn verify(&self, token: &str, expected: TokenType) -> Result<Claims, ApiError> {
        let validation = match expected {
            TokenType::Access => &self.access_validation,
            TokenType::Refresh => &self.refresh_validation,
        };
        let typ = jsonwebtoken::decode_header(token)
            .map_err(|_| ApiError::InvalidToken)?
            .typ;
        if !typ.is_some_and(|typ| typ.eq_ignore_ascii_case(header_typ(expected))) {
            tracing::debug!("token rejected: wrong typ header");
            return Err(ApiError::InvalidToken);
        }
        let claims = jsonwebtoken::decode::<Claims>(token, self.key_for(token)?, validation)
            .map_err(|err| {
                tracing::debug!(kind = ?err.kind(), "token rejected");
                ApiError::InvalidToken
            })?
            .claims;
        if claims.typ != expected || claims.sub != claims.user_id.to_string() {
            return Err(ApiError::InvalidToken);
        }
        // Not issued in the future: allow only the clock skew between instances.
        if claims.iat > chrono::Utc::now().timestamp() + IAT_SKEW_SECS {
            tracing::debug!("token rejected: issued in the future");
            return Err(ApiError::InvalidToken);
        }
        Ok(claims)
    }

    /// The key to check `token` with: under RS256, the one its `kid` names.
    fn key_for(&self, token: &str) -> Result<&DecodingKey, ApiError> {
        match &self.keys {
            VerifyingKeys::Secret(key) => Ok(key),
            VerifyingKeys::ByKeyId(keys) => {
                let header = jsonwebtoken::decode_header(token).map_err(|err| {
                    tracing::debug!(kind = ?err.kind(), "token rejected");
                    ApiError::InvalidToken
                })?;
                let key = header.kid.as_deref().and_then(|kid| keys.get(kid));
                key.ok_or_else(|| {
                    tracing::debug!(kid = ?header.kid, "token rejected: unknown key id");
                    ApiError::InvalidToken
                })
            }
        }
    }
}

/// The verifying key and the published JWK of one RSA public key.
fn published(kid: &str, public_key: &RsaPublicKey) -> Result<(DecodingKey, Jwk), ConfigError> {
    let key = DecodingKey::from_rsa_raw_components(
        &public_key.n().to_bytes_be(),
        &public_key.e().to_bytes_be(),
    );
    let mut jwk =
        Jwk::from_decoding_key(&key, Some(Algorithm::RS256)).map_err(|_| ConfigError {
            variable: "JWT_PUBLIC_KEYS",
            problem: format!("kid {kid:?} cannot be published as a JWK"),
        })?;
    jwk.common.key_id = Some(kid.to_owned());
    jwk.common.public_key_use = Some(PublicKeyUse::Signature);
    Ok((key, jwk))
}

/// RSA keys for tests, generated once per test process: no key material in the repository.
#[cfg(test)]
pub(crate) mod test_keys {
    use std::sync::LazyLock;

    use rsa::RsaPrivateKey;
    use rsa::pkcs1::{EncodeRsaPrivateKey, EncodeRsaPublicKey, LineEnding};
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey};

    /// One TEST-ONLY key pair in every PEM form the configuration accepts.
    pub struct TestKey {
        pub private_pkcs8: String,
        pub private_pkcs1: String,
        pub public_spki: String,
        pub public_pkcs1: String,
    }

    impl TestKey {
        pub fn generate(bits: usize) -> Self {
            let key = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits).unwrap();
            let public = key.to_public_key();
            Self {
                private_pkcs8: key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
                private_pkcs1: key.to_pkcs1_pem(LineEnding::LF).unwrap().to_string(),
                public_spki: public.to_public_key_pem(LineEnding::LF).unwrap(),
                public_pkcs1: public.to_pkcs1_pem(LineEnding::LF).unwrap(),
            }
        }
    }

    /// Three 2048-bit keys: the tests call them k1, k2 and a stranger's.
    pub static KEYS: LazyLock<[TestKey; 3]> =
        LazyLock::new(|| std::array::from_fn(|_| TestKey::generate(2048)));

    /// Too short for production.
    pub static SHORT: LazyLock<TestKey> = LazyLock::new(|| TestKey::generate(1024));
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use secrecy::SecretString;

    fn tokens(issuer: &str, audience: Option<&str>, secret: &str) -> Tokens {
        Tokens::new(&TokenConfig {
            signing: SigningConfig::Hs256 {
                secret: SecretString::from(secret.to_owned()),
            },
            issuer: issuer.into(),
            audience: audience.map(Into::into),
            access_ttl: Duration::from_secs(900),
            refresh_ttl: Duration::from_secs(3600),
            session_max_age: Duration::from_secs(7_776_000),
        })
        .unwrap()
    }

    const SECRET: &str = "an-hs256-secret-of-at-least-32-bytes!!";

    /// A password login's session.
    pub(super) fn session(id: Uuid, refresh_jti: Uuid) -> NewSession {
        NewSession {
            id,
            refresh_jti,
            amr: vec!["pwd".to_owned()],
            auth_time: 1_700_000_000,
        }
    }

    #[test]
    fn an_issued_pair_carries_the_contract_claims() {
        let t = tokens("https://auth.example", Some("api"), SECRET);
        let (sid, jti) = (Uuid::new_v4(), Uuid::new_v4());
        let pair = t.issue(7, Role::Admin, &session(sid, jti)).unwrap();
        assert_eq!((pair.token_type, pair.expires_in), ("Bearer", 900));
        let access = t.verify(&pair.access_token, TokenType::Access).unwrap();
        assert_eq!(
            (access.sub.as_str(), access.user_id, access.sid),
            ("7", 7, sid)
        );
        assert_eq!(access.role, Some(Role::Admin));
        assert_eq!(access.aud.as_deref(), Some("api"));
        assert_eq!(access.amr, Some(vec!["pwd".to_owned()]));
        assert_eq!(access.auth_time, Some(1_700_000_000));
        assert_eq!(access.exp - access.iat, 900);
        let refresh = t.verify(&pair.refresh_token, TokenType::Refresh).unwrap();
        assert_eq!((refresh.jti, refresh.sid, refresh.role), (jti, sid, None));
        assert_eq!((refresh.amr, refresh.auth_time), (None, None));
        assert_eq!(
            refresh.aud, None,
            "a refresh token is for us, not for the API"
        );
        assert_eq!(refresh.exp - refresh.iat, 3600);
    }

    #[test]
    fn access_tokens_are_typed_at_jwt_and_refresh_tokens_never_pass_as_them() {
        let t = tokens("iss", None, SECRET);
        let pair = t
            .issue(1, Role::User, &session(Uuid::new_v4(), Uuid::new_v4()))
            .unwrap();
        let typ = |token: &str| jsonwebtoken::decode_header(token).unwrap().typ;
        assert_eq!(typ(&pair.access_token).as_deref(), Some("at+jwt"));
        assert_ne!(typ(&pair.refresh_token).as_deref(), Some("at+jwt"));
        // Access claims under a plain JWT header are not an access token (RFC 9068 §4).
        let claims = t.verify(&pair.access_token, TokenType::Access).unwrap();
        let key = EncodingKey::from_secret(SECRET.as_bytes());
        let untyped = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap();
        assert!(t.verify(&untyped, TokenType::Access).is_err());
    }

    #[test]
    fn a_token_is_never_accepted_as_the_other_type() {
        let t = tokens("iss", None, SECRET);
        let pair = t
            .issue(1, Role::User, &session(Uuid::new_v4(), Uuid::new_v4()))
            .unwrap();
        assert!(matches!(
            t.verify(&pair.access_token, TokenType::Refresh),
            Err(ApiError::InvalidToken)
        ));
        assert!(matches!(
            t.verify(&pair.refresh_token, TokenType::Access),
            Err(ApiError::InvalidToken)
        ));
    }

    #[test]
    fn foreign_expired_or_tampered_tokens_are_invalid() {
        let t = tokens("iss", None, SECRET);
        let pair = t
            .issue(1, Role::User, &session(Uuid::new_v4(), Uuid::new_v4()))
            .unwrap();
        let other_key = tokens("iss", None, "another-secret-that-is-also-32-bytes-long");
        let other_issuer = tokens("someone-else", None, SECRET);
        for verifier in [&other_key, &other_issuer] {
            assert!(
                verifier
                    .verify(&pair.access_token, TokenType::Access)
                    .is_err()
            );
        }
        let mut claims = t.verify(&pair.access_token, TokenType::Access).unwrap();
        claims.exp = chrono::Utc::now().timestamp() - 1;
        let expired = t.sign(&claims).unwrap();
        assert!(t.verify(&expired, TokenType::Access).is_err());
        let mut parts: Vec<&str> = pair.access_token.split('.').collect();
        let forged_payload = URL_SAFE_NO_PAD.encode(r#"{"user_id":2,"sub":"2"}"#);
        parts[1] = &forged_payload;
        assert!(t.verify(&parts.join("."), TokenType::Access).is_err());
        assert!(t.verify("not-a-jwt", TokenType::Access).is_err());
    }

    #[test]
    fn a_token_issued_in_the_future_is_invalid_beyond_the_clock_skew() {
        let t = tokens("iss", None, SECRET);
        let pair = t
            .issue(1, Role::User, &session(Uuid::new_v4(), Uuid::new_v4()))
            .unwrap();
        let mut claims = t.verify(&pair.access_token, TokenType::Access).unwrap();
        claims.iat += IAT_SKEW_SECS - 5;
        claims.exp += IAT_SKEW_SECS - 5;
        assert!(
            t.verify(&t.sign(&claims).unwrap(), TokenType::Access)
                .is_ok()
        );
        claims.iat += 3600;
        claims.exp += 3600;
        assert!(
            t.verify(&t.sign(&claims).unwrap(), TokenType::Access)
                .is_err()
        );
    }

    #[test]
    fn an_audience_is_required_when_configured() {
        let without = tokens("iss", None, SECRET);
        let pair = without
            .issue(1, Role::User, &session(Uuid::new_v4(), Uuid::new_v4()))
            .unwrap();
        let with = tokens("iss", Some("api"), SECRET);
        assert!(with.verify(&pair.access_token, TokenType::Access).is_err());
        let other = tokens("iss", Some("another-api"), SECRET);
        let theirs = other
            .issue(1, Role::User, &session(Uuid::new_v4(), Uuid::new_v4()))
            .unwrap();
        assert!(
            with.verify(&theirs.access_token, TokenType::Access)
                .is_err()
        );
        assert!(
            with.verify(&theirs.refresh_token, TokenType::Refresh)
                .is_ok(),
            "refresh tokens carry no audience"
        );
    }
}

#[cfg(test)]
mod rs256_tests {
    use super::test_keys::KEYS;
    use super::tests::session;
    use super::*;
    use crate::config::Config;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use secrecy::SecretString;

    /// An RS256 deployment signing with `KEYS[current.1]` as `current.0`, also accepting
    /// `others`, configured as an operator would: through the environment.
    fn rs256(current: (&str, usize), others: &[(&str, usize)]) -> Tokens {
        let public_keys: serde_json::Map<_, _> = others
            .iter()
            .map(|(kid, i)| (kid.to_string(), KEYS[*i].public_spki.clone().into()))
            .collect();
        let env = [
            ("DATABASE_URL", "postgres://x".to_owned()),
            ("JWT_ISSUER", "iss".to_owned()),
            ("JWT_ALGORITHM", "RS256".to_owned()),
            ("JWT_KEY_ID", current.0.to_owned()),
            ("JWT_PRIVATE_KEY", KEYS[current.1].private_pkcs8.clone()),
            (
                "JWT_PUBLIC_KEYS",
                serde_json::Value::from(public_keys).to_string(),
            ),
        ];
        let config = Config::from_lookup(|name| {
            env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone())
        })
        .unwrap();
        Tokens::new(config.tokens.as_ref().unwrap()).unwrap()
    }

    fn hs256() -> Tokens {
        Tokens::new(&TokenConfig {
            signing: SigningConfig::Hs256 {
                secret: SecretString::from("an-hs256-secret-of-at-least-32-bytes!!".to_owned()),
            },
            issuer: "iss".into(),
            audience: None,
            access_ttl: Duration::from_secs(900),
            refresh_ttl: Duration::from_secs(3600),
            session_max_age: Duration::from_secs(7_776_000),
        })
        .unwrap()
    }

    fn access_token(tokens: &Tokens) -> String {
        tokens
            .issue(1, Role::User, &session(Uuid::new_v4(), Uuid::new_v4()))
            .unwrap()
            .access_token
    }

    fn claims(tokens: &Tokens) -> Claims {
        tokens
            .verify(&access_token(tokens), TokenType::Access)
            .unwrap()
    }

    fn rejected(tokens: &Tokens, token: &str) -> bool {
        matches!(
            tokens.verify(token, TokenType::Access),
            Err(ApiError::InvalidToken)
        )
    }

    /// A JWT with a chosen header and no signature, as an attacker would write it.
    fn unsigned(header: serde_json::Value, claims: &Claims) -> String {
        let header = URL_SAFE_NO_PAD.encode(header.to_string());
        let claims = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap());
        format!("{header}.{claims}.")
    }

    #[test]
    fn rs256_signatures_come_from_ring_and_match_the_rsa_crate_bit_for_bit() {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        use rsa::signature::{SignatureEncoding, Signer};
        let _tokens = rs256(("k1", 0), &[]); // installs the provider
        let key = EncodingKey::from_rsa_pem(KEYS[0].private_pkcs1.as_bytes()).unwrap();
        let ours = jsonwebtoken::crypto::sign(b"header.claims", &key, Algorithm::RS256).unwrap();
        let private = rsa::RsaPrivateKey::from_pkcs1_pem(&KEYS[0].private_pkcs1).unwrap();
        let reference = rsa::pkcs1v15::SigningKey::<rsa::sha2::Sha256>::new(private)
            .sign(b"header.claims")
            .to_vec();
        // RSASSA-PKCS1-v1_5 is deterministic: the same key and message, the same bytes.
        assert_eq!(ours, URL_SAFE_NO_PAD.encode(reference));
    }

    #[test]
    fn rs256_verification_accepts_the_rsa_crate_signature_and_nothing_else() {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        use rsa::signature::{SignatureEncoding, Signer};
        use rsa::traits::PublicKeyParts;
        let _tokens = rs256(("k1", 0), &[]); // installs the provider
        let private = rsa::RsaPrivateKey::from_pkcs1_pem(&KEYS[0].private_pkcs1).unwrap();
        let public = DecodingKey::from_rsa_raw_components(
            &private.n().to_bytes_be(),
            &private.e().to_bytes_be(),
        );
        let signature = rsa::pkcs1v15::SigningKey::<rsa::sha2::Sha256>::new(private)
            .sign(b"header.claims")
            .to_vec();
        let verify = |message: &[u8], signature: &[u8]| {
            let signature = URL_SAFE_NO_PAD.encode(signature);
            jsonwebtoken::crypto::verify(&signature, message, &public, Algorithm::RS256).unwrap()
        };
        assert!(verify(b"header.claims", &signature));
        assert!(!verify(b"header.claimz", &signature));
        let mut flipped = signature.clone();
        flipped[10] ^= 1;
        assert!(!verify(b"header.claims", &flipped));
        // Another key's public half does not verify it either.
        let other = jsonwebtoken::crypto::verify(
            &URL_SAFE_NO_PAD.encode(&signature),
            b"header.claims",
            &DecodingKey::from_rsa_raw_components(&[0xc5; 256], &[1, 0, 1]),
            Algorithm::RS256,
        );
        assert!(!other.unwrap());
    }

    #[test]
    fn hs256_is_rfc_4231_hmac_sha256_and_verifies_only_its_own_tag() {
        crate::auth::jwt_crypto::install();
        // RFC 4231, test case 2.
        let tag = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        let tag: Vec<u8> = (0..tag.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&tag[i..i + 2], 16).unwrap())
            .collect();
        let message = b"what do ya want for nothing?";
        let signed = jsonwebtoken::crypto::sign(
            message,
            &EncodingKey::from_secret(b"Jefe"),
            Algorithm::HS256,
        )
        .unwrap();
        assert_eq!(signed, URL_SAFE_NO_PAD.encode(&tag));
        let verify = |secret: &[u8], message: &[u8]| {
            let key = DecodingKey::from_secret(secret);
            jsonwebtoken::crypto::verify(&signed, message, &key, Algorithm::HS256).unwrap()
        };
        assert!(verify(b"Jefe", message));
        assert!(!verify(b"Jeff", message));
        assert!(!verify(b"Jefe", b"what do ya want for nothing!"));
    }

    #[test]
    fn the_provider_knows_only_hs256_and_rs256() {
        crate::auth::jwt_crypto::install();
        let key = EncodingKey::from_secret(b"an-hs256-secret-of-at-least-32-bytes!!");
        for algorithm in [
            Algorithm::HS384,
            Algorithm::HS512,
            Algorithm::ES256,
            Algorithm::EdDSA,
        ] {
            let signed = jsonwebtoken::crypto::sign(b"header.claims", &key, algorithm);
            assert!(signed.is_err(), "{algorithm:?} signed");
            let verified = jsonwebtoken::crypto::verify(
                "c2ln",
                b"header.claims",
                &DecodingKey::from_secret(b"an-hs256-secret-of-at-least-32-bytes!!"),
                algorithm,
            );
            assert!(verified.is_err(), "{algorithm:?} verified");
        }
        // RS256 with a secret instead of RSA key material: refused, not a panic.
        assert!(jsonwebtoken::crypto::sign(b"m", &key, Algorithm::RS256).is_err());
        let secret = DecodingKey::from_secret(b"an-hs256-secret-of-at-least-32-bytes!!");
        assert!(jsonwebtoken::crypto::verify("c2ln", b"m", &secret, Algorithm::RS256).is_err());
    }

    #[test]
    fn rs256_tokens_name_their_key_and_verify() {
        let t = rs256(("k1", 0), &[]);
        let pair = t
            .issue(7, Role::Admin, &session(Uuid::new_v4(), Uuid::new_v4()))
            .unwrap();
        for token in [&pair.access_token, &pair.refresh_token] {
            let header = jsonwebtoken::decode_header(token).unwrap();
            assert_eq!(header.alg, Algorithm::RS256);
            assert_eq!(header.kid.as_deref(), Some("k1"));
        }
        let access = t.verify(&pair.access_token, TokenType::Access).unwrap();
        assert_eq!((access.user_id, access.role), (7, Some(Role::Admin)));
        assert!(t.verify(&pair.refresh_token, TokenType::Refresh).is_ok());
        assert!(rejected(&t, &pair.refresh_token), "types still differ");
    }

    #[test]
    fn a_token_of_the_previous_key_verifies_while_its_public_key_is_listed() {
        let before = rs256(("k1", 0), &[]);
        let old_token = access_token(&before);
        let rotated = rs256(("k2", 1), &[("k1", 0)]);
        assert!(rotated.verify(&old_token, TokenType::Access).is_ok());
        let new_token = access_token(&rotated);
        assert_eq!(
            jsonwebtoken::decode_header(&new_token)
                .unwrap()
                .kid
                .as_deref(),
            Some("k2")
        );
        assert!(rotated.verify(&new_token, TokenType::Access).is_ok());

        let old_key_dropped = rs256(("k2", 1), &[]);
        assert!(rejected(&old_key_dropped, &old_token));
        assert!(
            old_key_dropped
                .verify(&new_token, TokenType::Access)
                .is_ok()
        );
    }

    #[test]
    fn a_next_key_listed_ahead_of_its_use_already_verifies() {
        let before = rs256(("k1", 0), &[("k2", 1)]);
        let after = rs256(("k2", 1), &[("k1", 0)]);
        assert!(
            before
                .verify(&access_token(&after), TokenType::Access)
                .is_ok()
        );
        assert!(
            after
                .verify(&access_token(&before), TokenType::Access)
                .is_ok()
        );
    }

    #[test]
    fn an_unknown_or_missing_kid_or_a_kid_of_another_key_is_invalid() {
        let ours = rs256(("k1", 0), &[("k2", 1)]);
        let stranger = rs256(("k9", 2), &[]);
        assert!(rejected(&ours, &access_token(&stranger)));
        let impostor = rs256(("k1", 2), &[]);
        assert!(
            rejected(&ours, &access_token(&impostor)),
            "a known kid does not make another key's signature valid"
        );
        // Genuine signatures by k1's own key, under a missing, unknown or wrong kid: the kid
        // alone chooses the key, with no fallback even when only one key is configured.
        let only_k1 = rs256(("k1", 0), &[]);
        let claims = claims(&ours);
        let private = EncodingKey::from_rsa_pem(KEYS[0].private_pkcs1.as_bytes()).unwrap();
        let no_kid = jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &private);
        let no_kid = no_kid.unwrap();
        assert!(rejected(&only_k1, &no_kid) && rejected(&ours, &no_kid));
        for kid in ["k7", "", "K1", "k2"] {
            let mut header = Header::new(Algorithm::RS256);
            header.kid = Some(kid.into());
            let token = jsonwebtoken::encode(&header, &claims, &private).unwrap();
            assert!(rejected(&only_k1, &token), "{kid:?}");
            assert!(rejected(&ours, &token), "{kid:?}");
        }
        let mut k1 = Header::new(Algorithm::RS256);
        k1.kid = Some("k1".into());
        k1.typ = Some("at+jwt".into());
        let genuine = jsonwebtoken::encode(&k1, &claims, &private).unwrap();
        assert!(only_k1.verify(&genuine, TokenType::Access).is_ok());
    }

    #[test]
    fn an_rs256_deployment_accepts_no_other_algorithm() {
        let t = rs256(("k1", 0), &[]);
        let claims = claims(&t);
        // The classic confusion: HS256 with the published public key as the HMAC secret.
        for secret in [&KEYS[0].public_spki, &KEYS[0].public_pkcs1] {
            let mut header = Header::new(Algorithm::HS256);
            header.kid = Some("k1".into());
            let forged = jsonwebtoken::encode(
                &header,
                &claims,
                &EncodingKey::from_secret(secret.as_bytes()),
            )
            .unwrap();
            assert!(rejected(&t, &forged));
        }
        for alg in ["none", "None", "NONE"] {
            let forged = unsigned(serde_json::json!({"alg": alg, "kid": "k1"}), &claims);
            assert!(rejected(&t, &forged), "{alg}");
        }
        // Even a genuine signature by our own key under another RSA scheme is refused.
        // (Signed by the rsa crate: our provider signs nothing but HS256 and RS256.)
        use rsa::pkcs8::DecodePrivateKey;
        use rsa::signature::{RandomizedSigner, SignatureEncoding};
        let private = rsa::RsaPrivateKey::from_pkcs8_pem(&KEYS[0].private_pkcs8).unwrap();
        let unsigned_ps256 = unsigned(
            serde_json::json!({"alg": "PS256", "kid": "k1", "typ": "at+jwt"}),
            &claims,
        );
        let message = unsigned_ps256.trim_end_matches('.');
        let signature = rsa::pss::SigningKey::<rsa::sha2::Sha256>::new(private)
            .sign_with_rng(&mut rsa::rand_core::OsRng, message.as_bytes())
            .to_vec();
        let ps256 = format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature));
        assert!(rejected(&t, &ps256));
    }

    #[test]
    fn an_hs256_deployment_accepts_no_rs256_or_unsigned_token() {
        let hs = hs256();
        let rs = rs256(("k1", 0), &[]);
        assert!(rejected(&hs, &access_token(&rs)));
        let claims = claims(&hs);
        let forged = unsigned(serde_json::json!({"alg": "none"}), &claims);
        assert!(rejected(&hs, &forged));
        assert!(
            hs.jwks().keys.is_empty(),
            "a shared secret is never published"
        );
    }

    #[test]
    fn the_jwks_lists_the_current_key_then_the_others() {
        let t = rs256(("k2", 1), &[("k1", 0), ("k0", 2)]);
        let jwks = serde_json::to_value(t.jwks()).unwrap();
        let keys = jwks["keys"].as_array().unwrap();
        let kids: Vec<&str> = keys.iter().map(|k| k["kid"].as_str().unwrap()).collect();
        assert_eq!(kids, ["k2", "k0", "k1"]);
        for key in keys {
            assert_eq!(
                (&key["kty"], &key["use"], &key["alg"]),
                (&"RSA".into(), &"sig".into(), &"RS256".into())
            );
            assert_eq!(key["e"], "AQAB");
            let n = URL_SAFE_NO_PAD.decode(key["n"].as_str().unwrap()).unwrap();
            assert_eq!(n.len(), 256, "2048-bit modulus, no leading zero");
            let names: Vec<&String> = key.as_object().unwrap().keys().collect();
            assert_eq!(names.len(), 6, "no private parameter: {names:?}");
        }
        // Each published key verifies its kid's tokens on its own.
        let token = access_token(&t);
        let jwk = t.jwks().find("k2").unwrap();
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&["iss"]);
        let key = DecodingKey::from_jwk(jwk).unwrap();
        assert!(jsonwebtoken::decode::<Claims>(&token, &key, &validation).is_ok());
    }
}
