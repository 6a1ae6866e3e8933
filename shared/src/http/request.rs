//! Reading requests: JSON bodies (64 KiB at most), the Bearer header, and collecting
//! per-field validation messages into one `validation_failed` answer.

use lambda_http::http::header;
use lambda_http::{Request, RequestExt};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::http::error::{ApiError, FieldErrors};

/// The largest body any route accepts.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Parses the body as a JSON object into `T`. Unknown fields are ignored; a body over
/// 64 KiB is 413; anything that is not JSON, not an object, or has a field of the wrong
/// JSON type is 400 `invalid_json`, naming the field but never echoing its value.
pub fn json_body<T: DeserializeOwned>(req: &Request) -> Result<T, ApiError> {
    let bytes = req.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge);
    }
    // serde would also read a struct from a JSON array (fields by position): only an
    // object is a valid body.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        let blank = bytes.iter().all(u8::is_ascii_whitespace);
        let reason = match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
            Err(_) if !blank => "The request body is not valid JSON.",
            _ => "The request body must be a JSON object.",
        };
        return Err(ApiError::InvalidJson(reason.into()));
    }
    let not_json = || ApiError::InvalidJson("The request body is not valid JSON.".into());
    reject_nul(bytes)?;
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            not_json()
        } else if path == "." {
            ApiError::InvalidJson("The request body must be a JSON object.".into())
        } else {
            ApiError::InvalidJson(format!("Field `{path}` has the wrong JSON type."))
        }
    })?;
    deserializer.end().map_err(|_| not_json())?;
    Ok(value)
}

/// 400 `validation_failed`, naming the top-level field, when any string in the body holds
/// a NUL character: Postgres cannot store NUL in text (SQLSTATE 22021), so it must never
/// get that far, whatever the field. Other control characters are refused by each
/// field's own rules (`identity`, `contacts`), which report every field at once.
fn reject_nul(bytes: &[u8]) -> Result<(), ApiError> {
    // A raw NUL is not valid JSON (the parser refuses it); it can only arrive escaped.
    if !bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        return Ok(());
    }
    let Ok(serde_json::Value::Object(fields)) = serde_json::from_slice(bytes) else {
        return Ok(()); // not a JSON object: the parser answers invalid_json
    };
    fn has_nul(value: &serde_json::Value) -> bool {
        match value {
            serde_json::Value::String(s) => s.contains('\0'),
            serde_json::Value::Array(items) => items.iter().any(has_nul),
            serde_json::Value::Object(map) => {
                map.iter().any(|(k, v)| k.contains('\0') || has_nul(v))
            }
            _ => false,
        }
    }
    match fields.iter().find(|(_, value)| has_nul(value)) {
        Some((name, _)) => Err(ApiError::Validation(FieldErrors::from([(
            name.clone().into(),
            vec!["must not contain control characters".to_owned()],
        )]))),
        None => Ok(()),
    }
}

/// Like [`json_body`], but an empty (or all-whitespace) body is `T::default()`: for routes
/// where the body is optional (DELETE, logout by Bearer token).
pub fn optional_json_body<T: DeserializeOwned + Default>(req: &Request) -> Result<T, ApiError> {
    if req.body().as_ref().iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    json_body(req)
}

/// The token of an `Authorization: Bearer <token>` header; 401 `missing_token` when the
/// header is absent or not of that form.
pub fn bearer_token(req: &Request) -> Result<&str, ApiError> {
    optional_bearer_token(req)?.ok_or(ApiError::MissingToken)
}

/// Like [`bearer_token`], but no `Authorization` header at all is `Ok(None)`; a header
/// that is present but malformed is still 401 `missing_token`.
pub fn optional_bearer_token(req: &Request) -> Result<Option<&str>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ApiError::MissingToken)?;
    let (scheme, token) = value.split_once(' ').ok_or(ApiError::MissingToken)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(ApiError::MissingToken);
    }
    Ok(Some(token))
}

/// A query parameter's first value, if present.
pub fn query_param<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.query_string_parameters_ref()
        .and_then(|params| params.first(name))
}

/// An integer query parameter within `range`, `default` when absent; the message says
/// what is allowed. Collect with [`Fields::check`] to report several parameters at once.
pub fn int_param(
    req: &Request,
    name: &str,
    default: i64,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, String> {
    let Some(raw) = query_param(req, name) else {
        return Ok(default);
    };
    match raw.trim().parse::<i64>() {
        Ok(value) if range.contains(&value) => Ok(value),
        _ => Err(format!(
            "must be an integer from {} to {}",
            range.start(),
            range.end()
        )),
    }
}

/// The id in the path (`/users/{id}`): a positive integer, else 400 `validation_failed`.
pub fn path_id(req: &Request, name: &'static str) -> Result<i64, ApiError> {
    let raw = req
        .path_parameters_ref()
        .and_then(|params| params.first(name))
        .unwrap_or("");
    // Canonical decimal only: no sign, no leading zero, so each id has one spelling.
    let canonical = raw.bytes().all(|b| b.is_ascii_digit()) && !raw.starts_with('0');
    match raw.parse::<i64>() {
        Ok(id) if canonical && id >= 1 => Ok(id),
        _ => Err(ApiError::invalid_field(name, "must be a positive integer")),
    }
}

/// A field of a partial update: absent (leave as it is), `null` (clear it), or a value.
/// Use with `#[serde(default)]`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub enum Patch<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            Some(value) => Patch::Value(value),
            None => Patch::Null,
        })
    }
}

impl<T> Patch<T> {
    pub fn is_absent(&self) -> bool {
        matches!(self, Patch::Absent)
    }

    /// Parses a present value, keeping absence and `null` as they are.
    pub fn try_map<U>(
        self,
        parse: impl FnOnce(T) -> Result<U, String>,
    ) -> Result<Patch<U>, String> {
        Ok(match self {
            Patch::Absent => Patch::Absent,
            Patch::Null => Patch::Null,
            Patch::Value(value) => Patch::Value(parse(value)?),
        })
    }
}

/// A body field's text: a plain `String`, or a secret read without copying it out.
pub trait Text {
    fn text(&self) -> &str;
}

impl Text for String {
    fn text(&self) -> &str {
        self
    }
}

impl Text for secrecy::SecretString {
    fn text(&self) -> &str {
        secrecy::ExposeSecret::expose_secret(self)
    }
}

/// Collects validation messages for several fields, so one answer lists them all.
#[derive(Default)]
pub struct Fields {
    errors: FieldErrors,
}

impl Fields {
    /// Records `field`'s error, if any, and hands back the parsed value.
    pub fn check<T>(&mut self, field: &'static str, parsed: Result<T, String>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    /// A field that must be present: parsed when given, "is required" when not.
    pub fn required<R, T>(
        &mut self,
        field: &'static str,
        raw: Option<R>,
        parse: impl FnOnce(R) -> Result<T, String>,
    ) -> Option<T> {
        match raw {
            Some(raw) => self.check(field, parse(raw)),
            None => {
                self.add(field, "is required".into());
                None
            }
        }
    }

    /// A field that may be absent: `None` when absent, parsed when given.
    pub fn optional<R, T>(
        &mut self,
        field: &'static str,
        raw: Option<R>,
        parse: impl FnOnce(R) -> Result<T, String>,
    ) -> Option<T> {
        raw.and_then(|raw| self.check(field, parse(raw)))
    }

    /// A text field that must be present and not blank: "is required" when absent, empty
    /// or only whitespace. The value comes back as given (untrimmed).
    pub fn required_text<T: Text>(&mut self, field: &'static str, raw: Option<T>) -> Option<T> {
        self.required(field, raw, |value| match value.text().trim().is_empty() {
            true => Err("is required".to_owned()),
            false => Ok(value),
        })
    }

    /// A field of a partial update that may be cleared: absent → `None` (leave it), `null`
    /// → `Some(None)` (clear it), a value → `Some(Some(parsed))`.
    pub fn clearable<R, T>(
        &mut self,
        field: &'static str,
        raw: Patch<R>,
        parse: impl FnOnce(R) -> Result<T, String>,
    ) -> Option<Option<T>> {
        match raw {
            Patch::Absent => None,
            Patch::Null => Some(None),
            Patch::Value(raw) => self.check(field, parse(raw)).map(Some),
        }
    }

    /// A field of a partial update that can be changed but not removed: `null` is
    /// "cannot be removed".
    pub fn changeable<R, T>(
        &mut self,
        field: &'static str,
        raw: Patch<R>,
        parse: impl FnOnce(R) -> Result<T, String>,
    ) -> Option<T> {
        match raw {
            Patch::Absent => None,
            Patch::Null => {
                self.add(field, "cannot be removed".to_owned());
                None
            }
            Patch::Value(raw) => self.check(field, parse(raw)),
        }
    }

    pub fn add(&mut self, field: &'static str, message: String) {
        self.errors.entry(field.into()).or_default().push(message);
    }

    /// `Ok` when no field failed; otherwise 400 `validation_failed` with every message.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(self.errors))
        }
    }
}

/// Unwraps a value that [`Fields::required`] produced once [`Fields::finish`] has passed.
pub fn validated<T>(value: Option<T>) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::internal("a required field passed validation without a value"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::page::Page;
    use lambda_http::Body;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Login {
        login: Option<String>,
    }

    fn request(body: &str) -> Request {
        Request::new(Body::from(body.to_owned()))
    }

    fn reason(body: &str) -> String {
        match json_body::<Login>(&request(body)) {
            Err(ApiError::InvalidJson(reason)) => reason,
            other => panic!("expected invalid_json, got {other:?}"),
        }
    }

    #[test]
    fn a_json_object_parses_and_unknown_fields_are_ignored() {
        let login: Login = json_body(&request(r#"{"login": "ann", "extra": [1]}"#)).unwrap();
        assert_eq!(login.login.as_deref(), Some("ann"));
    }

    #[test]
    fn malformed_or_mistyped_bodies_are_invalid_json_without_echoing_values() {
        assert_eq!(reason(""), "The request body must be a JSON object.");
        assert_eq!(reason("{"), "The request body is not valid JSON.");
        assert_eq!(reason("{} x"), "The request body is not valid JSON.");
        assert_eq!(reason("[1]"), "The request body must be a JSON object.");
        assert_eq!(
            reason(r#"["ann"]"#),
            "The request body must be a JSON object."
        );
        assert_eq!(reason("[1"), "The request body is not valid JSON.");
        assert_eq!(reason("null"), "The request body must be a JSON object.");
        let mistyped = reason(r#"{"login": 123456789}"#);
        assert_eq!(mistyped, "Field `login` has the wrong JSON type.");
    }

    #[test]
    fn a_body_over_64_kib_is_too_large() {
        let body = format!(r#"{{"login": "{}"}}"#, "a".repeat(MAX_BODY_BYTES));
        assert!(matches!(
            json_body::<Login>(&request(&body)),
            Err(ApiError::PayloadTooLarge)
        ));
    }

    fn with_auth(value: &str) -> Request {
        let mut req = request("");
        req.headers_mut()
            .insert(header::AUTHORIZATION, value.parse().unwrap());
        req
    }

    #[test]
    fn bearer_headers_must_have_the_scheme_and_a_token() {
        assert_eq!(
            bearer_token(&with_auth("Bearer abc.def")).unwrap(),
            "abc.def"
        );
        assert_eq!(bearer_token(&with_auth("bearer abc")).unwrap(), "abc");
        for bad in ["Basic abc", "Bearer", "Bearer   ", "abc"] {
            assert!(
                matches!(bearer_token(&with_auth(bad)), Err(ApiError::MissingToken)),
                "{bad}"
            );
        }
        assert!(matches!(
            bearer_token(&request("")),
            Err(ApiError::MissingToken)
        ));
        assert!(optional_bearer_token(&request("")).unwrap().is_none());
    }

    fn with_query(pairs: &[(&str, &str)]) -> Request {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        request("").with_query_string_parameters(map)
    }

    #[test]
    fn a_patch_tells_absent_from_null() {
        #[derive(Deserialize)]
        struct Body {
            #[serde(default)]
            name: Patch<String>,
        }
        let parse = |text: &str| json_body::<Body>(&request(text)).unwrap().name;
        assert_eq!(parse("{}"), Patch::Absent);
        assert_eq!(parse(r#"{"name": null}"#), Patch::Null);
        assert_eq!(parse(r#"{"name": "x"}"#), Patch::Value("x".to_owned()));
        assert!(json_body::<Body>(&request(r#"{"name": 1}"#)).is_err());
    }

    #[test]
    fn pages_default_and_stay_in_range() {
        assert_eq!(
            Page::from_request(&request("")).unwrap(),
            Page { num: 1, size: 20 }
        );
        let page = Page::from_request(&with_query(&[("page_num", "3"), ("page_size", "100")]));
        assert_eq!(page.unwrap().offset(), 200);
        for (num, size) in [
            ("0", "20"),
            ("1", "0"),
            ("1", "101"),
            ("x", "20"),
            ("1", "2.5"),
            ("-1", "-1"),
        ] {
            let page = Page::from_request(&with_query(&[("page_num", num), ("page_size", size)]));
            assert!(matches!(page, Err(ApiError::Validation(_))), "{num} {size}");
        }
        match Page::from_request(&with_query(&[("page_num", "0"), ("page_size", "0")])) {
            Err(ApiError::Validation(errors)) => assert_eq!(errors.len(), 2, "both named"),
            _ => panic!("expected validation errors"),
        }
    }

    #[test]
    fn path_ids_are_positive_integers() {
        let with_id = |id: &str| {
            let map = std::collections::HashMap::from([("id".to_owned(), id.to_owned())]);
            request("").with_path_parameters(map)
        };
        assert_eq!(path_id(&with_id("42"), "id").unwrap(), 42);
        for bad in [
            "0",
            "-1",
            "+1",
            "007",
            "abc",
            "1.5",
            "",
            "99999999999999999999",
        ] {
            assert!(
                matches!(path_id(&with_id(bad), "id"), Err(ApiError::Validation(_))),
                "{bad}"
            );
        }
        assert!(path_id(&request(""), "id").is_err());
    }

    #[test]
    fn fields_collect_every_message() {
        let mut fields = Fields::default();
        let a: Option<u8> = fields.required("a", None::<&str>, |_| Ok(1));
        let b: Option<u8> = fields.optional("b", Some("x"), |_| Err("bad".to_owned()));
        let c: Option<u8> = fields.optional("c", None::<&str>, |_| Err("unused".to_owned()));
        assert_eq!((a, b, c), (None, None, None));
        match fields.finish() {
            Err(ApiError::Validation(errors)) => {
                assert_eq!(errors["a"], vec!["is required"]);
                assert_eq!(errors["b"], vec!["bad"]);
                assert!(!errors.contains_key("c"));
            }
            _ => panic!("expected validation errors"),
        }
    }
}
