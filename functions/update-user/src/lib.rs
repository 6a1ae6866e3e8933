//! `PATCH /users/{id}` (and `PUT`, also a partial update): change a user.
//!
//! A user changes their own name, login, email, phone or password, always confirmed by
//! `current_password` (throttled like login). An admin may set another user's `name`,
//! `role` and `disabled` without a password; nobody else may change anyone else (403
//! `forbidden`). Disabling an account revokes every session of it in the same
//! transaction; a role change does too (the tokens carry the old role). The last enabled
//! admin cannot be demoted or disabled (409 `last_admin`). The
//! write happens only if the confirmed password is still the stored one, and the unique
//! indexes decide whether a new identifier is taken (409 `user_exists`). A new password
//! revokes every session of the user and answers with a fresh token pair.
//!
//! A new email waits as `pending_email` (the current one stays in use) until the link
//! mailed to it is used; the old address gets a notice with a revert link. An account
//! without an email takes the new one at once, unverified, and gets a verification link.
//! A password change sends a notice to the email. Mails are queued in the transaction.
//!
//! With a second factor on, changing the email or the password also needs `code` (or
//! `recovery_code`), checked after the password and counted against the same lock.

use lambda_http::http::StatusCode;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use shared::accounts::events::{self, EventType, NewEvent};
use shared::accounts::identity::{Email, Login, Name, Password, Phone, Role};
use shared::accounts::users::{self, User};
use shared::auth::mfa::{Factor, FactorFields, Slot};
use shared::auth::one_time_tokens::{self, Kind};
use shared::auth::tokens::TokenPair;
use shared::config::{MailConfig, PasswordConfig};
use shared::db::{self, GenericClient, Type};
use shared::http::client::Origin;
use shared::http::error::ErrorBody;
use shared::http::openapi::{BodyErrors, LockErrors, ServerErrors, all_optional};
use shared::http::request::{Fields, Patch, json_body, path_id, validated};
use shared::http::response::Envelope;
use shared::mail::{self, Messages};
use shared::{ApiError, App, Body, Request, Response, auth::sessions, http::response};
use utoipa::ToSchema;

/// What this function reads: everything, and the MFA keys (it checks TOTP codes).
pub const USES: shared::config::Uses = shared::config::Uses::ALL;

/// Every field but `current_password` is optional; an absent field is left as it is.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({"current_password": "secret123", "name": "John D.", "email": null}))]
struct UpdateUserBody {
    /// Required when changing oneself; ignored for an admin changing someone else.
    #[schema(value_type = Option<String>, format = Password)]
    current_password: Option<SecretString>,
    /// `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    name: Patch<String>,
    /// Cannot be `null`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    login: Patch<String>,
    /// `null` clears it. A new address becomes `pending_email` until verified by the link
    /// mailed to it; the current one gets a notice with a revert link.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    email: Patch<String>,
    /// `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    phone: Patch<String>,
    /// A new password: revokes every session and answers with a fresh token pair.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Password)]
    password: Patch<SecretString>,
    /// Admins only.
    #[serde(default)]
    #[schema(value_type = Option<Role>)]
    role: Patch<String>,
    /// Admins only, on another user. `true` revokes every session of the account at once;
    /// then its logins get 403 `account_disabled`, its refresh tokens 401, and no route
    /// opens a session for it until `false` enables it again.
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    disabled: Patch<bool>,
    /// With a second factor on: a code from the authenticator, needed to change the email
    /// or the password (401 `mfa_required` without it or `recovery_code`).
    #[schema(value_type = Option<String>, pattern = "^[0-9]{6}$")]
    code: Option<SecretString>,
    /// Instead of `code`: one of the recovery codes (each works once).
    #[schema(value_type = Option<String>)]
    recovery_code: Option<SecretString>,
}

/// Validated changes; `None` leaves a column as it is, `Some(None)` clears it.
struct Changes {
    name: Option<Option<String>>,
    login: Option<Login>,
    email: Option<Option<Email>>,
    phone: Option<Option<Phone>>,
    password: Option<Password>,
    role: Option<Role>,
    disabled: Option<bool>,
}

/// The user after the change; with a fresh token pair when the password changed.
#[derive(Serialize, ToSchema)]
struct UserUpdated<'a> {
    user: &'a User,
    /// Only after a password change.
    #[serde(flatten)]
    #[schema(schema_with = all_optional::<TokenPair>)]
    tokens: Option<TokenPair>,
}

/// Change a user (PUT is a synonym, also a partial update).
#[utoipa::path(operation_id = "update_user", method(patch, put), path = "/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The user's id.")),
    request_body = UpdateUserBody,
    responses(
        (status = 200, description = "The updated user (and a new token pair after a password change).", body = Envelope<UserUpdated>),
        (status = 401, description = "`mfa_required`: the account has a second factor, and changing the email or the password needs `code` or `recovery_code`. `invalid_code`: that code is wrong or was used before (counted like a wrong password). `missing_token` or `invalid_token`: no valid bearer access token (with `WWW-Authenticate: Bearer`).", body = ErrorBody),
        (status = 403, description = "`wrong_password` (the current password is wrong) or `forbidden` (not yours to change; `role` and `disabled` are an admin's, and nobody disables themself). `mfa_required`: with `ADMIN_REQUIRE_MFA`, an admin changing another user must have signed in with a second factor.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such user.", body = ErrorBody),
        (status = 409, description = "`user_exists`: the new login, email or phone is taken. `last_admin`: the change would demote or disable the only enabled admin.", body = ErrorBody),
        BodyErrors, LockErrors, ServerErrors))]
pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let origin = app.origin(&req)?;
    let mut db = app.db().await?;
    let session = app.caller(&db, &req).await?;
    let id = path_id(&req, "id")?;
    let body: UpdateUserBody = json_body(&req)?;

    let is_self = session.user.id == id;
    if !is_self && session.user.is_admin() {
        session.ensure_admin_mfa(app)?;
    }
    let caller = session.user;
    let touches_credentials = !(body.login.is_absent()
        && body.email.is_absent()
        && body.phone.is_absent()
        && body.password.is_absent());
    let allowed = match (is_self, caller.is_admin()) {
        // Nobody disables themself: an admin would lock themself out.
        (true, admin) => body.disabled.is_absent() && (admin || body.role.is_absent()),
        (false, true) => !touches_credentials,
        (false, false) => false,
    };
    if !allowed {
        return Err(ApiError::Forbidden);
    }

    let (changes, current_password, factor) = parse(body, is_self, &app.config.passwords, &caller)?;
    let confirmed_hash = match &current_password {
        Some(password) => Some(app.confirm_password(&db, id, password, &origin).await?),
        None => None,
    };
    // With a second factor, the changes that could take the account over need it too.
    if is_self && caller.mfa_enabled && (changes.email.is_some() || changes.password.is_some()) {
        let factor = factor.ok_or(ApiError::MfaCodeRequired)?;
        app.check_code(&db, id, &factor, Slot::Enabled, &origin)
            .await?;
    }
    let new_hash = match &changes.password {
        Some(password) => Some(app.passwords.hash(password.secret()).await?),
        None => None,
    };

    let tx = db.transaction().await?;
    if changes.role.is_some_and(|role| role != Role::Admin) || changes.disabled == Some(true) {
        users::ensure_not_last_admin(&tx, id).await?;
    }
    if let Some(Some(email)) = &changes.email {
        ensure_email_free(&tx, id, email.as_str()).await?;
    }
    let updated = update(
        &tx,
        id,
        &changes,
        new_hash.as_deref(),
        confirmed_hash.as_deref(),
    )
    .await?;
    // Nothing updated: for the user themself the password changed since it was confirmed;
    // for an admin's change the user does not exist.
    let updated = updated.ok_or(if is_self {
        ApiError::WrongPassword
    } else {
        ApiError::NotFound
    })?;
    record_events(&tx, &origin, caller.id, &changes, &updated).await?;
    // The target's tokens carry the old role: every session of theirs ends with it.
    let role_changed = updated.old_role != updated.user.role.as_str();
    let disabled_now = updated.user.disabled && !updated.old_disabled;
    let Updated {
        user, old_email, ..
    } = updated;
    let messages = Messages(&app.config.mail);
    if let Some(Some(email)) = &changes.email {
        queue_email_change(&tx, &messages, &user, old_email.as_deref(), email.as_str()).await?;
    }
    if let (Some(_), Some(email)) = (&new_hash, &user.email) {
        mail::enqueue(&tx, &messages.password_changed(email)).await?;
    }
    if disabled_now {
        let revoked = sessions::revoke_all(&tx, id, "account_disabled").await?;
        one_time_tokens::void_live(&tx, id, Kind::MfaLogin).await?;
        let event = NewEvent::to_user(EventType::AccountDisabled, Some(id), Some(caller.id))
            .detail(serde_json::json!({"revoked_sessions": revoked}));
        events::record(&tx, &origin, event).await?;
        tracing::info!(
            user_id = id,
            by = caller.id,
            revoked,
            "account disabled; sessions revoked"
        );
    } else if role_changed && new_hash.is_none() {
        let revoked = sessions::revoke_all(&tx, id, "role_changed").await?;
        tracing::info!(
            user_id = id,
            by = caller.id,
            revoked,
            "role changed; sessions revoked"
        );
    }
    let tokens = match new_hash {
        Some(_) => {
            let revoked = sessions::revoke_all(&tx, id, "password_changed").await?;
            let session = sessions::open(&tx, id, app.tokens()?.refresh_ttl()).await?;
            tracing::info!(user_id = id, revoked, "password changed; sessions revoked");
            Some(session)
        }
        None => None,
    };
    tx.commit().await?;

    let tokens = match tokens {
        Some(session) => Some(app.tokens()?.issue(user.id, user.role, &session)?),
        None => None,
    };
    tracing::info!(user_id = id, by = caller.id, "user updated");
    Ok(response::ok(
        StatusCode::OK,
        UserUpdated {
            user: &user,
            tokens,
        },
    ))
}

fn parse(
    body: UpdateUserBody,
    is_self: bool,
    policy: &PasswordConfig,
    caller: &User,
) -> Result<(Changes, Option<SecretString>, Option<Factor>), ApiError> {
    let mut fields = Fields::default();
    let factor = FactorFields {
        code: body.code,
        recovery_code: body.recovery_code,
    }
    .parse(&mut fields);
    let changes = Changes {
        // An empty name clears it, like null.
        name: fields
            .clearable("name", body.name, |n| Ok(Name::parse(&n)?.into_option()))
            .map(Option::flatten),
        email: fields.clearable("email", body.email, |e| Email::parse(&e)),
        phone: fields.clearable("phone", body.phone, |p| Phone::parse(&p)),
        login: fields.changeable("login", body.login, |l| Login::parse(&l)),
        password: fields.changeable("password", body.password, |p| {
            let inputs = [
                Some(caller.login.as_str()),
                caller.email.as_deref(),
                caller.name.as_deref(),
            ];
            Password::parse_new(p, policy, &inputs.into_iter().flatten().collect::<Vec<_>>())
        }),
        role: fields.changeable("role", body.role, |r| Role::parse(&r)),
        disabled: fields.changeable("disabled", body.disabled, Ok),
    };
    let current_password = match is_self {
        true => fields.required("current_password", body.current_password, Ok),
        false => None,
    };
    fields.finish()?;
    let current_password = if is_self {
        Some(validated(current_password)?)
    } else {
        None
    };
    Ok((changes, current_password, factor))
}

/// 409 `user_exists` when `email` names another account. A pending email is not in the
/// unique index yet; its verification is decided by the index again.
async fn ensure_email_free(
    client: &impl GenericClient,
    id: i64,
    email: &str,
) -> Result<(), ApiError> {
    let taken = client
        .query_typed_opt(
            "SELECT 1 FROM user_identifiers WHERE value = $1 AND user_id <> $2",
            &[(&email, Type::TEXT), (&id, Type::INT8)],
        )
        .await?;
    match taken {
        Some(_) => Err(ApiError::UserExists),
        None => Ok(()),
    }
}

/// The mails of an email change: a verification link to the new address, and to the old
/// one (if any) a notice with a revert link.
async fn queue_email_change(
    client: &impl GenericClient,
    messages: &Messages<'_>,
    user: &User,
    old_email: Option<&str>,
    new_email: &str,
) -> Result<(), ApiError> {
    if old_email == Some(new_email) {
        return Ok(());
    }
    let config = messages.0;
    let ttl = config.verification_ttl;
    let verify = one_time_tokens::issue(client, user.id, Kind::VerifyEmail, Some(new_email), ttl)
        .await?
        .ok_or_else(|| ApiError::internal("the user just updated is gone"))?;
    mail::enqueue(client, &messages.verify_email(new_email, &verify)).await?;
    if let Some(old_email) = old_email {
        let ttl = MailConfig::REVERT_TTL;
        let revert =
            one_time_tokens::issue(client, user.id, Kind::RevertEmail, Some(old_email), ttl)
                .await?
                .ok_or_else(|| ApiError::internal("the user just updated is gone"))?;
        mail::enqueue(client, &messages.email_change_requested(old_email, &revert)).await?;
    }
    tracing::info!(user_id = user.id, "email change requested");
    Ok(())
}

/// Applies `changes` to user `id`, only if its hash is still `confirmed_hash` when one is
/// given; returns the user with the email and role it had before. `None` when no row
/// matched.
async fn update(
    client: &impl GenericClient,
    id: i64,
    changes: &Changes,
    new_hash: Option<&str>,
    confirmed_hash: Option<&str>,
) -> Result<Option<Updated>, ApiError> {
    // A new email goes pending while there is a current one; without one it is set at
    // once, unverified. `null` clears both.
    let sql = format!(
        "UPDATE users u SET
            name = CASE WHEN $2 THEN $3 ELSE u.name END,
            login = coalesce($4, u.login),
            email = CASE WHEN $5 AND ($6::text IS NULL OR u.email IS NULL) THEN $6
                ELSE u.email END,
            pending_email = CASE WHEN NOT $5 THEN u.pending_email
                WHEN $6::text IS NULL OR u.email IS NULL OR u.email = $6 THEN NULL
                ELSE $6 END,
            email_verified = CASE WHEN $5 AND ($6::text IS NULL OR u.email IS NULL) THEN false
                ELSE u.email_verified END,
            phone = CASE WHEN $7 THEN $8 ELSE u.phone END,
            role = coalesce($9, u.role),
            password_hash = coalesce($10, u.password_hash),
            disabled = coalesce($12, u.disabled),
            updated_at = now()
         FROM (SELECT id, email, role, disabled FROM users WHERE id = $1 FOR UPDATE) old
         WHERE u.id = old.id AND ($11::text IS NULL OR u.password_hash = $11)
         RETURNING {}, old.email AS old_email, old.role AS old_role,
             old.disabled AS old_disabled",
        users::COLUMNS
    );
    let name = db::clearable(&changes.name, String::as_str);
    let email = db::clearable(&changes.email, Email::as_str);
    let phone = db::clearable(&changes.phone, Phone::as_str);
    let row = client
        .query_typed_opt(
            &sql,
            &[
                (&id, Type::INT8),
                (&name.named, Type::BOOL),
                (&name.value, Type::TEXT),
                (&changes.login.as_ref().map(Login::as_str), Type::TEXT),
                (&email.named, Type::BOOL),
                (&email.value, Type::TEXT),
                (&phone.named, Type::BOOL),
                (&phone.value, Type::TEXT),
                (&changes.role.map(Role::as_str), Type::TEXT),
                (&new_hash, Type::TEXT),
                (&confirmed_hash, Type::TEXT),
                (&changes.disabled, Type::BOOL),
            ],
        )
        .await?;
    row.map(|row| {
        Ok(Updated {
            user: User::from_row(&row)?,
            old_email: row.try_get("old_email")?,
            old_role: row.try_get("old_role")?,
            old_disabled: row.try_get("old_disabled")?,
        })
    })
    .transpose()
}

/// A user as updated, with what it was before where that decides what happens next.
struct Updated {
    user: User,
    old_email: Option<String>,
    old_role: String,
    old_disabled: bool,
}

/// The audit events of an applied change, written in its transaction: the account
/// concerned is `user`, the actor `actor_id` (the user themself or an admin).
async fn record_events(
    client: &impl GenericClient,
    origin: &Origin,
    actor_id: i64,
    changes: &Changes,
    updated: &Updated,
) -> Result<(), ApiError> {
    let user = &updated.user;
    let mut kinds = Vec::new();
    if changes.password.is_some() {
        kinds.push((EventType::PasswordChanged, serde_json::json!({})));
    }
    if changes.login.is_some() {
        kinds.push((EventType::LoginChanged, serde_json::json!({})));
    }
    if changes.phone.is_some() {
        kinds.push((EventType::PhoneChanged, serde_json::json!({})));
    }
    match &changes.email {
        Some(Some(_)) if user.pending_email.is_some() => {
            kinds.push((EventType::EmailChangeRequested, serde_json::json!({})));
        }
        Some(_) => kinds.push((EventType::EmailChanged, serde_json::json!({}))),
        None => {}
    }
    if updated.old_disabled && !user.disabled {
        kinds.push((EventType::AccountEnabled, serde_json::json!({})));
    }
    if updated.old_role != user.role.as_str() {
        let detail = serde_json::json!({"from": updated.old_role, "to": user.role.as_str()});
        kinds.push((EventType::RoleChanged, detail));
    }
    for (kind, detail) in kinds {
        let event = NewEvent::to_user(kind, Some(user.id), Some(actor_id)).detail(detail);
        events::record(client, origin, event).await?;
    }
    Ok(())
}
