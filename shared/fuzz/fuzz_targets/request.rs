//! Request → handler parsing: an arbitrary body, Authorization header, path id and query
//! go through exactly the parsers the handlers use. None may panic, and whatever they
//! accept must meet its rule.
#![no_main]

use std::collections::HashMap;

use lambda_http::{Body, Request, RequestExt};
use libfuzzer_sys::fuzz_target;
use secrecy::SecretString;
use serde::Deserialize;
use shared::accounts::identity::{Email, Login, Name, Password, Phone, Role, lookup_key};
use shared::http::page::Page;
use shared::http::request::{Patch, json_body, optional_bearer_token, path_id};

/// Every field shape the handlers' bodies use.
#[derive(Deserialize)]
#[allow(dead_code)]
struct AnyBody {
    login: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    name: Option<String>,
    password: Option<SecretString>,
    refresh_token: Option<String>,
    #[serde(default)]
    role: Patch<String>,
    #[serde(default)]
    notes: Patch<String>,
    birthday: Option<String>,
}

fuzz_target!(|data: &[u8]| {
    // Split the input into header, path id, query and body.
    let mut parts = data.splitn(4, |b| *b == 0);
    let header = parts.next().unwrap_or_default();
    let id = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let query = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let body = parts.next().unwrap_or_default().to_vec();

    let mut request = Request::new(Body::from(body))
        .with_path_parameters(HashMap::from([("id".to_owned(), id)]))
        .with_query_string_parameters(HashMap::from([
            ("page_num".to_owned(), query.clone()),
            ("page_size".to_owned(), query),
        ]));
    if let Ok(value) = lambda_http::http::HeaderValue::from_bytes(header) {
        request.headers_mut().insert("authorization", value);
    }

    if let Ok(Some(token)) = optional_bearer_token(&request) {
        assert!(!token.is_empty());
    }
    if let Ok(id) = path_id(&request, "id") {
        assert!(id >= 1);
    }
    if let Ok(page) = Page::from_request(&request) {
        assert!(page.num >= 1 && (1..=100).contains(&page.size));
        assert!(page.offset() >= 0);
    }
    if let Ok(body) = json_body::<AnyBody>(&request) {
        for raw in [&body.login, &body.email, &body.phone, &body.name, &body.refresh_token] {
            if let Some(raw) = raw {
                let _ = lookup_key(raw);
                if let Ok(login) = Login::parse(raw) {
                    assert!(!login.as_str().chars().any(char::is_whitespace));
                }
                if let Ok(email) = Email::parse(raw) {
                    assert_eq!(email.as_str().matches('@').count(), 1);
                }
                if let Ok(phone) = Phone::parse(raw) {
                    assert!(phone.as_str().starts_with('+'));
                }
                if let Ok(name) = Name::parse(raw) {
                    assert!(name.as_str().chars().count() <= 100);
                }
                let _ = Role::parse(raw);
            }
        }
        if let Some(password) = body.password {
            let _ = Password::parse(password, 6);
        }
    }
});
