//! Contacts, each user's own address book: the contact as stored and shown, the column list
//! every contact query selects, and the validated values a contact is written from.
//!
//! Every contact query names its owner (`WHERE c.id = $1 AND c.owner_id = $2`): someone
//! else's contact is simply not found, so its existence is never revealed.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use tokio_postgres::Row;
use utoipa::ToSchema;

use crate::http::error::ApiError;

/// The columns [`Contact::from_row`] reads, for a `contacts` table aliased `c`.
pub const COLUMNS: &str = "c.id, c.first_name, c.last_name, c.email, c.phone, c.birthday, \
                           c.notes, c.created_at, c.updated_at";

pub const CONTACT_NAME_MAX_CHARS: usize = 100;
pub const NOTES_MAX_CHARS: usize = 2000;

/// A contact as the contact routes show it to its owner. Every field is always present;
/// `email`, `phone`, `birthday` and `notes` may be `null`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"id": 12, "first_name": "Ann", "last_name": "Lee",
    "email": "ann@example.com", "phone": "+15551234567", "birthday": "1990-02-28",
    "notes": "Met at RustConf.", "created_at": "2026-11-22T03:21:11Z",
    "updated_at": "2026-11-22T03:21:11Z"}))]
pub struct Contact {
    pub id: i64,
    /// 1 to 100 characters.
    pub first_name: String,
    /// 1 to 100 characters.
    pub last_name: String,
    /// Lower-cased.
    #[schema(required = true)]
    pub email: Option<String>,
    /// E.164.
    #[schema(required = true)]
    pub phone: Option<String>,
    /// `YYYY-MM-DD`, never in the future.
    #[schema(required = true)]
    pub birthday: Option<NaiveDate>,
    /// At most 2000 characters.
    #[schema(required = true)]
    pub notes: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Moves whenever an update names at least one field.
    pub updated_at: DateTime<Utc>,
}

impl Contact {
    /// Reads [`COLUMNS`] from a row.
    pub fn from_row(row: &Row) -> Result<Self, ApiError> {
        Ok(Self {
            id: row.try_get("id")?,
            first_name: row.try_get("first_name")?,
            last_name: row.try_get("last_name")?,
            email: row.try_get("email")?,
            phone: row.try_get("phone")?,
            birthday: row.try_get("birthday")?,
            notes: row.try_get("notes")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

/// A contact's first or last name: 1 to 100 characters after trimming, no control
/// characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactName(String);

impl ContactName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let name = raw.trim();
        if !(1..=CONTACT_NAME_MAX_CHARS).contains(&name.chars().count()) {
            return Err(format!("must be 1 to {CONTACT_NAME_MAX_CHARS} characters"));
        }
        if name.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Free-text notes: trimmed, at most 2000 characters; line breaks and tabs are kept, other
/// control characters refused. Empty notes are no notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notes(String);

impl Notes {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let notes = raw.trim();
        if notes.chars().count() > NOTES_MAX_CHARS {
            return Err(format!("must be at most {NOTES_MAX_CHARS} characters"));
        }
        if notes
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(
                "must not contain control characters other than line breaks and tabs".into(),
            );
        }
        Ok(Self(notes.to_owned()))
    }

    /// The stored value: empty notes are stored as none.
    pub fn into_option(self) -> Option<String> {
        (!self.0.is_empty()).then_some(self.0)
    }
}

/// A date of birth: a real calendar date written `YYYY-MM-DD` (year 0001 or later), not
/// after `today`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Birthday(NaiveDate);

impl Birthday {
    pub fn parse(raw: &str, today: NaiveDate) -> Result<Self, String> {
        let date = parse_date(raw.trim())
            .ok_or_else(|| "must be a real date written YYYY-MM-DD".to_owned())?;
        if date > today {
            return Err("must not be in the future".into());
        }
        Ok(Self(date))
    }

    pub fn date(self) -> NaiveDate {
        self.0
    }
}

/// `YYYY-MM-DD` exactly (four, two and two digits), and a date that exists.
fn parse_date(text: &str) -> Option<NaiveDate> {
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !shaped {
        return None;
    }
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<u32>().ok();
    let year = i32::try_from(number(0..4)?)
        .ok()
        .filter(|year| *year >= 1)?;
    NaiveDate::from_ymd_opt(year, number(5..7)?, number(8..10)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn names_are_trimmed_required_and_bounded() {
        assert_eq!(ContactName::parse("  Ann ").unwrap().as_str(), "Ann");
        assert_eq!(ContactName::parse("Жанна").unwrap().as_str(), "Жанна");
        assert!(ContactName::parse(&"é".repeat(100)).is_ok());
        for bad in ["", "   ", "a\tb", "a\u{0}b"] {
            assert!(ContactName::parse(bad).is_err(), "{bad:?}");
        }
        assert!(ContactName::parse(&"é".repeat(101)).is_err());
    }

    #[test]
    fn notes_keep_line_breaks_and_empty_notes_are_none() {
        let notes = Notes::parse(" line one\n\tline two ").unwrap();
        assert_eq!(notes.into_option().as_deref(), Some("line one\n\tline two"));
        assert_eq!(Notes::parse("  ").unwrap().into_option(), None);
        assert!(Notes::parse(&"n".repeat(2000)).is_ok());
        assert!(Notes::parse(&"n".repeat(2001)).is_err());
        assert!(Notes::parse("nul \u{0} inside").is_err());
    }

    #[test]
    fn birthdays_are_real_dates_up_to_today() {
        let today = date("2024-02-29");
        for good in ["2024-02-29", "2000-02-29", "0001-01-01", " 1990-12-31 "] {
            assert!(Birthday::parse(good, today).is_ok(), "{good}");
        }
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-04-31",
            "2024-1-05",
            "24-01-05",
            "2024/01/05",
            "+2024-01-05",
            "0000-01-01",
            "2024-01-05T00:00:00Z",
            "",
            "yesterday",
        ] {
            assert_eq!(
                Birthday::parse(bad, today),
                Err("must be a real date written YYYY-MM-DD".to_owned()),
                "{bad}"
            );
        }
        assert_eq!(
            Birthday::parse("2024-03-01", today),
            Err("must not be in the future".to_owned())
        );
        assert_eq!(
            Birthday::parse("1990-05-17", today).unwrap().date(),
            date("1990-05-17")
        );
    }
}
