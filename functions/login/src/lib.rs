//! `POST /auth/login`: exchange a login (or email, or phone) and password for a session.
//!
//! Unknown logins and wrong passwords get the same 401 after the same amount of work (a
//! dummy hash is verified for unknown logins). Five consecutive failures lock the account
//! for 30 s, doubling with every further failure up to 15 min; while locked, attempts are
//! refused with 429 and `Retry-After` before any password is evaluated.

use lambda_http::http::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use shared::db::GenericClient;
use shared::identity::lookup_key;
use shared::password::Verdict;
use shared::request::{Fields, json_body, validated};
use shared::tokens::SignedIn;
use shared::users::{self, User};
use shared::{ApiError, App, Body, Request, Response, response, sessions};

/// Failures in a row that lock an account.
const MAX_FAILURES: i32 = 5;
/// The first lock window; each further failure doubles it.
const LOCK_BASE_SECS: f64 = 30.0;
/// The longest lock window.
const LOCK_MAX_SECS: f64 = 900.0;

#[derive(Deserialize)]
struct LoginBody {
    login: Option<String>,
    password: Option<SecretString>,
}

/// An account as login needs it.
struct Account {
    user: User,
    password_hash: String,
    failed_logins: i32,
    /// Seconds until the lock ends, when locked.
    locked_for_secs: Option<i64>,
}

pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let body: LoginBody = json_body(&req)?;
    let mut fields = Fields::default();
    let login = fields.required("login", body.login, non_empty);
    let password = fields.required("password", body.password, |p: SecretString| {
        if p.expose_secret().is_empty() {
            Err("is required".to_owned())
        } else {
            Ok(p)
        }
    });
    fields.finish()?;
    let (login, password) = (validated(login)?, validated(password)?);

    let db = app.db().await?;
    let account = find(&db, &lookup_key(&login)).await?;
    if let Some(secs) = account.as_ref().and_then(|a| a.locked_for_secs) {
        return Err(ApiError::TooManyAttempts {
            retry_after_secs: secs.max(1) as u64,
        });
    }
    let stored_hash = account.as_ref().map(|a| a.password_hash.as_str());
    let verdict = app.passwords.verify(&password, stored_hash).await?;

    let (account, needs_rehash) = match (account, verdict) {
        (Some(account), Verdict::Valid { needs_rehash }) => (account, needs_rehash),
        (Some(account), Verdict::Invalid) => {
            record_failure(&db, account.user.id).await?;
            tracing::info!(user_id = account.user.id, "login failed: wrong password");
            return Err(ApiError::InvalidCredentials);
        }
        (None, _) => {
            tracing::info!("login failed: unknown login");
            return Err(ApiError::InvalidCredentials);
        }
    };

    let new_hash = match needs_rehash {
        true => Some(app.passwords.hash(&password).await?),
        false => None,
    };
    if account.failed_logins > 0 || new_hash.is_some() {
        record_success(&db, account.user.id, new_hash.as_deref()).await?;
    }
    let user = account.user;
    let session = sessions::open(&db, user.id, app.tokens.refresh_ttl()).await?;
    let tokens = app
        .tokens
        .issue(user.id, user.role, session.id, session.refresh_jti)?;
    tracing::info!(user_id = user.id, rehashed = needs_rehash, "user logged in");
    Ok(response::ok(
        StatusCode::OK,
        SignedIn {
            user: &user,
            tokens,
        },
    ))
}

fn non_empty(value: String) -> Result<String, String> {
    if value.trim().is_empty() {
        Err("is required".into())
    } else {
        Ok(value)
    }
}

async fn find(client: &impl GenericClient, key: &str) -> Result<Option<Account>, ApiError> {
    let sql = format!(
        "SELECT {}, u.password_hash, u.failed_logins,
                CASE WHEN u.locked_until > now()
                     THEN ceil(extract(epoch FROM u.locked_until - now()))::bigint END AS locked_for
         FROM user_identifiers i JOIN users u ON u.id = i.user_id
         WHERE i.value = $1",
        users::COLUMNS
    );
    let statement = client.prepare_cached(&sql).await?;
    let Some(row) = client.query_opt(&statement, &[&key]).await? else {
        return Ok(None);
    };
    Ok(Some(Account {
        user: User::from_row(&row)?,
        password_hash: row.try_get("password_hash")?,
        failed_logins: row.try_get("failed_logins")?,
        locked_for_secs: row.try_get("locked_for")?,
    }))
}

/// Counts a failure; the fifth in a row and every later one (re)starts the lock window.
async fn record_failure(client: &impl GenericClient, user_id: i64) -> Result<(), ApiError> {
    let statement = client
        .prepare_cached(
            "UPDATE users SET
                failed_logins = failed_logins + 1,
                locked_until = CASE WHEN failed_logins + 1 >= $2
                    THEN now() + make_interval(secs => least($3 * 2 ^ (failed_logins + 1 - $2), $4))
                    ELSE locked_until END
             WHERE id = $1",
        )
        .await?;
    client
        .execute(
            &statement,
            &[&user_id, &MAX_FAILURES, &LOCK_BASE_SECS, &LOCK_MAX_SECS],
        )
        .await?;
    Ok(())
}

/// Clears the failure count and, when the stored hash was made with weaker parameters,
/// stores the new one.
async fn record_success(
    client: &impl GenericClient,
    user_id: i64,
    new_hash: Option<&str>,
) -> Result<(), ApiError> {
    let statement = client
        .prepare_cached(
            "UPDATE users SET failed_logins = 0, locked_until = NULL,
                password_hash = coalesce($2, password_hash)
             WHERE id = $1",
        )
        .await?;
    client.execute(&statement, &[&user_id, &new_hash]).await?;
    Ok(())
}
