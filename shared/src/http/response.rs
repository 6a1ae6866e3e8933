//! The success envelope and the headers every response carries.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::error::ApiError;

/// `{"status": "ok", ...fields of body}`: what every success response is.
#[derive(Serialize, ToSchema)]
pub struct Envelope<T> {
    /// Always `"ok"`.
    #[schema(pattern = "^ok$")]
    status: &'static str,
    #[serde(flatten)]
    body: T,
}

/// A success response: `body`'s fields next to `"status": "ok"`.
pub fn ok<T: Serialize>(status: StatusCode, body: T) -> Response<Body> {
    json(status, &Envelope { status: "ok", body })
}

/// No fields besides `status`.
#[derive(Serialize, ToSchema)]
pub struct Empty {}

/// `{"status": "ok"}` and nothing else.
pub fn ok_empty() -> Response<Body> {
    ok(StatusCode::OK, Empty {})
}

/// Any JSON response with the contract's headers (`no-store`, `nosniff`).
pub fn json<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Response<Body> {
    // Serializing our own response types cannot fail: they hold only strings, numbers,
    // timestamps and maps with string keys.
    let text = serde_json::to_string(body).unwrap_or_else(|_| "{}".to_owned());
    with_headers(status, "application/json", "no-store", Body::Text(text))
}

/// The cache policy of the standard documents (`/.well-known/*`): they change only with a
/// deployment or a key rotation.
pub const PUBLIC_CACHE: &str = "public, max-age=300";

/// 200 with a JSON document served as its standard defines it (no envelope), publicly
/// cacheable for five minutes, with `nosniff`.
pub fn public_json<T: Serialize + ?Sized>(body: &T) -> Result<Response<Body>, ApiError> {
    let text = serde_json::to_string(body).map_err(ApiError::internal)?;
    Ok(with_headers(
        StatusCode::OK,
        "application/json",
        PUBLIC_CACHE,
        Body::Text(text),
    ))
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
    fn json_bodies_are_text_from_the_start() {
        let document = serde_json::json!({"name": "Zoë"});
        for response in [ok_empty(), public_json(&document).unwrap()] {
            assert!(matches!(response.body(), Body::Text(text) if text.starts_with('{')));
        }
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
