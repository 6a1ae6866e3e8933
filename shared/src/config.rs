//! Configuration: read once from the environment at cold start into typed values.
//!
//! Every variable is listed in `local/.env.example` and the README. A bad value stops the
//! function at start-up with the variable's name; production also refuses weak secrets.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

/// `APP_SETTINGS`: which defaults apply and how strict start-up checks are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Testing,
    Production,
}

/// A configuration problem, naming the variable at fault. Never contains the value.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

fn problem(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

/// The whole configuration. Holds secrets, so it is deliberately not `Debug`.
pub struct Config {
    pub environment: Environment,
    pub database: DatabaseConfig,
    pub tokens: TokenConfig,
    pub passwords: PasswordConfig,
    /// `ADMIN_LOGIN` / `ADMIN_PASSWORD`: the admin `migrate` creates if absent.
    pub admin: Option<AdminBootstrap>,
}

pub struct DatabaseConfig {
    /// `DATABASE_URL`: a libpq-style URL; `sslmode=require` switches on TLS (rustls,
    /// certificates verified against the Mozilla roots plus `DATABASE_CA_FILE`).
    pub url: SecretString,
    /// `DATABASE_POOL_SIZE`: connections per process (a Lambda instance serves one request
    /// at a time, so a small number suffices). Default 2.
    pub pool_size: usize,
    /// `DATABASE_CONNECT_TIMEOUT_SECS`: how long to wait for a connection. Default 5.
    pub connect_timeout: Duration,
    /// `DATABASE_STATEMENT_TIMEOUT_MS`: server-side cap on any one statement. Default 5000.
    pub statement_timeout: Duration,
    /// `DATABASE_CA_FILE`: extra PEM CA bundle (e.g. Amazon RDS's) for TLS.
    pub ca_file: Option<String>,
}

pub struct TokenConfig {
    pub signing: SigningConfig,
    /// `JWT_ISSUER`: the `iss` of every token (and the OIDC issuer). Default in
    /// development and testing: `http://127.0.0.1:8000`; required in production.
    pub issuer: String,
    /// `JWT_AUDIENCE`: the `aud` claim, set and checked only when given.
    pub audience: Option<String>,
    /// `ACCESS_TOKEN_TTL` seconds, default 900.
    pub access_ttl: Duration,
    /// `REFRESH_TOKEN_TTL` seconds, default 2 592 000 (30 days).
    pub refresh_ttl: Duration,
}

/// `JWT_ALGORITHM` and its key material.
pub enum SigningConfig {
    /// `HS256` with `JWT_SECRET` (at least 32 bytes).
    Hs256 { secret: SecretString },
}

pub struct PasswordConfig {
    /// `PASSWORD_MIN_LENGTH`, default 6.
    pub min_length: usize,
    /// `SCRYPT_LOG_N` / `SCRYPT_R` / `SCRYPT_P`: default 17 / 8 / 1 (OWASP), and 10 / 8 / 1
    /// under `APP_SETTINGS=testing` so test suites stay fast.
    pub scrypt: scrypt::Params,
}

pub struct AdminBootstrap {
    pub login: String,
    pub password: SecretString,
}

/// The minimum HS256 secret length the contract allows.
pub const MIN_SECRET_BYTES: usize = 32;

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests can configure without touching the
    /// process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let var = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let environment = match var("APP_SETTINGS").as_deref() {
            None | Some("development") => Environment::Development,
            Some("testing") => Environment::Testing,
            Some("production") => Environment::Production,
            Some(_) => {
                return Err(problem(
                    "APP_SETTINGS",
                    "must be development, testing or production",
                ));
            }
        };
        let production = environment == Environment::Production;

        let database = DatabaseConfig {
            url: var("DATABASE_URL")
                .map(SecretString::from)
                .ok_or_else(|| problem("DATABASE_URL", "is required"))?,
            pool_size: number(&var, "DATABASE_POOL_SIZE", 2, 1..=100)?,
            connect_timeout: Duration::from_secs(number(
                &var,
                "DATABASE_CONNECT_TIMEOUT_SECS",
                5,
                1..=60,
            )?),
            statement_timeout: Duration::from_millis(number(
                &var,
                "DATABASE_STATEMENT_TIMEOUT_MS",
                5_000,
                100..=600_000,
            )?),
            ca_file: var("DATABASE_CA_FILE"),
        };

        let signing = match var("JWT_ALGORITHM").as_deref() {
            None | Some("HS256") => SigningConfig::Hs256 {
                secret: hs256_secret(&var, production)?,
            },
            Some(_) => return Err(problem("JWT_ALGORITHM", "must be HS256")),
        };
        let issuer = match var("JWT_ISSUER") {
            Some(issuer) => issuer,
            None if production => return Err(problem("JWT_ISSUER", "is required in production")),
            None => "http://127.0.0.1:8000".to_owned(),
        };
        let tokens = TokenConfig {
            signing,
            issuer,
            audience: var("JWT_AUDIENCE"),
            access_ttl: Duration::from_secs(number(&var, "ACCESS_TOKEN_TTL", 900, 10..=86_400)?),
            refresh_ttl: Duration::from_secs(number(
                &var,
                "REFRESH_TOKEN_TTL",
                2_592_000,
                60..=31_536_000,
            )?),
        };

        let default_log_n = if environment == Environment::Testing {
            10
        } else {
            17
        };
        let log_n = number(&var, "SCRYPT_LOG_N", default_log_n, 4..=20)?;
        if production && log_n < 15 {
            return Err(problem("SCRYPT_LOG_N", "must be at least 15 in production"));
        }
        let scrypt = scrypt::Params::new(
            log_n as u8,
            number(&var, "SCRYPT_R", 8, 1..=32)?,
            number(&var, "SCRYPT_P", 1, 1..=16)?,
        )
        .map_err(|_| {
            problem(
                "SCRYPT_R",
                "with SCRYPT_LOG_N and SCRYPT_P is not a valid scrypt cost",
            )
        })?;
        let passwords = PasswordConfig {
            min_length: number(&var, "PASSWORD_MIN_LENGTH", 6, 1..=1024)?,
            scrypt,
        };

        let admin = match (var("ADMIN_LOGIN"), var("ADMIN_PASSWORD")) {
            (Some(login), Some(password)) => Some(AdminBootstrap {
                login,
                password: SecretString::from(password),
            }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(problem("ADMIN_PASSWORD", "is required with ADMIN_LOGIN"));
            }
            (None, Some(_)) => {
                return Err(problem("ADMIN_LOGIN", "is required with ADMIN_PASSWORD"));
            }
        };

        Ok(Config {
            environment,
            database,
            tokens,
            passwords,
            admin,
        })
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

fn number<T>(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
{
    let Some(raw) = var(name) else {
        return Ok(default);
    };
    let value: T = raw
        .trim()
        .parse()
        .map_err(|_| problem(name, "must be a whole number"))?;
    if !range.contains(&value) {
        return Err(problem(
            name,
            format!("must be between {} and {}", range.start(), range.end()),
        ));
    }
    Ok(value)
}

impl SigningConfig {
    /// The `alg` this configuration signs with.
    pub fn algorithm(&self) -> jsonwebtoken::Algorithm {
        match self {
            Self::Hs256 { .. } => jsonwebtoken::Algorithm::HS256,
        }
    }

    pub(crate) fn hs256_secret(&self) -> &[u8] {
        match self {
            Self::Hs256 { secret } => secret.expose_secret().as_bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const SECRET: &str = "0123456789abcdefghijklmnopqrstuvwxyzABCD";

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    fn error(pairs: &[(&str, &str)]) -> String {
        match config(pairs) {
            Ok(_) => panic!("expected a configuration error"),
            Err(err) => err.to_string(),
        }
    }

    #[test]
    fn development_defaults_apply_when_only_the_essentials_are_set() {
        let config = config(&[("DATABASE_URL", "postgres://x"), ("JWT_SECRET", SECRET)]).unwrap();
        assert_eq!(config.environment, Environment::Development);
        assert_eq!(config.tokens.access_ttl, Duration::from_secs(900));
        assert_eq!(
            config.tokens.refresh_ttl,
            Duration::from_secs(30 * 24 * 3600)
        );
        assert_eq!(config.passwords.scrypt.log_n(), 17);
        assert_eq!(config.passwords.min_length, 6);
        assert_eq!(config.database.pool_size, 2);
        assert!(config.admin.is_none());
    }

    #[test]
    fn a_missing_database_url_is_named() {
        assert_eq!(
            error(&[("JWT_SECRET", SECRET)]),
            "DATABASE_URL: is required"
        );
    }

    #[test]
    fn a_short_secret_is_refused_everywhere() {
        let message = error(&[("DATABASE_URL", "postgres://x"), ("JWT_SECRET", "short")]);
        assert_eq!(message, "JWT_SECRET: must be at least 32 bytes");
        assert!(
            !message.contains("short"),
            "the value itself is never echoed"
        );
    }

    #[test]
    fn production_refuses_a_placeholder_secret_and_a_missing_issuer() {
        let base = [
            ("APP_SETTINGS", "production"),
            ("DATABASE_URL", "postgres://x"),
        ];
        let placeholder = [
            &base[..],
            &[("JWT_SECRET", "change-me-change-me-change-me-change-me")],
        ]
        .concat();
        assert!(error(&placeholder).starts_with("JWT_SECRET:"));
        let no_issuer = [&base[..], &[("JWT_SECRET", SECRET)]].concat();
        assert_eq!(error(&no_issuer), "JWT_ISSUER: is required in production");
        let weak_scrypt = [
            &base[..],
            &[
                ("JWT_SECRET", SECRET),
                ("JWT_ISSUER", "https://a.example"),
                ("SCRYPT_LOG_N", "12"),
            ],
        ]
        .concat();
        assert_eq!(
            error(&weak_scrypt),
            "SCRYPT_LOG_N: must be at least 15 in production"
        );
    }

    #[test]
    fn numbers_out_of_range_or_malformed_are_named() {
        let base = [("DATABASE_URL", "postgres://x"), ("JWT_SECRET", SECRET)];
        let bad = [&base[..], &[("ACCESS_TOKEN_TTL", "abc")]].concat();
        assert_eq!(error(&bad), "ACCESS_TOKEN_TTL: must be a whole number");
        let big = [&base[..], &[("DATABASE_POOL_SIZE", "1000")]].concat();
        assert_eq!(error(&big), "DATABASE_POOL_SIZE: must be between 1 and 100");
        let env = [&base[..], &[("APP_SETTINGS", "staging")]].concat();
        assert!(error(&env).starts_with("APP_SETTINGS:"));
    }

    #[test]
    fn testing_uses_cheap_scrypt_unless_told_otherwise() {
        let base = [
            ("DATABASE_URL", "postgres://x"),
            ("JWT_SECRET", SECRET),
            ("APP_SETTINGS", "testing"),
        ];
        assert_eq!(config(&base).unwrap().passwords.scrypt.log_n(), 10);
        let set = [&base[..], &[("SCRYPT_LOG_N", "12")]].concat();
        assert_eq!(config(&set).unwrap().passwords.scrypt.log_n(), 12);
    }

    #[test]
    fn the_admin_needs_both_login_and_password() {
        let base = [("DATABASE_URL", "postgres://x"), ("JWT_SECRET", SECRET)];
        let half = [&base[..], &[("ADMIN_LOGIN", "root")]].concat();
        assert_eq!(error(&half), "ADMIN_PASSWORD: is required with ADMIN_LOGIN");
        let both = [
            &base[..],
            &[("ADMIN_LOGIN", "root"), ("ADMIN_PASSWORD", "secret-pw")],
        ]
        .concat();
        assert_eq!(config(&both).unwrap().admin.unwrap().login, "root");
    }
}
