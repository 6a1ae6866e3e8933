//! Validated identity values: input is parsed into these before it reaches any logic,
//! so a `Login`, `Email`, `Phone`, `Password` or `Name` in hand always meets the contract.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// A login: 3 to 254 characters after trimming, no whitespace or control characters.
/// Unique case-insensitively (the database compares `lower(login)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login(String);

/// An email: trimmed and lower-cased; one `@`, a non-empty local part, and a domain with
/// a dot between non-empty labels; at most 254 characters, no whitespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

/// A phone number in E.164: `+` then 8 to 15 digits, the first not 0. Spaces, dashes,
/// dots and parentheses typed between digits are dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

/// A display name: trimmed, at most 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

/// A plaintext password: between the configured minimum and 1024 characters. Kept secret:
/// no `Debug`, no `Display`, never logged.
pub struct Password(SecretString);

/// `"user"` or `"admin"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Admin,
}

pub const LOGIN_MAX_CHARS: usize = 254;
pub const NAME_MAX_CHARS: usize = 100;
pub const PASSWORD_MAX_CHARS: usize = 1024;

impl Login {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let login = raw.trim();
        let chars = login.chars().count();
        if !(3..=LOGIN_MAX_CHARS).contains(&chars) {
            return Err(format!("must be 3 to {LOGIN_MAX_CHARS} characters"));
        }
        if login.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must not contain whitespace or control characters".into());
        }
        Ok(Self(login.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        const MESSAGE: &str = "must be an email address like name@example.com";
        let email = raw.trim().to_lowercase();
        if email.chars().count() > LOGIN_MAX_CHARS
            || email.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(MESSAGE.into());
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(MESSAGE.into());
        };
        let domain_ok = domain.contains('.')
            && !domain.contains('@')
            && domain.split('.').all(|label| !label.is_empty());
        if local.is_empty() || !domain_ok {
            return Err(MESSAGE.into());
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, String> {
        const MESSAGE: &str = "must be an E.164 phone number: + and 8 to 15 digits";
        let compact: String = raw
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
            .collect();
        let Some(digits) = compact.strip_prefix('+') else {
            return Err(MESSAGE.into());
        };
        let valid = (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if !valid {
            return Err(MESSAGE.into());
        }
        Ok(Self(compact))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Name {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim();
        if name.chars().count() > NAME_MAX_CHARS {
            return Err(format!("must be at most {NAME_MAX_CHARS} characters"));
        }
        if name.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The stored value: an empty name is no name.
    pub fn into_option(self) -> Option<String> {
        (!self.0.is_empty()).then_some(self.0)
    }
}

impl Password {
    /// Parses a new password against the policy (`min_chars`..=1024 characters).
    pub fn parse(raw: SecretString, min_chars: usize) -> Result<Self, String> {
        let chars = raw.expose_secret().chars().count();
        if chars < min_chars || chars > PASSWORD_MAX_CHARS {
            return Err(format!(
                "must be {min_chars} to {PASSWORD_MAX_CHARS} characters"
            ));
        }
        Ok(Self(raw))
    }

    /// Parses a new password against the whole policy: the length, and, when
    /// `PASSWORD_MIN_SCORE` is above 0, a zxcvbn strength score of at least that (common
    /// passwords, keyboard walks, dates and the account's own `user_inputs` such as its
    /// login score low). Only the first 100 characters are scored: zxcvbn's cost grows
    /// fast with length, and 100 characters that pass are strong.
    pub fn parse_new(
        raw: SecretString,
        policy: &crate::config::PasswordConfig,
        user_inputs: &[&str],
    ) -> Result<Self, String> {
        let password = Self::parse(raw, policy.min_length)?;
        if policy.min_score > 0 {
            let scored: String = password.0.expose_secret().chars().take(100).collect();
            let score = u8::from(zxcvbn::zxcvbn(&scored, user_inputs).score());
            if score < policy.min_score {
                return Err(
                    "is too easy to guess; use a longer passphrase of unrelated words".to_owned(),
                );
            }
        }
        Ok(password)
    }

    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Admin => "admin",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw {
            "user" => Ok(Self::User),
            "admin" => Ok(Self::Admin),
            _ => Err("must be \"user\" or \"admin\"".into()),
        }
    }
}

/// The key a typed identifier is looked up by: what `user_identifiers.value` stores.
/// Logins and emails compare lower-cased; a phone typed with separators is normalised.
pub fn lookup_key(raw: &str) -> String {
    match Phone::parse(raw) {
        Ok(phone) => phone.0,
        Err(_) => raw.trim().to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// zxcvbn is built with only the regex features its patterns use (vendor/zxcvbn/PATCH.md).
    /// A pattern needing more would panic when its matcher first compiles it: each matcher
    /// that compiles one (dates with and without separators, recent years, repeats found by
    /// backreference) runs here, and finds what it exists for.
    #[test]
    fn every_zxcvbn_regex_matcher_runs_and_matches_on_the_trimmed_features() {
        let kinds = |password: &str| -> Vec<String> {
            zxcvbn::zxcvbn(password, &[])
                .sequence()
                .iter()
                .map(|found| format!("{:?}", found.pattern))
                .collect()
        };
        for (password, kind) in [
            ("25 12 1991", "Date"),
            ("25/12/1991", "Date"),
            ("25121991", "Date"),
            ("qx2019", "Regex(RegexPattern { regex_name: \"recent_year\""),
            ("zq8!zq8!zq8!zq8!", "Repeat"),
            ("xkcdxkcdxkcd", "Repeat"),
        ] {
            let found = kinds(password);
            assert!(
                found.iter().any(|pattern| pattern.starts_with(kind)),
                "{password}: {kind} not among {found:?}"
            );
        }
    }

    #[test]
    fn logins_are_trimmed_and_bounded() {
        assert_eq!(Login::parse("  john  ").unwrap().as_str(), "john");
        assert!(Login::parse("jo").is_err());
        assert!(Login::parse(&"a".repeat(254)).is_ok());
        assert!(Login::parse(&"a".repeat(255)).is_err());
        assert!(Login::parse("jo hn").is_err());
        assert!(Login::parse("jo\u{0}hn").is_err());
        assert_eq!(Login::parse("Жанна").unwrap().as_str(), "Жанна");
    }

    #[test]
    fn emails_are_lower_cased_and_need_a_dotted_domain() {
        assert_eq!(
            Email::parse(" John@Mail.COM ").unwrap().as_str(),
            "john@mail.com"
        );
        for bad in [
            "john",
            "@mail.com",
            "john@mail",
            "john@@mail.com",
            "john@.com",
            "john@mail.",
            "jo hn@mail.com",
            "a@b..c",
            "",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn phones_are_normalised_to_e164() {
        assert_eq!(
            Phone::parse("+1 (555) 123-4567").unwrap().as_str(),
            "+15551234567"
        );
        assert_eq!(Phone::parse("+12345678").unwrap().as_str(), "+12345678");
        for bad in [
            "15551234567",
            "+1234567",
            "+1234567890123456",
            "+0123456789",
            "+1555abc4567",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn passwords_count_characters_not_bytes() {
        let secret = |s: &str| SecretString::from(s.to_owned());
        assert!(Password::parse(secret("12345"), 6).is_err());
        assert!(Password::parse(secret("éééééé"), 6).is_ok());
        assert!(Password::parse(secret(&"x".repeat(1024)), 6).is_ok());
        assert!(Password::parse(secret(&"x".repeat(1025)), 6).is_err());
    }

    #[test]
    fn names_are_optional_and_bounded() {
        assert_eq!(Name::parse("  ").unwrap().into_option(), None);
        assert_eq!(
            Name::parse(" Ann ").unwrap().into_option().as_deref(),
            Some("Ann")
        );
        assert!(Name::parse(&"n".repeat(101)).is_err());
        assert!(Name::parse("a\nb").is_err());
    }

    #[test]
    fn lookup_keys_match_what_registration_stores() {
        assert_eq!(lookup_key(" John@Mail.com "), "john@mail.com");
        assert_eq!(lookup_key("+1 555 123 4567"), "+15551234567");
        assert_eq!(lookup_key("JohnDoe"), "johndoe");
    }
}
