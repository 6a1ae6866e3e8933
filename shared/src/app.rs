//! The per-process state every handler receives: configuration, the pool, token keys and
//! the password hasher, built once at cold start and reused by every invocation.

use deadpool_postgres::Pool;

use crate::config::{Config, ConfigError};
use crate::db;
use crate::error::ApiError;
use crate::password::Passwords;
use crate::tokens::Tokens;

pub struct App {
    pub config: Config,
    pub pool: Pool,
    pub tokens: Tokens,
    pub passwords: Passwords,
}

impl App {
    /// Reads the environment and builds everything; fails with the variable's name.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::new(Config::from_env()?)
    }

    pub fn new(config: Config) -> Result<Self, ConfigError> {
        Ok(Self {
            pool: db::pool(&config.database)?,
            tokens: Tokens::new(&config.tokens)?,
            passwords: Passwords::new(config.passwords.scrypt),
            config,
        })
    }

    /// A pooled connection; 503 `database_unavailable` when none can be had in time.
    pub async fn db(&self) -> Result<db::Client, ApiError> {
        Ok(self.pool.get().await?)
    }
}
