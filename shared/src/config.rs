//! Configuration: read once from the environment at cold start into typed values.
//!
//! Every variable is listed in `local/.env.example` and `docs/configuration.md`. A bad
//! value stops the function at start-up with the variable's name; production also
//! refuses weak secrets.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use crate::auth::keys::SigningConfig;

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

pub(crate) fn problem(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

/// What a function reads beyond the settings every function shares: least privilege
/// means a function is deployed without the secrets it does not use (`template.yaml`
/// leaves them out, and `tests/consistency` checks that), so it must also start without
/// them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uses {
    /// `DATABASE_URL` and the other `DATABASE_*` settings.
    pub database: bool,
    /// The token settings with the signing key (`JWT_SECRET` or `JWT_PRIVATE_KEY`).
    pub tokens: bool,
    /// `MFA_ENCRYPTION_KEY` (and `MFA_PREVIOUS_ENCRYPTION_KEY`): the functions that read
    /// or write TOTP secrets.
    pub mfa: bool,
}

impl Uses {
    /// Everything: the functions that check or set up TOTP codes, and tests.
    pub const ALL: Self = Self {
        database: true,
        tokens: true,
        mfa: true,
    };
    /// Every other HTTP function that reads accounts and issues or checks tokens.
    pub const ACCOUNTS: Self = Self {
        database: true,
        tokens: true,
        mfa: false,
    };
    /// `health`, `migrate` and `maintenance`: the database, no signing key.
    pub const DATABASE: Self = Self {
        database: true,
        tokens: false,
        mfa: false,
    };
    /// `jwks`: the published keys, no database.
    pub const TOKENS: Self = Self {
        database: false,
        tokens: true,
        mfa: false,
    };
}

/// The whole configuration. Holds secrets, so it is deliberately not `Debug`.
pub struct Config {
    pub environment: Environment,
    /// `None` for a function that does not use the database ([`Uses`]).
    pub database: Option<DatabaseConfig>,
    /// `None` for a function that neither issues nor checks tokens ([`Uses`]).
    pub tokens: Option<TokenConfig>,
    pub passwords: PasswordConfig,
    /// `ADMIN_LOGIN` / `ADMIN_PASSWORD`: the admin `migrate` creates if absent.
    pub admin: Option<AdminBootstrap>,
    /// `API_DATABASE_URL` (`migrate` only): the functions' own database URL when it names
    /// another role than `DATABASE_URL`'s, the schema's owner. `migrate` then keeps that
    /// role able to read and write rows, and no more.
    pub api_role: Option<ApiRole>,
    /// `USER_DIRECTORY`: who may list users and read other users.
    pub directory: Directory,
    pub client_ip: ClientIpConfig,
    pub limits: LimitConfig,
    pub mail: MailConfig,
    /// `EXACT_TOTAL_LIMIT`: up to this many rows a listing's `total` is counted exactly;
    /// from it on, `total` is the planner's estimate (see `totals`). Default 10 000.
    pub exact_total_limit: i64,
    /// `AUDIT_RETENTION_DAYS`: `maintenance` deletes audit events older than this many
    /// days. Default 365.
    pub audit_retention_days: i32,
    /// `None` for a function that does not use TOTP secrets ([`Uses`]).
    pub mfa: Option<MfaConfig>,
    /// `ADMIN_REQUIRE_MFA`: admin actions need a session signed in with a second factor
    /// (`otp` in `amr`); 403 `mfa_required` otherwise. Default true in production, false
    /// otherwise.
    pub admin_require_mfa: bool,
}

/// The keys that encrypt TOTP secrets at rest (`shared::auth::mfa`).
pub struct MfaConfig {
    /// `MFA_ENCRYPTION_KEY`: at least 32 bytes of secret text; every secret is written
    /// under it.
    pub key: SecretString,
    /// `MFA_PREVIOUS_ENCRYPTION_KEY`: the key before a rotation; secrets written under it
    /// are still read, and `migrate` re-encrypts them under the current key.
    pub previous_key: Option<SecretString>,
    /// `MFA_ISSUER`: the name authenticator apps show for the account. Default
    /// `Latchkey`.
    pub issuer: String,
}

/// The shortest `MFA_ENCRYPTION_KEY` accepted.
pub const MIN_MFA_KEY_BYTES: usize = 32;

/// `USER_DIRECTORY`: `members` (default) lets every signed-in user list users and read
/// others' public view; `admins` keeps the directory to admins (others: 403 `forbidden`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Directory {
    Members,
    Admins,
}

/// Where the client IP comes from (see `crate::http::client`).
pub struct ClientIpConfig {
    /// `ORIGIN_SECRET`, set exactly when `BEHIND_CLOUDFRONT=true`: the value CloudFront
    /// sends in `X-Origin-Secret`; only requests carrying it are served, and their
    /// `CloudFront-Viewer-Address` is the client IP. At least 16 bytes.
    pub origin_secret: Option<SecretString>,
}

/// Per-IP request limits (see `crate::auth::ratelimit`).
pub struct LimitConfig {
    /// `IP_RATE_LIMIT_PER_MINUTE`: requests per client IP per minute on each limited route;
    /// default 30 in production, unlimited otherwise; `0` means unlimited.
    pub ip_per_minute: Option<u32>,
}

/// Verified email, recovery links and mail delivery.
pub struct MailConfig {
    /// `APP_URL`: the client application that receives the links
    /// (`{APP_URL}/verify-email#token=...`). Required in production; default in
    /// development and testing: `http://127.0.0.1:3000`. Never taken from a request.
    pub app_url: String,
    /// `MAIL_FROM`: the sender of every mail, e.g. `Latchkey <no-reply@example.com>`.
    /// Required in production (by `maintenance`, the only sender).
    pub from: Option<String>,
    /// `MAIL_SUBJECT_PREFIX`: put before every subject. Default `[Latchkey] `.
    pub subject_prefix: String,
    /// `SMTP_URL`: where `maintenance` delivers mail, e.g. `smtp://127.0.0.1:1025`
    /// locally, `smtp://USER:PASSWORD@email-smtp.REGION.amazonaws.com:587?tls=required`
    /// for Amazon SES (STARTTLS). May hold credentials. Default outside production:
    /// `smtp://127.0.0.1:1025`.
    pub smtp_url: Option<SecretString>,
    /// `SMTP_TIMEOUT_SECS`: cap on one SMTP conversation. Default 10.
    pub smtp_timeout: Duration,
    /// `MAIL_RETRY_BASE_SECS`: the first retry delay after a failed send; it doubles
    /// with each attempt, up to an hour. Default 30.
    pub retry_base: Duration,
    /// `EMAIL_VERIFICATION_TTL` seconds, default 86 400 (24 h).
    pub verification_ttl: Duration,
    /// `PASSWORD_RESET_TTL` seconds, default 3 600 (1 h).
    pub reset_ttl: Duration,
    /// `REQUIRE_VERIFIED_EMAIL` (true/false, default false): a password login of an
    /// account whose email is set but unverified gets 403 `email_unverified`.
    pub require_verified_email: bool,
    /// `MAINTENANCE_INTERVAL_MS`: pause between two maintenance rounds in the local loop
    /// and within one Lambda invocation. Default 1000.
    pub maintenance_interval: Duration,
    /// `MAINTENANCE_POLL_SECS`: how long one scheduled maintenance invocation keeps
    /// running rounds, so that mail waits seconds rather than until the next schedule.
    /// Default 0 (one round).
    pub maintenance_poll: Duration,
}

impl MailConfig {
    /// How long an email-change revert link lives: 7 days.
    pub const REVERT_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
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
    /// `DATABASE_STATEMENT_TIMEOUT_MS`: server-side cap on any one statement, which
    /// `migrate` sets on the database role (no connection sends it). Default 5000.
    pub statement_timeout: Duration,
    /// `MIGRATION_STATEMENT_TIMEOUT_MS`: the cap in `migrate`'s own session, long enough
    /// for a migration that builds an index. Default 240000.
    pub migration_statement_timeout: Duration,
    /// `DATABASE_CA_FILE`: extra PEM CA bundle (e.g. Amazon RDS's) for TLS.
    pub ca_file: Option<String>,
    /// `DATABASE_PREPARED_STATEMENTS`: prepare each statement once per connection and
    /// reuse it by name (`crate::db`), for connections that keep named statements: direct,
    /// or through PgBouncer 1.21+ with `max_prepared_statements`. Default false.
    pub prepared_statements: bool,
}

pub struct TokenConfig {
    pub signing: SigningConfig,
    /// `JWT_ISSUER`: the `iss` of every token (and the OIDC issuer). Default in
    /// development and testing: `http://127.0.0.1:8000`; required in production.
    pub issuer: String,
    /// `JWT_AUDIENCE`: the `aud` claim of access tokens, set and checked only when given;
    /// required in production under RS256.
    pub audience: Option<String>,
    /// `ACCESS_TOKEN_TTL` seconds, default 900.
    pub access_ttl: Duration,
    /// `REFRESH_TOKEN_TTL` seconds, default 2 592 000 (30 days).
    pub refresh_ttl: Duration,
    /// `SESSION_MAX_AGE` seconds, default 7 776 000 (90 days): no refresh extends a
    /// session past this age, counted from its login.
    pub session_max_age: Duration,
}

pub struct PasswordConfig {
    /// `PASSWORD_MIN_LENGTH`, default 6.
    pub min_length: usize,
    /// `PASSWORD_MIN_SCORE`: the least zxcvbn score (0-4) a new password needs; default 2
    /// in production, 0 (no check) otherwise.
    pub min_score: u8,
    /// `SCRYPT_LOG_N` / `SCRYPT_R` / `SCRYPT_P`: default 17 / 8 / 1 (OWASP), and 10 / 8 / 1
    /// under `APP_SETTINGS=testing` so test suites stay fast.
    pub scrypt: scrypt::Params,
}

/// The database role the functions connect as, from `API_DATABASE_URL`. Holds its
/// password, so it is deliberately not `Debug`.
pub struct ApiRole {
    pub name: String,
    pub password: SecretString,
}

pub struct AdminBootstrap {
    pub login: String,
    pub password: SecretString,
}

impl Config {
    /// Reads the process environment, for a function that uses what `uses` says.
    pub fn from_env(uses: Uses) -> Result<Self, ConfigError> {
        Self::from_lookup_for(|name| std::env::var(name).ok(), uses)
    }

    /// Reads an HTTP function's configuration ([`Uses::ACCOUNTS`]) through `lookup`, so
    /// tests can configure without touching the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::from_lookup_for(lookup, Uses::ACCOUNTS)
    }

    /// Reads what `uses` asks for through `lookup`; the database and token settings of a
    /// function that does not use them are never read.
    pub fn from_lookup_for(
        lookup: impl Fn(&str) -> Option<String>,
        uses: Uses,
    ) -> Result<Self, ConfigError> {
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

        let database = match uses.database {
            true => Some(database_config(&var, production)?),
            false => None,
        };
        let tokens = match uses.tokens {
            true => Some(token_config(&var, production)?),
            false => None,
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
            min_score: number(
                &var,
                "PASSWORD_MIN_SCORE",
                if production { 2 } else { 0 },
                0..=4,
            )?,
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

        let api_role = match var("API_DATABASE_URL") {
            Some(url) => Some(api_role(&url)?),
            None => None,
        };

        let directory = match var("USER_DIRECTORY").as_deref() {
            None | Some("members") => Directory::Members,
            Some("admins") => Directory::Admins,
            Some(_) => return Err(problem("USER_DIRECTORY", "must be members or admins")),
        };
        let origin_secret = match flag(&var, "BEHIND_CLOUDFRONT", false)? {
            false => None,
            true => {
                let secret = var("ORIGIN_SECRET").ok_or_else(|| {
                    problem("ORIGIN_SECRET", "is required with BEHIND_CLOUDFRONT=true")
                })?;
                if secret.len() < 16 {
                    return Err(problem("ORIGIN_SECRET", "must be at least 16 bytes"));
                }
                Some(SecretString::from(secret))
            }
        };
        let ip_per_minute = number(
            &var,
            "IP_RATE_LIMIT_PER_MINUTE",
            if production { 30 } else { 0 },
            0..=1_000_000,
        )?;
        let mail = mail_config(&var, production)?;
        let exact_total_limit = number(&var, "EXACT_TOTAL_LIMIT", 10_000, 1..=10_000_000)?;
        let audit_retention_days = number(&var, "AUDIT_RETENTION_DAYS", 365, 1..=3_650)?;
        let mfa = match uses.mfa {
            true => Some(mfa_config(&var)?),
            false => None,
        };
        let admin_require_mfa = flag(&var, "ADMIN_REQUIRE_MFA", production)?;

        Ok(Config {
            environment,
            database,
            tokens,
            passwords,
            admin,
            api_role,
            directory,
            client_ip: ClientIpConfig { origin_secret },
            limits: LimitConfig {
                ip_per_minute: (ip_per_minute > 0).then_some(ip_per_minute),
            },
            mail,
            exact_total_limit,
            audit_retention_days,
            mfa,
            admin_require_mfa,
        })
    }
}

fn database_config(
    var: &impl Fn(&str) -> Option<String>,
    production: bool,
) -> Result<DatabaseConfig, ConfigError> {
    let database = DatabaseConfig {
        url: var("DATABASE_URL")
            .map(SecretString::from)
            .ok_or_else(|| problem("DATABASE_URL", "is required"))?,
        pool_size: number(var, "DATABASE_POOL_SIZE", 2, 1..=100)?,
        connect_timeout: Duration::from_secs(number(
            var,
            "DATABASE_CONNECT_TIMEOUT_SECS",
            5,
            1..=60,
        )?),
        statement_timeout: Duration::from_millis(number(
            var,
            "DATABASE_STATEMENT_TIMEOUT_MS",
            5_000,
            100..=600_000,
        )?),
        migration_statement_timeout: Duration::from_millis(number(
            var,
            "MIGRATION_STATEMENT_TIMEOUT_MS",
            240_000,
            100..=600_000,
        )?),
        ca_file: var("DATABASE_CA_FILE"),
        prepared_statements: flag(var, "DATABASE_PREPARED_STATEMENTS", false)?,
    };
    if production {
        let parsed: Option<tokio_postgres::Config> = database.url.expose_secret().parse().ok();
        let tls = parsed.as_ref().is_some_and(|pg| {
            pg.get_ssl_mode() == tokio_postgres::config::SslMode::Require || loopback_only(pg)
        });
        if !tls {
            return Err(problem(
                "DATABASE_URL",
                "must ask for TLS with sslmode=require in production (certificates are \
                 verified; give Amazon RDS's CA bundle in DATABASE_CA_FILE)",
            ));
        }
    }
    Ok(database)
}

fn token_config(
    var: &impl Fn(&str) -> Option<String>,
    production: bool,
) -> Result<TokenConfig, ConfigError> {
    let signing = SigningConfig::from_env(var, production)?;
    let issuer = match var("JWT_ISSUER") {
        Some(issuer) => issuer,
        None if production => return Err(problem("JWT_ISSUER", "is required in production")),
        None => "http://127.0.0.1:8000".to_owned(),
    };
    let audience = var("JWT_AUDIENCE");
    if production && audience.is_none() && matches!(signing, SigningConfig::Rs256(_)) {
        return Err(problem(
            "JWT_AUDIENCE",
            "is required in production under RS256 (third-party verifiers must be able to \
             tell tokens for this API from others)",
        ));
    }
    Ok(TokenConfig {
        signing,
        issuer,
        audience,
        access_ttl: Duration::from_secs(number(var, "ACCESS_TOKEN_TTL", 900, 10..=86_400)?),
        refresh_ttl: Duration::from_secs(number(
            var,
            "REFRESH_TOKEN_TTL",
            2_592_000,
            60..=31_536_000,
        )?),
        session_max_age: Duration::from_secs(number(
            var,
            "SESSION_MAX_AGE",
            7_776_000,
            60..=315_360_000,
        )?),
    })
}

/// The role and password of `API_DATABASE_URL`.
fn api_role(url: &str) -> Result<ApiRole, ConfigError> {
    let bad = |what: &str| problem("API_DATABASE_URL", what.to_owned());
    let parsed: tokio_postgres::Config = url
        .parse()
        .map_err(|_| bad("is not a valid Postgres URL"))?;
    let name = parsed.get_user().ok_or_else(|| bad("names no user"))?;
    let password = parsed
        .get_password()
        .and_then(|p| std::str::from_utf8(p).ok())
        .filter(|p| !p.is_empty())
        .ok_or_else(|| bad("has no password"))?;
    Ok(ApiRole {
        name: name.to_owned(),
        password: SecretString::from(password),
    })
}

fn mail_config(
    var: &impl Fn(&str) -> Option<String>,
    production: bool,
) -> Result<MailConfig, ConfigError> {
    let app_url = match var("APP_URL") {
        Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
            url.trim_end_matches('/').to_owned()
        }
        Some(_) => return Err(problem("APP_URL", "must be an http:// or https:// URL")),
        None if production => return Err(problem("APP_URL", "is required in production")),
        None => "http://127.0.0.1:3000".to_owned(),
    };
    let from = match var("MAIL_FROM") {
        Some(from) => Some(from),
        None if production => None,
        None => Some("Latchkey <no-reply@latchkey.localhost>".to_owned()),
    };
    let smtp_url = match var("SMTP_URL") {
        Some(url) if url.starts_with("smtp://") || url.starts_with("smtps://") => {
            Some(SecretString::from(url))
        }
        Some(_) => return Err(problem("SMTP_URL", "must be an smtp:// or smtps:// URL")),
        None if production => None,
        None => Some(SecretString::from("smtp://127.0.0.1:1025")),
    };
    let require_verified_email = flag(var, "REQUIRE_VERIFIED_EMAIL", false)?;
    Ok(MailConfig {
        app_url,
        from,
        subject_prefix: match var("MAIL_SUBJECT_PREFIX") {
            // Subjects are at most 200 characters (outbox); the longest text is ~40.
            Some(prefix) if prefix.chars().count() > 100 || prefix.contains(['\r', '\n']) => {
                return Err(problem(
                    "MAIL_SUBJECT_PREFIX",
                    "must be one line of at most 100 characters",
                ));
            }
            Some(prefix) => prefix,
            None => "[Latchkey] ".to_owned(),
        },
        smtp_url,
        smtp_timeout: Duration::from_secs(number(var, "SMTP_TIMEOUT_SECS", 10, 1..=120)?),
        retry_base: Duration::from_secs(number(var, "MAIL_RETRY_BASE_SECS", 30, 0..=3600)?),
        verification_ttl: Duration::from_secs(number(
            var,
            "EMAIL_VERIFICATION_TTL",
            86_400,
            60..=2_592_000,
        )?),
        reset_ttl: Duration::from_secs(number(var, "PASSWORD_RESET_TTL", 3_600, 60..=86_400)?),
        require_verified_email,
        maintenance_interval: Duration::from_millis(number(
            var,
            "MAINTENANCE_INTERVAL_MS",
            1_000,
            100..=60_000,
        )?),
        maintenance_poll: Duration::from_secs(number(var, "MAINTENANCE_POLL_SECS", 0, 0..=840)?),
    })
}

/// Whether every host of a database URL is this machine's loopback (or a Unix socket):
/// such a connection crosses no network, and no Lambda function can reach one, so
/// production may skip TLS for it (the production benchmark runs so).
fn loopback_only(pg: &tokio_postgres::Config) -> bool {
    use tokio_postgres::config::Host;
    let hosts = pg.get_hosts();
    !hosts.is_empty()
        && hosts.iter().all(|host| match host {
            Host::Tcp(name) => {
                name == "localhost"
                    || name
                        .trim_start_matches('[')
                        .trim_end_matches(']')
                        .parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
            }
            Host::Unix(_) => true,
        })
}

fn mfa_config(var: &impl Fn(&str) -> Option<String>) -> Result<MfaConfig, ConfigError> {
    let key = |name: &'static str| match var(name) {
        Some(key) if key.len() < MIN_MFA_KEY_BYTES => Err(problem(
            name,
            format!("must be at least {MIN_MFA_KEY_BYTES} bytes of random text"),
        )),
        key => Ok(key.map(SecretString::from)),
    };
    Ok(MfaConfig {
        key: key("MFA_ENCRYPTION_KEY")?
            .ok_or_else(|| problem("MFA_ENCRYPTION_KEY", "is required"))?,
        previous_key: key("MFA_PREVIOUS_ENCRYPTION_KEY")?,
        issuer: var("MFA_ISSUER").unwrap_or_else(|| "Latchkey".to_owned()),
    })
}

/// A `true` or `false` variable; `default` when unset.
fn flag(
    var: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match var(name).as_deref() {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(_) => Err(problem(name, "must be true or false")),
    }
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
        let config = config(&[
            ("DATABASE_URL", "postgres://x/db?sslmode=require"),
            ("JWT_SECRET", SECRET),
        ])
        .unwrap();
        assert_eq!(config.environment, Environment::Development);
        assert_eq!(
            config.tokens.as_ref().unwrap().access_ttl,
            Duration::from_secs(900)
        );
        assert_eq!(
            config.tokens.as_ref().unwrap().refresh_ttl,
            Duration::from_secs(30 * 24 * 3600)
        );
        assert_eq!(config.passwords.scrypt.log_n(), 17);
        assert_eq!(config.passwords.min_length, 6);
        assert_eq!(config.database.as_ref().unwrap().pool_size, 2);
        assert!(config.admin.is_none());
        assert_eq!(config.directory, Directory::Members);
        assert_eq!(config.exact_total_limit, 10_000);
    }

    #[test]
    fn the_exact_total_limit_is_a_positive_whole_number() {
        let essentials = [("DATABASE_URL", "postgres://x"), ("JWT_SECRET", SECRET)];
        let small = [essentials.as_slice(), &[("EXACT_TOTAL_LIMIT", "3")]].concat();
        assert_eq!(config(&small).unwrap().exact_total_limit, 3);
        let zero = [essentials.as_slice(), &[("EXACT_TOTAL_LIMIT", "0")]].concat();
        assert!(error(&zero).starts_with("EXACT_TOTAL_LIMIT: must be between 1 and"));
    }

    #[test]
    fn the_directory_is_members_or_admins() {
        let essentials = [("DATABASE_URL", "postgres://x"), ("JWT_SECRET", SECRET)];
        let admins = [essentials.as_slice(), &[("USER_DIRECTORY", "admins")]].concat();
        assert_eq!(config(&admins).unwrap().directory, Directory::Admins);
        let bad = [essentials.as_slice(), &[("USER_DIRECTORY", "everyone")]].concat();
        assert!(error(&bad).contains("USER_DIRECTORY"));
    }

    #[test]
    fn prepared_statements_are_off_unless_asked_for_with_true() {
        let essentials = [("DATABASE_URL", "postgres://x"), ("JWT_SECRET", SECRET)];
        let prepared = |pairs: &[(&str, &str)]| {
            config(pairs)
                .unwrap()
                .database
                .as_ref()
                .unwrap()
                .prepared_statements
        };
        let set = |value| {
            [
                essentials.as_slice(),
                &[("DATABASE_PREPARED_STATEMENTS", value)],
            ]
            .concat()
        };
        assert!(!prepared(&essentials));
        assert!(prepared(&set("true")));
        assert!(!prepared(&set("false")));
        assert_eq!(
            error(&set("yes")),
            "DATABASE_PREPARED_STATEMENTS: must be true or false"
        );
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
        let message = error(&[
            ("DATABASE_URL", "postgres://x/db?sslmode=require"),
            ("JWT_SECRET", "short"),
        ]);
        assert_eq!(message, "JWT_SECRET: must be at least 32 bytes");
        assert!(
            !message.contains("short"),
            "the value itself is never echoed"
        );
    }

    #[test]
    fn abuse_limits_default_by_environment_and_cloudfront_needs_its_secret() {
        let base = [
            ("DATABASE_URL", "postgres://x/db?sslmode=require"),
            ("JWT_SECRET", SECRET),
        ];
        let dev = config(&base).unwrap();
        assert_eq!(dev.limits.ip_per_minute, None);
        assert_eq!(dev.passwords.min_score, 0);
        assert_eq!(
            dev.tokens.as_ref().unwrap().session_max_age,
            Duration::from_secs(90 * 86_400)
        );
        assert!(dev.client_ip.origin_secret.is_none());
        let production = [
            &base[..],
            &[
                ("APP_SETTINGS", "production"),
                ("JWT_ISSUER", "https://a.example"),
                ("APP_URL", "https://app.example"),
            ],
        ]
        .concat();
        let prod = config(&production).unwrap();
        assert_eq!(prod.limits.ip_per_minute, Some(30));
        assert_eq!(prod.passwords.min_score, 2);
        let unlimited = [&production[..], &[("IP_RATE_LIMIT_PER_MINUTE", "0")]].concat();
        assert_eq!(config(&unlimited).unwrap().limits.ip_per_minute, None);

        let no_secret = [&base[..], &[("BEHIND_CLOUDFRONT", "true")]].concat();
        assert_eq!(
            error(&no_secret),
            "ORIGIN_SECRET: is required with BEHIND_CLOUDFRONT=true"
        );
        let short = [&no_secret[..], &[("ORIGIN_SECRET", "short")]].concat();
        assert_eq!(error(&short), "ORIGIN_SECRET: must be at least 16 bytes");
        let score = [&base[..], &[("PASSWORD_MIN_SCORE", "5")]].concat();
        assert!(error(&score).starts_with("PASSWORD_MIN_SCORE:"));
    }

    #[test]
    fn production_refuses_a_database_url_without_tls() {
        let production = [
            ("APP_SETTINGS", "production"),
            ("JWT_SECRET", SECRET),
            ("JWT_ISSUER", "https://a.example"),
            ("APP_URL", "https://app.example"),
        ];
        for url in [
            "postgres://x/db",
            "postgres://x/db?sslmode=prefer",
            "postgres://x/db?sslmode=disable",
        ] {
            let pairs = [&production[..], &[("DATABASE_URL", url)]].concat();
            assert_eq!(
                error(&pairs),
                "DATABASE_URL: must ask for TLS with sslmode=require in production \
                 (certificates are verified; give Amazon RDS's CA bundle in DATABASE_CA_FILE)",
                "{url}"
            );
        }
        let tls = [
            &production[..],
            &[("DATABASE_URL", "postgres://x/db?sslmode=require")],
        ]
        .concat();
        assert!(config(&tls).is_ok());
        // A database on this machine's loopback never crosses a network (and no Lambda
        // function can reach one): the production benchmark runs so.
        for url in [
            "postgres://u:p@127.0.0.1:5432/db",
            "postgres://u:p@localhost/db",
            "postgres://u:p@[::1]:5432/db",
        ] {
            let pairs = [&production[..], &[("DATABASE_URL", url)]].concat();
            assert!(config(&pairs).is_ok(), "{url}");
        }
        let mixed = "postgres://u:p@127.0.0.1,db.example.com/db";
        let pairs = [&production[..], &[("DATABASE_URL", mixed)]].concat();
        assert!(config(&pairs).is_err(), "one remote host needs TLS");
        let development = [("DATABASE_URL", "postgres://x/db"), ("JWT_SECRET", SECRET)];
        assert!(config(&development).is_ok(), "plain TCP is fine locally");
    }

    #[test]
    fn production_refuses_a_placeholder_secret_and_a_missing_issuer() {
        let base = [
            ("APP_SETTINGS", "production"),
            ("DATABASE_URL", "postgres://x/db?sslmode=require"),
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
        let base = [
            ("DATABASE_URL", "postgres://x/db?sslmode=require"),
            ("JWT_SECRET", SECRET),
        ];
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
            ("DATABASE_URL", "postgres://x/db?sslmode=require"),
            ("JWT_SECRET", SECRET),
            ("APP_SETTINGS", "testing"),
        ];
        assert_eq!(config(&base).unwrap().passwords.scrypt.log_n(), 10);
        let set = [&base[..], &[("SCRYPT_LOG_N", "12")]].concat();
        assert_eq!(config(&set).unwrap().passwords.scrypt.log_n(), 12);
    }

    #[test]
    fn the_admin_needs_both_login_and_password() {
        let base = [
            ("DATABASE_URL", "postgres://x/db?sslmode=require"),
            ("JWT_SECRET", SECRET),
        ];
        let half = [&base[..], &[("ADMIN_LOGIN", "root")]].concat();
        assert_eq!(error(&half), "ADMIN_PASSWORD: is required with ADMIN_LOGIN");
        let both = [
            &base[..],
            &[("ADMIN_LOGIN", "root"), ("ADMIN_PASSWORD", "secret-pw")],
        ]
        .concat();
        assert_eq!(config(&both).unwrap().admin.unwrap().login, "root");
    }

    #[test]
    fn mail_settings_have_local_defaults_and_production_needs_the_app_url() {
        let base = [("DATABASE_URL", "postgres://x"), ("JWT_SECRET", SECRET)];
        let mail = config(&base).unwrap().mail;
        assert_eq!(mail.app_url, "http://127.0.0.1:3000");
        assert_eq!(mail.subject_prefix, "[Latchkey] ");
        assert_eq!(mail.verification_ttl, Duration::from_secs(86_400));
        assert_eq!(mail.reset_ttl, Duration::from_secs(3_600));
        assert!(mail.smtp_url.is_some() && mail.from.is_some());
        assert!(!mail.require_verified_email);

        let set = [
            &base[..],
            &[
                ("APP_URL", "https://app.example/"),
                ("REQUIRE_VERIFIED_EMAIL", "true"),
            ],
        ]
        .concat();
        let mail = config(&set).unwrap().mail;
        assert_eq!(mail.app_url, "https://app.example", "no trailing slash");
        assert!(mail.require_verified_email);

        for (name, value) in [
            ("APP_URL", "app.example"),
            ("SMTP_URL", "http://mail.example"),
            ("REQUIRE_VERIFIED_EMAIL", "yes"),
            ("PASSWORD_RESET_TTL", "10"),
            ("MAIL_SUBJECT_PREFIX", "x\ny"),
            ("MAINTENANCE_POLL_SECS", "900"),
        ] {
            let bad = [&base[..], &[(name, value)]].concat();
            assert!(error(&bad).starts_with(&format!("{name}:")), "{name}");
        }
        let production = [
            &base[..],
            &[
                ("APP_SETTINGS", "production"),
                ("JWT_SECRET", "Zq8#vL2!mN5@xR7$kT1%wY4^pB6&cF9*"),
                ("JWT_ISSUER", "https://auth.example"),
                ("DATABASE_URL", "postgres://x/db?sslmode=require"),
            ],
        ]
        .concat();
        assert_eq!(error(&production), "APP_URL: is required in production");
        let with_url = [&production[..], &[("APP_URL", "https://app.example")]].concat();
        let mail = config(&with_url).unwrap().mail;
        assert!(
            mail.smtp_url.is_none() && mail.from.is_none(),
            "no local defaults in production"
        );
    }

    mod rs256 {
        use super::*;
        use crate::auth::keys::RsaKeys;
        use crate::auth::tokens::test_keys::{KEYS, SHORT};
        use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
        use rsa::{RsaPrivateKey, RsaPublicKey};
        use std::collections::BTreeMap;

        /// An RS256 configuration signing with `KEYS[1]` as k2, with `extra` set or replaced.
        fn rs256(extra: &[(&str, &str)]) -> Vec<(String, String)> {
            let mut pairs: Vec<(String, String)> = [
                ("DATABASE_URL", "postgres://x/db?sslmode=require"),
                ("JWT_ALGORITHM", "RS256"),
                ("JWT_KEY_ID", "k2"),
                ("JWT_PRIVATE_KEY", KEYS[1].private_pkcs8.as_str()),
            ]
            .iter()
            .chain(extra)
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            let mut seen = std::collections::HashSet::new();
            // Later entries win: keep the last of each name.
            pairs.reverse();
            pairs.retain(|(name, _)| seen.insert(name.clone()));
            pairs
        }

        fn without(mut pairs: Vec<(String, String)>, name: &str) -> Vec<(String, String)> {
            pairs.retain(|(n, _)| n != name);
            pairs
        }

        fn load(pairs: &[(String, String)]) -> Result<Config, ConfigError> {
            let borrowed: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            config(&borrowed)
        }

        fn keys(pairs: &[(String, String)]) -> RsaKeys {
            match load(pairs).unwrap().tokens.unwrap().signing {
                SigningConfig::Rs256(keys) => keys,
                SigningConfig::Hs256 { .. } => panic!("expected RS256"),
            }
        }

        fn refused(pairs: &[(String, String)]) -> String {
            match load(pairs) {
                Ok(_) => panic!("expected a configuration error"),
                Err(err) => err.to_string(),
            }
        }

        fn public_keys(entries: &[(&str, &str)]) -> String {
            let map: BTreeMap<&str, &str> = entries.iter().copied().collect();
            serde_json::to_string(&map).unwrap()
        }

        #[test]
        fn rs256_reads_the_key_id_the_private_key_and_older_public_keys() {
            let listed =
                public_keys(&[("k1", &KEYS[0].public_spki), ("k0", &KEYS[2].public_pkcs1)]);
            let keys = keys(&rs256(&[("JWT_PUBLIC_KEYS", &listed)]));
            assert_eq!(keys.key_id, "k2");
            assert_eq!(
                keys.public_key,
                RsaPrivateKey::from_pkcs8_pem(&KEYS[1].private_pkcs8)
                    .unwrap()
                    .to_public_key()
            );
            let kids: Vec<&str> = keys.other_keys.keys().map(String::as_str).collect();
            assert_eq!(kids, ["k0", "k1"]);
            assert_eq!(
                keys.other_keys["k1"],
                RsaPublicKey::from_public_key_pem(&KEYS[0].public_spki).unwrap()
            );
            assert!(!keys.private_key_der().is_empty());
        }

        #[test]
        fn a_pkcs1_private_key_and_one_with_escaped_newlines_are_accepted_too() {
            let pkcs1 = keys(&rs256(&[("JWT_PRIVATE_KEY", &KEYS[1].private_pkcs1)]));
            let one_line = KEYS[1].private_pkcs8.replace('\n', "\\n");
            let escaped = keys(&rs256(&[("JWT_PRIVATE_KEY", &one_line)]));
            assert_eq!(pkcs1.public_key, escaped.public_key);
        }

        #[test]
        fn rs256_needs_no_secret_but_a_key_id_and_a_private_key() {
            assert!(load(&rs256(&[])).is_ok(), "no JWT_SECRET needed");
            assert_eq!(
                refused(&without(rs256(&[]), "JWT_KEY_ID")),
                "JWT_KEY_ID: is required for RS256"
            );
            assert_eq!(
                refused(&without(rs256(&[]), "JWT_PRIVATE_KEY")),
                "JWT_PRIVATE_KEY: is required for RS256"
            );
            let too_long = "k".repeat(129);
            for bad_kid in ["my key", "k\u{7f}", too_long.as_str()] {
                let message = refused(&rs256(&[("JWT_KEY_ID", bad_kid)]));
                assert!(message.starts_with("JWT_KEY_ID: "), "{message}");
            }
        }

        #[test]
        fn only_hs256_and_rs256_are_algorithms() {
            for alg in ["none", "HS512", "rs256", "ES256"] {
                assert_eq!(
                    refused(&rs256(&[("JWT_ALGORITHM", alg)])),
                    "JWT_ALGORITHM: must be HS256 or RS256"
                );
            }
        }

        #[test]
        fn a_bad_private_key_is_named_and_never_echoed() {
            let truncated = &KEYS[1].private_pkcs8[..400];
            let encrypted =
                "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----";
            for bad in [
                "not a pem",
                truncated,
                KEYS[1].public_spki.as_str(),
                encrypted,
            ] {
                let message = refused(&rs256(&[("JWT_PRIVATE_KEY", bad)]));
                assert!(message.starts_with("JWT_PRIVATE_KEY: "), "{message}");
                assert!(!message.contains("MII"), "the value is never echoed");
            }
            let traditional = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\
                DEK-Info: AES-256-CBC,00\n\nMIIB\n-----END RSA PRIVATE KEY-----";
            for encrypted in [encrypted, traditional] {
                let message = refused(&rs256(&[("JWT_PRIVATE_KEY", encrypted)]));
                assert!(message.contains("is encrypted"), "{message}");
            }
        }

        #[test]
        fn malformed_public_keys_are_named() {
            for bad in ["{", "[]", r#"{"k1": 5}"#, r#""k1""#] {
                let message = refused(&rs256(&[("JWT_PUBLIC_KEYS", bad)]));
                assert!(
                    message.starts_with("JWT_PUBLIC_KEYS: must be a JSON object"),
                    "{message}"
                );
            }
            let not_pem = public_keys(&[("k1", "MIIBIjANBg")]);
            assert_eq!(
                refused(&rs256(&[("JWT_PUBLIC_KEYS", &not_pem)])),
                "JWT_PUBLIC_KEYS: kid \"k1\" is not an RSA public key of at most 4096 bits in \
                 PEM (\"BEGIN PUBLIC KEY\" or \"BEGIN RSA PUBLIC KEY\")"
            );
            let private = public_keys(&[("k1", &KEYS[0].private_pkcs8)]);
            let message = refused(&rs256(&[("JWT_PUBLIC_KEYS", &private)]));
            assert!(message.contains("holds a private key"), "{message}");
            assert!(!message.contains("MII"));
            // Over 4096 bits the verifier would refuse every token: refused at start-up.
            let n = (rsa::BigUint::from(1_u8) << 4100_usize) + 1_u8;
            let huge = RsaPublicKey::new_with_max_size(n, 65_537_u32.into(), 8192).unwrap();
            let huge =
                rsa::pkcs8::EncodePublicKey::to_public_key_pem(&huge, rsa::pkcs8::LineEnding::LF)
                    .unwrap();
            let listed = public_keys(&[("k1", &huge)]);
            let message = refused(&rs256(&[("JWT_PUBLIC_KEYS", &listed)]));
            assert!(message.contains("at most 4096 bits"), "{message}");
            let empty_kid = public_keys(&[("", &KEYS[0].public_spki)]);
            assert!(
                refused(&rs256(&[("JWT_PUBLIC_KEYS", &empty_kid)])).starts_with("JWT_PUBLIC_KEYS:")
            );
        }

        #[test]
        fn the_current_kid_may_be_listed_only_with_its_own_public_key() {
            let same = public_keys(&[("k2", &KEYS[1].public_spki)]);
            assert!(
                keys(&rs256(&[("JWT_PUBLIC_KEYS", &same)]))
                    .other_keys
                    .is_empty()
            );
            let other = public_keys(&[("k2", &KEYS[0].public_spki)]);
            assert!(
                refused(&rs256(&[("JWT_PUBLIC_KEYS", &other)]))
                    .starts_with("JWT_PUBLIC_KEYS: kid \"k2\" is JWT_KEY_ID")
            );
        }

        #[test]
        fn rsa_keys_under_2048_bits_are_refused_in_every_setting() {
            let production = [
                ("APP_SETTINGS", "production"),
                ("JWT_ISSUER", "https://auth.example"),
                ("JWT_AUDIENCE", "https://api.example"),
                ("APP_URL", "https://app.example"),
            ];
            let short = [
                &production[..],
                &[("JWT_PRIVATE_KEY", SHORT.private_pkcs8.as_str())],
            ]
            .concat();
            assert_eq!(
                refused(&rs256(&short)),
                "JWT_PRIVATE_KEY: the key of kid \"k2\" has 1024 bits; 2048 to 4096 are supported"
            );
            let listed = public_keys(&[("k1", &SHORT.public_spki)]);
            let short_old = [&production[..], &[("JWT_PUBLIC_KEYS", listed.as_str())]].concat();
            assert!(
                refused(&rs256(&short_old))
                    .starts_with("JWT_PUBLIC_KEYS: the key of kid \"k1\" has 1024")
            );
            assert!(load(&rs256(&production)).is_ok(), "2048 bits are enough");
            // ring, which signs and verifies, cannot use a shorter key: development refuses
            // it too, rather than starting with tokens that never verify.
            let development = [("JWT_PRIVATE_KEY", SHORT.private_pkcs8.as_str())];
            assert!(refused(&rs256(&development)).contains("has 1024 bits"));
            let listed = [("JWT_PUBLIC_KEYS", listed.as_str())];
            assert!(refused(&rs256(&listed)).contains("has 1024 bits"));
        }

        #[test]
        fn production_under_rs256_requires_an_audience() {
            let production = [
                ("APP_SETTINGS", "production"),
                ("JWT_ISSUER", "https://auth.example"),
                ("APP_URL", "https://app.example"),
                ("DATABASE_URL", "postgres://x/db?sslmode=require"),
            ];
            assert_eq!(
                refused(&rs256(&production)),
                "JWT_AUDIENCE: is required in production under RS256 (third-party verifiers \
                 must be able to tell tokens for this API from others)"
            );
            let with_audience =
                [&production[..], &[("JWT_AUDIENCE", "https://api.example")]].concat();
            assert!(load(&rs256(&with_audience)).is_ok());
        }
    }
}
