//! `GET /events?user_id=&type=&since=&page_num=&page_size=` (admin): every event, newest
//! first, narrowed by the account concerned, the type and a start time (RFC 3339).
//! Others get 403 `forbidden`.

use chrono::{DateTime, Utc};
use lambda_http::http::StatusCode;
use shared::accounts::events::{self, EventType, EventsPage, Filter};
use shared::http::error::ErrorBody;
use shared::http::openapi::{AuthErrors, ServerErrors};
use shared::http::page::{Page, PageInfo, PageParams};
use shared::http::request::{Fields, int_param, query_param, validated};
use shared::http::response::Envelope;
use shared::{ApiError, App, Body, Request, Response, http::response};

/// Every event, newest first, a page at a time (admin).
#[utoipa::path(operation_id = "list_events", get, path = "/events", tag = "admin", security(("bearer" = [])),
    params(PageParams,
        ("user_id" = Option<i64>, Query, minimum = 1, description = "Only the events of this account."),
        ("type" = Option<EventType>, Query, description = "Only events of this type."),
        ("since" = Option<String>, Query, format = DateTime, description = "Only events at or after this time (RFC 3339, e.g. `2026-11-22T00:00:00Z`)."),),
    responses(
        (status = 200, description = "A page of events, newest first. `total` is exact below \
            `EXACT_TOTAL_LIMIT` (default 10 000), at least that from there on.", body = Envelope<EventsPage>),
        (status = 400, description = "`validation_failed`: a filter or page parameter that does not parse or is out of range.", body = ErrorBody),
        (status = 403, description = "`forbidden`: the caller is not an admin. `mfa_required`: with `ADMIN_REQUIRE_MFA`, the admin's session was not signed in with a second factor.", body = ErrorBody),
        AuthErrors, ServerErrors))]
pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let db = app.db().await?;
    app.admin(&db, &req).await?;
    let filter = parse_filter(&req)?;
    let page = Page::from_request(&req)?;
    let (events, total) = events::list(&db, filter, page, app.config.exact_total_limit).await?;
    Ok(response::ok(
        StatusCode::OK,
        EventsPage {
            events,
            page: PageInfo::new(page, total),
        },
    ))
}

fn parse_filter(req: &Request) -> Result<Filter, ApiError> {
    let mut fields = Fields::default();
    let user_id = fields.check(
        "user_id",
        match query_param(req, "user_id") {
            None => Ok(None),
            Some(_) => int_param(req, "user_id", 0, 1..=i64::MAX).map(Some),
        },
    );
    let kind = fields.check(
        "type",
        query_param(req, "type")
            .map(|raw| {
                EventType::parse(raw.trim()).ok_or_else(|| "is not an event type".to_owned())
            })
            .transpose(),
    );
    let since = fields.check(
        "since",
        query_param(req, "since")
            .map(|raw| {
                DateTime::parse_from_rfc3339(raw.trim())
                    .map(|at| at.with_timezone(&Utc))
                    .map_err(|_| {
                        "must be an RFC 3339 date-time, e.g. 2026-11-22T00:00:00Z".to_owned()
                    })
            })
            .transpose(),
    );
    fields.finish()?;
    Ok(Filter {
        user_id: validated(user_id)?,
        kind: validated(kind)?,
        since: validated(since)?,
    })
}
