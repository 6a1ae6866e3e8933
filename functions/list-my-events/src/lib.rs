//! `GET /users/me/events?page_num=&page_size=`: the caller's own audit trail, newest
//! first. For events another account (an admin) caused, that account's IP and user agent
//! are null: an admin's whereabouts are not the user's to see.

use lambda_http::http::StatusCode;
use shared::accounts::events::{self, Event, EventsPage, Filter};
use shared::http::error::ErrorBody;
use shared::http::openapi::{AuthErrors, ServerErrors};
use shared::http::page::{Page, PageInfo, PageParams};
use shared::http::response::Envelope;
use shared::{ApiError, App, Body, Request, Response, http::response};

/// The caller's own events, newest first, a page at a time.
#[utoipa::path(operation_id = "list_my_events", get, path = "/users/me/events", tag = "users", security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, description = "A page of the caller's events, newest first. `ip` and \
            `user_agent` are null on events an admin caused. `total` is exact below \
            `EXACT_TOTAL_LIMIT` (default 10 000), at least that from there on.", body = Envelope<EventsPage>),
        (status = 400, description = "`validation_failed`: a page parameter out of range.", body = ErrorBody),
        AuthErrors, ServerErrors))]
pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let db = app.db().await?;
    let caller = app.caller(&db, &req).await?;
    let page = Page::from_request(&req)?;
    let filter = Filter {
        user_id: Some(caller.user.id),
        ..Filter::default()
    };
    let (events, total) = events::list(&db, filter, page, app.config.exact_total_limit).await?;
    let events = events.into_iter().map(Event::for_subject).collect();
    Ok(response::ok(
        StatusCode::OK,
        EventsPage {
            events,
            page: PageInfo::new(page, total),
        },
    ))
}
