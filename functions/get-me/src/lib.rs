//! `GET /users/me`: the caller's own full user object.

use lambda_http::http::StatusCode;
use serde::Serialize;
use shared::accounts::users::User;
use shared::http::openapi::{AuthErrors, ServerErrors};
use shared::http::response::Envelope;
use shared::{ApiError, App, Body, Request, Response, http::response};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
struct Me {
    user: User,
}

/// The caller's own full user object.
#[utoipa::path(operation_id = "get_me", get, path = "/users/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, description = "The caller.", body = Envelope<Me>), AuthErrors, ServerErrors))]
pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let db = app.db().await?;
    let caller = app.caller(&db, &req).await?;
    Ok(response::ok(StatusCode::OK, Me { user: caller.user }))
}
