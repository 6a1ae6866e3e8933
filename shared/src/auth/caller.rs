//! The authenticated caller: a verified access token whose session is live and whose user
//! exists, established in one database round trip.

use crate::db::{GenericClient, Type};
use lambda_http::Request;
use uuid::Uuid;

use crate::accounts::users::{self, User};
use crate::app::App;
use crate::auth::tokens::TokenType;
use crate::db;
use crate::http::client::Origin;
use crate::http::error::ApiError;
use crate::http::request::{bearer_token, path_id};

/// Who is calling. `user` is read fresh from the database, so a role change or an account
/// deletion takes effect on the next request, not when the token expires.
#[derive(Debug)]
pub struct Caller {
    pub user: User,
    pub session_id: Uuid,
    /// How the session's login was authenticated (`pwd`, and `otp` after a second
    /// factor), from the access token.
    pub amr: Vec<String>,
}

impl Caller {
    /// For an admin action: with `ADMIN_REQUIRE_MFA`, the session must have passed a
    /// second factor (`otp` in `amr`); 403 `mfa_required` otherwise.
    pub fn ensure_admin_mfa(&self, app: &App) -> Result<(), ApiError> {
        match app.config.admin_require_mfa && !self.amr.iter().any(|m| m == "otp") {
            true => Err(ApiError::AdminMfaRequired),
            false => Ok(()),
        }
    }
}

impl App {
    /// Authenticates the request's `Authorization: Bearer` access token: 401
    /// `missing_token` without one, 401 `invalid_token` if it does not verify, is not an
    /// access token, or its session is revoked or expired, or its user is gone or disabled
    /// (disabling revokes the sessions too; this holds should one slip through).
    pub async fn caller(
        &self,
        client: &impl GenericClient,
        req: &Request,
    ) -> Result<Caller, ApiError> {
        let claims = self
            .tokens()?
            .verify(bearer_token(req)?, TokenType::Access)?;
        let sql = format!(
            "SELECT {} FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.expires_at > now()
               AND NOT u.disabled",
            users::COLUMNS
        );
        let row = client
            .query_typed_opt(
                &sql,
                &[(&claims.sid, Type::UUID), (&claims.user_id, Type::INT8)],
            )
            .await?
            .ok_or(ApiError::InvalidToken)?;
        Ok(Caller {
            user: User::from_row(&row)?,
            session_id: claims.sid,
            amr: claims.amr.unwrap_or_default(),
        })
    }

    /// [`App::caller`], who must be an admin: 403 `forbidden` otherwise, and 403
    /// `mfa_required` without a second factor under `ADMIN_REQUIRE_MFA`.
    pub async fn admin(
        &self,
        client: &impl GenericClient,
        req: &Request,
    ) -> Result<Caller, ApiError> {
        let caller = self.caller(client, req).await?;
        if !caller.user.is_admin() {
            return Err(ApiError::Forbidden);
        }
        caller.ensure_admin_mfa(self)?;
        Ok(caller)
    }
}

/// What every admin action on user `{id}` starts from: the client, a connection, the
/// admin, and the target's id.
pub struct AdminAction {
    pub origin: Origin,
    pub db: db::Client,
    pub admin: User,
    pub target_id: i64,
}

impl App {
    /// The prologue of an admin action on the user of path parameter `id`: 403 behind
    /// CloudFront without the origin secret, 401 without a valid token, 403 `forbidden`
    /// for a non-admin, 400 `validation_failed` for an id that is not a positive integer.
    pub async fn admin_action(&self, req: &Request) -> Result<AdminAction, ApiError> {
        let origin = self.origin(req)?;
        let db = self.db().await?;
        let admin = self.admin(&db, req).await?.user;
        let target_id = path_id(req, "id")?;
        Ok(AdminAction {
            origin,
            db,
            admin,
            target_id,
        })
    }
}
