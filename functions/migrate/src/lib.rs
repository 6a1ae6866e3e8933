//! `migrate`: applies the embedded SQL migrations, then creates the admin account from
//! `ADMIN_LOGIN` / `ADMIN_PASSWORD` when both are set and no account has that login. It
//! never changes an existing account, and fails (so does the deploy) when that login
//! belongs to an account that is not an admin.
//!
//! With `API_DATABASE_URL` (the functions' URL, another role than `DATABASE_URL`'s), it
//! also keeps that role able to read and write rows and nothing else ([`api_role`]).
//!
//! After a rotation of `MFA_ENCRYPTION_KEY` (the old key given as
//! `MFA_PREVIOUS_ENCRYPTION_KEY`), it re-encrypts every TOTP secret still under the old
//! key, so the deploy after it may drop the old key.
//!
//! Locally it is a plain command; on Lambda it is a CloudFormation custom resource
//! ([`custom_resource`]) that every deploy invokes before the API serves traffic.

use serde::Serialize;
use shared::accounts::identity::{Login, Password, lookup_key};
use shared::config::AdminBootstrap;
use shared::db::{self, GenericClient, Type};
use shared::{ApiError, App};

pub mod api_role;
pub mod custom_resource;

/// What this function reads from its environment: the database and the MFA keys (to
/// re-encrypt after a rotation), no signing key (`template.yaml`, checked by
/// `tests/consistency`).
pub const USES: shared::config::Uses = shared::config::Uses {
    mfa: true,
    ..shared::config::Uses::DATABASE
};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// What a run did, as logged locally and returned to the Lambda caller.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Outcome {
    /// Migrations applied by this run, e.g. `V1__users_and_sessions`.
    pub applied: Vec<String>,
    pub admin: AdminOutcome,
    /// TOTP secrets re-encrypted from the previous MFA key to the current one.
    pub resealed_mfa_secrets: u64,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AdminOutcome {
    /// `ADMIN_LOGIN` / `ADMIN_PASSWORD` are not set.
    NotConfigured,
    Created,
    /// An admin account with that login exists already; left as it is.
    AlreadyExists,
}

pub async fn run(app: &App) -> Result<Outcome, Error> {
    // Migrations need a real session (an advisory lock, long statements): migrate's
    // DATABASE_URL reaches Postgres directly, or pins its connection in RDS Proxy.
    let mut client = app.db().await?;
    let database = app
        .config
        .database
        .as_ref()
        .ok_or("migrate was built without the database")?;
    client
        .session()
        .batch_execute(&format!(
            "SET statement_timeout = {}",
            database.migration_statement_timeout.as_millis()
        ))
        .await?;
    let applied = db::migrate(client.session()).await?;
    let timeout = database.statement_timeout;
    match &app.config.api_role {
        // Two roles: the functions' one gets row rights and the timeout.
        Some(role) => api_role::provision(&mut client, role, timeout.as_millis()).await?,
        None => db::set_role_statement_timeout(client.session(), timeout).await?,
    }
    let admin = match &app.config.admin {
        None => AdminOutcome::NotConfigured,
        Some(admin) => bootstrap_admin(app, &client, admin).await?,
    };
    let resealed_mfa_secrets = match app.mfa() {
        Ok(keys) => shared::auth::mfa::reseal_all(&client, keys).await?,
        Err(_) => 0,
    };
    tracing::info!(?applied, ?admin, resealed_mfa_secrets, "migrations done");
    Ok(Outcome {
        applied,
        admin,
        resealed_mfa_secrets,
    })
}

async fn bootstrap_admin(
    app: &App,
    client: &impl GenericClient,
    admin: &AdminBootstrap,
) -> Result<AdminOutcome, Error> {
    let login = Login::parse(&admin.login).map_err(|m| format!("ADMIN_LOGIN: {m}"))?;
    let password = Password::parse_new(
        admin.password.clone(),
        &app.config.passwords,
        &[&admin.login],
    )
    .map_err(|m| format!("ADMIN_PASSWORD: {m}"))?;
    let existing = client
        .query_typed_opt(
            "SELECT u.id, u.role FROM user_identifiers i JOIN users u ON u.id = i.user_id
             WHERE i.value = $1",
            &[(&lookup_key(login.as_str()), Type::TEXT)],
        )
        .await?;
    if let Some(row) = existing {
        let (id, role): (i64, String) = (row.try_get(0)?, row.try_get(1)?);
        // Someone else's account under the admin's login: passing would leave the
        // operator believing an admin exists. Fail the deploy and change nothing.
        if role != "admin" {
            return Err(format!(
                "ADMIN_LOGIN names an existing account that is not an admin (user id {id}); \
                 choose another ADMIN_LOGIN, or promote that account through update-user"
            )
            .into());
        }
        return Ok(AdminOutcome::AlreadyExists);
    }
    let hash = app.passwords.hash(password.secret()).await?;
    let inserted = client
        .execute_typed(
            "INSERT INTO users (login, role, password_hash) VALUES ($1, 'admin', $2)",
            &[(&login.as_str(), Type::TEXT), (&hash, Type::TEXT)],
        )
        .await;
    match inserted.map_err(ApiError::from) {
        Ok(_) => Ok(AdminOutcome::Created),
        Err(ApiError::UserExists) => Ok(AdminOutcome::AlreadyExists),
        Err(err) => Err(err.into()),
    }
}
