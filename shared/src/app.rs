//! The per-process state every handler receives: configuration, the pool, token keys and
//! the password hasher (and, where used, the MFA keys), built once at cold start and reused by every invocation. A
//! function that does not use the database or tokens ([`Uses`]) has neither.

use deadpool_postgres::Pool;

use crate::auth::mfa::SecretBox;
use crate::auth::password::Passwords;
use crate::auth::tokens::Tokens;
use crate::clock::Clock;
use crate::config::{Config, ConfigError, Uses};
use crate::db;
use crate::http::error::ApiError;

pub struct App {
    pub config: Config,
    pool: Option<Pool>,
    tokens: Option<Tokens>,
    pub passwords: Passwords,
    /// The keys of TOTP secrets, for the functions that use them ([`App::mfa`]).
    pub(crate) mfa_keys: Option<SecretBox>,
    pub clock: Clock,
}

impl App {
    /// Reads the environment and builds what an HTTP function that serves accounts needs
    /// ([`Uses::ACCOUNTS`]); fails with the variable's name.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_env_for(Uses::ACCOUNTS)
    }

    /// Reads only what a function that uses `uses` needs, and builds that.
    pub fn from_env_for(uses: Uses) -> Result<Self, ConfigError> {
        Self::new(Config::from_env(uses)?)
    }

    pub fn new(config: Config) -> Result<Self, ConfigError> {
        Ok(Self {
            pool: config.database.as_ref().map(db::pool).transpose()?,
            tokens: config.tokens.as_ref().map(Tokens::new).transpose()?,
            passwords: Passwords::new(config.passwords.scrypt),
            mfa_keys: config.mfa.as_ref().map(SecretBox::new),
            clock: Clock::default(),
            config,
        })
    }

    /// A pooled connection; 503 `database_unavailable` when none can be had in time.
    pub async fn db(&self) -> Result<db::Client, ApiError> {
        let prepared = self
            .config
            .database
            .as_ref()
            .is_some_and(|database| database.prepared_statements);
        Ok(db::Client::new(self.pool()?.get().await?, prepared))
    }

    /// The pool; a 500 in a function built without the database (a wiring bug that
    /// `tests/consistency` keeps out).
    pub fn pool(&self) -> Result<&Pool, ApiError> {
        self.pool
            .as_ref()
            .ok_or_else(|| ApiError::internal("this function was built without the database"))
    }

    /// The token keys; a 500 in a function built without them (see [`App::pool`]).
    pub fn tokens(&self) -> Result<&Tokens, ApiError> {
        self.tokens
            .as_ref()
            .ok_or_else(|| ApiError::internal("this function was built without token keys"))
    }
}
