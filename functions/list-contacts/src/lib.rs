//! `GET /contacts?first_name=&last_name=&email=&q=&page_num=&page_size=`: the caller's
//! contacts, ordered by id, a page at a time, optionally filtered.
//!
//! Each filter is a case-insensitive substring (`ILIKE '%term%'`, with `%`, `_` and `\` in
//! the term matched literally); `q` matches any of first name, last name and email; given
//! filters are combined with AND. The page and the total come back in one statement.

use lambda_http::http::StatusCode;
use serde::Serialize;
use shared::contacts::{self, Contact};
use shared::db::{GenericClient, Type};
use shared::http::error::ErrorBody;
use shared::http::openapi::{AuthErrors, ServerErrors};
use shared::http::page::{Page, PageInfo, PageParams};
use shared::http::request::{Fields, query_param};
use shared::http::response::Envelope;
use shared::{ApiError, App, Body, Request, Response, http::response};
use utoipa::ToSchema;

/// The longest search term: as long as the longest stored value (an email).
const TERM_MAX_CHARS: usize = 254;

/// A page of contacts.
#[derive(Serialize, ToSchema)]
struct ContactsPage {
    contacts: Vec<Contact>,
    #[serde(flatten)]
    page: PageInfo,
}

/// `ILIKE` patterns for the filters that were given (`None`: no filter).
#[derive(Debug, Default, PartialEq, Eq)]
struct Filters {
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    q: Option<String>,
}

/// The caller's contacts, ordered by id, a page at a time, optionally filtered.
#[utoipa::path(operation_id = "list_contacts", get, path = "/contacts", tag = "contacts", security(("bearer" = [])),
    params(PageParams,
        ("first_name" = Option<String>, Query, description = "Only contacts whose first name contains this (case-insensitive; `%`, `_`, `\\` literal)."),
        ("last_name" = Option<String>, Query, description = "Only contacts whose last name contains this."),
        ("email" = Option<String>, Query, description = "Only contacts whose email contains this."),
        ("q" = Option<String>, Query, description = "Only contacts whose first name, last name or email contains this. Filters combine with AND; an empty one is ignored; at most 254 characters.")),
    responses(
        (status = 200, description = "A page of the caller's contacts, ordered by id.", body = Envelope<ContactsPage>),
        (status = 400, description = "`validation_failed`: a page parameter out of range or a filter too long.", body = ErrorBody),
        AuthErrors, ServerErrors))]
pub async fn handler(app: &App, req: Request) -> Result<Response<Body>, ApiError> {
    let db = app.db().await?;
    let caller = app.caller(&db, &req).await?.user;
    let page = Page::from_request(&req)?;
    let filters = Filters::from_request(&req)?;
    let (contacts, total) = list(&db, caller.id, &filters, page).await?;
    Ok(response::ok(
        StatusCode::OK,
        ContactsPage {
            contacts,
            page: PageInfo::new(page, total),
        },
    ))
}

impl Filters {
    fn from_request(req: &Request) -> Result<Self, ApiError> {
        let mut fields = Fields::default();
        let mut filter = |name: &'static str| {
            let term = query_param(req, name).map(str::trim).unwrap_or("");
            fields.check(name, pattern(term)).flatten()
        };
        let filters = Self {
            first_name: filter("first_name"),
            last_name: filter("last_name"),
            email: filter("email"),
            q: filter("q"),
        };
        fields.finish()?;
        Ok(filters)
    }
}

/// The `ILIKE` pattern matching `term` anywhere, its wildcards and escape character taken
/// literally; `None` for an empty term (no filter).
fn pattern(term: &str) -> Result<Option<String>, String> {
    if term.chars().count() > TERM_MAX_CHARS {
        return Err(format!("must be at most {TERM_MAX_CHARS} characters"));
    }
    if term.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    if term.is_empty() {
        return Ok(None);
    }
    let mut pattern = String::with_capacity(term.len() + 2);
    pattern.push('%');
    for c in term.chars() {
        // Backslash is LIKE's default escape character.
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    Ok(Some(pattern))
}

/// One page of `owner_id`'s contacts that match `filters`, and how many match in all.
///
/// The statement is planned for each call with its actual patterns (an unnamed statement,
/// as every one is, never a cached generic plan): then an absent filter's `$n IS NULL OR ...` folds away, and the planner uses the
/// trigram index for a pattern with trigrams (3+ characters) but scans the owner's rows for
/// a shorter one, which a generic cached plan could not tell apart.
async fn list(
    client: &impl GenericClient,
    owner_id: i64,
    filters: &Filters,
    page: Page,
) -> Result<(Vec<Contact>, i64), ApiError> {
    const MATCHES: &str = "c.owner_id = $1
        AND ($2::text IS NULL OR c.first_name ILIKE $2)
        AND ($3::text IS NULL OR c.last_name ILIKE $3)
        AND ($4::text IS NULL OR c.email ILIKE $4)
        AND ($5::text IS NULL OR c.first_name ILIKE $5 OR c.last_name ILIKE $5 OR c.email ILIKE $5)";
    let sql = format!(
        "SELECT (SELECT count(*) FROM contacts c WHERE {MATCHES}) AS total, page.*
         FROM (SELECT 1) AS one
         LEFT JOIN (SELECT {} FROM contacts c WHERE {MATCHES} ORDER BY c.id LIMIT $6 OFFSET $7)
             AS page ON true
         ORDER BY page.id",
        contacts::COLUMNS
    );
    let rows = client
        .query_typed(
            &sql,
            &[
                (&owner_id, Type::INT8),
                (&filters.first_name, Type::TEXT),
                (&filters.last_name, Type::TEXT),
                (&filters.email, Type::TEXT),
                (&filters.q, Type::TEXT),
                (&page.size, Type::INT8),
                (&page.offset(), Type::INT8),
            ],
        )
        .await?;
    let total = match rows.first() {
        Some(row) => row.try_get("total")?,
        None => 0,
    };
    let mut contacts = Vec::with_capacity(rows.len());
    for row in &rows {
        if row.try_get::<_, Option<i64>>("id")?.is_some() {
            contacts.push(Contact::from_row(row)?);
        }
    }
    Ok((contacts, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_anywhere_and_take_wildcards_literally() {
        assert_eq!(pattern("ann"), Ok(Some("%ann%".to_owned())));
        assert_eq!(pattern("50%"), Ok(Some("%50\\%%".to_owned())));
        assert_eq!(pattern("a_b"), Ok(Some("%a\\_b%".to_owned())));
        assert_eq!(pattern("c:\\x"), Ok(Some("%c:\\\\x%".to_owned())));
        assert_eq!(pattern(""), Ok(None));
    }

    #[test]
    fn terms_are_bounded_and_free_of_control_characters() {
        assert!(pattern(&"é".repeat(254)).is_ok());
        assert!(pattern(&"é".repeat(255)).is_err());
        assert!(pattern("a\u{0}b").is_err());
    }
}
