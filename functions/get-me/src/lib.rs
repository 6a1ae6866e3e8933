//! `GET /users/me`: the caller's own full user object.

use lambda_http::http::StatusCode;
use serde::Serialize;
use shared::users::User;
use shared::{ApiError, App, Body, Request, Response, response};

#[derive(Serialize)]
struct Me {
    user: User,
}

pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let db = app.db().await?;
    let caller = app.caller(&db, &req).await?;
    Ok(response::ok(StatusCode::OK, Me { user: caller.user }))
}
