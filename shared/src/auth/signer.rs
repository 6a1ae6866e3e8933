//! RS256 signing with `ring` (constant-time RSA, already linked for TLS) instead of the
//! `rsa` crate's private-key operations, which RUSTSEC-2023-0071 (the "Marvin" timing side
//! channel) concerns. Installed as jsonwebtoken's process-wide crypto provider: RS256
//! signatures come from `ring`; everything else (HS256, and every verification, which uses
//! only public keys) stays with jsonwebtoken's RustCrypto provider.
//!
//! `ring` signs with keys of 2048 bits and more, all that production accepts; a smaller
//! development key (refused in production) is still signed by the RustCrypto provider.

use std::sync::{Arc, Mutex, OnceLock};

use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, rust_crypto};
use jsonwebtoken::{Algorithm, EncodingKey};
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

/// Makes RS256 tokens signed by `ring`, for the whole process. Idempotent; call before the
/// first token is signed (`Tokens::new` does).
pub fn install() {
    static PROVIDER: OnceLock<CryptoProvider> = OnceLock::new();
    let provider = PROVIDER.get_or_init(|| CryptoProvider {
        signer_factory: new_signer,
        ..rust_crypto::DEFAULT_PROVIDER.clone()
    });
    // Already installed (by an earlier call): nothing to do.
    let _ = provider.install_default();
}

/// Whether the installed provider signs RS256 with `ring` (for tests).
pub fn signs_rs256_with_ring(key: &EncodingKey) -> bool {
    key_pair(key.as_bytes()).is_some()
}

fn new_signer(
    algorithm: &Algorithm,
    key: &EncodingKey,
) -> jsonwebtoken::errors::Result<Box<dyn JwtSigner>> {
    match (algorithm, key_pair(key.as_bytes())) {
        (Algorithm::RS256, Some(key_pair)) => Ok(Box::new(RingRs256(key_pair))),
        _ => (rust_crypto::DEFAULT_PROVIDER.signer_factory)(algorithm, key),
    }
}

/// The `ring` key pair for a PKCS#1 DER private key, parsed (and checked) once per key.
fn key_pair(der: &[u8]) -> Option<Arc<RsaKeyPair>> {
    type Cache = Vec<(Vec<u8>, Option<Arc<RsaKeyPair>>)>;
    static CACHE: Mutex<Cache> = Mutex::new(Vec::new());
    let mut cache = CACHE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, pair)) = cache.iter().find(|(key, _)| key == der) {
        return pair.clone();
    }
    let pair = RsaKeyPair::from_der(der).ok().map(Arc::new);
    cache.push((der.to_vec(), pair.clone()));
    pair
}

struct RingRs256(Arc<RsaKeyPair>);

impl signature::Signer<Vec<u8>> for RingRs256 {
    fn try_sign(&self, message: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let mut signature = vec![0; self.0.public().modulus_len()];
        self.0
            .sign(
                &RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|_| signature::Error::new())?;
        Ok(signature)
    }
}

impl JwtSigner for RingRs256 {
    fn algorithm(&self) -> Algorithm {
        Algorithm::RS256
    }
}
