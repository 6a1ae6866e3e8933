//! Password hashing with scrypt (PHC strings), always off the async runtime, with a dummy
//! hash for unknown logins and detection of hashes made with weaker parameters.

use scrypt::Scrypt;
use scrypt::password_hash::phc::{Output, PasswordHash, Salt};
use scrypt::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use secrecy::{ExposeSecret, SecretString};

use crate::http::error::ApiError;

/// Hashes and verifies passwords with the configured scrypt cost.
pub struct Passwords {
    hasher: Scrypt,
    params: scrypt::Params,
    /// A well-formed hash with the configured cost that no password matches: verified for
    /// unknown logins so that they take as long as a wrong password.
    dummy_hash: String,
    /// How many verifications this process has run (for tests and metrics).
    evaluations: std::sync::atomic::AtomicU64,
}

/// The outcome of checking a password against a stored hash.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Valid { needs_rehash: bool },
    Invalid,
}

impl Passwords {
    pub fn new(params: scrypt::Params) -> Self {
        let salt: [u8; 16] = rand::random();
        let output: [u8; 32] = rand::random();
        let dummy_hash = match (Salt::new(&salt), Output::new(&output), (&params).try_into()) {
            (Ok(salt), Ok(hash), Ok(phc_params)) => PasswordHash {
                algorithm: scrypt::phc::ALG_ID,
                version: None,
                params: phc_params,
                salt: Some(salt),
                hash: Some(hash),
            }
            .to_string(),
            _ => String::new(),
        };
        Self {
            hasher: Scrypt::new_with_params(params),
            params,
            dummy_hash,
            evaluations: Default::default(),
        }
    }

    /// The PHC string for `password` with a fresh random salt. Takes the bare secret so
    /// that a password which met an older policy can still be re-hashed at login.
    pub async fn hash(&self, password: &SecretString) -> Result<String, ApiError> {
        let hasher = self.hasher;
        let password = password.clone();
        tokio::task::spawn_blocking(move || {
            hasher
                .hash_password(password.expose_secret().as_bytes())
                .map(|hash| hash.to_string())
                .map_err(|err| ApiError::internal(format!("scrypt hashing failed: {err}")))
        })
        .await
        .map_err(ApiError::internal)?
    }

    /// How many password verifications (scrypt evaluations) this hasher has run.
    pub fn evaluations(&self) -> u64 {
        self.evaluations.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Checks `password` against `stored`, or against the dummy hash when there is no
    /// stored hash (unknown login), so both cost one scrypt evaluation. A stored value
    /// that is not a valid scrypt PHC string never matches.
    pub async fn verify(
        &self,
        password: &SecretString,
        stored: Option<&str>,
    ) -> Result<Verdict, ApiError> {
        self.evaluations
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let known = stored.is_some();
        let stored = stored.unwrap_or(&self.dummy_hash).to_owned();
        let password = password.clone();
        let (hasher, wanted) = (self.hasher, self.params);
        tokio::task::spawn_blocking(move || {
            let Ok(hash) = PasswordHash::new(&stored) else {
                return Verdict::Invalid;
            };
            let matches = hasher
                .verify_password(password.expose_secret().as_bytes(), &hash)
                .is_ok();
            if !(known && matches) {
                return Verdict::Invalid;
            }
            let needs_rehash = match scrypt::Params::try_from(&hash) {
                Ok(have) => {
                    have.log_n() < wanted.log_n() || have.r() < wanted.r() || have.p() < wanted.p()
                }
                Err(_) => true,
            };
            Verdict::Valid { needs_rehash }
        })
        .await
        .map_err(ApiError::internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(log_n: u8) -> scrypt::Params {
        scrypt::Params::new(log_n, 8, 1).unwrap()
    }

    fn password(text: &str) -> SecretString {
        SecretString::from(text.to_owned())
    }

    #[tokio::test]
    async fn a_hash_is_a_phc_string_that_verifies_only_its_password() {
        let passwords = Passwords::new(params(8));
        let hash = passwords.hash(&password("correct horse")).await.unwrap();
        assert!(hash.starts_with("$scrypt$ln=8,r=8,p=1$"), "{hash}");
        let right = SecretString::from("correct horse".to_owned());
        let wrong = SecretString::from("wrong horse".to_owned());
        assert_eq!(
            passwords.verify(&right, Some(&hash)).await.unwrap(),
            Verdict::Valid {
                needs_rehash: false
            }
        );
        assert_eq!(
            passwords.verify(&wrong, Some(&hash)).await.unwrap(),
            Verdict::Invalid
        );
    }

    #[tokio::test]
    async fn weaker_stored_hashes_ask_for_a_rehash() {
        let old = Passwords::new(params(6))
            .hash(&password("secret1"))
            .await
            .unwrap();
        let verdict = Passwords::new(params(8))
            .verify(&SecretString::from("secret1".to_owned()), Some(&old))
            .await
            .unwrap();
        assert_eq!(verdict, Verdict::Valid { needs_rehash: true });
    }

    #[tokio::test]
    async fn unknown_logins_and_garbage_hashes_never_verify() {
        let passwords = Passwords::new(params(8));
        assert!(passwords.dummy_hash.starts_with("$scrypt$ln=8,r=8,p=1$"));
        let any = SecretString::from("anything".to_owned());
        assert_eq!(
            passwords.verify(&any, None).await.unwrap(),
            Verdict::Invalid
        );
        assert_eq!(
            passwords.verify(&any, Some("not a hash")).await.unwrap(),
            Verdict::Invalid
        );
    }
}
