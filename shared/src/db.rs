//! The Postgres pool (deadpool over tokio-postgres, rustls when the URL asks for TLS),
//! the one way statements are sent, the embedded migrations, and how database failures
//! become client-visible errors.
//!
//! Pooler-safe by default: a connection carries no session state. No startup options, no
//! `SET`, no named prepared statements; every statement goes out unnamed with its
//! parameter types (`query_typed`: Parse, Bind, Describe, Execute, Sync in one write, one
//! round trip), so PgBouncer in transaction mode and RDS Proxy can hand the server
//! connection to another client between transactions. The statement timeout lives on the
//! database role ([`set_role_statement_timeout`], run by `migrate`).
//!
//! `DATABASE_PREPARED_STATEMENTS=true` opts out of one of those rules, for deployments
//! whose connections keep named statements (a direct connection, or PgBouncer 1.21 and
//! later with `max_prepared_statements`): each statement is then prepared once per
//! connection, named, and later calls send only Bind and Execute, so Postgres neither
//! parses nor re-analyses it and may reuse its plan. Still one round trip per call once a
//! connection has prepared it (two the first time).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime};
use secrecy::ExposeSecret;
use tokio_postgres::config::SslMode;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Error as PgError, Row};

use crate::config::{ConfigError, DatabaseConfig};
use crate::http::error::ApiError;

pub use tokio_postgres::types::Type;

/// A parameter and the Postgres type it is sent as, e.g. `(&user_id, Type::INT8)`.
pub type Param<'a> = (&'a (dyn ToSql + Sync), Type);

/// The most statements one connection keeps prepared. Every statement's text is built
/// from constants, so the real number is far below; past it the connection's cache
/// starts over, which keeps a warm function's memory bounded whatever a future route
/// does.
const MAX_PREPARED_PER_CONNECTION: usize = 256;

/// A pooled connection, sending statements as the configuration says
/// (`DATABASE_PREPARED_STATEMENTS`).
pub struct Client {
    connection: deadpool_postgres::Object,
    prepared: bool,
}

/// A transaction on a [`Client`]; rolled back if dropped without [`Transaction::commit`].
pub struct Transaction<'a> {
    transaction: deadpool_postgres::Transaction<'a>,
    prepared: bool,
}

impl Client {
    pub(crate) fn new(connection: deadpool_postgres::Object, prepared: bool) -> Self {
        Self {
            connection,
            prepared,
        }
    }

    /// The connection itself, for what only `migrate` does, which needs a session (it
    /// connects directly): `SET`, the migrations' runner, utility statements.
    pub fn session(&mut self) -> &mut tokio_postgres::Client {
        &mut self.connection
    }

    pub async fn transaction(&mut self) -> Result<Transaction<'_>, PgError> {
        Ok(Transaction {
            transaction: self.connection.transaction().await?,
            prepared: self.prepared,
        })
    }
}

impl Transaction<'_> {
    pub async fn commit(self) -> Result<(), PgError> {
        self.transaction.commit().await
    }
}

/// A pooled connection or a transaction on one. It offers only typed statements, sent
/// unnamed or, with `DATABASE_PREPARED_STATEMENTS=true`, prepared once per connection;
/// there is no other way to send one.
pub trait GenericClient: Sync {
    /// Every row the statement returns.
    fn query_typed(
        &self,
        sql: &str,
        params: &[Param<'_>],
    ) -> impl Future<Output = Result<Vec<Row>, PgError>> + Send;
    /// Exactly one row, or an error.
    fn query_typed_one(
        &self,
        sql: &str,
        params: &[Param<'_>],
    ) -> impl Future<Output = Result<Row, PgError>> + Send;
    /// At most one row, or an error.
    fn query_typed_opt(
        &self,
        sql: &str,
        params: &[Param<'_>],
    ) -> impl Future<Output = Result<Option<Row>, PgError>> + Send;
    /// The number of rows the statement inserted, updated or deleted.
    fn execute_typed(
        &self,
        sql: &str,
        params: &[Param<'_>],
    ) -> impl Future<Output = Result<u64, PgError>> + Send;
}

/// One statement through `$inner` (a deadpool connection or transaction): unnamed with
/// tokio-postgres's own `*_typed` method, or, when `prepared`, as the connection's cached
/// named statement. A named statement the server no longer has, or whose result type a
/// migration changed, empties the connection's cache; outside a transaction the call is
/// then sent again unnamed (the next one prepares afresh), inside one the transaction is
/// lost and the error answers 503 ([`is_stale`]).
macro_rules! send {
    ($self:ident . $inner:ident, $retry:literal, $sql:ident, $params:ident, $prepared:ident, $unnamed:ident) => {{
        let inner = &$self.$inner;
        if !$self.prepared {
            return inner.$unnamed($sql, $params).await;
        }
        let types: Vec<Type> = $params.iter().map(|(_, ty)| ty.clone()).collect();
        let cache = &inner.statement_cache;
        if cache.size() >= MAX_PREPARED_PER_CONNECTION {
            cache.clear();
        }
        let values: Vec<&(dyn ToSql + Sync)> = $params.iter().map(|(value, _)| *value).collect();
        let outcome = match inner.prepare_typed_cached($sql, &types).await {
            Ok(statement) => inner.$prepared(&statement, &values).await,
            Err(err) => Err(err),
        };
        match outcome {
            Err(err) if is_stale(&err) => {
                cache.clear();
                if $retry {
                    inner.$unnamed($sql, $params).await
                } else {
                    Err(err)
                }
            }
            other => other,
        }
    }};
}

/// Both implementations send through [`send!`]; only a connection outside a transaction
/// can send a statement again.
macro_rules! typed_statements {
    ($($client:ty => $inner:ident, retry: $retry:literal),+) => {$(
        impl GenericClient for $client {
            async fn query_typed(&self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>, PgError> {
                send!(self.$inner, $retry, sql, params, query, query_typed)
            }
            async fn query_typed_one(&self, sql: &str, params: &[Param<'_>]) -> Result<Row, PgError> {
                send!(self.$inner, $retry, sql, params, query_one, query_typed_one)
            }
            async fn query_typed_opt(&self, sql: &str, params: &[Param<'_>]) -> Result<Option<Row>, PgError> {
                send!(self.$inner, $retry, sql, params, query_opt, query_typed_opt)
            }
            async fn execute_typed(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, PgError> {
                send!(self.$inner, $retry, sql, params, execute, execute_typed)
            }
        }
    )+};
}

typed_statements!(
    Client => connection, retry: true,
    Transaction<'_> => transaction, retry: false
);

/// A named statement that no longer holds: the server has none by that name (the
/// connection changed under a pooler that does not follow prepared statements), or a
/// migration changed the type of a column it returns.
fn is_stale(err: &PgError) -> bool {
    err.as_db_error().is_some_and(|db| {
        *db.code() == SqlState::INVALID_SQL_STATEMENT_NAME
            || (*db.code() == SqlState::FEATURE_NOT_SUPPORTED
                && db
                    .message()
                    .starts_with("cached plan must not change result type"))
    })
}

#[cfg(feature = "migrations")]
mod embedded {
    refinery::embed_migrations!("../migrations");
}

/// Unique constraints that mean "this login, email or phone is taken".
const IDENTITY_CONSTRAINTS: &[&str] = &[
    "user_identifiers_pkey",
    "users_login_key",
    "users_email_key",
    "users_phone_key",
];

/// Builds the pool. Nothing connects here: the first `get()` opens a connection, and
/// connections are then reused for every later invocation of the warm function.
pub fn pool(config: &DatabaseConfig) -> Result<Pool, ConfigError> {
    let invalid = |problem: &str| ConfigError {
        variable: "DATABASE_URL",
        problem: problem.into(),
    };
    let mut pg: tokio_postgres::Config = config
        .url
        .expose_secret()
        .parse()
        .map_err(|_| invalid("is not a valid Postgres URL"))?;
    pg.connect_timeout(config.connect_timeout);
    if pg.get_application_name().is_none() {
        pg.application_name("latchkey");
    }
    let manager_config = ManagerConfig {
        recycling_method: RecyclingMethod::Fast,
    };
    let manager = if pg.get_ssl_mode() == SslMode::Require {
        Manager::from_config(pg, tls(config.ca_file.as_deref())?, manager_config)
    } else {
        Manager::from_config(pg, tokio_postgres::NoTls, manager_config)
    };
    Pool::builder(manager)
        .max_size(config.pool_size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(config.connect_timeout))
        .create_timeout(Some(config.connect_timeout))
        .recycle_timeout(Some(config.connect_timeout))
        .build()
        .map_err(|_| invalid("could not be turned into a connection pool"))
}

/// rustls with the Mozilla roots, plus the CA bundle in `ca_file` (e.g. Amazon RDS's).
fn tls(ca_file: Option<&str>) -> Result<tokio_postgres_rustls::MakeRustlsConnect, ConfigError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        let bad = |problem: &str| ConfigError {
            variable: "DATABASE_CA_FILE",
            problem: problem.into(),
        };
        let pem = std::fs::read(path).map_err(|_| bad("cannot be read"))?;
        for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(&pem) {
            let cert: rustls::pki_types::CertificateDer<'static> =
                cert.map_err(|_| bad("is not a PEM certificate bundle"))?;
            roots
                .add(cert)
                .map_err(|_| bad("holds a certificate rustls cannot use"))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|_| ConfigError {
            variable: "DATABASE_URL",
            problem: "TLS setup failed".into(),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
}

#[cfg(feature = "migrations")]
/// Applies pending migrations, one runner at a time (a session advisory lock), and
/// returns the names of those it applied. It needs a real session (the lock, refinery's
/// transactions): give it a direct connection, not one through a transaction pooler.
pub async fn migrate(
    client: &mut tokio_postgres::Client,
) -> Result<Vec<String>, Box<dyn std::error::Error + Send + Sync>> {
    const LOCK: i64 = 0x6c61_7463_686b_6579; // "latchkey"
    client
        .execute_typed("SELECT pg_advisory_lock($1)", &[(&LOCK, Type::INT8)])
        .await?;
    let result = embedded::migrations::runner().run_async(client).await;
    client
        .execute_typed("SELECT pg_advisory_unlock($1)", &[(&LOCK, Type::INT8)])
        .await?;
    let report = result?;
    Ok(report
        .applied_migrations()
        .iter()
        .map(ToString::to_string)
        .collect())
}

/// Makes `timeout` the `statement_timeout` of the connected role in the connected database
/// (`ALTER ROLE CURRENT_USER IN DATABASE .. SET`): every later connection of that role
/// starts with it, so no connection has to send it (a startup option or a `SET` is session
/// state, which pins a client to a server connection in RDS Proxy and is lost or leaked in
/// PgBouncer's transaction mode). Connections that are open already keep their value.
pub async fn set_role_statement_timeout(
    client: &tokio_postgres::Client,
    timeout: Duration,
) -> Result<(), PgError> {
    // A utility statement takes no parameters: the database name is quoted by `format`'s
    // `%I`, and the number is ours.
    client
        .batch_execute(&format!(
            "DO $$ BEGIN EXECUTE format(
                 'ALTER ROLE CURRENT_USER IN DATABASE %I SET statement_timeout = %s',
                 current_database(), {}); END $$",
            timeout.as_millis()
        ))
        .await
}

/// A clearable field of a partial update (`crate::http::request::Fields::clearable`) as
/// the two parameters of `column = CASE WHEN $named THEN $value ELSE column END`: whether
/// the body named it, and the value to store (`None` clears the column). Every partial
/// update writes its clearable columns this way, so an absent field never touches one.
pub fn clearable<'a, T, U>(
    change: &'a Option<Option<T>>,
    value: impl Fn(&'a T) -> U,
) -> Clearable<U> {
    Clearable {
        named: change.is_some(),
        value: change.as_ref().and_then(|new| new.as_ref().map(value)),
    }
}

/// See [`clearable`].
pub struct Clearable<U> {
    pub named: bool,
    pub value: Option<U>,
}

/// `err` as `meaning` when it is a violation of `constraint`, otherwise as any database
/// error. For the one insert site that knows what that constraint means there, e.g. a
/// foreign key to an account deleted while the request was under way.
pub fn on_constraint(err: tokio_postgres::Error, constraint: &str, meaning: ApiError) -> ApiError {
    match err.as_db_error().and_then(|db| db.constraint()) {
        Some(name) if name == constraint => meaning,
        _ => err.into(),
    }
}

impl From<PoolError> for ApiError {
    fn from(err: PoolError) -> Self {
        match err {
            PoolError::Backend(err) => err.into(),
            PoolError::Timeout(_) | PoolError::Closed => ApiError::DatabaseUnavailable(err.into()),
            other => ApiError::internal(other),
        }
    }
}

impl From<tokio_postgres::Error> for ApiError {
    fn from(err: tokio_postgres::Error) -> Self {
        if let Some(db) = err.as_db_error() {
            let code = db.code();
            if *code == SqlState::UNIQUE_VIOLATION
                && db
                    .constraint()
                    .is_some_and(|name| IDENTITY_CONSTRAINTS.contains(&name))
            {
                return ApiError::UserExists;
            }
            // A NUL (or a character the encoding cannot hold) that got past request
            // parsing, e.g. in a query parameter: the client's input, not our fault.
            if *code == SqlState::CHARACTER_NOT_IN_REPERTOIRE
                || *code == SqlState::UNTRANSLATABLE_CHARACTER
            {
                return ApiError::invalid_field("input", "must not contain NUL characters");
            }
            if is_unavailable(code) || is_stale(&err) {
                return ApiError::DatabaseUnavailable(err.into());
            }
            return ApiError::internal(err);
        }
        let io =
            std::error::Error::source(&err).is_some_and(|source| source.is::<std::io::Error>());
        if err.is_closed() || io {
            ApiError::DatabaseUnavailable(err.into())
        } else {
            ApiError::internal(err)
        }
    }
}

/// Errors that say "the database cannot serve now", not "this request is wrong":
/// connection exceptions, exhausted resources, shutdowns, and statement timeouts.
fn is_unavailable(code: &SqlState) -> bool {
    let code = code.code();
    code.starts_with("08")
        || code.starts_with("53")
        || code.starts_with("57P")
        || code == SqlState::QUERY_CANCELED.code()
}
