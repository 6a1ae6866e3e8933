//! The benchmark's phases, in order: sizes, seeding, init and cold starts, warm
//! invocations (with memory), the latency floor (raw database round trips), login
//! against raw scrypt, database round trips, throughput under concurrency, the peer
//! (sequential, then under concurrency), the connection storm.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use hyper::Method;
use serde_json::{Value, json};

use crate::concurrency::{self, Level, Session};
use crate::event::{HttpRequest, HttpResponse, abbreviate};
use crate::fixture::{self, Fixture, PASSWORD};
use crate::lambda::Instance;
use crate::machine::{CpuSnapshot, Machine, calibration_ms, load_average};
use crate::peer::{self, HttpClient, Peer, PeerSettings};
use crate::pgproxy::{Counts, Proxy};
use crate::report::Summary;
use crate::storm::StormFigures;
use crate::{Bench, Result, charts, floor, render, storm};

/// How busy the machine was during one phase.
pub struct Load {
    pub phase: &'static str,
    pub calibration_ms: Option<f64>,
    pub foreign_cores: f64,
    pub seconds: f64,
}

struct Phase {
    name: &'static str,
    calibration_ms: Option<f64>,
    snapshot: CpuSnapshot,
    started: Instant,
}

impl Phase {
    fn begin(name: &'static str) -> Self {
        progress(&format!("phase: {name}"));
        Self {
            name,
            calibration_ms: calibration_ms(),
            snapshot: CpuSnapshot::take(),
            started: Instant::now(),
        }
    }

    fn end(self, loads: &mut Vec<Load>) {
        loads.push(Load {
            phase: self.name,
            calibration_ms: self.calibration_ms,
            foreign_cores: CpuSnapshot::take().foreign_cores_since(&self.snapshot),
            seconds: self.started.elapsed().as_secs_f64(),
        });
    }
}

pub fn progress(message: &str) {
    eprintln!("[latchkey-bench] {message}");
}

/// Binary and zip sizes of one function, in bytes.
pub struct Size {
    pub binary: Option<u64>,
    pub zip: Option<u64>,
}

pub struct Cold {
    pub init: Vec<Duration>,
    pub first_response: Vec<Duration>,
    pub request: String,
    pub hashes: bool,
    /// VmHWM after the first response (last round).
    pub hwm_kib: Option<u64>,
    /// A wrong answer or a missing probe, instead of a figure.
    pub problem: Option<String>,
}

pub struct Warm {
    pub name: String,
    pub summary: Summary,
    pub hwm_kib: u64,
    pub rss_kib: Vec<u64>,
    pub hashes: bool,
}

pub struct RoundTrips {
    pub name: &'static str,
    pub requests: usize,
    pub counts: Counts,
    pub target: u64,
    /// Calls per request and normalised text, from `pg_stat_statements`.
    pub statements: Option<Vec<(f64, String)>>,
}

pub struct PeerFigures {
    pub info: Value,
    pub script: Option<Duration>,
    pub cold: Option<Duration>,
    pub total: Option<Duration>,
    pub me: Summary,
    pub refresh: Summary,
    pub login: Summary,
    pub connects_per_request: f64,
    /// get-me and refresh at each concurrency level; an error ends the peer's share only.
    pub concurrency: Result<Vec<Level>, String>,
}

/// One function at one concurrency level: ours, and the peer's at the same level.
pub struct ConcurrencyPair {
    pub ours: Level,
    pub peer: Option<Level>,
}

pub struct Results {
    pub machine: Machine,
    pub started: chrono::DateTime<chrono::Utc>,
    pub load_average_start: String,
    pub load_average_end: String,
    pub sizes: BTreeMap<String, Size>,
    pub cold: BTreeMap<String, Cold>,
    pub warm: Vec<Warm>,
    pub scrypt_before: Vec<Duration>,
    pub scrypt_after: Vec<Duration>,
    pub round_trips: Vec<RoundTrips>,
    /// Raw database round trips from a Rust client, for the latency floor.
    pub floor: Option<floor::Floor>,
    pub concurrency: Vec<ConcurrencyPair>,
    pub peer: Option<Result<PeerFigures, String>>,
    pub storm: Option<StormFigures>,
    pub loads: Vec<Load>,
    pub elapsed: Duration,
    /// The SVG charts written (and copied for the documents in a full run), or why not.
    pub charts: Result<Vec<PathBuf>, String>,
}

/// Functions measured warm, in this order (those that exist): every route that valid
/// input can call again and again without hashing, and login (which hashes) last.
/// `hello` is the control: what the runtime alone costs and keeps. The others, and why
/// not: [`not_warm`].
pub const WARM: [&str; 9] = [
    "hello",
    "get-me",
    "refresh",
    "list-users",
    "list-contacts",
    "list-my-events",
    "forgot-password",
    "resend-verification",
    "login",
];

/// Why a function is not in [`WARM`]: the report lists every one with its reason.
pub fn not_warm(name: &str) -> &'static str {
    match name {
        "migrate" => "no HTTP route (run once per deploy)",
        "maintenance" => {
            "no HTTP route (scheduled: delivers the mail outbox, deletes what has expired)"
        }
        "register" | "update-user" | "reset-password" | "totp-disable" | "delete-user"
        | "totp-setup" => "hashes a password with scrypt (section 3 measures that cost)",
        "verify-email" | "revert-email-change" => {
            "one-shot: its token is used up by the first call (a warm figure needs one seeded token per invocation)"
        }
        "mfa-verify" | "totp-confirm" => {
            "one-shot: each challenge and each TOTP code is accepted once"
        }
        "logout" | "logout-all" | "delete-contact" => {
            "one-shot: the session, the sessions or the contact is gone after the first call"
        }
        "list-events" | "reset-mfa" | "unlock-user" | "revoke-sessions" | "send-password-reset" => {
            "admin route: production requires the admin's session to be signed in with a second factor (ADMIN_REQUIRE_MFA)"
        }
        _ => "repeatable, but not in the warm list (its cold first response is in section 1)",
    }
}

pub async fn run(bench: &Bench) -> Result<String> {
    let began = Instant::now();
    let plan = &bench.plan;
    let mut results = Results {
        machine: Machine::describe(),
        started: chrono::Utc::now(),
        load_average_start: load_average(),
        load_average_end: String::new(),
        sizes: sizes(bench),
        cold: BTreeMap::new(),
        warm: Vec::new(),
        scrypt_before: Vec::new(),
        scrypt_after: Vec::new(),
        round_trips: Vec::new(),
        floor: None,
        concurrency: Vec::new(),
        peer: None,
        storm: None,
        loads: Vec::new(),
        elapsed: Duration::ZERO,
        charts: Ok(Vec::new()),
    };

    progress("seeding accounts, sessions and contacts");
    let mut fixture = fixture::seed(bench, plan.cold_samples, plan.users, plan.contacts).await?;
    if plan.storm_only {
        run_storm(bench, &fixture, &mut results).await?;
        results.load_average_end = load_average();
        results.elapsed = began.elapsed();
        return Ok(render::report(bench, &results));
    }

    let phase = Phase::begin("init and cold starts");
    let mut kept = cold_starts(bench, &mut fixture, &mut results.cold).await?;
    phase.end(&mut results.loads);

    let phase = Phase::begin("warm invocations");
    for name in WARM.iter().filter(|name| **name != "login") {
        let Some(instance) = kept.remove(*name) else {
            continue;
        };
        progress(&format!("warm: {name} x {}", plan.warm));
        results
            .warm
            .push(warm(&mut fixture, instance, name, plan.warm, plan.warm_up).await?);
    }
    phase.end(&mut results.loads);

    let phase = Phase::begin("latency floor");
    progress(&format!(
        "latency floor: {} raw reads and {} raw writes",
        plan.floor_samples, plan.floor_samples
    ));
    results.floor =
        Some(floor::measure(&bench.database_url, fixture.main.id, plan.floor_samples).await?);
    phase.end(&mut results.loads);

    if let Some(login) = kept.remove("login") {
        let phase = Phase::begin("login and raw scrypt");
        results.scrypt_before = raw_scrypt(bench, plan.scrypt)?;
        progress(&format!("warm: login x {}", plan.logins));
        results
            .warm
            .push(warm(&mut fixture, login, "login", plan.logins, 2).await?);
        results.scrypt_after = raw_scrypt(bench, plan.scrypt)?;
        phase.end(&mut results.loads);
    }
    for (_, instance) in kept.drain() {
        instance.stop().await;
    }

    let phase = Phase::begin("database round trips");
    results.round_trips = round_trips(bench, &mut fixture).await?;
    phase.end(&mut results.loads);

    let phase = Phase::begin("concurrency");
    let ours = concurrent(bench, &fixture).await?;
    phase.end(&mut results.loads);

    if let Some(settings) = &bench.peer {
        let phase = Phase::begin("peer (Django)");
        results.peer = Some(
            measure_peer(settings, plan)
                .await
                .map_err(|err| err.to_string()),
        );
        phase.end(&mut results.loads);
    }
    results.concurrency = pair_with_peer(ours, results.peer.as_ref());

    run_storm(bench, &fixture, &mut results).await?;
    results.load_average_end = load_average();
    results.elapsed = began.elapsed();
    results.charts = publish_charts(bench, &results).map_err(|err| err.to_string());
    Ok(render::report(bench, &results))
}

/// The charts into `target/bench`; a full run also copies them to `docs/bench`, where
/// BENCHMARKS.md shows them (a smoke run's figures mean nothing, so it never does).
/// Returns the paths written.
fn publish_charts(bench: &Bench, results: &Results) -> Result<Vec<PathBuf>> {
    let mut written = charts::write(&bench.out, results)?;
    if bench.plan.smoke || bench.plan.storm_only {
        return Ok(written);
    }
    let committed = bench.root.join("docs/bench");
    std::fs::create_dir_all(&committed)?;
    let mut copies = Vec::new();
    for chart in &written {
        let Some(name) = chart.file_name() else {
            continue;
        };
        let copy = committed.join(name);
        std::fs::copy(chart, &copy)?;
        copies.push(copy);
    }
    written.extend(copies);
    Ok(written)
}

/// get-me and refresh at every concurrency level of the plan, each level with fresh
/// instances (their init not timed). Sessions come from logins first, one per instance
/// of the highest level, so that every refresh instance follows its own chain; a lower
/// level uses the first of them, moved on.
async fn concurrent(bench: &Bench, fixture: &Fixture) -> Result<Vec<Level>> {
    let plan = &bench.plan;
    let Some(highest) = plan.concurrency_levels.iter().copied().max() else {
        return Ok(Vec::new());
    };
    if !concurrency::FUNCTIONS.iter().all(|name| bench.has(name)) || !bench.has("login") {
        return Ok(Vec::new());
    }
    progress(&format!(
        "concurrency: {highest} sessions (logins, ~0.45 s each, two at a time)"
    ));
    let mut sessions: Vec<Session> = storm::sessions(bench, fixture, highest)
        .await?
        .into_iter()
        .map(|(access, refresh)| Session { access, refresh })
        .collect();
    let mut levels = Vec::new();
    for function in concurrency::FUNCTIONS {
        for &level in &plan.concurrency_levels {
            progress(&format!(
                "concurrency: {function}, {level} instances, {} requests",
                plan.concurrent_requests
            ));
            let level = concurrency::ours(
                bench,
                function,
                &mut sessions[..level],
                plan.concurrent_requests,
            )
            .await?;
            levels.push(level);
        }
    }
    Ok(levels)
}

/// Each of our levels beside the peer's at the same function and concurrency.
fn pair_with_peer(
    ours: Vec<Level>,
    peer: Option<&Result<PeerFigures, String>>,
) -> Vec<ConcurrencyPair> {
    let mut theirs: Vec<Level> = match peer {
        Some(Ok(figures)) => match &figures.concurrency {
            Ok(levels) => levels.iter().map(Level::clone).collect(),
            Err(_) => Vec::new(),
        },
        _ => Vec::new(),
    };
    ours.into_iter()
        .map(|ours| {
            let peer = theirs
                .iter()
                .position(|level| {
                    level.function == ours.function && level.concurrency == ours.concurrency
                })
                .map(|index| theirs.remove(index));
            ConcurrencyPair { ours, peer }
        })
        .collect()
}

/// The peer at every concurrency level: one login per client of the highest level
/// (each client its own refresh chain and access token), then get-me and refresh.
async fn peer_concurrency(
    address: SocketAddr,
    credentials: &Value,
    plan: &crate::Plan,
) -> Result<Vec<Level>> {
    let Some(highest) = plan.concurrency_levels.iter().copied().max() else {
        return Ok(Vec::new());
    };
    progress(&format!(
        "peer: {highest} sessions for the concurrent clients"
    ));
    let mut sessions = concurrency::peer_sessions(address, credentials, highest).await?;
    let mut levels = Vec::new();
    for function in concurrency::FUNCTIONS {
        for &level in &plan.concurrency_levels {
            progress(&format!(
                "peer: {function}, {level} concurrent clients, {} requests",
                plan.concurrent_requests
            ));
            levels.push(
                concurrency::peer(
                    address,
                    function,
                    &mut sessions[..level],
                    plan.concurrent_requests,
                )
                .await?,
            );
        }
    }
    Ok(levels)
}

/// The connection storm, when the plan has one: directly, then through the pooler.
async fn run_storm(bench: &Bench, fixture: &Fixture, results: &mut Results) -> Result<()> {
    let Some(plan) = &bench.plan.storm else {
        return Ok(());
    };
    let phase = Phase::begin("connection storm");
    results.storm = Some(storm::run(bench, fixture, plan, bench.pooler.as_ref()).await?);
    phase.end(&mut results.loads);
    Ok(())
}

fn sizes(bench: &Bench) -> BTreeMap<String, Size> {
    let size = |path: std::path::PathBuf| std::fs::metadata(path).ok().map(|meta| meta.len());
    std::iter::once("hello")
        .chain(bench.functions.iter().map(String::as_str))
        .map(|name| {
            let zip = bench.out.join("zip").join(format!("{name}.zip"));
            (
                name.to_owned(),
                Size {
                    binary: size(bench.binary(name)),
                    zip: size(zip),
                },
            )
        })
        .collect()
}

/// One unmeasured start of every binary (the page cache then holds it, as it would for
/// every cold start on a host but the very first); then `init_samples` rounds that only
/// start each binary (init: spawn to first `next` poll); then `cold_samples` rounds that
/// also send its probe (first response: spawn to the probe's response posted, database
/// connection, prepare and query included). Each round starts the binaries in a rotated
/// order, and every start waits a moment first, so that no start shares the CPU with the
/// teardown of the one before (a killed function's Postgres backend exits too). The last
/// round's instances of the warm functions are kept for the warm phase.
async fn cold_starts(
    bench: &Bench,
    fixture: &mut Fixture,
    cold: &mut BTreeMap<String, Cold>,
) -> Result<HashMap<String, Instance>> {
    let names: Vec<String> = std::iter::once("hello".to_owned())
        .chain(bench.functions.iter().cloned())
        .collect();
    for name in &names {
        let probe = probe(fixture, name, 0);
        cold.insert(
            name.clone(),
            Cold {
                init: Vec::new(),
                first_response: Vec::new(),
                request: probe.as_ref().map_or_else(
                    || "- (init only)".to_owned(),
                    |probe| format!("{} {}", probe.request.method, probe.request.route),
                ),
                hashes: probe.as_ref().is_some_and(|probe| probe.hashes),
                hwm_kib: None,
                problem: None,
            },
        );
        let mut instance = bench.start(name).await?;
        instance.init().await?;
        instance.stop().await;
    }
    let rotated = |round: usize| -> Vec<&String> {
        let shift = round % names.len();
        names[shift..].iter().chain(&names[..shift]).collect()
    };

    let init_rounds = bench.plan.init_samples;
    progress(&format!(
        "init: {init_rounds} rounds of {} binaries",
        names.len()
    ));
    for round in 0..init_rounds {
        for name in rotated(round) {
            tokio::time::sleep(SETTLE).await;
            let mut instance = bench.start(name).await?;
            let init = instance.init().await?;
            instance.stop().await;
            if let Some(entry) = cold.get_mut(name) {
                entry.init.push(init);
            }
        }
    }

    let samples = bench.plan.cold_samples;
    let mut kept = HashMap::new();
    for sample in 0..samples {
        progress(&format!(
            "cold starts: round {} of {samples} ({} binaries)",
            sample + 1,
            names.len()
        ));
        for name in rotated(init_rounds + sample) {
            tokio::time::sleep(SETTLE).await;
            let mut instance = bench.start(name).await?;
            let init = instance.init().await?;
            let probe = probe(fixture, name, sample);
            let entry = cold.get_mut(name).ok_or("no entry")?;
            entry.init.push(init);
            if let Some(probe) = probe {
                let event = probe.request.to_event(fixture.next_sequence());
                let outcome = instance.invoke(event).await?;
                let first = outcome.done.duration_since(instance.spawned_at);
                match HttpResponse::parse(&outcome.body) {
                    Ok(response) if !outcome.error && response.status == probe.expect => {
                        fixture.observe(name, &response);
                        entry.first_response.push(first);
                    }
                    Ok(response) => {
                        entry.problem = Some(format!(
                            "answered {} (expected {}): {}",
                            response.status,
                            probe.expect,
                            abbreviate(&response.body.to_string())
                        ));
                    }
                    Err(problem) => entry.problem = Some(problem),
                }
            }
            entry.hwm_kib = instance.memory().ok().map(|memory| memory.hwm_kib);
            if sample + 1 == samples && WARM.contains(&name.as_str()) {
                kept.insert(name.clone(), instance);
            } else {
                instance.stop().await;
            }
        }
    }
    Ok(kept)
}

/// The pause before every measured start.
const SETTLE: Duration = Duration::from_millis(25);

/// The first request of `name`; `hello` answers anything.
fn probe(fixture: &Fixture, name: &str, sample: usize) -> Option<fixture::Probe> {
    if name == "hello" {
        return Some(fixture::Probe {
            request: HttpRequest::new("GET", "/hello"),
            expect: 200,
            hashes: false,
        });
    }
    fixture.probe(name, sample)
}

/// The status a warm invocation of `name` must answer: its probe's (202 for the routes
/// that only accept a request for a mail), else 200.
fn warm_status(fixture: &Fixture, name: &str) -> u16 {
    match name {
        "hello" | "login" | "refresh" => 200,
        _ => fixture.probe(name, 0).map_or(200, |probe| probe.expect),
    }
}

fn warm_request(fixture: &Fixture, name: &str, index: usize) -> Result<HttpRequest> {
    match name {
        "hello" => Ok(HttpRequest::new("GET", "/hello")),
        "login" => Ok(fixture.login(index)),
        "refresh" => Ok(fixture.refresh()),
        _ => fixture
            .probe(name, 0)
            .map(|probe| probe.request)
            .ok_or_else(|| format!("no request for {name}").into()),
    }
}

/// `warm_up` unmeasured invocations, then `count` measured ones, one after the other as
/// one Lambda instance serves them; VmRSS sampled 11 times, VmHWM at the end.
async fn warm(
    fixture: &mut Fixture,
    mut instance: Instance,
    name: &str,
    count: usize,
    warm_up: usize,
) -> Result<Warm> {
    let status = warm_status(fixture, name);
    for index in 0..warm_up {
        let request = warm_request(fixture, name, index)?;
        let response = fixture::call(&mut instance, fixture, &request, status).await?;
        fixture.observe(name, &response);
    }
    let every = (count / 10).max(1);
    let mut rss_kib = vec![instance.memory()?.rss_kib];
    let mut durations = Vec::with_capacity(count);
    for index in 0..count {
        let request = warm_request(fixture, name, warm_up + index)?;
        let event = request.to_event(fixture.next_sequence());
        let outcome = instance.invoke(event).await?;
        let response = HttpResponse::parse(&outcome.body)?;
        if outcome.error || response.status != status {
            return Err(format!(
                "{name}: invocation {index} answered {} (expected {status}): {}",
                response.status,
                abbreviate(&response.body.to_string())
            )
            .into());
        }
        fixture.observe(name, &response);
        durations.push(outcome.duration);
        if (index + 1) % every == 0 {
            rss_kib.push(instance.memory()?.rss_kib);
        }
    }
    let hwm_kib = instance.memory()?.hwm_kib;
    instance.stop().await;
    Ok(Warm {
        name: name.to_owned(),
        summary: Summary::of(&durations).ok_or("no invocations")?,
        hwm_kib,
        rss_kib,
        hashes: name == "login",
    })
}

/// `count` raw scrypt evaluations at ln=17 r=8 p=1 by `scrypt-rate`, a binary built by the
/// same `cargo lambda build --release` as the functions.
fn raw_scrypt(bench: &Bench, count: usize) -> Result<Vec<Duration>> {
    let output = std::process::Command::new(bench.binary("scrypt-rate"))
        .args([count.to_string(), "17".into(), "8".into(), "1".into()])
        .output()?;
    if !output.status.success() {
        return Err(format!(
            "scrypt-rate failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    let line: Value = serde_json::from_slice(&output.stdout)?;
    line["ms"]
        .as_array()
        .ok_or("scrypt-rate printed no timings")?
        .iter()
        .map(|ms| {
            ms.as_f64()
                .map(|ms| Duration::from_secs_f64(ms / 1e3))
                .ok_or_else(|| "scrypt-rate printed a non-number".into())
        })
        .collect()
}

/// `url` with its host and port replaced by `address`.
fn through(url: &str, address: SocketAddr) -> Result<String> {
    let (scheme, rest) = url.split_once("://").ok_or("DATABASE_URL has no scheme")?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let user = authority
        .rsplit_once('@')
        .map_or(String::new(), |(user, _)| format!("{user}@"));
    Ok(format!("{scheme}://{user}{address}/{path}"))
}

async fn upstream(url: &str) -> Result<SocketAddr> {
    let config: tokio_postgres::Config = url.parse()?;
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
        _ => return Err("DATABASE_URL must name a TCP host".into()),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    tokio::net::lookup_host((host.as_str(), port))
        .await?
        .next()
        .ok_or_else(|| format!("cannot resolve {host}").into())
}

/// Round trips per request, counted by a protocol-aware proxy between a fresh instance
/// and Postgres, over requests made after warm-up invocations (statements prepared,
/// connection open); `pg_stat_statements` deltas name the statements.
async fn round_trips(bench: &Bench, fixture: &mut Fixture) -> Result<Vec<RoundTrips>> {
    let proxy = Proxy::start(upstream(&bench.database_url).await?).await?;
    let proxied = through(&bench.database_url, proxy.address)?;
    let environment = bench.environment_with_database(&proxied, false);
    let database: tokio_postgres::Config = bench.database_url.parse()?;
    let database = database.get_dbname().unwrap_or("latchkey").to_owned();
    let admin = match &bench.admin_url {
        Some(url) => match tokio_postgres::connect(url, tokio_postgres::NoTls).await {
            Ok((client, connection)) => {
                tokio::spawn(connection);
                let usable = client
                    .simple_query("SELECT pg_stat_statements_reset()")
                    .await
                    .is_ok();
                usable.then_some(client)
            }
            Err(_) => None,
        },
        None => None,
    };

    let plan = &bench.plan;
    let cases: [(&'static str, usize, usize, u64); 3] = [
        ("get-me", plan.round_trips, 5, 1),
        ("refresh", plan.round_trips, 5, 2),
        ("login", plan.login_round_trips, 1, 2),
    ];
    let mut figures = Vec::new();
    for (name, requests, warm_up, target) in cases {
        if !bench.has(name) {
            continue;
        }
        progress(&format!("round trips: {name} x {requests}"));
        let mut instance = bench.start_with(name, &environment).await?;
        instance.init().await?;
        for index in 0..warm_up {
            let request = warm_request(fixture, name, index)?;
            let response = fixture::call(&mut instance, fixture, &request, 200).await?;
            fixture.observe(name, &response);
        }
        if let Some(admin) = &admin {
            admin
                .simple_query("SELECT pg_stat_statements_reset()")
                .await?;
        }
        let before = proxy.counts();
        for index in 0..requests {
            let request = warm_request(fixture, name, warm_up + index)?;
            let response = fixture::call(&mut instance, fixture, &request, 200).await?;
            fixture.observe(name, &response);
        }
        let counts = proxy.counts() - before;
        let statements = match &admin {
            Some(admin) => Some(statements(admin, &database, requests).await?),
            None => None,
        };
        instance.stop().await;
        figures.push(RoundTrips {
            name,
            requests,
            counts,
            target,
            statements,
        });
    }
    Ok(figures)
}

async fn statements(
    admin: &tokio_postgres::Client,
    database: &str,
    requests: usize,
) -> Result<Vec<(f64, String)>> {
    let rows = admin
        .query(
            "SELECT s.calls, s.query FROM pg_stat_statements s
             JOIN pg_database d ON d.oid = s.dbid
             WHERE d.datname = $1 ORDER BY s.calls DESC, s.query",
            &[&database],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| {
            let calls: i64 = row.get(0);
            let query: String = row.get(1);
            let query = query.split_whitespace().collect::<Vec<_>>().join(" ");
            let short: String = query.chars().take(70).collect();
            let short = if short.len() < query.len() {
                format!("{short}...")
            } else {
                short
            };
            (calls as f64 / requests as f64, short)
        })
        .collect())
}

fn expect(reply: Result<peer::Reply>, status: u16, what: &str) -> Result<peer::Reply> {
    let reply = reply?;
    if reply.status != status {
        return Err(format!(
            "peer {what} answered {} (expected {status}): {}",
            reply.status,
            abbreviate(&reply.body.to_string())
        )
        .into());
    }
    Ok(reply)
}

/// The peer, started with its own `run.sh` against our Postgres: one account, a login,
/// a restart to time its cold start, then sequential requests.
async fn measure_peer(settings: &PeerSettings, plan: &crate::Plan) -> Result<PeerFigures> {
    progress("peer: starting (the first run creates its venv)");
    let started = Peer::start(settings, None).await?;
    let mut client = HttpClient::new(started.peer.address);
    let info = client
        .send(Method::GET, "/healthz", None, None)
        .await
        .map(|reply| reply.body)
        .unwrap_or(Value::Null);
    let account = json!({
        "username": "bench-main",
        "email": "bench-main@example.test",
        "password": PASSWORD,
    });
    let credentials = json!({"username": "bench-main", "password": PASSWORD});
    expect(
        client
            .send(Method::POST, peer::REGISTER, None, Some(&account))
            .await,
        201,
        "register",
    )?;
    let tokens = expect(
        client
            .send(Method::POST, peer::LOGIN, None, Some(&credentials))
            .await,
        200,
        "login",
    )?
    .body;
    let access = tokens["access"]
        .as_str()
        .ok_or("peer login gave no access")?;
    let mut refresh = tokens["refresh"]
        .as_str()
        .ok_or("peer login gave no refresh")?
        .to_owned();
    started.peer.stop().await?;

    progress("peer: cold start");
    let cold = Peer::start(settings, Some(access)).await?;
    let mut client = HttpClient::new(cold.peer.address);
    for _ in 0..50 {
        expect(
            client.send(Method::GET, peer::ME, Some(access), None).await,
            200,
            "me",
        )?;
    }
    progress(&format!("peer: me x {}", plan.peer_requests));
    let mut me = Vec::new();
    let mut connects = 0usize;
    for _ in 0..plan.peer_requests {
        let reply = expect(
            client.send(Method::GET, peer::ME, Some(access), None).await,
            200,
            "me",
        )?;
        connects += usize::from(reply.connected);
        me.push(reply.elapsed);
    }
    progress(&format!("peer: refresh x {}", plan.peer_requests));
    let mut rotations = Vec::new();
    for index in 0..plan.peer_requests + 20 {
        let body = json!({"refresh": refresh});
        let reply = expect(
            client
                .send(Method::POST, peer::REFRESH, None, Some(&body))
                .await,
            200,
            "refresh",
        )?;
        refresh = reply.body["refresh"]
            .as_str()
            .ok_or("peer refresh gave no refresh token")?
            .to_owned();
        if index >= 20 {
            rotations.push(reply.elapsed);
        }
    }
    progress(&format!("peer: login x {}", plan.peer_logins));
    let mut logins = Vec::new();
    for index in 0..plan.peer_logins + 1 {
        let reply = expect(
            client
                .send(Method::POST, peer::LOGIN, None, Some(&credentials))
                .await,
            200,
            "login",
        )?;
        if index > 0 {
            logins.push(reply.elapsed);
        }
    }
    let concurrency = peer_concurrency(cold.peer.address, &credentials, plan)
        .await
        .map_err(|err| err.to_string());
    let figures = PeerFigures {
        info,
        script: cold.script,
        cold: cold.cold,
        total: cold.total,
        me: Summary::of(&me).ok_or("no peer requests")?,
        refresh: Summary::of(&rotations).ok_or("no peer refreshes")?,
        login: Summary::of(&logins).ok_or("no peer logins")?,
        connects_per_request: connects as f64 / me.len().max(1) as f64,
        concurrency,
    };
    cold.peer.stop().await?;
    Ok(figures)
}
