//! The success envelope and the headers every response carries.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::request::Page;

/// `{"status": "ok", ...fields of body}`.
#[derive(Serialize)]
struct Envelope<T> {
    status: &'static str,
    #[serde(flatten)]
    body: T,
}

/// A success response: `body`'s fields next to `"status": "ok"`.
pub fn ok<T: Serialize>(status: StatusCode, body: T) -> Response<Body> {
    json(status, &Envelope { status: "ok", body })
}

/// `{"status": "ok"}` and nothing else.
pub fn ok_empty() -> Response<Body> {
    ok(StatusCode::OK, serde_json::Map::new())
}

/// A page: `{"status": "ok", "<key>": [...], "page_num", "page_size", "total", "total_pages"}`
/// with `total_pages = ceil(total / page_size)` (0 when `total` is 0).
pub fn page<T: Serialize>(
    key: &'static str,
    items: &[T],
    page: Page,
    total: i64,
) -> Response<Body> {
    #[derive(Serialize)]
    struct PageBody<'a, T> {
        #[serde(flatten)]
        items: std::collections::BTreeMap<&'static str, &'a [T]>,
        page_num: i64,
        page_size: i64,
        total: i64,
        total_pages: i64,
    }
    let total_pages = (total + page.size - 1) / page.size;
    ok(
        StatusCode::OK,
        PageBody {
            items: std::collections::BTreeMap::from([(key, items)]),
            page_num: page.num,
            page_size: page.size,
            total,
            total_pages,
        },
    )
}

/// Any JSON response with the contract's headers (`no-store`, `nosniff`).
pub fn json<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Response<Body> {
    // Serializing our own response types cannot fail: they hold only strings, numbers,
    // timestamps and maps with string keys.
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    with_headers(status, "application/json", "no-store", Body::from(bytes))
}

/// A response with a given content type and cache policy, plus `nosniff`.
pub fn with_headers(
    status: StatusCode,
    content_type: &'static str,
    cache_control: &'static str,
    body: Body,
) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_counts_its_pages() {
        let body = |total| {
            let response = page("users", &[1, 2], Page { num: 2, size: 2 }, total);
            serde_json::from_slice::<serde_json::Value>(response.body().as_ref()).unwrap()
        };
        assert_eq!(
            body(5),
            serde_json::json!({"status": "ok", "users": [1, 2], "page_num": 2, "page_size": 2,
                "total": 5, "total_pages": 3})
        );
        assert_eq!(body(0)["total_pages"], 0);
        assert_eq!(body(4)["total_pages"], 2);
    }

    #[test]
    fn ok_puts_the_body_next_to_the_status() {
        #[derive(Serialize)]
        struct Body {
            revoked_sessions: u64,
        }
        let response = ok(
            StatusCode::OK,
            Body {
                revoked_sessions: 2,
            },
        );
        let value: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"status": "ok", "revoked_sessions": 2})
        );
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        assert_eq!(
            response.headers()[header::X_CONTENT_TYPE_OPTIONS],
            "nosniff"
        );
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    }
}
