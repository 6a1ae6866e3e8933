//! `POST /contacts`: add a contact to the caller's address book.
//!
//! Authenticate, parse and validate every field (the birthday against today's UTC date),
//! then insert the contact owned by the caller.

use chrono::NaiveDate;
use lambda_http::http::StatusCode;
use serde::{Deserialize, Serialize};
use shared::accounts::identity::{Email, Phone};
use shared::contacts::{self, Birthday, Contact, ContactName, Notes};
use shared::db::{self, GenericClient, Type};
use shared::http::openapi::{AuthErrors, BodyErrors, ServerErrors};
use shared::http::request::{Fields, json_body, validated};
use shared::http::response::Envelope;
use shared::{ApiError, App, Body, Request, Response, http::response};
use utoipa::ToSchema;

/// `first_name` and `last_name` are required; the rest may be absent or `null`.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com",
    "phone": "+15551234567", "birthday": "1990-02-28", "notes": "Met at RustConf."}))]
struct CreateContactBody {
    /// 1 to 100 characters after trimming.
    #[schema(value_type = String, required = true)]
    first_name: Option<String>,
    /// 1 to 100 characters after trimming.
    #[schema(value_type = String, required = true)]
    last_name: Option<String>,
    /// An email address; stored lower-cased.
    email: Option<String>,
    /// E.164, e.g. `+15551234567` (spaces, dashes, dots and parentheses are dropped).
    phone: Option<String>,
    /// `YYYY-MM-DD`, today (UTC) or earlier.
    #[schema(format = Date)]
    birthday: Option<String>,
    /// At most 2000 characters after trimming; empty is none.
    notes: Option<String>,
}

/// A contact that meets every rule.
struct NewContact {
    first_name: ContactName,
    last_name: ContactName,
    email: Option<Email>,
    phone: Option<Phone>,
    birthday: Option<Birthday>,
    notes: Option<String>,
}

#[derive(Serialize, ToSchema)]
struct ContactCreated {
    contact: Contact,
}

/// Add a contact to the caller's address book.
#[utoipa::path(operation_id = "create_contact", post, path = "/contacts", tag = "contacts", security(("bearer" = [])),
    request_body = CreateContactBody,
    responses(
        (status = 201, description = "The new contact.", body = Envelope<ContactCreated>),
        BodyErrors, AuthErrors, ServerErrors))]
pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let today = app.clock.today();
    let db = app.db().await?;
    let caller = app.caller(&db, &req).await?.user;
    let body: CreateContactBody = json_body(&req)?;
    let new_contact = parse(body, today)?;
    let contact = insert(&db, caller.id, &new_contact).await?;
    tracing::info!(
        user_id = caller.id,
        contact_id = contact.id,
        "contact created"
    );
    Ok(response::ok(
        StatusCode::CREATED,
        ContactCreated { contact },
    ))
}

fn parse(body: CreateContactBody, today: NaiveDate) -> Result<NewContact, ApiError> {
    let mut fields = Fields::default();
    let first_name = fields.required("first_name", body.first_name.as_deref(), ContactName::parse);
    let last_name = fields.required("last_name", body.last_name.as_deref(), ContactName::parse);
    let email = fields.optional("email", body.email.as_deref(), Email::parse);
    let phone = fields.optional("phone", body.phone.as_deref(), Phone::parse);
    let birthday = fields.optional("birthday", body.birthday.as_deref(), |raw| {
        Birthday::parse(raw, today)
    });
    let notes = fields.optional("notes", body.notes.as_deref(), Notes::parse);
    fields.finish()?;
    Ok(NewContact {
        first_name: validated(first_name)?,
        last_name: validated(last_name)?,
        email,
        phone,
        birthday,
        notes: notes.and_then(Notes::into_option),
    })
}

async fn insert(
    client: &impl GenericClient,
    owner_id: i64,
    new_contact: &NewContact,
) -> Result<Contact, ApiError> {
    let sql = format!(
        "INSERT INTO contacts AS c (owner_id, first_name, last_name, email, phone, birthday, notes)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         RETURNING {}",
        contacts::COLUMNS
    );
    let row = client
        .query_typed_one(
            &sql,
            &[
                (&owner_id, Type::INT8),
                (&new_contact.first_name.as_str(), Type::TEXT),
                (&new_contact.last_name.as_str(), Type::TEXT),
                (&new_contact.email.as_ref().map(Email::as_str), Type::TEXT),
                (&new_contact.phone.as_ref().map(Phone::as_str), Type::TEXT),
                (&new_contact.birthday.map(Birthday::date), Type::DATE),
                (&new_contact.notes, Type::TEXT),
            ],
        )
        .await
        // The account was deleted while the request was under way: answer as the next
        // request with its token will be answered, not with a 500.
        .map_err(|err| db::on_constraint(err, "contacts_owner_id_fkey", ApiError::InvalidToken))?;
    Contact::from_row(&row)
}
