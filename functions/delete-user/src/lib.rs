//! `DELETE /users/{id}`: delete an account; its sessions and contacts go with it (foreign
//! keys cascade, in the one DELETE statement). The user themself must confirm with their
//! password (throttled like login); an admin may delete anyone without one. Afterwards
//! every token of the user is refused and the login can be registered again.

use lambda_http::http::StatusCode;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use shared::accounts::events::{self, EventType, NewEvent};
use shared::accounts::users::{self, User};
use shared::db::{GenericClient, Type};
use shared::http::error::ErrorBody;
use shared::http::openapi::{AuthErrors, BodyErrors, LockErrors, ServerErrors};
use shared::http::request::{Fields, optional_json_body, path_id, validated};
use shared::http::response::Envelope;
use shared::{ApiError, App, Body, Request, Response, http::response};
use utoipa::ToSchema;

/// Required when deleting oneself; an admin deleting someone else sends none.
#[derive(Default, Deserialize, ToSchema)]
struct DeleteUserBody {
    #[schema(value_type = Option<String>, format = Password)]
    password: Option<SecretString>,
}

/// The user as it was.
#[derive(Serialize, ToSchema)]
struct UserDeleted {
    user: User,
}

/// Delete a user with their sessions and contacts.
#[utoipa::path(operation_id = "delete_user", delete, path = "/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The user's id.")),
    request_body(content = Option<DeleteUserBody>),
    responses(
        (status = 200, description = "UserDeleted; every token of the user is refused from now on.", body = Envelope<UserDeleted>),
        (status = 403, description = "`wrong_password` or `forbidden` (not yours to delete). `mfa_required`: with `ADMIN_REQUIRE_MFA`, an admin deleting another user must have signed in with a second factor.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such user.", body = ErrorBody),
        (status = 409, description = "`last_admin`: the account is the only admin.", body = ErrorBody),
        BodyErrors, AuthErrors, LockErrors, ServerErrors))]
pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let origin = app.origin(&req)?;
    let mut db = app.db().await?;
    let session = app.caller(&db, &req).await?;
    let id = path_id(&req, "id")?;
    let body: DeleteUserBody = optional_json_body(&req)?;

    let is_self = session.user.id == id;
    if !is_self && !session.user.is_admin() {
        return Err(ApiError::Forbidden);
    }
    if !is_self {
        session.ensure_admin_mfa(app)?;
    }
    let caller = session.user;
    let confirmed_hash = match is_self {
        true => {
            let mut fields = Fields::default();
            let password = fields.required("password", body.password, Ok);
            fields.finish()?;
            Some(
                app.confirm_password(&db, id, &validated(password)?, &origin)
                    .await?,
            )
        }
        false => None,
    };

    let tx = db.transaction().await?;
    users::ensure_not_last_admin(&tx, id).await?;
    let deleted = delete(&tx, id, confirmed_hash.as_deref()).await?;
    let user = deleted.ok_or(if is_self {
        ApiError::WrongPassword
    } else {
        ApiError::NotFound
    })?;
    // The event outlives the account it concerns (until retention).
    let event = NewEvent::to_user(EventType::AccountDeleted, Some(id), Some(caller.id));
    events::record(&tx, &origin, event).await?;
    tx.commit().await?;
    tracing::info!(user_id = id, by = caller.id, "user deleted");
    Ok(response::ok(StatusCode::OK, UserDeleted { user }))
}

/// Deletes user `id` (only if its hash is still `confirmed_hash`, when given) and returns
/// it as it was.
async fn delete(
    client: &impl GenericClient,
    id: i64,
    confirmed_hash: Option<&str>,
) -> Result<Option<User>, ApiError> {
    let sql = format!(
        "DELETE FROM users u WHERE u.id = $1 AND ($2::text IS NULL OR u.password_hash = $2)
         RETURNING {}",
        users::COLUMNS
    );
    let row = client
        .query_typed_opt(&sql, &[(&id, Type::INT8), (&confirmed_hash, Type::TEXT)])
        .await?;
    row.as_ref().map(User::from_row).transpose()
}
