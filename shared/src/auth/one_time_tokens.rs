//! One-time tokens of every kind (email verification, email-change revert, password reset,
//! and later ones): 32 random bytes, URL-safe base64 on the wire, only their SHA-256 at
//! rest. Single use, expiring, superseded by the next token of the same kind for the same
//! account, and void once the address they were mailed to is no longer the account's (for
//! a reset, also once the password changed). Every bad token is 400 `invalid_link`.
//!
//! Tokens are found by the hash of what the client presents, so no stored secret is ever
//! compared byte by byte: a timing difference could only tell an attacker about hashes of
//! their own guesses, never about a real token.

use std::time::Duration;

use crate::db::{GenericClient, Param, Type};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::accounts::users;
use crate::http::error::ApiError;
use crate::http::request::{Fields, validated};

/// Random bytes in a token.
pub const TOKEN_BYTES: usize = 32;

/// What a token lets its holder do. Each kind has its own lifetime (given at issue) and
/// its own rule for when it becomes void.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Proves control of the address it was sent to (the email or the pending email).
    VerifyEmail,
    /// Sent to the old address when an email change is requested: undoes the change.
    RevertEmail,
    /// Sets a new password; void once the email or the password changed.
    ResetPassword,
    /// The `mfa_token` a correct password earns an account with a second factor: the
    /// second step of that login. Never mailed; void once the password or the second
    /// factor changed, and voided ([`void_live`]) when the account is disabled.
    MfaLogin,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::RevertEmail => "revert_email",
            Self::ResetPassword => "reset_password",
            Self::MfaLogin => "mfa_login",
        }
    }

    /// SQL over the token `t` and its user `u`: true while a token of this kind still
    /// applies to the account as it is now.
    fn still_applies(self) -> String {
        match self {
            Self::VerifyEmail => "(t.email = u.email OR t.email = u.pending_email)".to_owned(),
            Self::RevertEmail => "true".to_owned(),
            Self::ResetPassword => {
                format!("(t.email = u.email AND t.bound_state = {})", self.binding())
            }
            Self::MfaLogin => format!("t.bound_state = {}", self.binding()),
        }
    }

    /// SQL over the user `u`: the state a token of this kind is bound to at issue
    /// (`bound_state`), NULL for kinds bound to none. [`Kind::still_applies`] compares it.
    fn binding(self) -> &'static str {
        match self {
            Self::ResetPassword => "sha256(convert_to(u.password_hash, 'UTF8'))",
            Self::MfaLogin => {
                "sha256(convert_to(u.password_hash, 'UTF8') || coalesce(u.totp_secret, ''))"
            }
            Self::VerifyEmail | Self::RevertEmail => "NULL::bytea",
        }
    }
}

/// A token as it goes into a mail. Only its hash is stored.
pub struct RawToken(SecretString);

impl RawToken {
    pub(crate) fn generate() -> (Self, Vec<u8>) {
        let mut bytes = [0u8; TOKEN_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        let token = URL_SAFE_NO_PAD.encode(bytes);
        (Self(SecretString::from(token)), hash(&bytes))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// The body of the routes that take a mailed link's token: `{"token"}`.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"token": "q3J0b2tlbi1mcm9tLXRoZS1saW5rLWZyYWdtZW50LXgx"}))]
pub struct LinkBody {
    /// The `token` from the link's fragment (`#token=...`).
    #[schema(value_type = String)]
    pub token: Option<String>,
}

impl LinkBody {
    /// The token; 400 `validation_failed` when absent or empty.
    pub fn token(self) -> Result<String, ApiError> {
        required_field("token", self.token)
    }
}

/// A body's one required text field; 400 `validation_failed` when absent or empty.
pub fn required_field(field: &'static str, value: Option<String>) -> Result<String, ApiError> {
    let mut fields = Fields::default();
    let value = fields.required_text(field, value);
    fields.finish()?;
    validated(value)
}

/// The account and address of a token just spent (or found spent).
#[derive(Debug)]
pub struct Spent {
    pub user_id: i64,
    /// The address the token was mailed to.
    pub email: Option<String>,
}

fn hash(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}

/// The hash of a presented token; anything that is not 32 bytes of URL-safe base64 is
/// `invalid_link` without a database lookup.
fn presented_hash(token: &str) -> Result<Vec<u8>, ApiError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(token.trim())
        .map_err(|_| ApiError::InvalidLink)?;
    if bytes.len() != TOKEN_BYTES {
        return Err(ApiError::InvalidLink);
    }
    Ok(hash(&bytes))
}

/// Issues a token of `kind` for `user_id`, mailed to `email`, living `ttl`; the previous
/// live token of that kind for that account is superseded. `None` when there is no such
/// user (so callers can run the same statements whether or not an account exists).
/// Call it inside the transaction that queues the mail.
pub async fn issue(
    client: &impl GenericClient,
    user_id: i64,
    kind: Kind,
    email: Option<&str>,
    ttl: Duration,
) -> Result<Option<RawToken>, ApiError> {
    issue_if(client, user_id, kind, email, ttl, None).await
}

/// [`issue`], only while the account's password hash is `verified_hash` (the one a
/// password was just checked against) and the account is enabled: `None` otherwise. For
/// the `mfa_token` a password check earns, bound to that check.
pub async fn issue_after_password(
    client: &impl GenericClient,
    user_id: i64,
    kind: Kind,
    ttl: Duration,
    verified_hash: &str,
) -> Result<Option<RawToken>, ApiError> {
    issue_if(client, user_id, kind, None, ttl, Some(verified_hash)).await
}

async fn issue_if(
    client: &impl GenericClient,
    user_id: i64,
    kind: Kind,
    email: Option<&str>,
    ttl: Duration,
    verified_hash: Option<&str>,
) -> Result<Option<RawToken>, ApiError> {
    // The account's row lock orders concurrent issues: each supersedes the one before.
    users::lock(client, user_id).await?;
    client
        .execute_typed(
            "UPDATE one_time_tokens SET superseded_at = now()
             WHERE user_id = $1 AND kind = $2 AND used_at IS NULL AND superseded_at IS NULL",
            &[(&user_id, Type::INT8), (&kind.as_str(), Type::TEXT)],
        )
        .await?;
    let (token, token_hash) = RawToken::generate();
    let sql = format!(
        "INSERT INTO one_time_tokens (token_hash, user_id, kind, email, bound_state, expires_at)
         SELECT $3, u.id, $2, $4, {}, now() + make_interval(secs => $5)
         FROM users u
         WHERE u.id = $1 AND ($6::text IS NULL OR (u.password_hash = $6 AND NOT u.disabled))",
        kind.binding()
    );
    let inserted = client
        .execute_typed(
            &sql,
            &[
                (&user_id, Type::INT8),
                (&kind.as_str(), Type::TEXT),
                (&token_hash, Type::BYTEA),
                (&email, Type::TEXT),
                (&ttl.as_secs_f64(), Type::FLOAT8),
                (&verified_hash, Type::TEXT),
            ],
        )
        .await?;
    Ok((inserted == 1).then_some(token))
}

/// Spends a live token of `kind`: 400 `invalid_link` if it is unknown, of another kind,
/// expired, used, superseded or void. Of concurrent uses, exactly one succeeds (the row
/// lock decides). Spend it inside the transaction that acts on it, so that a later
/// failure leaves it unspent.
pub async fn spend(
    client: &impl GenericClient,
    kind: Kind,
    token: &str,
) -> Result<Spent, ApiError> {
    let token_hash = presented_hash(token)?;
    // The account's row first, then the token's, the order `issue` takes them in: a reset
    // and a concurrent forgot-password never wait for each other in a cycle.
    let params: [Param<'_>; 2] = [(&token_hash, Type::BYTEA), (&kind.as_str(), Type::TEXT)];
    let owner: i64 = client
        .query_typed_opt(
            "SELECT user_id FROM one_time_tokens WHERE token_hash = $1 AND kind = $2",
            &params,
        )
        .await?
        .ok_or(ApiError::InvalidLink)?
        .try_get("user_id")?;
    users::lock(client, owner).await?;
    let sql = format!(
        "UPDATE one_time_tokens t SET used_at = now()
         FROM users u
         WHERE t.token_hash = $1 AND t.kind = $2 AND u.id = t.user_id
           AND t.used_at IS NULL AND t.superseded_at IS NULL AND t.expires_at > now()
           AND {}
         RETURNING t.user_id, t.email",
        kind.still_applies()
    );
    let row = client
        .query_typed_opt(&sql, &params)
        .await?
        .ok_or(ApiError::InvalidLink)?;
    Ok(Spent {
        user_id: row.try_get("user_id")?,
        email: row.try_get("email")?,
    })
}

/// Voids every live token of `kind` of `user_id` (e.g. the login challenges of an account
/// being disabled: enabling it again must not revive them). Returns how many.
pub async fn void_live(
    client: &impl GenericClient,
    user_id: i64,
    kind: Kind,
) -> Result<u64, ApiError> {
    Ok(client
        .execute_typed(
            "UPDATE one_time_tokens SET superseded_at = now()
             WHERE user_id = $1 AND kind = $2 AND used_at IS NULL AND superseded_at IS NULL",
            &[(&user_id, Type::INT8), (&kind.as_str(), Type::TEXT)],
        )
        .await?)
}

/// What a presented token of `kind` says before it is spent: whose it is, whether it
/// could be spent now, and the account's state the route must check first. `None` for a
/// token that is unknown or of another kind; 400 `invalid_link` for one that is no token.
#[derive(Debug)]
pub struct Peeked {
    pub user_id: i64,
    /// Unspent, unexpired, not superseded, and not void ([`Kind::still_applies`]).
    pub live: bool,
    pub disabled: bool,
    pub mfa_enabled: bool,
}

/// Reads a token without spending it (see [`Peeked`]).
pub async fn peek(
    client: &impl GenericClient,
    kind: Kind,
    token: &str,
) -> Result<Option<Peeked>, ApiError> {
    let token_hash = presented_hash(token)?;
    let sql = format!(
        "SELECT t.user_id, u.disabled, u.mfa_enabled,
                (t.used_at IS NULL AND t.superseded_at IS NULL AND t.expires_at > now()
                 AND {}) AS live
         FROM one_time_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = $1 AND t.kind = $2",
        kind.still_applies()
    );
    let row = client
        .query_typed_opt(
            &sql,
            &[(&token_hash, Type::BYTEA), (&kind.as_str(), Type::TEXT)],
        )
        .await?;
    row.map(|row| {
        Ok(Peeked {
            user_id: row.try_get("user_id")?,
            live: row.try_get::<_, Option<bool>>("live")?.unwrap_or(false),
            disabled: row.try_get("disabled")?,
            mfa_enabled: row.try_get("mfa_enabled")?,
        })
    })
    .transpose()
}

/// A token of `kind` that was already spent, if `token` is one (for answering a second
/// click on a link as the first was answered).
pub async fn find_spent(
    client: &impl GenericClient,
    kind: Kind,
    token: &str,
) -> Result<Option<Spent>, ApiError> {
    let token_hash = presented_hash(token)?;
    let row = client
        .query_typed_opt(
            "SELECT user_id, email FROM one_time_tokens
             WHERE token_hash = $1 AND kind = $2 AND used_at IS NOT NULL",
            &[(&token_hash, Type::BYTEA), (&kind.as_str(), Type::TEXT)],
        )
        .await?;
    row.map(|row| {
        Ok(Spent {
            user_id: row.try_get("user_id")?,
            email: row.try_get("email")?,
        })
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_32_random_bytes_in_url_safe_base64_and_only_its_hash_is_kept() {
        let (token, stored) = RawToken::generate();
        assert_eq!(token.expose().len(), 43);
        assert!(
            token
                .expose()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(presented_hash(token.expose()).unwrap(), stored);
        assert_ne!(stored, token.expose().as_bytes());
        let (other, _) = RawToken::generate();
        assert_ne!(token.expose(), other.expose());
    }

    #[test]
    fn anything_but_32_bytes_of_base64_is_an_invalid_link() {
        for bad in [
            "",
            "abc",
            "not base64 at all!",
            &"A".repeat(44),
            &"A".repeat(42),
        ] {
            assert!(
                matches!(presented_hash(bad), Err(ApiError::InvalidLink)),
                "{bad}"
            );
        }
    }
}
