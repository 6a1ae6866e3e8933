//! Property tests for every parser and validator of untrusted input in `shared`: none
//! panics on any input, none accepts a value that breaks its rule, none rejects a value
//! that meets it.

use std::collections::HashMap;

use lambda_http::{Body, Request, RequestExt};
use proptest::prelude::*;
use secrecy::SecretString;
use shared::accounts::identity::{Email, Login, Name, Password, Phone, lookup_key};
use shared::http::page::Page;
use shared::http::request::{json_body, optional_bearer_token, path_id};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 2_000,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    // --- Login ---------------------------------------------------------------------

    #[test]
    fn login_never_panics_and_accepts_only_valid_logins(raw in any::<String>()) {
        if let Ok(login) = Login::parse(&raw) {
            let s = login.as_str();
            prop_assert_eq!(s, raw.trim());
            prop_assert!((3..=254).contains(&s.chars().count()));
            prop_assert!(!s.chars().any(|c| c.is_whitespace() || c.is_control()));
        }
    }

    #[test]
    fn login_accepts_every_valid_login(s in "[a-zA-Z0-9._@+-]{3,254}", pad in " {0,3}") {
        let raw = format!("{pad}{s}{pad}");
        let login = Login::parse(&raw);
        prop_assert!(login.is_ok());
        prop_assert_eq!(login.unwrap().as_str().to_owned(), s);
    }

    // --- Email ---------------------------------------------------------------------

    #[test]
    fn email_never_panics_and_accepts_only_valid_emails(raw in any::<String>()) {
        if let Ok(email) = Email::parse(&raw) {
            let s = email.as_str();
            prop_assert_eq!(s.to_string(), raw.trim().to_lowercase());
            prop_assert_eq!(s.matches('@').count(), 1);
            let (local, domain) = s.split_once('@').unwrap();
            prop_assert!(!local.is_empty());
            prop_assert!(domain.contains('.'));
            prop_assert!(domain.split('.').all(|label| !label.is_empty()));
            prop_assert!(!s.chars().any(char::is_whitespace));
        }
    }

    #[test]
    fn email_accepts_every_valid_email(local in "[a-zA-Z0-9._%+-]{1,40}", labels in prop::collection::vec("[a-zA-Z0-9-]{1,20}", 2..4)) {
        let raw = format!("{local}@{}", labels.join("."));
        let email = Email::parse(&raw);
        prop_assert!(email.is_ok(), "{} refused", raw);
        prop_assert_eq!(email.unwrap().as_str().to_owned(), raw.to_lowercase());
    }

    // --- Phone ---------------------------------------------------------------------

    #[test]
    fn phone_never_panics_and_yields_only_e164(raw in any::<String>()) {
        if let Ok(phone) = Phone::parse(&raw) {
            let s = phone.as_str();
            let digits = s.strip_prefix('+').unwrap();
            prop_assert!((8..=15).contains(&digits.len()));
            prop_assert!(digits.bytes().all(|b| b.is_ascii_digit()));
            prop_assert!(!digits.starts_with('0'));
        }
    }

    #[test]
    fn phone_accepts_every_e164_number_with_separators(first in "[1-9]", rest in "[0-9]{7,14}", sep in "[ .()-]?") {
        let digits = format!("{first}{rest}");
        let spaced: String = digits.chars().flat_map(|c| [c].into_iter().chain(sep.chars())).collect();
        let phone = Phone::parse(&format!("+{spaced}"));
        prop_assert!(phone.is_ok());
        prop_assert_eq!(phone.unwrap().as_str().to_owned(), format!("+{digits}"));
    }

    // --- Password and name ---------------------------------------------------------

    #[test]
    fn password_length_is_counted_in_characters(raw in any::<String>(), min in 1usize..20) {
        let chars = raw.chars().count();
        let parsed = Password::parse(SecretString::from(raw), min);
        prop_assert_eq!(parsed.is_ok(), (min..=1024).contains(&chars));
    }

    #[test]
    fn name_never_panics_and_is_bounded(raw in any::<String>()) {
        if let Ok(name) = Name::parse(&raw) {
            prop_assert!(name.as_str().chars().count() <= 100);
            prop_assert!(!name.as_str().chars().any(char::is_control));
            prop_assert_eq!(name.as_str(), raw.trim());
        }
    }

    #[test]
    fn lookup_keys_never_panic_and_are_lower_case_or_e164(raw in any::<String>()) {
        let key = lookup_key(&raw);
        prop_assert!(key == key.to_lowercase() || Phone::parse(&key).is_ok());
    }

    // --- Requests ------------------------------------------------------------------

    #[test]
    fn json_bodies_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Any { login: Option<String>, n: Option<i64> }
        let _ = json_body::<Any>(&Request::new(Body::from(bytes)));
    }

    #[test]
    fn json_objects_with_string_fields_always_parse(login in any::<String>()) {
        #[derive(serde::Deserialize)]
        struct Login { login: Option<String> }
        let body = serde_json::json!({"login": login}).to_string();
        let parsed = json_body::<Login>(&Request::new(Body::from(body)));
        prop_assert_eq!(parsed.ok().and_then(|l| l.login), Some(login));
    }

    #[test]
    fn bearer_headers_never_panic_and_yield_only_non_empty_tokens(value in "[ -~]{0,64}") {
        let mut request = Request::new(Body::Empty);
        if let Ok(header) = value.parse() {
            request.headers_mut().insert("authorization", header);
            if let Ok(Some(token)) = optional_bearer_token(&request) {
                prop_assert!(!token.is_empty());
                prop_assert!(value.to_ascii_lowercase().starts_with("bearer "));
                prop_assert!(value.ends_with(token));
            }
        }
    }

    #[test]
    fn path_ids_are_exactly_the_canonical_positive_i64s(
        raw in prop_oneof![any::<String>(), "[+-]?0*[0-9]{1,20}"],
    ) {
        let request = Request::new(Body::Empty).with_path_parameters(HashMap::from([("id".to_owned(), raw.clone())]));
        let canonical = raw.parse::<i64>().ok().filter(|n| *n >= 1 && n.to_string() == raw);
        prop_assert_eq!(path_id(&request, "id").ok(), canonical);
    }

    #[test]
    fn valid_positive_ids_are_accepted(id in 1i64..=i64::MAX) {
        let request = Request::new(Body::Empty).with_path_parameters(HashMap::from([("id".to_owned(), id.to_string())]));
        prop_assert_eq!(path_id(&request, "id").ok(), Some(id));
    }

    #[test]
    fn pages_are_accepted_exactly_within_their_ranges(num in any::<i64>(), size in any::<i64>()) {
        let query = HashMap::from([("page_num".to_owned(), num.to_string()), ("page_size".to_owned(), size.to_string())]);
        let request = Request::new(Body::Empty).with_query_string_parameters(query);
        let valid = (1..=i64::from(i32::MAX)).contains(&num) && (1..=100).contains(&size);
        prop_assert_eq!(Page::from_request(&request).is_ok(), valid);
    }
}
