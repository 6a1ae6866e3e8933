//! `GET /users?page_num=&page_size=`: every user, ordered by id, a page at a time; full
//! objects for admins and for the caller's own row, public objects otherwise.
//!
//! The page and the total come back in one statement (one round trip): the page is
//! left-joined to a single row carrying `count(*)`, so an empty page still says the total.

use shared::db::GenericClient;
use shared::request::Page;
use shared::users::{self, User, UserView};
use shared::{ApiError, App, Body, Request, Response, response};

pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let db = app.db().await?;
    let caller = app.caller(&db, &req).await?;
    let page = Page::from_request(&req)?;
    let (users, total) = list(&db, page).await?;
    let views: Vec<UserView> = users
        .iter()
        .map(|u| UserView::for_viewer(u, &caller.user))
        .collect();
    Ok(response::page("users", &views, page, total))
}

async fn list(client: &impl GenericClient, page: Page) -> Result<(Vec<User>, i64), ApiError> {
    let sql = format!(
        "WITH page AS (SELECT {} FROM users u ORDER BY u.id LIMIT $1 OFFSET $2)
         SELECT (SELECT count(*) FROM users) AS total, page.*
         FROM (SELECT 1) AS one LEFT JOIN page ON true
         ORDER BY page.id",
        users::COLUMNS
    );
    let statement = client.prepare_cached(&sql).await?;
    let rows = client
        .query(&statement, &[&page.size, &page.offset()])
        .await?;
    let total = match rows.first() {
        Some(row) => row.try_get("total")?,
        None => 0,
    };
    let mut users = Vec::with_capacity(rows.len());
    for row in &rows {
        if row.try_get::<_, Option<i64>>("id")?.is_some() {
            users.push(User::from_row(row)?);
        }
    }
    Ok((users, total))
}
