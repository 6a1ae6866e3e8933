//! Who the caller is and what proves it: access and refresh tokens and the keys that sign
//! them, sessions, passwords and the lock on guessing them, one-time tokens (links, MFA
//! challenges), the second factor, and per-IP limits. Builds on `accounts` and `http`.

pub mod caller;
pub mod credentials;
pub mod jwt_crypto;
pub mod keys;
pub mod mfa;
pub mod one_time_tokens;
pub mod password;
pub mod ratelimit;
pub mod sessions;

pub mod tokens;

pub use caller::{AdminAction, Caller};
