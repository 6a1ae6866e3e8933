//! `PATCH /contacts/{id}` (and `PUT`, also a partial update): change one of the caller's
//! contacts.
//!
//! A field that is absent stays as it is; `null` clears an optional field (`email`,
//! `phone`, `birthday`, `notes`); the names can be changed but not cleared. An empty body
//! `{}` changes nothing and answers with the contact as it is; any named field moves
//! `updated_at`. The owner is part of the UPDATE itself, so someone else's contact is 404
//! `not_found`, never 403.

use chrono::NaiveDate;
use lambda_http::http::StatusCode;
use serde::{Deserialize, Serialize};
use shared::accounts::identity::{Email, Phone};
use shared::contacts::{self, Birthday, Contact, ContactName, Notes};
use shared::db::{self, GenericClient, Type};
use shared::http::error::ErrorBody;
use shared::http::openapi::{AuthErrors, BodyErrors, ServerErrors};
use shared::http::request::{Fields, Patch, json_body, path_id};
use shared::http::response::Envelope;
use shared::{ApiError, App, Body, Request, Response, http::response};
use utoipa::ToSchema;

/// Every field is optional; an absent field is left as it is.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"last_name": "Lee-Smith", "phone": null, "birthday": "1990-02-28"}))]
struct UpdateContactBody {
    /// 1 to 100 characters after trimming; cannot be `null`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    first_name: Patch<String>,
    /// 1 to 100 characters after trimming; cannot be `null`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    last_name: Patch<String>,
    /// `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    email: Patch<String>,
    /// E.164; `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    phone: Patch<String>,
    /// `YYYY-MM-DD`, today (UTC) or earlier; `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    birthday: Patch<String>,
    /// At most 2000 characters; `null` or empty clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    notes: Patch<String>,
}

/// Validated changes; `None` leaves a column as it is, `Some(None)` clears it.
struct Changes {
    first_name: Option<ContactName>,
    last_name: Option<ContactName>,
    email: Option<Option<Email>>,
    phone: Option<Option<Phone>>,
    birthday: Option<Option<Birthday>>,
    notes: Option<Option<String>>,
}

#[derive(Serialize, ToSchema)]
struct ContactUpdated {
    contact: Contact,
}

/// Change one of the caller's contacts (PUT is a synonym, also a partial update).
#[utoipa::path(operation_id = "update_contact", method(patch, put), path = "/contacts/{id}", tag = "contacts", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The contact's id.")),
    request_body = UpdateContactBody,
    responses(
        (status = 200, description = "The contact after the change.", body = Envelope<ContactUpdated>),
        (status = 404, description = "`not_found`: no such contact in the caller's address book.", body = ErrorBody),
        BodyErrors, AuthErrors, ServerErrors))]
pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let today = app.clock.today();
    let db = app.db().await?;
    let caller = app.caller(&db, &req).await?.user;
    let id = path_id(&req, "id")?;
    let body: UpdateContactBody = json_body(&req)?;
    let changes = parse(body, today)?;
    let contact = update(&db, caller.id, id, &changes)
        .await?
        .ok_or(ApiError::NotFound)?;
    tracing::info!(user_id = caller.id, contact_id = id, "contact updated");
    Ok(response::ok(StatusCode::OK, ContactUpdated { contact }))
}

fn parse(body: UpdateContactBody, today: NaiveDate) -> Result<Changes, ApiError> {
    let mut fields = Fields::default();
    let changes = Changes {
        first_name: fields.changeable("first_name", body.first_name, |n| ContactName::parse(&n)),
        last_name: fields.changeable("last_name", body.last_name, |n| ContactName::parse(&n)),
        email: fields.clearable("email", body.email, |e| Email::parse(&e)),
        phone: fields.clearable("phone", body.phone, |p| Phone::parse(&p)),
        birthday: fields.clearable("birthday", body.birthday, |b| Birthday::parse(&b, today)),
        // Empty notes clear them, like null.
        notes: fields
            .clearable("notes", body.notes, |n| Ok(Notes::parse(&n)?.into_option()))
            .map(Option::flatten),
    };
    fields.finish()?;
    Ok(changes)
}

impl Changes {
    /// Whether the body named any field (an empty body leaves `updated_at` alone).
    fn any(&self) -> bool {
        self.first_name.is_some()
            || self.last_name.is_some()
            || self.email.is_some()
            || self.phone.is_some()
            || self.birthday.is_some()
            || self.notes.is_some()
    }
}

/// Applies `changes` to contact `id` if `owner_id` owns it; `None` when no row matched.
async fn update(
    client: &impl GenericClient,
    owner_id: i64,
    id: i64,
    changes: &Changes,
) -> Result<Option<Contact>, ApiError> {
    let sql = format!(
        "UPDATE contacts c SET
            first_name = coalesce($3, c.first_name),
            last_name = coalesce($4, c.last_name),
            email = CASE WHEN $5 THEN $6 ELSE c.email END,
            phone = CASE WHEN $7 THEN $8 ELSE c.phone END,
            birthday = CASE WHEN $9 THEN $10 ELSE c.birthday END,
            notes = CASE WHEN $11 THEN $12 ELSE c.notes END,
            updated_at = CASE WHEN $13 THEN now() ELSE c.updated_at END
         WHERE c.id = $1 AND c.owner_id = $2
         RETURNING {}",
        contacts::COLUMNS
    );
    let email = db::clearable(&changes.email, Email::as_str);
    let phone = db::clearable(&changes.phone, Phone::as_str);
    let birthday = db::clearable(&changes.birthday, |b| b.date());
    let notes = db::clearable(&changes.notes, String::as_str);
    let row = client
        .query_typed_opt(
            &sql,
            &[
                (&id, Type::INT8),
                (&owner_id, Type::INT8),
                (
                    &changes.first_name.as_ref().map(ContactName::as_str),
                    Type::TEXT,
                ),
                (
                    &changes.last_name.as_ref().map(ContactName::as_str),
                    Type::TEXT,
                ),
                (&email.named, Type::BOOL),
                (&email.value, Type::TEXT),
                (&phone.named, Type::BOOL),
                (&phone.value, Type::TEXT),
                (&birthday.named, Type::BOOL),
                (&birthday.value, Type::DATE),
                (&notes.named, Type::BOOL),
                (&notes.value, Type::TEXT),
                (&changes.any(), Type::BOOL),
            ],
        )
        .await?;
    row.as_ref().map(Contact::from_row).transpose()
}
