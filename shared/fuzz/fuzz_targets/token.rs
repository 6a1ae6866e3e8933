//! Token verification: arbitrary strings, and mutations of a genuine token, presented as
//! access and as refresh tokens. Nothing may panic; nothing but the genuine token may
//! verify.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use shared::config::Config;
use shared::accounts::identity::Role;
use shared::auth::tokens::{TokenType, Tokens};

struct Fixture {
    tokens: Tokens,
    genuine: String,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let config = Config::from_lookup(|name| match name {
            "DATABASE_URL" => Some("postgres://fuzz@127.0.0.1/fuzz".into()),
            "JWT_SECRET" => Some("fuzzing-secret-fuzzing-secret-0123456789".into()),
            _ => None,
        })
        .expect("fuzz configuration");
        let tokens = Tokens::new(config.tokens.as_ref().expect("token settings")).expect("fuzz keys");
        let session = shared::auth::sessions::NewSession {
            id: uuid::Uuid::nil(),
            refresh_jti: uuid::Uuid::nil(),
            amr: vec!["pwd".to_owned()],
            auth_time: 0,
        };
        let pair = tokens.issue(1, Role::User, &session).expect("issue");
        Fixture { tokens, genuine: pair.access_token }
    })
}

fuzz_target!(|data: &[u8]| {
    let fixture = fixture();
    let text = String::from_utf8_lossy(data);
    for kind in [TokenType::Access, TokenType::Refresh] {
        let _ = fixture.tokens.verify(&text, kind);
    }
    // Splice the input into the genuine token: any change must break it.
    if !data.is_empty() {
        let genuine = fixture.genuine.as_bytes();
        let at = data[0] as usize % genuine.len();
        let mut forged = genuine.to_vec();
        forged.splice(at..(at + data.len().min(8)).min(genuine.len()), data[1..].iter().copied());
        if forged != genuine {
            if let Ok(forged) = String::from_utf8(forged) {
                assert!(
                    fixture.tokens.verify(&forged, TokenType::Access).is_err()
                        || forged.trim() == fixture.genuine,
                    "a modified token verified"
                );
            }
        }
    }
});
