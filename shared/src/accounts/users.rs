//! The user as stored and as shown: the full object (to the user and to admins) and the
//! public one (to everyone else), the column list every user query selects, and the
//! lookup by id that several functions share.

use crate::db::{GenericClient, Type};
use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_postgres::Row;
use utoipa::ToSchema;

use crate::accounts::identity::Role;
use crate::config::Directory;
use crate::http::error::ApiError;

/// The columns [`User::from_row`] reads, for a `users` table aliased `u`.
pub const COLUMNS: &str = "u.id, u.login, u.name, u.email, u.pending_email, u.email_verified, \
    u.phone, u.role, u.disabled, u.mfa_enabled, u.created_at, u.updated_at";

/// A user, serialized as the contract's full object. Never holds the password hash.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": 1, "login": "john@mail.com", "name": "John",
    "email": "john@mail.com", "pending_email": null, "phone": null, "role": "user", "email_verified": false,
    "disabled": false, "mfa_enabled": false, "created_at": "2026-11-22T03:21:11Z", "updated_at": "2026-11-22T03:21:11Z"}))]
pub struct User {
    pub id: i64,
    /// Unique case-insensitively, across logins, emails and phones.
    pub login: String,
    pub name: Option<String>,
    /// Lower-cased. The address used for login and recovery.
    pub email: Option<String>,
    /// A new email asked for and not yet verified; `email` stays in use until then.
    pub pending_email: Option<String>,
    /// E.164.
    pub phone: Option<String>,
    pub role: Role,
    /// True once a link mailed to `email` was used.
    pub email_verified: bool,
    /// Set by an admin: the account's sessions were revoked and no route opens a new one.
    pub disabled: bool,
    /// True while a second factor (TOTP) is on: a password login then needs a code too.
    pub mfa_enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What other users may see of a user: never an email address or a phone number.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 7, "login": "bob", "name": null, "created_at": "2026-11-22T03:21:11Z"}))]
#[serde(deny_unknown_fields)] // documents `additionalProperties: false`, so no full user matches
pub struct PublicUser<'a> {
    pub id: i64,
    /// `null` when the login is (or merely looks like) an email address or a phone number,
    /// as it is for users who registered without a login.
    pub login: Option<&'a str>,
    pub name: Option<&'a str>,
    pub created_at: DateTime<Utc>,
}

/// A user as one viewer may see them: full to themself and to admins, public otherwise.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum UserView<'a> {
    Full(&'a User),
    Public(PublicUser<'a>),
}

impl<'a> UserView<'a> {
    pub fn for_viewer(user: &'a User, viewer: &User) -> Self {
        if viewer.is_admin() || viewer.id == user.id {
            Self::Full(user)
        } else {
            Self::Public(user.public())
        }
    }
}

/// Under `USER_DIRECTORY=admins` only admins may list users or read another user (403
/// `forbidden`); `target` is the user being read, `None` for the list.
pub fn ensure_directory_open(
    directory: Directory,
    viewer: &User,
    target: Option<i64>,
) -> Result<(), ApiError> {
    let closed = directory == Directory::Admins && !viewer.is_admin();
    if closed && target != Some(viewer.id) {
        return Err(ApiError::Forbidden);
    }
    Ok(())
}

/// Whether a login is, or could be taken for, an email address or a phone number: anything
/// with an `@`, and anything that is 7 or more digits once an optional `+` and the usual
/// separators are dropped. Such a login is never shown to other users.
pub fn looks_like_contact(login: &str) -> bool {
    let digits: String = login
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let digits = digits.strip_prefix('+').unwrap_or(&digits);
    login.contains('@') || (digits.len() >= 7 && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// 409 `last_admin` when `user_id` is the only enabled admin, before a change that would
/// demote, disable or delete it. Locks every enabled admin's row until the transaction
/// ends, so concurrent demotions, disablings and deletions of admins serialize and one
/// enabled admin always remains: the second sees the first's change when its lock is
/// granted.
pub async fn ensure_not_last_admin(
    client: &impl GenericClient,
    user_id: i64,
) -> Result<(), ApiError> {
    let admins: Vec<i64> = client
        .query_typed(
            "SELECT id FROM users WHERE role = 'admin' AND NOT disabled ORDER BY id FOR UPDATE",
            &[],
        )
        .await?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()?;
    match admins.as_slice() {
        [only] if *only == user_id => Err(ApiError::LastAdmin),
        _ => Ok(()),
    }
}

/// The user with this id: 404 `not_found` when there is none.
pub async fn find_or_404(client: &impl GenericClient, id: i64) -> Result<User, ApiError> {
    find(client, id).await?.ok_or(ApiError::NotFound)
}

/// The user with this id, if any.
pub async fn find(client: &impl GenericClient, id: i64) -> Result<Option<User>, ApiError> {
    client
        .query_typed_opt(
            &format!("SELECT {COLUMNS} FROM users u WHERE u.id = $1"),
            &[(&id, Type::INT8)],
        )
        .await?
        .as_ref()
        .map(User::from_row)
        .transpose()
}

/// The user an identifier (login, email or phone, as [`crate::accounts::identity::lookup_key`]
/// normalises it) names, if any.
pub async fn find_by_identifier(
    client: &impl GenericClient,
    key: &str,
) -> Result<Option<User>, ApiError> {
    client
        .query_typed_opt(
            &format!(
                "SELECT {COLUMNS} FROM user_identifiers i JOIN users u ON u.id = i.user_id
                 WHERE i.value = $1"
            ),
            &[(&key, Type::TEXT)],
        )
        .await?
        .as_ref()
        .map(User::from_row)
        .transpose()
}

/// Locks user `id`'s row until the transaction ends, so that what follows for this
/// account (issuing a token, counting a mail request) happens one at a time. False when
/// there is no such user.
pub async fn lock(client: &impl GenericClient, id: i64) -> Result<bool, ApiError> {
    let row = client
        .query_typed_opt(
            "SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE",
            &[(&id, Type::INT8)],
        )
        .await?;
    Ok(row.is_some())
}

impl User {
    /// Reads [`COLUMNS`] from a row.
    pub fn from_row(row: &Row) -> Result<Self, ApiError> {
        let role: String = row.try_get("role")?;
        Ok(Self {
            id: row.try_get("id")?,
            login: row.try_get("login")?,
            name: row.try_get("name")?,
            email: row.try_get("email")?,
            pending_email: row.try_get("pending_email")?,
            email_verified: row.try_get("email_verified")?,
            phone: row.try_get("phone")?,
            role: Role::parse(&role).map_err(ApiError::internal)?,
            disabled: row.try_get("disabled")?,
            mfa_enabled: row.try_get("mfa_enabled")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }

    pub fn public(&self) -> PublicUser<'_> {
        PublicUser {
            id: self.id,
            login: (!looks_like_contact(&self.login)).then_some(self.login.as_str()),
            name: self.name.as_deref(),
            created_at: self.created_at,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

#[cfg(test)]
mod tests {
    use super::looks_like_contact;

    #[test]
    fn emails_and_phone_numbers_look_like_contacts() {
        for login in [
            "john@mail.com",
            "a@b",
            "+15551234567",
            "15551234567",
            "+1 (555) 123-4567",
            "555.123.4567",
        ] {
            assert!(looks_like_contact(login), "{login}");
        }
    }

    #[test]
    fn ordinary_logins_do_not_look_like_contacts() {
        for login in ["john", "agent007", "1234", "+44", "r2-d2", "john.smith"] {
            assert!(!looks_like_contact(login), "{login}");
        }
    }
}
