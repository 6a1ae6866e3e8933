//! `GET /users/{id}`: one user; the full object to the user themself and to admins, the
//! public one to everyone else.

use lambda_http::http::StatusCode;
use serde::Serialize;
use shared::request::path_id;
use shared::users::{self, UserView};
use shared::{ApiError, App, Body, Request, Response, response};

#[derive(Serialize)]
struct Found<'a> {
    user: UserView<'a>,
}

pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let db = app.db().await?;
    let caller = app.caller(&db, &req).await?;
    let id = path_id(&req, "id")?;
    let user = users::find(&db, id).await?.ok_or(ApiError::NotFound)?;
    let view = UserView::for_viewer(&user, &caller.user);
    Ok(response::ok(StatusCode::OK, Found { user: view }))
}
