//! Two database roles: `migrate` connects as the schema's owner (`DATABASE_URL`), the
//! functions as the role of `API_DATABASE_URL`, which may read and write rows and nothing
//! else. After every migration run, `migrate` makes that role exist with the URL's
//! password (a new secret value takes effect on the next deploy) and grants it exactly
//! that on every table and sequence, except the migrations' own history.

use secrecy::ExposeSecret;
use shared::config::ApiRole;
use shared::db::{GenericClient, Type};

use crate::Error;

/// Creates `role` if it does not exist, sets its password (sent as a SCRAM-SHA-256
/// verifier, so the plain password is never in a statement Postgres could log), grants it
/// row access and makes `statement_timeout_ms` its timeout in this database. Refuses a
/// role that is the owner itself or a superuser: row rights would not limit it.
pub async fn provision(
    client: &mut shared::db::Client,
    role: &ApiRole,
    statement_timeout_ms: u128,
) -> Result<(), Error> {
    let verifier =
        postgres_protocol::password::scram_sha_256(role.password.expose_secret().as_bytes());
    // Utility statements take no parameters: Postgres quotes the names and the verifier.
    let quoted = client
        .query_typed_one(
            "SELECT quote_ident($1) AS role, quote_literal($2) AS verifier,
                    quote_ident(current_database()) AS db, $1 = current_user AS is_owner,
                    coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = $1), false)
                        AS is_superuser",
            &[(&role.name, Type::TEXT), (&verifier, Type::TEXT)],
        )
        .await?;
    let (name, verifier, db): (String, String, String) = (
        quoted.try_get("role")?,
        quoted.try_get("verifier")?,
        quoted.try_get("db")?,
    );
    if quoted.try_get::<_, bool>("is_owner")? {
        return Err(
            "API_DATABASE_URL names DATABASE_URL's own role: leave it unset to use \
             one role, or give the functions another"
                .into(),
        );
    }
    if quoted.try_get::<_, bool>("is_superuser")? {
        return Err("API_DATABASE_URL's role is a superuser: row rights would not limit it".into());
    }
    client
        .session()
        .batch_execute(&format!(
            "DO $$ BEGIN
                 CREATE ROLE {name} LOGIN;
             EXCEPTION WHEN duplicate_object THEN NULL;
             END $$;
             ALTER ROLE {name} LOGIN PASSWORD {verifier};
             GRANT CONNECT ON DATABASE {db} TO {name};
             GRANT USAGE ON SCHEMA public TO {name};
             GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {name};
             GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {name};
             REVOKE ALL ON refinery_schema_history FROM {name};
             ALTER ROLE {name} IN DATABASE {db} SET statement_timeout = {statement_timeout_ms};"
        ))
        .await?;
    tracing::info!(role = %role.name, "API role provisioned");
    Ok(())
}
