//! The connection storm: many function instances start at once and serve get-me, refresh
//! and login against a Postgres with few connection slots, first directly, then through a
//! transaction pooler. For each: every answer by status and error code, the latency of
//! the answers, and the peak number of server connections, sampled from a superuser
//! connection of its own while the storm runs.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::event::{HttpRequest, HttpResponse};
use crate::fixture::Fixture;
use crate::lambda::{FUNCTION_TIMEOUT, Instance};
use crate::phases::progress;
use crate::report::Summary;
use crate::{Bench, Result};

/// How many instances of each function, and how many requests each serves in a row.
#[derive(Clone, Debug)]
pub struct StormPlan {
    pub get_me: usize,
    pub refresh: usize,
    pub login: usize,
    /// Requests per get-me and refresh instance.
    pub requests: usize,
    /// Requests per login instance (each hashes for ~0.45 s).
    pub logins: usize,
}

impl StormPlan {
    pub fn full() -> Self {
        Self {
            get_me: 110,
            refresh: 70,
            login: 20,
            requests: 10,
            logins: 2,
        }
    }

    pub fn instances(&self) -> usize {
        self.get_me + self.refresh + self.login
    }
}

/// Where the storm's second run goes, and what the pooler was configured with.
#[derive(Clone, Debug)]
pub struct Pooler {
    pub url: String,
    /// Its server pool per database and user (PgBouncer's `default_pool_size`).
    pub pool_size: i64,
}

/// Answers of one function in one run.
#[derive(Default)]
pub struct Tally {
    /// Durations of the answered invocations (Lambda's billed duration).
    pub durations: Vec<Duration>,
    /// "200", "503 database_unavailable", "no answer within 30 s", ...: how many of each.
    pub outcomes: BTreeMap<String, usize>,
}

impl Tally {
    pub fn requests(&self) -> usize {
        self.outcomes.values().sum()
    }

    pub fn errors(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|(outcome, _)| !outcome.starts_with("2"))
            .map(|(_, count)| count)
            .sum()
    }

    fn add(&mut self, other: Tally) {
        self.durations.extend(other.durations);
        for (outcome, count) in other.outcomes {
            *self.outcomes.entry(outcome).or_default() += count;
        }
    }
}

pub struct StormRun {
    /// "direct" or "PgBouncer".
    pub mode: &'static str,
    pub by_function: BTreeMap<&'static str, Tally>,
    /// Instances that never polled for an event (their requests are not counted).
    pub init_failures: Vec<String>,
    /// The most server connections of the app role seen at once.
    pub peak_server_connections: i64,
    pub seconds: f64,
}

impl StormRun {
    pub fn all(&self) -> Tally {
        let mut all = Tally::default();
        for tally in self.by_function.values() {
            all.add(Tally {
                durations: tally.durations.clone(),
                outcomes: tally.outcomes.clone(),
            });
        }
        all
    }

    pub fn summary(tally: &Tally) -> Option<Summary> {
        Summary::of(&tally.durations)
    }
}

pub struct StormFigures {
    pub plan: StormPlan,
    pub max_connections: i64,
    pub reserved_connections: i64,
    /// `DATABASE_POOL_SIZE` of every instance.
    pub instance_pool_size: String,
    pub pooler: Option<Pooler>,
    pub runs: Vec<StormRun>,
}

/// Request ids and trace ids of the storm's events, apart from the fixture's.
static SEQUENCE: AtomicU64 = AtomicU64::new(1_000_000);

/// Runs the storm directly against `bench.database_url`, then through the pooler if given.
pub async fn run(
    bench: &Bench,
    fixture: &Fixture,
    plan: &StormPlan,
    pooler: Option<&Pooler>,
) -> Result<StormFigures> {
    let admin_url = bench
        .admin_url
        .as_deref()
        .ok_or("the storm needs --admin-url (a superuser, to count server connections)")?;
    let (admin, connection) = tokio_postgres::connect(admin_url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    let setting = |name: &'static str| {
        let admin = &admin;
        async move {
            let row = admin
                .query_one(
                    "SELECT setting::bigint FROM pg_settings WHERE name = $1",
                    &[&name],
                )
                .await?;
            Ok::<i64, crate::Error>(row.get(0))
        }
    };
    let max_connections = setting("max_connections").await?;
    let reserved_connections = setting("superuser_reserved_connections").await?;

    let mut targets = vec![("direct", bench.database_url.clone())];
    if let Some(pooler) = pooler {
        targets.push(("PgBouncer", pooler.url.clone()));
    }
    let mut runs = Vec::new();
    for (mode, database_url) in targets {
        // Fresh sessions for each run: a run rotates refresh chains and the harness does
        // not follow the instances' last tokens.
        progress(&format!(
            "storm: {} sessions for the refresh instances (logins, ~0.3 s each)",
            plan.refresh.max(1)
        ));
        let sessions = sessions(bench, fixture, plan.refresh.max(1)).await?;
        drained(&admin).await?;
        runs.push(
            storm(
                bench,
                fixture,
                plan,
                &sessions,
                mode,
                &database_url,
                admin_url,
            )
            .await?,
        );
    }
    let instance_pool_size = bench
        .environment
        .iter()
        .find(|(key, _)| key == "DATABASE_POOL_SIZE")
        .map_or_else(|| "2 (default)".to_owned(), |(_, value)| value.clone());
    Ok(StormFigures {
        plan: plan.clone(),
        max_connections,
        reserved_connections,
        instance_pool_size,
        pooler: pooler.cloned(),
        runs,
    })
}

/// `count` sessions (access and refresh token), by two login instances at once: one per
/// refresh instance of the storm, one per instance under concurrency.
pub async fn sessions(
    bench: &Bench,
    fixture: &Fixture,
    count: usize,
) -> Result<Vec<(String, String)>> {
    let sign_in = |mut instance: Instance, indices: Vec<usize>| async move {
        instance.init().await?;
        let mut sessions = Vec::new();
        for index in indices {
            let event = fixture
                .login(index)
                .to_event(SEQUENCE.fetch_add(1, Ordering::Relaxed));
            let outcome = instance.invoke(event).await?;
            let response = HttpResponse::parse(&outcome.body)?;
            match (
                response.text("access_token"),
                response.text("refresh_token"),
            ) {
                (Some(access), Some(refresh)) if response.status == 200 => {
                    sessions.push((access, refresh));
                }
                _ => {
                    return Err(
                        format!("storm: a seeding login answered {}", response.status).into(),
                    );
                }
            }
        }
        instance.stop().await;
        Ok::<_, crate::Error>(sessions)
    };
    let (even, odd): (Vec<usize>, Vec<usize>) = (0..count).partition(|index| index % 2 == 0);
    let (first, second) = tokio::join!(
        sign_in(bench.start("login").await?, even),
        sign_in(bench.start("login").await?, odd)
    );
    let mut sessions = first?;
    sessions.extend(second?);
    Ok(sessions)
}

/// One run: every instance spawned at once, each serving its requests in a row.
async fn storm(
    bench: &Bench,
    fixture: &Fixture,
    plan: &StormPlan,
    sessions: &[(String, String)],
    mode: &'static str,
    database_url: &str,
    admin_url: &str,
) -> Result<StormRun> {
    progress(&format!(
        "storm ({mode}): {} instances (get-me {}, refresh {}, login {}) start at once",
        plan.instances(),
        plan.get_me,
        plan.refresh,
        plan.login
    ));
    let environment = bench.environment_with_database(database_url, mode == "PgBouncer");
    let peak = Arc::new(AtomicI64::new(0));
    let sampler = tokio::spawn(sample(admin_url.to_owned(), Arc::clone(&peak)));

    let started = Instant::now();
    let mut instances = JoinSet::new();
    let mut spawn = |name: &'static str, index: usize| {
        let requests: Vec<Request> = match name {
            "get-me" => {
                let access = &sessions[index % sessions.len()].0;
                (0..plan.requests)
                    .map(|_| Request::Fixed(HttpRequest::new("GET", "/users/me").bearer(access)))
                    .collect()
            }
            "refresh" => {
                vec![Request::Refresh(sessions[index % sessions.len()].1.clone()); plan.requests]
            }
            _ => (0..plan.logins)
                .map(|sent| Request::Fixed(fixture.login(index * plan.logins + sent)))
                .collect(),
        };
        let binary = bench.binary(name);
        let log = bench.out.join("logs").join(format!("storm-{name}.log"));
        let environment = environment.clone();
        instances.spawn(async move {
            let instance = Instance::spawn(&binary, name, &environment, &log).await;
            (name, serve(instance, requests).await)
        });
    };
    for index in 0..plan.get_me.max(plan.refresh).max(plan.login) {
        for (name, count) in [
            ("get-me", plan.get_me),
            ("refresh", plan.refresh),
            ("login", plan.login),
        ] {
            if index < count {
                spawn(name, index);
            }
        }
    }
    let mut by_function: BTreeMap<&'static str, Tally> = BTreeMap::new();
    let mut init_failures = Vec::new();
    while let Some(joined) = instances.join_next().await {
        let (name, served) = joined?;
        match served {
            Ok(tally) => by_function.entry(name).or_default().add(tally),
            Err(problem) => init_failures.push(format!("{name}: {problem}")),
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    sampler.abort();
    Ok(StormRun {
        mode,
        by_function,
        init_failures,
        peak_server_connections: peak.load(Ordering::Relaxed),
        seconds,
    })
}

#[derive(Clone)]
enum Request {
    Fixed(HttpRequest),
    /// The refresh token to start the chain with; each 200 moves it on.
    Refresh(String),
}

/// One instance's life: init, its requests in a row (each cut off at the function
/// timeout, as Lambda would), then stopped. An `Err` only when it never initialised.
async fn serve(instance: Result<Instance>, requests: Vec<Request>) -> Result<Tally> {
    let mut instance = instance?;
    instance.init().await?;
    let mut tally = Tally::default();
    let mut refresh_token = None;
    for request in requests {
        let request = match request {
            Request::Fixed(request) => request,
            Request::Refresh(first) => {
                let token = refresh_token.get_or_insert(first).clone();
                HttpRequest::new("POST", "/auth/refresh")
                    .json(serde_json::json!({ "refresh_token": token }))
            }
        };
        let event = request.to_event(SEQUENCE.fetch_add(1, Ordering::Relaxed));
        let outcome = match tokio::time::timeout(FUNCTION_TIMEOUT, instance.invoke(event)).await {
            Err(_) => {
                *tally
                    .outcomes
                    .entry(format!("no answer within {} s", FUNCTION_TIMEOUT.as_secs()))
                    .or_default() += 1;
                break;
            }
            Ok(Err(problem)) => {
                *tally
                    .outcomes
                    .entry(format!("harness: {problem}"))
                    .or_default() += 1;
                break;
            }
            Ok(Ok(outcome)) => outcome,
        };
        let key = match HttpResponse::parse(&outcome.body) {
            _ if outcome.error => "invocation error (502 at the gateway)".to_owned(),
            Ok(response) => {
                if response.status == 200
                    && let Some(token) = response.text("refresh_token")
                {
                    refresh_token = Some(token);
                }
                match response.body["code"].as_str() {
                    Some(code) if response.status != 200 => format!("{} {code}", response.status),
                    _ => response.status.to_string(),
                }
            }
            Err(problem) => format!("unreadable answer: {problem}"),
        };
        *tally.outcomes.entry(key).or_default() += 1;
        tally.durations.push(outcome.duration);
    }
    instance.stop().await;
    Ok(tally)
}

/// Client backends of every role but the superuser's (the sampler, the harness): the
/// functions' connections, or the pooler's.
const SERVER_CONNECTIONS: &str = "SELECT count(*) FROM pg_stat_activity
     WHERE backend_type = 'client backend' AND usename <> current_user";

/// The functions' server connections, every 20 ms, the highest count kept in `peak`.
async fn sample(admin_url: String, peak: Arc<AtomicI64>) -> Result<()> {
    let (client, connection) = tokio_postgres::connect(&admin_url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    loop {
        let row = client.query_one(SERVER_CONNECTIONS, &[]).await?;
        peak.fetch_max(row.get(0), Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits (up to 20 s) for the server backends of killed instances to exit, so that a run
/// starts with every slot free.
async fn drained(admin: &tokio_postgres::Client) -> Result<()> {
    let limit = Instant::now() + Duration::from_secs(20);
    loop {
        let row = admin.query_one(SERVER_CONNECTIONS, &[]).await?;
        let left: i64 = row.get(0);
        if left == 0 {
            return Ok(());
        }
        if Instant::now() > limit {
            return Err(
                format!("storm: {left} server connections still open 20 s after the run").into(),
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
