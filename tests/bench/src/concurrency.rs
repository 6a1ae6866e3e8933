//! Throughput under concurrency: N warm instances of one function, each with its own
//! Runtime API as Lambda gives every sandbox, driven by a closed-loop client with N
//! requests in flight (one per instance, the next sent as soon as the previous answered);
//! and the Django peer driven the same way by N HTTP clients against its gunicorn.
//!
//! Every refresh client follows its own refresh-token chain (rotation with reuse
//! detection: a token presented twice revokes its session), on both sides.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hyper::Method;
use serde_json::json;
use tokio::task::JoinSet;

use crate::event::{HttpRequest, HttpResponse, abbreviate};
use crate::lambda::Instance;
use crate::peer::{self, HttpClient};
use crate::report::Summary;
use crate::{Bench, Result};

/// Unmeasured requests per instance (or peer client) before the timed ones: the
/// connection opened, the first allocations made.
pub const WARM_UP: usize = 5;

/// Request ids and trace ids of these events, apart from the fixture's and the storm's.
static SEQUENCE: AtomicU64 = AtomicU64::new(5_000_000);

/// The routes measured under concurrency.
pub const FUNCTIONS: [&str; 2] = ["get-me", "refresh"];

/// One side (ours or the peer) at one concurrency level.
#[derive(Clone)]
pub struct Level {
    pub function: &'static str,
    pub concurrency: usize,
    /// Client-side request times: request sent to response received in full.
    pub summary: Summary,
    /// From the first timed request sent to the last answer received.
    pub seconds: f64,
}

impl Level {
    pub fn requests_per_second(&self) -> f64 {
        self.summary.count as f64 / self.seconds.max(f64::EPSILON)
    }
}

/// What each client needs: an access token, and the start of its own refresh chain.
#[derive(Clone, Debug)]
pub struct Session {
    pub access: String,
    pub refresh: String,
}

/// One client's share of a run: its timings, and where its refresh chain got to.
struct ClientRun<T> {
    target: T,
    durations: Vec<Duration>,
    session: Session,
}

/// The request a client sends next.
fn request(function: &str, session: &Session) -> HttpRequest {
    match function {
        "refresh" => HttpRequest::new("POST", "/auth/refresh")
            .json(json!({ "refresh_token": session.refresh })),
        _ => HttpRequest::new("GET", "/users/me").bearer(&session.access),
    }
}

/// `sessions.len()` instances of `function`, `requests` timed invocations in all shared
/// by a closed loop; moves every refresh chain on in `sessions`.
pub async fn ours(
    bench: &Bench,
    function: &'static str,
    sessions: &mut [Session],
    requests: usize,
) -> Result<Level> {
    let concurrency = sessions.len();
    let mut instances = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        instances.push(bench.start(function).await?);
    }
    for instance in &mut instances {
        instance.init().await?;
    }
    let clients: Vec<(Instance, Session)> = instances
        .into_iter()
        .zip(sessions.iter().cloned())
        .collect();
    let clients = closed_loop(clients, WARM_UP * concurrency, function, invoke).await?;
    let started = Instant::now();
    let runs = timed_loop(clients, requests, function, invoke).await?;
    let seconds = started.elapsed().as_secs_f64();
    finish(
        function,
        concurrency,
        sessions,
        runs,
        seconds,
        |runs| async {
            for (instance, _) in runs {
                instance.stop().await;
            }
        },
    )
    .await
}

/// The peer at `sessions.len()` concurrent clients, as [`ours`].
pub async fn peer(
    address: std::net::SocketAddr,
    function: &'static str,
    sessions: &mut [Session],
    requests: usize,
) -> Result<Level> {
    let concurrency = sessions.len();
    let clients: Vec<(HttpClient, Session)> = sessions
        .iter()
        .map(|session| (HttpClient::new(address), session.clone()))
        .collect();
    let clients = closed_loop(clients, WARM_UP * concurrency, function, send).await?;
    let started = Instant::now();
    let runs = timed_loop(clients, requests, function, send).await?;
    let seconds = started.elapsed().as_secs_f64();
    finish(function, concurrency, sessions, runs, seconds, |_| async {}).await
}

/// Sessions on the peer, one per client: logins, `clients` at a time.
pub async fn peer_sessions(
    address: std::net::SocketAddr,
    credentials: &serde_json::Value,
    count: usize,
) -> Result<Vec<Session>> {
    let mut logins = JoinSet::new();
    for _ in 0..count {
        let credentials = credentials.clone();
        logins.spawn(async move {
            let reply = HttpClient::new(address)
                .send(Method::POST, peer::LOGIN, None, Some(&credentials))
                .await?;
            match (
                reply.body["access"].as_str(),
                reply.body["refresh"].as_str(),
            ) {
                (Some(access), Some(refresh)) if reply.status == 200 => Ok(Session {
                    access: access.to_owned(),
                    refresh: refresh.to_owned(),
                }),
                _ => Err(crate::Error::from(format!(
                    "peer login answered {}: {}",
                    reply.status,
                    abbreviate(&reply.body.to_string())
                ))),
            }
        });
    }
    let mut sessions = Vec::with_capacity(count);
    while let Some(joined) = logins.join_next().await {
        sessions.push(joined??);
    }
    Ok(sessions)
}

/// Gathers the clients' timings and their sessions' new refresh tokens, then releases
/// the targets with `release`.
async fn finish<T, R, Fut>(
    function: &'static str,
    concurrency: usize,
    sessions: &mut [Session],
    runs: Vec<ClientRun<T>>,
    seconds: f64,
    release: R,
) -> Result<Level>
where
    R: FnOnce(Vec<(T, Session)>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut durations = Vec::new();
    let mut targets = Vec::with_capacity(runs.len());
    for (slot, run) in sessions.iter_mut().zip(runs) {
        durations.extend(run.durations);
        *slot = run.session.clone();
        targets.push((run.target, run.session));
    }
    release(targets).await;
    Ok(Level {
        function,
        concurrency,
        summary: Summary::of(&durations).ok_or("no requests under concurrency")?,
        seconds,
    })
}

/// The answer a client got: status, and the JSON body.
type Answer = (u16, serde_json::Value);

/// [`timed_loop`] for the warm-up: gives back the clients, their timings dropped.
async fn closed_loop<T, S, Fut>(
    clients: Vec<(T, Session)>,
    requests: usize,
    function: &'static str,
    send: S,
) -> Result<Vec<(T, Session)>>
where
    T: Send + 'static,
    S: Fn(T, HttpRequest) -> Fut + Copy + Send + 'static,
    Fut: std::future::Future<Output = (T, Result<Answer>)> + Send,
{
    let runs = timed_loop(clients, requests, function, send).await?;
    Ok(runs
        .into_iter()
        .map(|run| (run.target, run.session))
        .collect())
}

/// Runs every client at once until `requests` requests (all clients together) have been
/// sent; each sends its next request as soon as its previous one is answered. Any
/// answer but a 200 is an error: these routes must never fail under load. Gives back the
/// clients in their order, with their timings.
async fn timed_loop<T, S, Fut>(
    clients: Vec<(T, Session)>,
    requests: usize,
    function: &'static str,
    send: S,
) -> Result<Vec<ClientRun<T>>>
where
    T: Send + 'static,
    S: Fn(T, HttpRequest) -> Fut + Copy + Send + 'static,
    Fut: std::future::Future<Output = (T, Result<Answer>)> + Send,
{
    let claimed = Arc::new(AtomicUsize::new(0));
    let mut tasks = JoinSet::new();
    for (index, (target, session)) in clients.into_iter().enumerate() {
        let claimed = Arc::clone(&claimed);
        tasks.spawn(async move {
            let mut run = ClientRun {
                target,
                durations: Vec::new(),
                session,
            };
            while claimed.fetch_add(1, Ordering::Relaxed) < requests {
                let started = Instant::now();
                let (target, answer) = send(run.target, request(function, &run.session)).await;
                run.target = target;
                let (status, body) = answer?;
                if status != 200 {
                    return Err(crate::Error::from(format!(
                        "{function} under concurrency answered {status}: {}",
                        abbreviate(&body.to_string())
                    )));
                }
                run.durations.push(started.elapsed());
                if let Some(token) = body["refresh_token"].as_str().or(body["refresh"].as_str()) {
                    run.session.refresh = token.to_owned();
                }
            }
            Ok((index, run))
        });
    }
    let mut runs: Vec<(usize, ClientRun<T>)> = Vec::with_capacity(tasks.len());
    while let Some(joined) = tasks.join_next().await {
        runs.push(joined??);
    }
    runs.sort_by_key(|(index, _)| *index);
    Ok(runs.into_iter().map(|(_, run)| run).collect())
}

/// One invocation through the instance's Runtime API, as Lambda would hand it over.
async fn invoke(mut instance: Instance, request: HttpRequest) -> (Instance, Result<Answer>) {
    let event = request.to_event(SEQUENCE.fetch_add(1, Ordering::Relaxed));
    let answer = match instance.invoke(event).await {
        Ok(outcome) if outcome.error => Err(format!(
            "{} posted an invocation error: {}",
            instance.name,
            abbreviate(&String::from_utf8_lossy(&outcome.body))
        )
        .into()),
        Ok(outcome) => HttpResponse::parse(&outcome.body)
            .map(|response| (response.status, response.body))
            .map_err(Into::into),
        Err(problem) => Err(problem),
    };
    (instance, answer)
}

/// One HTTP request to the peer.
async fn send(mut client: HttpClient, request: HttpRequest) -> (HttpClient, Result<Answer>) {
    let (method, path, body) = match request.method {
        "POST" => (
            Method::POST,
            peer::REFRESH,
            request
                .body
                .as_ref()
                .map(|body| json!({ "refresh": body["refresh_token"] })),
        ),
        _ => (Method::GET, peer::ME, None),
    };
    let answer = client
        .send(method, path, request.bearer.as_deref(), body.as_ref())
        .await
        .map(|reply| (reply.status, reply.body));
    (client, answer)
}
