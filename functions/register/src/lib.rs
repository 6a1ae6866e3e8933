//! `POST /auth/register`: create an account and open its first session.
//!
//! Parse and validate every field, hash the password, then insert the user and its
//! session in one transaction. The database's unique indexes decide duplicates (409
//! `user_exists`), also when the same login is registered concurrently. With an email,
//! a verification mail is queued in the same transaction.

use lambda_http::http::StatusCode;
use secrecy::SecretString;
use serde::Deserialize;
use shared::accounts::events::{self, EventType, NewEvent};
use shared::accounts::identity::{Email, Login, Name, Password, Phone};
use shared::accounts::users::{self, User};
use shared::auth::one_time_tokens::{self, Kind};
use shared::auth::tokens::SignedIn;
use shared::config::PasswordConfig;
use shared::db::{GenericClient, Type};
use shared::http::error::ErrorBody;
use shared::http::openapi::{BodyErrors, ServerErrors};
use shared::http::request::{Fields, json_body, validated};
use shared::http::response::Envelope;
use shared::mail::{self, Messages};
use shared::{ApiError, App, Body, Request, Response, auth::sessions};
use utoipa::ToSchema;

/// At least one of `login`, `email`, `phone`; without `login`, the email (else the phone)
/// becomes the login.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"login": "john", "email": "john@mail.com", "password": "secret123", "name": "John"}))]
struct RegisterBody {
    /// 3 to 254 characters, no whitespace.
    login: Option<String>,
    email: Option<String>,
    /// E.164, e.g. `+15551234567`.
    phone: Option<String>,
    /// `PASSWORD_MIN_LENGTH` (6) to 1024 characters.
    #[schema(value_type = String, format = Password)]
    password: Option<SecretString>,
    /// At most 100 characters.
    name: Option<String>,
}

/// A registration that meets every rule.
struct NewUser {
    login: Login,
    email: Option<Email>,
    phone: Option<Phone>,
    name: Option<String>,
    password: Password,
}

/// Register an account and open its first session; with an email, a verification mail is sent to it.
#[utoipa::path(operation_id = "register", post, path = "/auth/register", tag = "auth", request_body = RegisterBody,
    responses(
        (status = 201, description = "Registered and signed in.", body = Envelope<SignedIn>),
        (status = 403, description = "`forbidden`: behind CloudFront, a request without the origin secret.", body = ErrorBody),
        (status = 409, description = "`user_exists`: the login, email or phone is taken.", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many requests from this client IP.", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds until the rate window ends."))),
        BodyErrors, ServerErrors))]
pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let origin = app.origin(&req)?;
    let mut db = app.db().await?;
    app.limit_ip(&db, &origin, "register").await?;
    let body: RegisterBody = json_body(&req)?;
    let new_user = parse(body, &app.config.passwords)?;
    let password_hash = app.passwords.hash(new_user.password.secret()).await?;

    let tx = db.transaction().await?;
    let user = insert(&tx, &new_user, &password_hash).await?;
    let session = sessions::open(&tx, user.id, app.tokens()?.refresh_ttl()).await?;
    if let Some(email) = &user.email {
        let ttl = app.config.mail.verification_ttl;
        let token = one_time_tokens::issue(&tx, user.id, Kind::VerifyEmail, Some(email), ttl)
            .await?
            .ok_or_else(|| ApiError::internal("the user just inserted is gone"))?;
        mail::enqueue(&tx, &Messages(&app.config.mail).verify_email(email, &token)).await?;
    }
    events::record(
        &tx,
        &origin,
        NewEvent::by_user(EventType::Registered, user.id),
    )
    .await?;
    tx.commit().await?;

    tracing::info!(
        user_id = user.id,
        ip = %origin,
        request_id = %origin.request_id,
        "user registered"
    );
    app.signed_in(StatusCode::CREATED, &user, &session)
}

fn parse(body: RegisterBody, policy: &PasswordConfig) -> Result<NewUser, ApiError> {
    let mut fields = Fields::default();
    let login = fields.optional("login", body.login.as_deref(), Login::parse);
    let email = fields.optional("email", body.email.as_deref(), Email::parse);
    let phone = fields.optional("phone", body.phone.as_deref(), Phone::parse);
    let name = fields.optional("name", body.name.as_deref(), Name::parse);
    let user_inputs: Vec<&str> = [&body.login, &body.email, &body.phone, &body.name]
        .into_iter()
        .filter_map(|v| v.as_deref())
        .collect();
    let password = fields.required("password", body.password, |p| {
        Password::parse_new(p, policy, &user_inputs)
    });
    if body.login.is_none() && body.email.is_none() && body.phone.is_none() {
        fields.add("login", "one of login, email or phone is required".into());
    }
    fields.finish()?;

    // Without a login, the email is the login, else the phone (both always valid logins).
    let login = match login {
        Some(login) => login,
        None => {
            let fallback = email
                .as_ref()
                .map(Email::as_str)
                .or(phone.as_ref().map(Phone::as_str));
            validated(fallback.and_then(|value| Login::parse(value).ok()))?
        }
    };
    Ok(NewUser {
        login,
        email,
        phone,
        name: name.and_then(Name::into_option),
        password: validated(password)?,
    })
}

async fn insert(
    client: &impl GenericClient,
    new_user: &NewUser,
    password_hash: &str,
) -> Result<User, ApiError> {
    let sql = format!(
        "INSERT INTO users AS u (login, email, phone, name, password_hash)
         VALUES ($1, $2, $3, $4, $5)
         RETURNING {}",
        users::COLUMNS
    );
    let row = client
        .query_typed_one(
            &sql,
            &[
                (&new_user.login.as_str(), Type::TEXT),
                (&new_user.email.as_ref().map(Email::as_str), Type::TEXT),
                (&new_user.phone.as_ref().map(Phone::as_str), Type::TEXT),
                (&new_user.name, Type::TEXT),
                (&password_hash, Type::TEXT),
            ],
        )
        .await?;
    User::from_row(&row)
}
