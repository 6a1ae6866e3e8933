//! The data the benchmark's requests need (users, sessions, contacts), created through the
//! functions themselves where that is cheap, and the request each function is probed with.

use bytes::Bytes;
use serde_json::json;

use crate::event::{HttpRequest, HttpResponse, abbreviate};
use crate::lambda::Instance;
use crate::{Bench, Result};

/// The password of every benchmark account (also passes Django's validators).
pub const PASSWORD: &str = "Bench-Pa55word-x7";

#[derive(Clone, Debug, Default)]
pub struct Account {
    pub id: i64,
    pub login: String,
    pub access: String,
    pub refresh: String,
}

#[derive(Default)]
pub struct Fixture {
    /// Owns the contacts; its session's refresh chain is what `refresh` rotates.
    pub main: Account,
    /// Someone else, for `get-user`.
    pub other_id: i64,
    /// Accounts `login` cycles through.
    pub logins: Vec<String>,
    /// One live session each, for `logout`.
    pub logout_refresh: Vec<String>,
    /// One account each (logout-all revokes all of its sessions).
    pub logout_all_access: Vec<String>,
    /// One account each, for `delete-user`.
    pub doomed_accounts: Vec<Account>,
    pub contact_ids: Vec<i64>,
    /// One contact each, for `delete-contact`.
    pub doomed_contacts: Vec<i64>,
    sequence: u64,
}

/// What a function is probed with, and what it must answer.
pub struct Probe {
    pub request: HttpRequest,
    pub expect: u16,
    /// The request evaluates scrypt once (~0.45 s at ln=17): its duration is mostly that.
    pub hashes: bool,
}

impl Fixture {
    /// The request `name` is probed with; `sample` picks per-sample resources for the
    /// destructive ones. `None` for functions that serve no HTTP route (`migrate`) or
    /// that this harness does not know yet.
    pub fn probe(&self, name: &str, sample: usize) -> Option<Probe> {
        let main = &self.main;
        let get = |route| HttpRequest::new("GET", route).bearer(&main.access);
        let (request, expect, hashes) = match name {
            "get-me" => (get("/users/me"), 200, false),
            "list-users" => (
                get("/users").query("page_num", 1).query("page_size", 20),
                200,
                false,
            ),
            "get-user" => (
                get("/users/{id}").path_parameter("id", self.other_id),
                200,
                false,
            ),
            "update-user" => (
                HttpRequest::new("PATCH", "/users/{id}")
                    .path_parameter("id", main.id)
                    .bearer(&main.access)
                    .json(json!({"current_password": PASSWORD, "name": format!("Bench main {sample}")})),
                200,
                true,
            ),
            "delete-user" => {
                let doomed = self.doomed_accounts.get(sample)?;
                (
                    HttpRequest::new("DELETE", "/users/{id}")
                        .path_parameter("id", doomed.id)
                        .bearer(&doomed.access)
                        .json(json!({"password": PASSWORD})),
                    200,
                    true,
                )
            }
            "register" => (
                HttpRequest::new("POST", "/auth/register").json(json!({
                    "login": format!("bench-register-{sample}"),
                    "password": PASSWORD,
                    "name": "Bench registration",
                })),
                201,
                true,
            ),
            "login" => (self.login(sample), 200, true),
            "refresh" => (self.refresh(), 200, false),
            "logout" => (
                HttpRequest::new("POST", "/auth/logout")
                    .json(json!({"refresh_token": self.logout_refresh.get(sample)?})),
                200,
                false,
            ),
            "logout-all" => (
                HttpRequest::new("POST", "/auth/logout-all")
                    .bearer(self.logout_all_access.get(sample)?),
                200,
                false,
            ),
            "health" => (HttpRequest::new("GET", "/health"), 200, false),
            "docs" => (HttpRequest::new("GET", "/openapi.json"), 200, false),
            "jwks" => (HttpRequest::new("GET", "/.well-known/jwks.json"), 200, false),
            "create-contact" => (
                HttpRequest::new("POST", "/contacts")
                    .bearer(&main.access)
                    .json(contact(1000 + sample)),
                201,
                false,
            ),
            "list-contacts" => (
                get("/contacts").query("page_num", 1).query("page_size", 20),
                200,
                false,
            ),
            "upcoming-birthdays" => (get("/contacts/birthdays").query("days", 30), 200, false),
            // An account without an email: the same statements as for one with, no mail.
            "forgot-password" => (
                HttpRequest::new("POST", "/auth/password/forgot")
                    .json(json!({"login": main.login})),
                202,
                false,
            ),
            "resend-verification" => (
                HttpRequest::new("POST", "/auth/verify-email/resend")
                    .json(json!({"login": main.login})),
                202,
                false,
            ),
            "list-my-events" => (
                get("/users/me/events")
                    .query("page_num", 1)
                    .query("page_size", 20),
                200,
                false,
            ),
            "get-contact" => (
                get("/contacts/{id}").path_parameter("id", self.contact_ids.first()?),
                200,
                false,
            ),
            "update-contact" => (
                HttpRequest::new("PATCH", "/contacts/{id}")
                    .path_parameter("id", self.contact_ids.get(1)?)
                    .bearer(&main.access)
                    .json(json!({"notes": format!("Updated by the benchmark ({sample}).")})),
                200,
                false,
            ),
            "delete-contact" => (
                HttpRequest::new("DELETE", "/contacts/{id}")
                    .path_parameter("id", self.doomed_contacts.get(sample)?)
                    .bearer(&main.access),
                200,
                false,
            ),
            _ => return None,
        };
        Some(Probe {
            request,
            expect,
            hashes,
        })
    }

    pub fn login(&self, index: usize) -> HttpRequest {
        let login = self
            .logins
            .get(index % self.logins.len().max(1))
            .unwrap_or(&self.main.login);
        HttpRequest::new("POST", "/auth/login").json(json!({"login": login, "password": PASSWORD}))
    }

    /// The main session's current refresh token; [`Fixture::observe`] moves the chain on.
    pub fn refresh(&self) -> HttpRequest {
        HttpRequest::new("POST", "/auth/refresh").json(json!({"refresh_token": self.main.refresh}))
    }

    /// Follows what a successful answer changed: a rotated refresh token.
    pub fn observe(&mut self, name: &str, response: &HttpResponse) {
        if name == "refresh"
            && let Some(token) = response.text("refresh_token")
        {
            self.main.refresh = token;
        }
    }

    /// A unique number for each event (request ids, trace ids).
    pub fn next_sequence(&mut self) -> u64 {
        self.sequence += 1;
        self.sequence
    }
}

/// A contact with a birthday spread over the year, so some are always upcoming.
fn contact(index: usize) -> serde_json::Value {
    let month = index % 12 + 1;
    let day = (index * 7) % 28 + 1;
    json!({
        "first_name": format!("Ann{index}"),
        "last_name": "Bench",
        "email": format!("ann{index}@example.com"),
        "phone": null,
        "birthday": format!("1990-{month:02}-{day:02}"),
        "notes": "Seeded by the benchmark.",
    })
}

/// Sends `request` to `instance` and insists on `expect`.
pub async fn call(
    instance: &mut Instance,
    fixture: &mut Fixture,
    request: &HttpRequest,
    expect: u16,
) -> Result<HttpResponse> {
    let event: Bytes = request.to_event(fixture.next_sequence());
    let outcome = instance.invoke(event).await?;
    let response = HttpResponse::parse(&outcome.body)?;
    if outcome.error || response.status != expect {
        return Err(format!(
            "{} {} answered {} (expected {expect}): {}",
            request.method,
            request.path,
            response.status,
            abbreviate(&response.body.to_string())
        )
        .into());
    }
    Ok(response)
}

fn account(response: &HttpResponse) -> Result<Account> {
    let user = &response.body["user"];
    Ok(Account {
        id: user["id"].as_i64().ok_or("no user.id in the response")?,
        login: user["login"].as_str().unwrap_or_default().to_owned(),
        access: response
            .text("access_token")
            .ok_or("no access_token in the response")?,
        refresh: response
            .text("refresh_token")
            .ok_or("no refresh_token in the response")?,
    })
}

/// Seeds the database: the main account through `register`, `users` more accounts
/// cloned from its password hash in SQL (hashing each would take ~0.45 s), sessions
/// through `login`, and `contacts` contacts through `create-contact` when it exists.
pub async fn seed(bench: &Bench, samples: usize, users: usize, contacts: usize) -> Result<Fixture> {
    let mut fixture = Fixture::default();

    let mut register = bench.start("register").await?;
    register.init().await?;
    let request = HttpRequest::new("POST", "/auth/register")
        .json(json!({"login": "bench-main", "password": PASSWORD, "name": "Bench main"}));
    let response = call(&mut register, &mut fixture, &request, 201).await?;
    fixture.main = account(&response)?;
    register.stop().await;

    let (client, connection) =
        tokio_postgres::connect(&bench.database_url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    let cloned = i32::try_from(users.max(3 * samples + 4))?;
    client
        .execute(
            "INSERT INTO users (login, name, password_hash)
             SELECT 'bench-u' || g, 'Bench user ' || g, u.password_hash
             FROM users u, generate_series(1, $1::int) g WHERE u.id = $2",
            &[&cloned, &fixture.main.id],
        )
        .await?;
    let rows = client
        .query(
            "SELECT id, login FROM users WHERE login LIKE 'bench-u%' ORDER BY id",
            &[],
        )
        .await?;
    let accounts: Vec<(i64, String)> = rows.iter().map(|row| (row.get(0), row.get(1))).collect();
    let (logout_user, rest) = accounts.split_first().ok_or("no seeded users")?;
    let (logout_all_users, rest) = rest.split_at(samples);
    let (doomed_users, rest) = rest.split_at(samples);
    let (other, rest) = rest.split_first().ok_or("too few seeded users")?;
    fixture.other_id = other.0;
    fixture.logins = rest
        .iter()
        .take(20)
        .map(|(_, login)| login.clone())
        .collect();

    let mut login = bench.start("login").await?;
    login.init().await?;
    let sign_in = |login_name: String| {
        HttpRequest::new("POST", "/auth/login")
            .json(json!({"login": login_name, "password": PASSWORD}))
    };
    for _ in 0..samples {
        let request = sign_in(logout_user.1.clone());
        let response = call(&mut login, &mut fixture, &request, 200).await?;
        fixture.logout_refresh.push(account(&response)?.refresh);
    }
    for (_, name) in logout_all_users {
        let request = sign_in(name.clone());
        let response = call(&mut login, &mut fixture, &request, 200).await?;
        fixture.logout_all_access.push(account(&response)?.access);
    }
    for (_, name) in doomed_users {
        let request = sign_in(name.clone());
        let response = call(&mut login, &mut fixture, &request, 200).await?;
        fixture.doomed_accounts.push(account(&response)?);
    }
    login.stop().await;

    if bench.has("create-contact") {
        let mut create = bench.start("create-contact").await?;
        create.init().await?;
        for index in 0..contacts + samples {
            let request = HttpRequest::new("POST", "/contacts")
                .bearer(&fixture.main.access)
                .json(contact(index));
            let response = call(&mut create, &mut fixture, &request, 201).await?;
            let id = response.body["contact"]["id"]
                .as_i64()
                .ok_or("no contact.id in the response")?;
            if index < contacts {
                fixture.contact_ids.push(id);
            } else {
                fixture.doomed_contacts.push(id);
            }
        }
        create.stop().await;
    }
    Ok(fixture)
}
