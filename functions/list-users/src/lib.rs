//! `GET /users?page_num=&page_size=`: every user, ordered by id, a page at a time; full
//! objects for admins and for the caller's own row, public objects otherwise (never an
//! email or phone). With `USER_DIRECTORY=admins`, only admins may list.
//!
//! The page and the total come back in one statement (one round trip): the page is
//! left-joined to a single row carrying the total's inputs, so an empty page still says
//! the total. `total` is exact below `EXACT_TOTAL_LIMIT` users and the planner's estimate
//! above it ([`shared::http::totals`]), so a page costs the same at 10^3 and 10^6 users.

use lambda_http::http::StatusCode;
use serde::Serialize;
use shared::accounts::users::{self, User, UserView};
use shared::db::{GenericClient, Type};
use shared::http::error::ErrorBody;
use shared::http::openapi::{AuthErrors, ServerErrors};
use shared::http::page::{Page, PageInfo, PageParams};
use shared::http::response::Envelope;
use shared::http::totals;
use shared::{ApiError, App, Body, Request, Response, http::response};
use utoipa::ToSchema;

/// A page of users.
#[derive(Serialize, ToSchema)]
struct UsersPage<'a> {
    users: Vec<UserView<'a>>,
    #[serde(flatten)]
    page: PageInfo,
}

/// Every user, ordered by id, a page at a time.
#[utoipa::path(operation_id = "list_users", get, path = "/users", tag = "users", security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of users. `total` is exact below \
            `EXACT_TOTAL_LIMIT` users (default 10 000) and the database's estimate from \
            there on (never below the limit or this page's end; exact on a partial last \
            page).", body = Envelope<UsersPage>),
        (status = 400, description = "`validation_failed`: a page parameter out of range.", body = ErrorBody),
        (status = 403, description = "`forbidden`: `USER_DIRECTORY=admins` and the caller is not an admin.", body = ErrorBody),
        AuthErrors, ServerErrors))]
pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let db = app.db().await?;
    let caller = app.caller(&db, &req).await?;
    users::ensure_directory_open(app.config.directory, &caller.user, None)?;
    let page = Page::from_request(&req)?;
    let (users, total) = list(&db, page, app.config.exact_total_limit).await?;
    let users = users
        .iter()
        .map(|u| UserView::for_viewer(u, &caller.user))
        .collect();
    Ok(response::ok(
        StatusCode::OK,
        UsersPage {
            users,
            page: PageInfo::new(page, total),
        },
    ))
}

async fn list(
    client: &impl GenericClient,
    page: Page,
    exact_limit: i64,
) -> Result<(Vec<User>, i64), ApiError> {
    let sql = format!(
        "WITH page AS (SELECT {} FROM users u ORDER BY u.id LIMIT $1 OFFSET $2)
         SELECT totals.counted, totals.estimated, page.*
         FROM {} LEFT JOIN page ON true
         ORDER BY page.id",
        users::COLUMNS,
        totals::from("users", 3)
    );
    let rows = client
        .query_typed(
            &sql,
            &[
                (&page.size, Type::INT8),
                (&page.offset(), Type::INT8),
                (&exact_limit, Type::INT8),
            ],
        )
        .await?;
    let mut users = Vec::with_capacity(rows.len());
    for row in &rows {
        if row.try_get::<_, Option<i64>>("id")?.is_some() {
            users.push(User::from_row(row)?);
        }
    }
    let total = match rows.first() {
        Some(row) => totals::resolve(
            row.try_get("counted")?,
            row.try_get("estimated")?,
            exact_limit,
            page,
            users.len(),
        ),
        None => 0,
    };
    Ok((users, total))
}
