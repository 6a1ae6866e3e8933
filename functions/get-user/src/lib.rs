//! `GET /users/{id}`: one user; the full object to the user themself and to admins, the
//! public one to everyone else (never an email or phone). With `USER_DIRECTORY=admins`,
//! only admins may read someone else.

use lambda_http::http::StatusCode;
use serde::Serialize;
use shared::accounts::users::{self, UserView};
use shared::http::error::ErrorBody;
use shared::http::openapi::{AuthErrors, ServerErrors};
use shared::http::request::path_id;
use shared::http::response::Envelope;
use shared::{ApiError, App, Body, Request, Response, http::response};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
struct UserFound<'a> {
    user: UserView<'a>,
}

/// One user: the full object to the user themself and to admins, the public one otherwise.
#[utoipa::path(operation_id = "get_user", get, path = "/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path, minimum = 1, description = "The user's id.")),
    responses(
        (status = 200, description = "The user.", body = Envelope<UserFound>),
        (status = 400, description = "`validation_failed`: the id is not a positive integer.", body = ErrorBody),
        (status = 403, description = "`forbidden`: `USER_DIRECTORY=admins`, the caller is not an admin and asks for someone else.", body = ErrorBody),
        (status = 404, description = "`not_found`: no such user.", body = ErrorBody),
        AuthErrors, ServerErrors))]
pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let db = app.db().await?;
    let caller = app.caller(&db, &req).await?;
    let id = path_id(&req, "id")?;
    users::ensure_directory_open(app.config.directory, &caller.user, Some(id))?;
    let user = users::find_or_404(&db, id).await?;
    let view = UserView::for_viewer(&user, &caller.user);
    Ok(response::ok(StatusCode::OK, UserFound { user: view }))
}
