//! The second factor: TOTP (RFC 6238: HMAC-SHA-1, 6 digits, 30 s steps, one step of drift
//! either way) through `totp-rs`; its secret encrypted at rest with AES-256-GCM (`ring`)
//! under `MFA_ENCRYPTION_KEY`, which never enters the database; single-use recovery codes
//! kept only as hashes; and the code check every route shares ([`App::check_code`]),
//! counted against the same lock as passwords (`credentials`).
//!
//! A TOTP code is accepted only for a time step later than the last one accepted for the
//! account, in one conditional `UPDATE`: of two uses of one code, concurrent or not, the
//! database lets exactly one through.

use std::time::Duration;

use rand::RngCore;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Builder, Totp};
use utoipa::ToSchema;

use crate::accounts::events::{self, EventType, NewEvent};
use crate::app::App;
use crate::auth::credentials::Attempt;
use crate::config::MfaConfig;
use crate::db::{GenericClient, Type};
use crate::http::client::Origin;
use crate::http::error::ApiError;
use crate::http::request::Fields;
use crate::mail::{self, Messages};

/// Random bytes in a TOTP secret (RFC 4226's recommended 160 bits).
pub const SECRET_BYTES: usize = 20;
/// Recovery codes made by each confirmed setup.
pub const RECOVERY_CODES: usize = 10;
/// How long the `mfa_token` of a login lives.
pub const CHALLENGE_TTL: Duration = Duration::from_secs(300);
/// Seconds in a TOTP time step.
pub const STEP_SECS: u64 = 30;

/// Crockford's base32 alphabet: no I, L, O or U, so a code read aloud or typed from
/// paper is not misread.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters in a recovery code: 12 × 5 = 60 random bits.
const RECOVERY_CODE_CHARS: usize = 12;
/// The format version of a sealed secret, its first byte.
const SEALED_VERSION: u8 = 1;
/// Bytes of a key's id in a sealed secret.
const KEY_ID_LEN: usize = 4;

/// One AES-256-GCM key, with the id that marks what it sealed.
struct Key {
    id: [u8; KEY_ID_LEN],
    key: LessSafeKey,
}

impl Key {
    /// The AES key is derived from the configured text with HKDF-SHA-256, so any long
    /// random text is a good key; its id is a hash of the text, which says nothing of it.
    fn derive(text: &SecretString) -> Self {
        let text = text.expose_secret().as_bytes();
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"latchkey mfa").extract(text);
        let okm = prk
            .expand(&[b"totp secret aes-256-gcm"], &AES_256_GCM)
            .expect("32 bytes is a valid HKDF-SHA-256 output length");
        let digest = Sha256::new()
            .chain_update(b"latchkey mfa key id\0")
            .chain_update(text)
            .finalize();
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        Self {
            id,
            key: LessSafeKey::new(UnboundKey::from(okm)),
        }
    }
}

/// Seals and opens TOTP secrets: `version ‖ key id ‖ nonce ‖ ciphertext ‖ tag`, with the
/// account's id as associated data, so a sealed secret copied to another account's row
/// does not open. Writes under the current key; reads under it or the previous one.
pub struct SecretBox {
    current: Key,
    previous: Option<Key>,
    issuer: String,
}

impl SecretBox {
    pub fn new(config: &MfaConfig) -> Self {
        Self {
            current: Key::derive(&config.key),
            previous: config.previous_key.as_ref().map(Key::derive),
            issuer: config.issuer.clone(),
        }
    }

    /// The name authenticator apps show for the account (`MFA_ISSUER`).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    fn aad(user_id: i64) -> Vec<u8> {
        [
            b"latchkey totp secret of user ".as_slice(),
            &user_id.to_be_bytes(),
        ]
        .concat()
    }

    pub fn seal(&self, user_id: i64, secret: &[u8]) -> Result<Vec<u8>, ApiError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let mut in_out = secret.to_vec();
        self.current
            .key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(Self::aad(user_id)),
                &mut in_out,
            )
            .map_err(|_| ApiError::internal("sealing a TOTP secret failed"))?;
        Ok([&[SEALED_VERSION][..], &self.current.id, &nonce, &in_out].concat())
    }

    /// The secret `sealed` holds; a 500 when it was sealed under a key this function does
    /// not have, or was altered.
    pub fn open(&self, user_id: i64, sealed: &[u8]) -> Result<Vec<u8>, ApiError> {
        let header = 1 + KEY_ID_LEN + NONCE_LEN;
        if sealed.len() < header || sealed[0] != SEALED_VERSION {
            return Err(ApiError::internal(
                "a stored TOTP secret has an unknown format",
            ));
        }
        let id = &sealed[1..1 + KEY_ID_LEN];
        let key = [Some(&self.current), self.previous.as_ref()]
            .into_iter()
            .flatten()
            .find(|key| key.id == id)
            .ok_or_else(|| {
                ApiError::internal(
                    "a stored TOTP secret was sealed under a key that is neither \
                     MFA_ENCRYPTION_KEY nor MFA_PREVIOUS_ENCRYPTION_KEY",
                )
            })?;
        let nonce = Nonce::try_assume_unique_for_key(&sealed[1 + KEY_ID_LEN..header])
            .map_err(|_| ApiError::internal("a stored TOTP secret has a bad nonce"))?;
        let mut in_out = sealed[header..].to_vec();
        let plain = key
            .key
            .open_in_place(nonce, Aad::from(Self::aad(user_id)), &mut in_out)
            .map_err(|_| ApiError::internal("a stored TOTP secret does not open"))?;
        Ok(plain.to_vec())
    }

    /// Whether a previous key is configured: a rotation is under way.
    pub fn rotating(&self) -> bool {
        self.previous.is_some()
    }

    /// Whether `sealed` is under the current key (a rotation re-seals the others).
    pub fn is_current(&self, sealed: &[u8]) -> bool {
        sealed.get(1..1 + KEY_ID_LEN) == Some(&self.current.id[..])
    }
}

/// The TOTP of `secret` (RFC 6238 defaults, one step of drift either way).
fn totp(secret: Vec<u8>) -> Result<Totp, ApiError> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(STEP_SECS)
        .with_skew(1)
        .with_secret(secret)
        .build()
        .map_err(|err| ApiError::internal(format!("TOTP parameters: {err}")))
}

/// What a new setup shows once: the secret for typing in, the `otpauth://` URI and the
/// same URI as a QR code to scan.
#[derive(Debug)]
pub struct Enrollment {
    pub secret: SecretString,
    pub otpauth_uri: SecretString,
    pub qr_svg: SecretString,
}

/// A fresh random secret and how an authenticator takes it in, for the account shown as
/// `account` by `issuer`.
pub fn enroll(issuer: &str, account: &str) -> Result<(Vec<u8>, Enrollment), ApiError> {
    let mut secret = vec![0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut secret);
    // The URI's label is `issuer:account`: neither may hold a colon.
    let totp = Builder::new()
        .with_secret(secret.clone())
        .with_issuer(Some(issuer.replace(':', " ")))
        .with_account_name(account.replace(':', " "))
        .build()
        .map_err(|err| ApiError::internal(format!("TOTP parameters: {err}")))?;
    let uri = totp
        .to_url()
        .map_err(|err| ApiError::internal(format!("otpauth URI: {err}")))?;
    let qr = qrcode::QrCode::new(uri.as_bytes())
        .map_err(|err| ApiError::internal(format!("QR code: {err}")))?
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build();
    let enrollment = Enrollment {
        secret: SecretString::from(totp.secret().to_base32()),
        otpauth_uri: SecretString::from(uri),
        qr_svg: SecretString::from(qr),
    };
    Ok((secret, enrollment))
}

/// Fresh recovery codes as shown to the user (`XXXX-XXXX-XXXX`), with the hashes to
/// store.
pub fn recovery_codes() -> (Vec<String>, Vec<Vec<u8>>) {
    (0..RECOVERY_CODES)
        .map(|_| {
            let bits = rand::rng().next_u64();
            let chars: String = (0..RECOVERY_CODE_CHARS)
                .map(|i| CROCKFORD[((bits >> (5 * i)) & 31) as usize] as char)
                .collect();
            let hash = recovery_code_hash(&chars);
            let shown = format!("{}-{}-{}", &chars[..4], &chars[4..8], &chars[8..]);
            (shown, hash)
        })
        .unzip()
}

/// A recovery code as typed (any case, with or without dashes and spaces, `I`/`L` for
/// `1` and `O` for `0`) in its canonical form; `None` when it cannot be one.
fn normalize_recovery_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| match c.to_ascii_uppercase() {
            'I' | 'L' => '1',
            'O' => '0',
            c => c,
        })
        .collect();
    let valid = code.len() == RECOVERY_CODE_CHARS && code.bytes().all(|b| CROCKFORD.contains(&b));
    valid.then_some(code)
}

fn recovery_code_hash(canonical: &str) -> Vec<u8> {
    Sha256::new()
        .chain_update(b"latchkey recovery code\0")
        .chain_update(canonical.as_bytes())
        .finalize()
        .to_vec()
}

/// The second factor a request presents.
pub enum Factor {
    /// Six digits from the authenticator.
    Totp(String),
    /// One of the recovery codes, canonical.
    RecoveryCode(String),
}

/// The second-factor fields of a request body: `code` or `recovery_code`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct FactorFields {
    /// Six digits from the authenticator app.
    #[schema(value_type = Option<String>, pattern = "^[0-9]{6}$", example = "123456")]
    pub code: Option<SecretString>,
    /// One of the recovery codes shown when the second factor was turned on, instead of
    /// `code`; each works once.
    #[schema(value_type = Option<String>, example = "7KQ3-M9XD-2HWA")]
    pub recovery_code: Option<SecretString>,
}

impl FactorFields {
    /// The factor a route cannot do without: as [`FactorFields::parse`], and neither
    /// given is a problem too.
    pub fn required(self, fields: &mut Fields) -> Option<Factor> {
        let neither = self.code.is_none() && self.recovery_code.is_none();
        let factor = self.parse(fields);
        if neither {
            fields.add("code", "is required (or recovery_code)".into());
        }
        factor
    }

    /// The factor, with problems noted in `fields` (400 `validation_failed`): both
    /// given, or one malformed. `None` when neither is given.
    pub fn parse(self, fields: &mut Fields) -> Option<Factor> {
        match (self.code, self.recovery_code) {
            (None, None) => None,
            (Some(_), Some(_)) => {
                fields.add(
                    "recovery_code",
                    "give either code or recovery_code, not both".into(),
                );
                None
            }
            (Some(code), None) => {
                let code = code.expose_secret().trim();
                match code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
                    true => Some(Factor::Totp(code.to_owned())),
                    false => {
                        fields.add(
                            "code",
                            "must be the 6 digits the authenticator shows".into(),
                        );
                        None
                    }
                }
            }
            (None, Some(code)) => match normalize_recovery_code(code.expose_secret()) {
                Some(code) => Some(Factor::RecoveryCode(code)),
                None => {
                    fields.add(
                        "recovery_code",
                        "must be one of the recovery codes, like 7KQ3-M9XD-2HWA".into(),
                    );
                    None
                }
            },
        }
    }
}

/// Which secret a code is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// The confirmed second factor (recovery codes accepted too).
    Enabled,
    /// The setup waiting for its first code (TOTP codes only).
    Pending,
}

/// A factor that was accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Used {
    /// A TOTP code of this time step, now the account's last accepted one.
    Totp { step: i64 },
    /// A recovery code, now deleted.
    RecoveryCode,
}

enum Outcome {
    Accepted(Used),
    Wrong,
    Replayed,
}

impl App {
    /// The MFA keys; a 500 in a function built without them (see [`App::pool`]).
    pub fn mfa(&self) -> Result<&SecretBox, ApiError> {
        self.mfa_keys
            .as_ref()
            .ok_or_else(|| ApiError::internal("this function was built without MFA_ENCRYPTION_KEY"))
    }

    /// The code-check sequence every route shares: count the attempt against the
    /// account's lock (429 while locked), accept the factor (a TOTP code of a step later
    /// than the last accepted one, or an unused recovery code, which is then deleted),
    /// give the attempt back on success. A wrong or replayed code stays counted, is
    /// recorded (`mfa_failed`, `code_replayed`, and `account_locked` when it locked) and
    /// is 401 `invalid_code`. Using a recovery code is recorded and mailed to the account.
    pub async fn check_code(
        &self,
        client: &impl GenericClient,
        user_id: i64,
        factor: &Factor,
        slot: Slot,
        origin: &Origin,
    ) -> Result<Used, ApiError> {
        let attempt = Attempt::claim_for_account(client, user_id, origin).await?;
        let outcome = match (factor, slot) {
            (Factor::Totp(code), slot) => self.accept_totp(client, user_id, code, slot).await?,
            (Factor::RecoveryCode(code), Slot::Enabled) => {
                accept_recovery_code(client, user_id, code).await?
            }
            (Factor::RecoveryCode(_), Slot::Pending) => Outcome::Wrong,
        };
        let factor_name = match factor {
            Factor::Totp(_) => "totp",
            Factor::RecoveryCode(_) => "recovery_code",
        };
        let failure = match outcome {
            Outcome::Accepted(used) => {
                attempt.give_back(client).await?;
                if used == Used::RecoveryCode {
                    self.recovery_code_used(client, user_id, origin).await?;
                }
                tracing::info!(user_id, ip = %origin, request_id = %origin.request_id, factor = factor_name, "code accepted");
                return Ok(used);
            }
            Outcome::Wrong => EventType::MfaFailed,
            Outcome::Replayed => EventType::CodeReplayed,
        };
        let event =
            NewEvent::by_user(failure, user_id).detail(serde_json::json!({"factor": factor_name}));
        events::record(client, origin, event).await?;
        attempt.failed(client, origin).await?;
        tracing::info!(user_id, ip = %origin, request_id = %origin.request_id, factor = factor_name, outcome = failure.as_str(), "code refused");
        Err(ApiError::InvalidCode)
    }

    async fn accept_totp(
        &self,
        client: &impl GenericClient,
        user_id: i64,
        code: &str,
        slot: Slot,
    ) -> Result<Outcome, ApiError> {
        let column = match slot {
            Slot::Enabled => "totp_secret",
            Slot::Pending => "totp_pending_secret",
        };
        let row = client
            .query_typed_opt(
                &format!("SELECT {column} AS sealed FROM users WHERE id = $1"),
                &[(&user_id, Type::INT8)],
            )
            .await?
            .ok_or(ApiError::NotFound)?;
        let Some(sealed) = row.try_get::<_, Option<Vec<u8>>>("sealed")? else {
            return Ok(Outcome::Wrong);
        };
        let totp = totp(self.mfa()?.open(user_id, &sealed)?)?;
        let Some(step) = totp.check(code, self.clock.now_secs()) else {
            return Ok(Outcome::Wrong);
        };
        let step = step as i64;
        let accepted = client
            .execute_typed(
                "UPDATE users SET totp_last_step = $2
                 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
                &[(&user_id, Type::INT8), (&step, Type::INT8)],
            )
            .await?;
        Ok(match accepted {
            1 => Outcome::Accepted(Used::Totp { step }),
            _ => Outcome::Replayed,
        })
    }

    /// A recovery code was used: an event, and a notice to the account's address.
    async fn recovery_code_used(
        &self,
        client: &impl GenericClient,
        user_id: i64,
        origin: &Origin,
    ) -> Result<(), ApiError> {
        let row = client
            .query_typed_one(
                "SELECT u.email, (SELECT count(*) FROM mfa_recovery_codes c WHERE c.user_id = u.id)
                        AS remaining
                 FROM users u WHERE u.id = $1",
                &[(&user_id, Type::INT8)],
            )
            .await?;
        let remaining: i64 = row.try_get("remaining")?;
        let event = NewEvent::by_user(EventType::RecoveryCodeUsed, user_id)
            .detail(serde_json::json!({"remaining": remaining}));
        events::record(client, origin, event).await?;
        if let Some(email) = row.try_get::<_, Option<String>>("email")? {
            let notice = Messages(&self.config.mail).recovery_code_used(&email, remaining);
            mail::enqueue(client, &notice).await?;
        }
        Ok(())
    }
}

async fn accept_recovery_code(
    client: &impl GenericClient,
    user_id: i64,
    code: &str,
) -> Result<Outcome, ApiError> {
    let deleted = client
        .execute_typed(
            "DELETE FROM mfa_recovery_codes WHERE user_id = $1 AND code_hash = $2",
            &[
                (&user_id, Type::INT8),
                (&recovery_code_hash(code), Type::BYTEA),
            ],
        )
        .await?;
    Ok(match deleted {
        1 => Outcome::Accepted(Used::RecoveryCode),
        _ => Outcome::Wrong,
    })
}

/// During a key rotation (a previous key configured): re-encrypts every TOTP secret
/// (confirmed or pending) not under the current key, in batches, each row only if
/// unchanged meanwhile. Returns how many; 0 without reading anything otherwise, so a
/// deploy that rotates nothing does not scan the accounts.
pub async fn reseal_all(client: &impl GenericClient, keys: &SecretBox) -> Result<u64, ApiError> {
    let mut resealed = 0;
    if !keys.rotating() {
        return Ok(resealed);
    }
    let mut after = 0i64;
    loop {
        let rows = client
            .query_typed(
                "SELECT id, totp_secret, totp_pending_secret FROM users
                 WHERE id > $1 AND (totp_secret IS NOT NULL OR totp_pending_secret IS NOT NULL)
                 ORDER BY id LIMIT 500",
                &[(&after, Type::INT8)],
            )
            .await?;
        let Some(last) = rows.last() else {
            return Ok(resealed);
        };
        after = last.try_get("id")?;
        for row in &rows {
            let id: i64 = row.try_get("id")?;
            for column in ["totp_secret", "totp_pending_secret"] {
                let Some(sealed) = row.try_get::<_, Option<Vec<u8>>>(column)? else {
                    continue;
                };
                if keys.is_current(&sealed) {
                    continue;
                }
                let fresh = keys.seal(id, &keys.open(id, &sealed)?)?;
                resealed += client
                    .execute_typed(
                        &format!("UPDATE users SET {column} = $2 WHERE id = $1 AND {column} = $3"),
                        &[
                            (&id, Type::INT8),
                            (&fresh, Type::BYTEA),
                            (&sealed, Type::BYTEA),
                        ],
                    )
                    .await?;
            }
        }
    }
}

/// Replaces `user_id`'s recovery codes with `hashes` (a confirmed setup).
pub async fn replace_recovery_codes(
    client: &impl GenericClient,
    user_id: i64,
    hashes: &[Vec<u8>],
) -> Result<(), ApiError> {
    client
        .execute_typed(
            "DELETE FROM mfa_recovery_codes WHERE user_id = $1",
            &[(&user_id, Type::INT8)],
        )
        .await?;
    client
        .execute_typed(
            "INSERT INTO mfa_recovery_codes (user_id, code_hash)
             SELECT $1, unnest($2::bytea[])",
            &[(&user_id, Type::INT8), (&hashes, Type::BYTEA_ARRAY)],
        )
        .await?;
    Ok(())
}

/// Turns the second factor off: secret, pending setup and recovery codes go. Returns
/// whether it was on.
pub async fn turn_off(client: &impl GenericClient, user_id: i64) -> Result<bool, ApiError> {
    let was_on = client
        .execute_typed(
            "UPDATE users SET mfa_enabled = false, totp_secret = NULL,
                              totp_pending_secret = NULL, updated_at = now()
             WHERE id = $1 AND mfa_enabled",
            &[(&user_id, Type::INT8)],
        )
        .await?;
    client
        .execute_typed(
            "DELETE FROM mfa_recovery_codes WHERE user_id = $1",
            &[(&user_id, Type::INT8)],
        )
        .await?;
    Ok(was_on == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(key: &str, previous: Option<&str>) -> MfaConfig {
        MfaConfig {
            key: SecretString::from(key.to_owned()),
            previous_key: previous.map(|p| SecretString::from(p.to_owned())),
            issuer: "Latchkey".into(),
        }
    }

    const KEY_A: &str = "a key that is long enough to be accepted, A";
    const KEY_B: &str = "a key that is long enough to be accepted, B";

    #[test]
    fn a_sealed_secret_opens_only_for_its_account_and_under_a_known_key() {
        let secrets = SecretBox::new(&config(KEY_A, None));
        let sealed = secrets.seal(7, b"twenty bytes secret!").unwrap();
        assert_eq!(secrets.open(7, &sealed).unwrap(), b"twenty bytes secret!");
        assert!(!sealed.windows(6).any(|w| w == b"twenty"));
        assert!(secrets.open(8, &sealed).is_err(), "bound to the account");
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert!(secrets.open(7, &altered).is_err());
        // After a rotation the old secret still opens, and is known to need re-sealing.
        let rotated = SecretBox::new(&config(KEY_B, Some(KEY_A)));
        assert_eq!(rotated.open(7, &sealed).unwrap(), b"twenty bytes secret!");
        assert!(!rotated.is_current(&sealed));
        assert!(rotated.is_current(&rotated.seal(7, b"x").unwrap()));
        // Without the old key it does not.
        assert!(
            SecretBox::new(&config(KEY_B, None))
                .open(7, &sealed)
                .is_err()
        );
    }

    #[test]
    fn recovery_codes_carry_60_bits_and_are_read_forgivingly() {
        let (shown, hashes) = recovery_codes();
        assert_eq!(
            (shown.len(), hashes.len()),
            (RECOVERY_CODES, RECOVERY_CODES)
        );
        let distinct: std::collections::BTreeSet<_> = shown.iter().collect();
        assert_eq!(distinct.len(), RECOVERY_CODES);
        for (code, hash) in shown.iter().zip(&hashes) {
            assert_eq!(code.len(), 14, "{code}");
            let canonical = normalize_recovery_code(code).unwrap();
            assert_eq!(&recovery_code_hash(&canonical), hash);
            let sloppy = code.to_lowercase().replace('-', " ");
            assert_eq!(normalize_recovery_code(&sloppy).unwrap(), canonical);
        }
        assert_eq!(
            normalize_recovery_code("oooo-iiii-llll").unwrap(),
            "000011111111"
        );
        for bad in ["", "ABCD", "ABCD-EFGH-JKMU", "ABCD-EFGH-JKMN-P"] {
            assert!(normalize_recovery_code(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn enrollment_shows_the_secret_as_base32_a_uri_and_a_qr_code() {
        let (secret, shown) = enroll("Latchkey", "john:doe@mail.com").unwrap();
        assert_eq!(secret.len(), SECRET_BYTES);
        assert_eq!(shown.secret.expose_secret().len(), 32);
        let uri = shown.otpauth_uri.expose_secret();
        assert!(
            uri.starts_with("otpauth://totp/Latchkey:john%20doe%40mail.com?"),
            "{uri}"
        );
        assert!(uri.contains(&format!("secret={}", shown.secret.expose_secret())));
        assert!(uri.contains("issuer=Latchkey"), "{uri}");
        assert!(shown.qr_svg.expose_secret().starts_with("<?xml"));
        assert!(shown.qr_svg.expose_secret().contains("<svg"));
    }
}
