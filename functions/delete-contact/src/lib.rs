//! `DELETE /contacts/{id}`: remove one of the caller's contacts and answer with it as it
//! was. Someone else's contact is 404 `not_found`: the owner is part of the DELETE itself.

use lambda_http::http::StatusCode;
use serde::Serialize;
use shared::contacts::{self, Contact};
use shared::db::{GenericClient, Type};
use shared::http::error::ErrorBody;
use shared::http::openapi::{AuthErrors, ServerErrors};
use shared::http::request::path_id;
use shared::http::response::Envelope;
use shared::{ApiError, App, Body, Request, Response, http::response};
use utoipa::ToSchema;

/// The contact as it was.
#[derive(Serialize, ToSchema)]
struct ContactDeleted {
    contact: Contact,
}

/// Delete one of the caller's contacts.
#[utoipa::path(operation_id = "delete_contact", delete, path = "/contacts/{id}", tag = "contacts", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The contact's id.")),
    responses(
        (status = 200, description = "ContactDeleted; the contact as it was.", body = Envelope<ContactDeleted>),
        (status = 400, description = "`validation_failed`: the id is not a positive integer.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such contact in the caller's address book.", body = ErrorBody),
        AuthErrors, ServerErrors))]
pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let db = app.db().await?;
    let caller = app.caller(&db, &req).await?.user;
    let id = path_id(&req, "id")?;
    let contact = delete(&db, caller.id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    tracing::info!(user_id = caller.id, contact_id = id, "contact deleted");
    Ok(response::ok(StatusCode::OK, ContactDeleted { contact }))
}

/// Deletes contact `id` if `owner_id` owns it, and returns it as it was.
async fn delete(
    client: &impl GenericClient,
    owner_id: i64,
    id: i64,
) -> Result<Option<Contact>, ApiError> {
    let sql = format!(
        "DELETE FROM contacts c WHERE c.id = $1 AND c.owner_id = $2 RETURNING {}",
        contacts::COLUMNS
    );
    let row = client
        .query_typed_opt(&sql, &[(&id, Type::INT8), (&owner_id, Type::INT8)])
        .await?;
    row.as_ref().map(Contact::from_row).transpose()
}
