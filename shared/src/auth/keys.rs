//! The JWT signing keys (`JWT_ALGORITHM` and its key material): read and checked at cold
//! start, so a function with a weak, malformed or mismatched key never starts. What signs
//! and verifies with them is `crate::auth::tokens` and `crate::auth::jwt_crypto`.

use std::collections::BTreeMap;

use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey, EncodeRsaPrivateKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::traits::PublicKeyParts;
use rsa::{RsaPrivateKey, RsaPublicKey};
use secrecy::{ExposeSecret, SecretSlice, SecretString};

use crate::config::{ConfigError, problem};

/// `JWT_ALGORITHM` and its key material.
pub enum SigningConfig {
    /// `HS256` with `JWT_SECRET` (at least 32 bytes).
    Hs256 { secret: SecretString },
    /// `RS256` with `JWT_PRIVATE_KEY`, `JWT_KEY_ID` and `JWT_PUBLIC_KEYS`.
    Rs256(RsaKeys),
}

/// RS256 key material, parsed and checked at start-up. Holds the private key, so it is
/// deliberately not `Debug`.
pub struct RsaKeys {
    /// `JWT_KEY_ID`: the `kid` header of every token signed here.
    pub key_id: String,
    /// `JWT_PRIVATE_KEY` (PEM, PKCS#1 or PKCS#8), kept as PKCS#1 DER.
    private_key: SecretSlice<u8>,
    /// The public half of `JWT_PRIVATE_KEY`.
    pub public_key: RsaPublicKey,
    /// `JWT_PUBLIC_KEYS`: further keys that verify and are published, by `kid`: the
    /// previous keys while tokens they signed may still be alive, or the next key ahead of
    /// its use. Never contains `key_id`.
    pub other_keys: BTreeMap<String, RsaPublicKey>,
}

impl RsaKeys {
    /// The private key as PKCS#1 DER.
    pub(crate) fn private_key_der(&self) -> &[u8] {
        self.private_key.expose_secret()
    }
}

/// The RSA modulus sizes accepted, in every setting: NIST's floor of 2048 bits, which is
/// also the least `ring` (`crate::auth::jwt_crypto`) signs and verifies with; at most 4096,
/// a key that still fits Lambda's 4 KB of environment variables.
pub const MIN_RSA_BITS: usize = 2048;
pub const MAX_RSA_BITS: usize = 4096;

/// The minimum HS256 secret length the contract allows.
pub const MIN_SECRET_BYTES: usize = 32;

impl SigningConfig {
    /// `JWT_ALGORITHM` (default HS256) and the key material it needs; `production` refuses
    /// placeholder secrets.
    pub(crate) fn from_env(
        var: &impl Fn(&str) -> Option<String>,
        production: bool,
    ) -> Result<Self, ConfigError> {
        match var("JWT_ALGORITHM").as_deref() {
            None | Some("HS256") => Ok(Self::Hs256 {
                secret: hs256_secret(var, production)?,
            }),
            Some("RS256") => Ok(Self::Rs256(rsa_keys(var)?)),
            Some(_) => Err(problem("JWT_ALGORITHM", "must be HS256 or RS256")),
        }
    }

    /// The `alg` this configuration signs with (and the only one it accepts).
    pub fn algorithm(&self) -> jsonwebtoken::Algorithm {
        match self {
            Self::Hs256 { .. } => jsonwebtoken::Algorithm::HS256,
            Self::Rs256(_) => jsonwebtoken::Algorithm::RS256,
        }
    }

    /// The `alg` name, as in a token header.
    pub fn algorithm_name(&self) -> &'static str {
        match self {
            Self::Hs256 { .. } => "HS256",
            Self::Rs256(_) => "RS256",
        }
    }
}

fn hs256_secret(
    var: &impl Fn(&str) -> Option<String>,
    production: bool,
) -> Result<SecretString, ConfigError> {
    let secret = var("JWT_SECRET").ok_or_else(|| problem("JWT_SECRET", "is required for HS256"))?;
    if secret.len() < MIN_SECRET_BYTES {
        return Err(problem(
            "JWT_SECRET",
            format!("must be at least {MIN_SECRET_BYTES} bytes"),
        ));
    }
    let distinct = secret
        .bytes()
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    if production && (distinct < 10 || secret.to_ascii_lowercase().contains("change")) {
        return Err(problem(
            "JWT_SECRET",
            "looks like a placeholder; generate a random one",
        ));
    }
    Ok(SecretString::from(secret))
}

fn rsa_keys(var: &impl Fn(&str) -> Option<String>) -> Result<RsaKeys, ConfigError> {
    let key_id = var("JWT_KEY_ID").ok_or_else(|| problem("JWT_KEY_ID", "is required for RS256"))?;
    check_key_id("JWT_KEY_ID", &key_id)?;
    let pem = var("JWT_PRIVATE_KEY")
        .map(SecretString::from)
        .ok_or_else(|| problem("JWT_PRIVATE_KEY", "is required for RS256"))?;
    let private_key = private_key(pem.expose_secret())?;
    check_size("JWT_PRIVATE_KEY", &key_id, private_key.n().bits())?;
    let public_key = private_key.to_public_key();
    let der = private_key
        .to_pkcs1_der()
        .map_err(|_| problem("JWT_PRIVATE_KEY", "cannot be re-encoded as PKCS#1"))?;
    let private_key = SecretSlice::from(der.as_bytes().to_vec());

    let mut other_keys = BTreeMap::new();
    if let Some(json) = var("JWT_PUBLIC_KEYS") {
        let listed: BTreeMap<String, String> = serde_json::from_str(&json).map_err(|_| {
            problem(
                "JWT_PUBLIC_KEYS",
                r#"must be a JSON object of key ids to PEM public keys: {"<kid>": "<PEM>", ...}"#,
            )
        })?;
        for (kid, pem) in listed {
            check_key_id("JWT_PUBLIC_KEYS", &kid)?;
            let key = public_key_pem(&kid, &pem)?;
            check_size("JWT_PUBLIC_KEYS", &kid, key.n().bits())?;
            if kid == key_id {
                // Listing the current key too is harmless (e.g. it was published ahead of
                // its use); listing another key under its kid is a mistake.
                if key != public_key {
                    return Err(problem(
                        "JWT_PUBLIC_KEYS",
                        format!(
                            "kid {kid:?} is JWT_KEY_ID, but its key is not the public half of \
                             JWT_PRIVATE_KEY"
                        ),
                    ));
                }
                continue;
            }
            other_keys.insert(kid, key);
        }
    }
    Ok(RsaKeys {
        key_id,
        private_key,
        public_key,
        other_keys,
    })
}

/// A `kid` goes into every token header and the JWKS: printable, no spaces, not too long.
fn check_key_id(variable: &'static str, kid: &str) -> Result<(), ConfigError> {
    let printable = kid.chars().all(|c| c.is_ascii_graphic());
    if kid.is_empty() || kid.len() > 128 || !printable {
        return Err(problem(
            variable,
            "a key id must be 1 to 128 printable ASCII characters without spaces",
        ));
    }
    Ok(())
}

/// PEM from an environment variable: real newlines, or `\n` escapes where the value had to
/// fit on one line (a `.env` file, a console field).
fn unescape_pem(pem: &str) -> std::borrow::Cow<'_, str> {
    if !pem.contains('\n') && pem.contains("\\n") {
        pem.replace("\\n", "\n").into()
    } else {
        pem.into()
    }
}

/// `JWT_PRIVATE_KEY`: PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`).
/// The messages never quote the value.
fn private_key(pem: &str) -> Result<RsaPrivateKey, ConfigError> {
    let pem = unescape_pem(pem);
    let pem = pem.trim();
    if pem.contains("ENCRYPTED") {
        return Err(problem(
            "JWT_PRIVATE_KEY",
            "is encrypted; give the unencrypted PEM (keep it in a secret store instead)",
        ));
    }
    RsaPrivateKey::from_pkcs8_pem(pem)
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
        .map_err(|_| {
            problem(
                "JWT_PRIVATE_KEY",
                format!(
                    "must be an RSA private key of at most {MAX_RSA_BITS} bits in PEM (PKCS#8 \
                     \"BEGIN PRIVATE KEY\" or PKCS#1 \"BEGIN RSA PRIVATE KEY\")"
                ),
            )
        })
}

/// One value of `JWT_PUBLIC_KEYS`: SPKI (`BEGIN PUBLIC KEY`) or PKCS#1
/// (`BEGIN RSA PUBLIC KEY`).
fn public_key_pem(kid: &str, pem: &str) -> Result<RsaPublicKey, ConfigError> {
    let pem = unescape_pem(pem);
    let pem = pem.trim();
    if pem.contains("PRIVATE KEY") {
        return Err(problem(
            "JWT_PUBLIC_KEYS",
            format!("kid {kid:?} holds a private key; list only public keys here"),
        ));
    }
    RsaPublicKey::from_public_key_pem(pem)
        .or_else(|_| RsaPublicKey::from_pkcs1_pem(pem))
        .map_err(|_| {
            problem(
                "JWT_PUBLIC_KEYS",
                format!(
                    "kid {kid:?} is not an RSA public key of at most {MAX_RSA_BITS} bits in \
                     PEM (\"BEGIN PUBLIC KEY\" or \"BEGIN RSA PUBLIC KEY\")"
                ),
            )
        })
}

fn check_size(variable: &'static str, kid: &str, bits: usize) -> Result<(), ConfigError> {
    if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
        return Err(problem(
            variable,
            format!(
                "the key of kid {kid:?} has {bits} bits; {MIN_RSA_BITS} to {MAX_RSA_BITS} are \
                 supported"
            ),
        ));
    }
    Ok(())
}
