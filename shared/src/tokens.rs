//! JWT access and refresh tokens: the contract's claims, signing and verification.

use std::time::Duration;

use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::{ConfigError, TokenConfig};
use crate::error::ApiError;
use crate::identity::Role;
use crate::users::User;

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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
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

/// Signs and verifies tokens with the configured algorithm and keys.
pub struct Tokens {
    header: Header,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: Option<String>,
    access_ttl: Duration,
    refresh_ttl: Duration,
}

impl Tokens {
    pub fn new(config: &TokenConfig) -> Result<Self, ConfigError> {
        let algorithm = config.signing.algorithm();
        let secret = config.signing.hs256_secret();
        let mut validation = Validation::new(algorithm);
        validation.leeway = 0;
        validation.set_issuer(&[&config.issuer]);
        match &config.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                validation.set_required_spec_claims(&["exp", "iat", "iss", "sub", "aud"]);
            }
            None => {
                validation.validate_aud = false;
                validation.set_required_spec_claims(&["exp", "iat", "iss", "sub"]);
            }
        }
        Ok(Self {
            header: Header::new(algorithm),
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            access_ttl: config.access_ttl,
            refresh_ttl: config.refresh_ttl,
        })
    }

    pub fn refresh_ttl(&self) -> Duration {
        self.refresh_ttl
    }

    /// A fresh access token and the refresh token whose `jti` the session stores.
    pub fn issue(
        &self,
        user_id: i64,
        role: Role,
        session_id: Uuid,
        refresh_jti: Uuid,
    ) -> Result<TokenPair, ApiError> {
        let now = chrono::Utc::now().timestamp();
        let claims = |typ, jti, ttl: Duration, role| Claims {
            iss: self.issuer.clone(),
            sub: user_id.to_string(),
            user_id,
            sid: session_id,
            jti,
            iat: now,
            exp: now + ttl.as_secs() as i64,
            typ,
            role,
            aud: self.audience.clone(),
        };
        let access = claims(
            TokenType::Access,
            Uuid::new_v4(),
            self.access_ttl,
            Some(role),
        );
        let refresh = claims(TokenType::Refresh, refresh_jti, self.refresh_ttl, None);
        Ok(TokenPair {
            access_token: self.sign(&access)?,
            token_type: "Bearer",
            expires_in: self.access_ttl.as_secs(),
            refresh_token: self.sign(&refresh)?,
        })
    }

    /// Signs arbitrary claims with the configured key (also used by tests to forge tokens
    /// with chosen claims).
    pub fn sign(&self, claims: &Claims) -> Result<String, ApiError> {
        jsonwebtoken::encode(&self.header, claims, &self.encoding).map_err(ApiError::internal)
    }

    /// Verifies signature, algorithm, `iss`, `aud` (when configured), `exp`, and `typ`.
    /// Any failure is 401 `invalid_token`; why is logged at debug level only.
    pub fn verify(&self, token: &str, expected: TokenType) -> Result<Claims, ApiError> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|err| {
                tracing::debug!(kind = ?err.kind(), "token rejected");
                ApiError::InvalidToken
            })?
            .claims;
        if claims.typ != expected || claims.sub != claims.user_id.to_string() {
            return Err(ApiError::InvalidToken);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SigningConfig;
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
        })
        .unwrap()
    }

    const SECRET: &str = "an-hs256-secret-of-at-least-32-bytes!!";

    #[test]
    fn an_issued_pair_carries_the_contract_claims() {
        let t = tokens("https://auth.example", Some("api"), SECRET);
        let (sid, jti) = (Uuid::new_v4(), Uuid::new_v4());
        let pair = t.issue(7, Role::Admin, sid, jti).unwrap();
        assert_eq!((pair.token_type, pair.expires_in), ("Bearer", 900));
        let access = t.verify(&pair.access_token, TokenType::Access).unwrap();
        assert_eq!(
            (access.sub.as_str(), access.user_id, access.sid),
            ("7", 7, sid)
        );
        assert_eq!(access.role, Some(Role::Admin));
        assert_eq!(access.aud.as_deref(), Some("api"));
        assert_eq!(access.exp - access.iat, 900);
        let refresh = t.verify(&pair.refresh_token, TokenType::Refresh).unwrap();
        assert_eq!((refresh.jti, refresh.sid, refresh.role), (jti, sid, None));
        assert_eq!(refresh.exp - refresh.iat, 3600);
    }

    #[test]
    fn a_token_is_never_accepted_as_the_other_type() {
        let t = tokens("iss", None, SECRET);
        let pair = t
            .issue(1, Role::User, Uuid::new_v4(), Uuid::new_v4())
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
            .issue(1, Role::User, Uuid::new_v4(), Uuid::new_v4())
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
    fn an_audience_is_required_when_configured() {
        let without = tokens("iss", None, SECRET);
        let pair = without
            .issue(1, Role::User, Uuid::new_v4(), Uuid::new_v4())
            .unwrap();
        let with = tokens("iss", Some("api"), SECRET);
        assert!(with.verify(&pair.access_token, TokenType::Access).is_err());
    }
}
