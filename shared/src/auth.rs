//! The authenticated caller: a verified access token whose session is live and whose user
//! exists, established in one database round trip.

use deadpool_postgres::GenericClient;
use lambda_http::Request;
use uuid::Uuid;

use crate::app::App;
use crate::error::ApiError;
use crate::request::bearer_token;
use crate::tokens::TokenType;
use crate::users::{self, User};

/// Who is calling. `user` is read fresh from the database, so a role change or an account
/// deletion takes effect on the next request, not when the token expires.
#[derive(Debug)]
pub struct Caller {
    pub user: User,
    pub session_id: Uuid,
}

impl App {
    /// Authenticates the request's `Authorization: Bearer` access token: 401
    /// `missing_token` without one, 401 `invalid_token` if it does not verify, is not an
    /// access token, or its session is revoked or expired, or its user is gone.
    pub async fn caller(
        &self,
        client: &impl GenericClient,
        req: &Request,
    ) -> Result<Caller, ApiError> {
        let claims = self.tokens.verify(bearer_token(req)?, TokenType::Access)?;
        let sql = format!(
            "SELECT {} FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL AND s.expires_at > now()",
            users::COLUMNS
        );
        let statement = client.prepare_cached(&sql).await?;
        let row = client
            .query_opt(&statement, &[&claims.sid, &claims.user_id])
            .await?
            .ok_or(ApiError::InvalidToken)?;
        Ok(Caller {
            user: User::from_row(&row)?,
            session_id: claims.sid,
        })
    }
}
