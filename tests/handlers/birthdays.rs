//! Upcoming birthdays, on fixed dates: across the year end, on and around 29 February, in
//! order, a slice at a time; and the database's answer against a calendar walked day by day.

use chrono::{Datelike, Days, NaiveDate};
use latchkey_tests::{TestApp, json};
use serde_json::Value;

use crate::contacts::{Book, app_with_ann, date, ids};
use crate::{Api, keys};

/// Ann with one contact per birthday (first name = the birthday); returns her token and
/// the contacts' ids by birthday.
async fn ann_with_birthdays(
    t: &TestApp,
    birthdays: &[&str],
) -> (String, std::collections::HashMap<String, i64>) {
    let ann = Api(t).sign_up("ann").await.access_token();
    let book = Book(t);
    let mut ids = std::collections::HashMap::new();
    for birthday in birthdays {
        let contact = book
            .add(
                &ann,
                json!({"first_name": birthday, "last_name": "B", "birthday": birthday}),
            )
            .await;
        ids.insert((*birthday).to_owned(), contact["id"].as_i64().unwrap());
    }
    (ann, ids)
}

/// `(first_name, next_birthday, days_until)` of each listed contact, in order.
fn listed(response: &latchkey_tests::TestResponse) -> Vec<(String, String, i64)> {
    assert_eq!(response.status, 200, "{}", response.body);
    response.body["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["first_name"].as_str().unwrap().to_owned(),
                c["next_birthday"].as_str().unwrap().to_owned(),
                c["days_until"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn row(first_name: &str, next: &str, days: i64) -> (String, String, i64) {
    (first_name.to_owned(), next.to_owned(), days)
}

#[tokio::test]
async fn the_window_wraps_from_december_into_january() {
    let t = TestApp::new().await;
    let (ann, _) = ann_with_birthdays(
        &t,
        &[
            "1980-12-29",
            "1990-12-30",
            "1975-12-31",
            "2001-01-01",
            "1999-01-06",
            "1999-01-07",
        ],
    )
    .await;

    let response = Book(&t)
        .birthdays_on(&ann, "days=7", date("2025-12-30"))
        .await;

    assert_eq!(
        listed(&response),
        [
            row("1990-12-30", "2025-12-30", 0),
            row("1975-12-31", "2025-12-31", 1),
            row("2001-01-01", "2026-01-01", 2),
            row("1999-01-06", "2026-01-06", 7),
        ],
        "29 December has passed (364 days away); 7 January is 8 days away"
    );
    let contact = &response.body["contacts"][0];
    assert_eq!(
        keys(contact),
        [
            "birthday",
            "created_at",
            "days_until",
            "email",
            "first_name",
            "id",
            "last_name",
            "next_birthday",
            "notes",
            "phone",
            "updated_at"
        ],
        "a contact plus next_birthday and days_until"
    );
    assert_eq!(contact["birthday"], "1990-12-30");
}

#[tokio::test]
async fn a_29_february_birthday_falls_on_28_february_in_common_years() {
    let t = TestApp::new().await;
    let (ann, _) = ann_with_birthdays(&t, &["2000-02-29", "1990-02-28", "1990-03-01"]).await;
    let book = Book(&t);

    let common_year = book.birthdays_on(&ann, "days=1", date("2023-02-28")).await;
    let leap_year = book.birthdays_on(&ann, "days=1", date("2024-02-28")).await;
    let leap_day = book.birthdays_on(&ann, "days=0", date("2024-02-29")).await;
    let after_it = book
        .birthdays_on(&ann, "days=366", date("2023-03-01"))
        .await;

    assert_eq!(
        listed(&common_year),
        [
            row("2000-02-29", "2023-02-28", 0),
            row("1990-02-28", "2023-02-28", 0),
            row("1990-03-01", "2023-03-01", 1),
        ],
        "ties on 28 February are ordered by id"
    );
    assert_eq!(
        listed(&leap_year),
        [
            row("1990-02-28", "2024-02-28", 0),
            row("2000-02-29", "2024-02-29", 1),
        ]
    );
    assert_eq!(listed(&leap_day), [row("2000-02-29", "2024-02-29", 0)]);
    assert_eq!(
        listed(&after_it),
        [
            row("1990-03-01", "2023-03-01", 0),
            row("1990-02-28", "2024-02-28", 364),
            row("2000-02-29", "2024-02-29", 365),
        ],
        "from 1 March of a common year the next 29 February is in the leap year"
    );
}

#[tokio::test]
async fn ties_go_by_id_and_skip_and_limit_slice_the_list() {
    let (t, ann) = app_with_ann().await;
    let book = Book(&t);
    let mut same_day = Vec::new();
    for name in ["A", "B", "C", "D"] {
        let contact = book
            .add(
                &ann,
                json!({"first_name": name, "last_name": "Same", "birthday": "1990-07-02"}),
            )
            .await;
        same_day.push(contact["id"].as_i64().unwrap());
    }
    let sooner = book
        .add(
            &ann,
            json!({"first_name": "E", "last_name": "Sooner", "birthday": "1991-07-01"}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    book.add(&ann, json!({"first_name": "F", "last_name": "NoBirthday"}))
        .await;
    let today = date("2025-07-01");

    let all = book.birthdays_on(&ann, "", today).await;
    let slice = book.birthdays_on(&ann, "skip=2&limit=2", today).await;
    let past_the_end = book.birthdays_on(&ann, "skip=5", today).await;

    let mut expected = vec![sooner];
    expected.extend(&same_day);
    assert_eq!(
        ids(&all),
        expected,
        "soonest first, then by id; no birthday: never listed"
    );
    assert_eq!(ids(&slice), expected[2..4]);
    assert_eq!(past_the_end.body, json!({"status": "ok", "contacts": []}));
}

#[tokio::test]
async fn days_defaults_to_a_week_and_zero_means_today_only() {
    let t = TestApp::new().await;
    let (ann, ids_by_birthday) =
        ann_with_birthdays(&t, &["1990-05-10", "1990-05-17", "1990-05-18"]).await;
    let book = Book(&t);
    let today = date("2025-05-10");

    let default = book.birthdays_on(&ann, "", today).await;
    let today_only = book.birthdays_on(&ann, "days=0", today).await;

    assert_eq!(
        ids(&default),
        [ids_by_birthday["1990-05-10"], ids_by_birthday["1990-05-17"]]
    );
    assert_eq!(ids(&today_only), [ids_by_birthday["1990-05-10"]]);
}

#[tokio::test]
async fn query_parameters_out_of_range_are_refused() {
    let (t, ann) = app_with_ann().await;
    let book = Book(&t);
    let today = date("2025-05-10");

    for query in [
        "days=-1",
        "days=367",
        "days=x",
        "days=1.5",
        "skip=-1",
        "skip=x",
        "limit=0",
        "limit=101",
        "limit=",
    ] {
        let response = book.birthdays_on(&ann, query, today).await;
        assert_eq!(response.status, 400, "{query}: {}", response.body);
        assert_eq!(response.error_code(), "validation_failed", "{query}");
    }
    let all = book
        .birthdays_on(&ann, "days=400&skip=-5&limit=1000", today)
        .await;
    assert_eq!(
        all.body["fields"],
        json!({"days": ["must be an integer from 0 to 366"],
            "skip": ["must be an integer from 0 to 2147483647"],
            "limit": ["must be an integer from 1 to 100"]})
    );
    let edges = book
        .birthdays_on(&ann, "days=366&skip=0&limit=100", today)
        .await;
    assert_eq!(edges.status, 200);
}

/// When `birthday` comes next, counted from `today`: this year's or next year's, with
/// 29 February on 28 February in common years. Walks the calendar, so it shares nothing
/// with the SQL under test.
fn next_birthday(birthday: NaiveDate, today: NaiveDate) -> NaiveDate {
    let mut day = today;
    loop {
        let leap = NaiveDate::from_ymd_opt(day.year(), 2, 29).is_some();
        let matches = (day.month(), day.day()) == (birthday.month(), birthday.day())
            || (!leap
                && (birthday.month(), birthday.day()) == (2, 29)
                && (day.month(), day.day()) == (2, 28));
        if matches {
            return day;
        }
        day = day + Days::new(1);
    }
}

#[tokio::test]
async fn every_answer_agrees_with_a_calendar_walked_day_by_day() {
    let birthdays = [
        "1990-01-01",
        "1985-02-28",
        "2000-02-29",
        "1970-03-01",
        "1999-12-31",
        "2004-02-29",
        "1960-06-15",
        "2010-12-30",
        "1995-01-06",
        "1995-01-07",
        "1980-02-27",
    ];
    let t = TestApp::new().await;
    let (ann, ids_by_birthday) = ann_with_birthdays(&t, &birthdays).await;
    let book = Book(&t);
    let mut todays = Vec::new();
    for (from, to) in [
        ("2023-12-24", "2024-01-08"),
        ("2023-02-25", "2023-03-02"),
        ("2024-02-25", "2024-03-02"),
        ("2025-02-26", "2025-03-01"),
        ("2024-12-29", "2025-01-01"),
        ("2024-06-14", "2024-06-16"),
    ] {
        let mut day = date(from);
        while day <= date(to) {
            todays.push(day);
            day = day + Days::new(1);
        }
    }

    for today in todays {
        for days in [0, 1, 2, 7, 60, 364, 365, 366] {
            let mut expected: Vec<(i64, i64, String, i64)> = birthdays
                .iter()
                .map(|b| {
                    let next = next_birthday(date(b), today);
                    let until = (next - today).num_days();
                    (until, ids_by_birthday[*b], next.to_string(), until)
                })
                .filter(|(until, ..)| *until <= days)
                .collect();
            expected.sort();
            let expected: Vec<Value> = expected
                .into_iter()
                .map(|(_, id, next, until)| json!([id, next, until]))
                .collect();

            let response = book
                .birthdays_on(&ann, &format!("days={days}&limit=100"), today)
                .await;

            assert_eq!(response.status, 200, "{}", response.body);
            let actual: Vec<Value> = response.body["contacts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| json!([c["id"], c["next_birthday"], c["days_until"]]))
                .collect();
            assert_eq!(actual, expected, "today {today}, days {days}");
        }
    }
}
