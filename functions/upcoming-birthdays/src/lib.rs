//! `GET /contacts/birthdays?days=&skip=&limit=`: the caller's contacts whose next birthday
//! is at most `days` days from today (UTC), soonest first, ties by id.
//!
//! The database computes each next birthday: the birthday moved to this year, or to next
//! year once this year's has passed. Moving a date by whole years keeps 29 February in leap
//! years and turns it into 28 February in common years, and "next year" makes the window
//! wrap from 31 December into January. Only contacts whose birthday falls on one of the
//! window's month-days are read (an index on `month_day(birthday)`).

use chrono::NaiveDate;
use lambda_http::http::StatusCode;
use serde::Serialize;
use shared::contacts::{self, Contact};
use shared::db::{GenericClient, Type};
use shared::http::error::ErrorBody;
use shared::http::openapi::{AuthErrors, ServerErrors};
use shared::http::request::{Fields, int_param, validated};
use shared::http::response::Envelope;
use shared::{ApiError, App, Body, Request, Response, http::response};
use utoipa::ToSchema;

/// A contact with when its birthday comes next.
#[derive(Serialize, ToSchema)]
struct UpcomingBirthday {
    #[serde(flatten)]
    contact: Contact,
    /// `YYYY-MM-DD`: today or later.
    next_birthday: NaiveDate,
    /// Days from today (UTC) to `next_birthday`; 0 is today.
    days_until: i32,
}

#[derive(Serialize, ToSchema)]
struct Birthdays {
    contacts: Vec<UpcomingBirthday>,
}

/// The window and the slice of it to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Query {
    days: i32,
    skip: i64,
    limit: i64,
}

/// The caller's contacts with a birthday in the next `days` days, soonest first.
#[utoipa::path(operation_id = "upcoming_birthdays", get, path = "/contacts/birthdays", tag = "contacts", security(("bearer" = [])),
    params(
        ("days" = Option<i32>, Query, minimum = 0, maximum = 366, description = "How many days ahead to look (default 7); 0 is today only."),
        ("skip" = Option<i64>, Query, minimum = 0, description = "How many of the matching contacts to skip (default 0)."),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100, description = "How many contacts to return at most (default 20).")),
    responses(
        (status = 200, description = "Contacts whose next birthday is `days_until` days away, \
            `0 <= days_until <= days`, counted from today in UTC; ordered by `days_until`, then id. \
            A 29 February birthday falls on 28 February in common years.", body = Envelope<Birthdays>),
        (status = 400, description = "`validation_failed`: a query parameter out of range.", body = ErrorBody),
        AuthErrors, ServerErrors))]
pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let today = app.clock.today();
    let db = app.db().await?;
    let caller = app.caller(&db, &req).await?.user;
    let query = Query::from_request(&req)?;
    let contacts = upcoming(&db, caller.id, today, query).await?;
    Ok(response::ok(StatusCode::OK, Birthdays { contacts }))
}

impl Query {
    fn from_request(req: &Request) -> Result<Self, ApiError> {
        let mut fields = Fields::default();
        let days = fields.check("days", int_param(req, "days", 7, 0..=366));
        let skip = fields.check("skip", int_param(req, "skip", 0, 0..=i64::from(i32::MAX)));
        let limit = fields.check("limit", int_param(req, "limit", 20, 1..=100));
        fields.finish()?;
        Ok(Self {
            days: i32::try_from(validated(days)?).map_err(ApiError::internal)?,
            skip: validated(skip)?,
            limit: validated(limit)?,
        })
    }
}

async fn upcoming(
    client: &impl GenericClient,
    owner_id: i64,
    today: NaiveDate,
    query: Query,
) -> Result<Vec<UpcomingBirthday>, ApiError> {
    // $1 the owner, $2 today, $3 the window in days. The month-days the window covers (and
    // 29 February when it covers 28 February of a common year) pick the candidates through
    // the index; their next birthday is then computed exactly: the birthday moved to this
    // year, or to next year once this year's has passed.
    let sql = format!(
        "SELECT {}, next.birthday AS next_birthday, next.birthday - $2::date AS days_until
         FROM contacts c
         CROSS JOIN LATERAL (SELECT extract(year FROM $2::date)::int
             - extract(year FROM c.birthday)::int AS years) AS age
         CROSS JOIN LATERAL (SELECT
             (c.birthday + make_interval(years => age.years))::date AS this_year,
             (c.birthday + make_interval(years => age.years + 1))::date AS next_year) AS b
         CROSS JOIN LATERAL (SELECT CASE WHEN b.this_year >= $2::date
             THEN b.this_year ELSE b.next_year END AS birthday) AS next
         WHERE c.owner_id = $1 AND c.birthday IS NOT NULL
           AND month_day(c.birthday) = ANY (ARRAY(
               SELECT month_day($2::date + day) FROM generate_series(0, $3::int) AS day
               UNION ALL
               SELECT 229 FROM generate_series(0, $3::int) AS day
               WHERE month_day($2::date + day) = 228 AND month_day($2::date + day + 1) = 301))
           AND next.birthday - $2::date <= $3::int
         ORDER BY days_until, c.id
         LIMIT $5 OFFSET $4",
        contacts::COLUMNS
    );
    let rows = client
        .query_typed(
            &sql,
            &[
                (&owner_id, Type::INT8),
                (&today, Type::DATE),
                (&query.days, Type::INT4),
                (&query.skip, Type::INT8),
                (&query.limit, Type::INT8),
            ],
        )
        .await?;
    rows.iter()
        .map(|row| {
            Ok(UpcomingBirthday {
                contact: Contact::from_row(row)?,
                next_birthday: row.try_get("next_birthday")?,
                days_until: row.try_get("days_until")?,
            })
        })
        .collect()
}
