//! A minimal Lambda Runtime API, the part `lambda_runtime` talks to, and the function
//! instances that run against it.
//!
//! Every instance gets its own server on a loopback port (`AWS_LAMBDA_RUNTIME_API`), like
//! every Lambda sandbox has its own runtime API. The server answers
//! `GET /2018-06-01/runtime/invocation/next` with the next event and the
//! `Lambda-Runtime-*` headers, and takes `.../invocation/{id}/response`,
//! `.../invocation/{id}/error` and `/runtime/init/error`. It records the instant of the
//! first poll (the end of init), and for every invocation the instant its event was handed
//! over and the instant its response (or error) had been received in full: the
//! invocation's duration, as Lambda bills it.

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::Result;

const API: &str = "/2018-06-01/runtime";
/// The function timeout the deadline header announces (API Gateway's own limit is 30 s).
pub const FUNCTION_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the harness waits for an init or an invocation before giving up.
const HARNESS_TIMEOUT: Duration = Duration::from_secs(120);

/// What the function posted for one invocation.
pub struct Outcome {
    /// The posted body: an API Gateway response object, or an error diagnostic.
    pub body: Bytes,
    /// From the event handed over by `next` to the response received in full.
    pub duration: Duration,
    /// The instant the response had been received.
    pub done: Instant,
    /// Posted to `/error` rather than `/response`.
    pub error: bool,
}

/// An instance's memory, from `/proc/<pid>/status`, in KiB.
#[derive(Clone, Copy, Debug)]
pub struct Memory {
    pub rss_kib: u64,
    pub hwm_kib: u64,
}

struct Pending {
    event: Bytes,
    reply: oneshot::Sender<Outcome>,
}

struct InFlight {
    handed_over: Instant,
    reply: oneshot::Sender<Outcome>,
}

struct State {
    function_arn: String,
    instance: u64,
    events: tokio::sync::Mutex<mpsc::Receiver<Pending>>,
    in_flight: Mutex<HashMap<String, InFlight>>,
    first_poll: OnceLock<Instant>,
    init_error: Mutex<Option<String>>,
    changed: Notify,
    invocations: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One function process and its runtime API.
pub struct Instance {
    pub name: String,
    pub pid: u32,
    /// Just before the process was spawned.
    pub spawned_at: Instant,
    log: PathBuf,
    state: Arc<State>,
    events: mpsc::Sender<Pending>,
    child: Child,
    server: JoinHandle<()>,
}

static INSTANCES: AtomicU64 = AtomicU64::new(1);

/// Diagnostic (`--fixed-trace-id`): hand every invocation the same X-Ray trace id instead
/// of a fresh one as Lambda does.
pub static FIXED_TRACE_ID: AtomicBool = AtomicBool::new(false);

impl Instance {
    /// Starts `binary` as function `name` with the Lambda environment plus `env`; its
    /// stdout and stderr (the function's log) are appended to `log`.
    pub async fn spawn(
        binary: &Path,
        name: &str,
        env: &[(String, String)],
        log: &Path,
    ) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let instance = INSTANCES.fetch_add(1, Ordering::Relaxed);
        let (events, receiver) = mpsc::channel(1);
        let state = Arc::new(State {
            function_arn: format!("arn:aws:lambda:us-east-1:000000000000:function:{name}"),
            instance,
            events: tokio::sync::Mutex::new(receiver),
            in_flight: Mutex::new(HashMap::new()),
            first_poll: OnceLock::new(),
            init_error: Mutex::new(None),
            changed: Notify::new(),
            invocations: AtomicU64::new(0),
        });
        let server = tokio::spawn(serve(listener, Arc::clone(&state)));

        let output = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(|err| format!("{}: {err}", log.display()))?;
        let mut command = Command::new(binary);
        command
            .env_clear()
            .envs(lambda_environment(name, &address.to_string(), instance))
            .envs(
                env.iter()
                    .map(|(key, value)| (key.as_str(), value.as_str())),
            )
            .stdin(Stdio::null())
            .stdout(output.try_clone()?)
            .stderr(output)
            .kill_on_drop(true);
        let spawned_at = Instant::now();
        let child = command
            .spawn()
            .map_err(|err| format!("cannot start {}: {err}", binary.display()))?;
        let pid = child.id().ok_or("the function exited at once")?;
        Ok(Self {
            name: name.to_owned(),
            pid,
            spawned_at,
            log: log.to_owned(),
            state,
            events,
            child,
            server,
        })
    }

    /// Waits for the first `next` poll and returns the init duration (spawn to poll).
    pub async fn init(&mut self) -> Result<Duration> {
        let limit = Instant::now() + HARNESS_TIMEOUT;
        loop {
            if let Some(polled) = self.state.first_poll.get() {
                return Ok(polled.duration_since(self.spawned_at));
            }
            if let Some(error) = lock(&self.state.init_error).clone() {
                return Err(format!("{}: init error: {error}", self.name).into());
            }
            if let Some(status) = self.child.try_wait()? {
                return Err(self.died(&format!("exited ({status}) during init")));
            }
            if Instant::now() > limit {
                return Err(self.died("did not poll for an event within 120 s"));
            }
            let _ = tokio::time::timeout(Duration::from_millis(50), self.state.changed.notified())
                .await;
        }
    }

    /// Hands `event` to the function and waits for what it posts.
    pub async fn invoke(&mut self, event: Bytes) -> Result<Outcome> {
        let (reply, mut answer) = oneshot::channel();
        if self.events.send(Pending { event, reply }).await.is_err() {
            return Err(format!("{}: the runtime API has stopped", self.name).into());
        }
        let problem = tokio::select! {
            outcome = &mut answer => match outcome {
                Ok(outcome) => return Ok(outcome),
                Err(_) => "dropped an invocation".to_owned(),
            },
            status = self.child.wait() => {
                let status = status.map_or_else(|err| err.to_string(), |s| s.to_string());
                format!("exited ({status}) during an invocation")
            }
            () = tokio::time::sleep(HARNESS_TIMEOUT) => "did not answer within 120 s".to_owned(),
        };
        Err(self.died(&problem))
    }

    /// VmRSS and VmHWM of the process.
    pub fn memory(&self) -> Result<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        let field = |name: &str| -> Result<u64> {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kib| kib.parse().ok())
                .ok_or_else(|| format!("no {name} in /proc/{}/status", self.pid).into())
        };
        Ok(Memory {
            rss_kib: field("VmRSS:")?,
            hwm_kib: field("VmHWM:")?,
        })
    }

    /// Kills the process (Lambda reclaims a sandbox the same way) and stops its API.
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
        self.server.abort();
    }

    fn died(&self, what: &str) -> crate::Error {
        format!(
            "function {} {what}; its log: {}",
            self.name,
            self.log.display()
        )
        .into()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// The environment Lambda gives a `provided.al2023` function, minus credentials.
fn lambda_environment(name: &str, api: &str, instance: u64) -> Vec<(String, String)> {
    let pairs = [
        ("AWS_LAMBDA_RUNTIME_API", api.to_owned()),
        ("AWS_LAMBDA_FUNCTION_NAME", name.to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".to_owned()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME",
            format!("bench/[$LATEST]{instance:032x}"),
        ),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
        ("AWS_DEFAULT_REGION", "us-east-1".to_owned()),
        ("_HANDLER", "bootstrap".to_owned()),
        ("LAMBDA_TASK_ROOT", "/var/task".to_owned()),
        ("LAMBDA_RUNTIME_DIR", "/var/runtime".to_owned()),
        ("TZ", ":UTC".to_owned()),
        ("LANG", "en_US.UTF-8".to_owned()),
        ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin".to_owned()),
    ];
    pairs
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect()
}

async fn serve(listener: TcpListener, state: Arc<State>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(Arc::clone(&state), req));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, body: &'static str) -> Reply {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response
}

async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> std::result::Result<Reply, Infallible> {
    let path = req.uri().path().to_owned();
    let Some(route) = path.strip_prefix(API) else {
        return Ok(reply(StatusCode::NOT_FOUND, "{}"));
    };
    if req.method() == Method::GET && route == "/invocation/next" {
        return Ok(next(&state).await);
    }
    if req.method() != Method::POST {
        return Ok(reply(StatusCode::METHOD_NOT_ALLOWED, "{}"));
    }
    let body = match req.into_body().collect().await {
        Ok(body) => body.to_bytes(),
        Err(_) => return Ok(reply(StatusCode::BAD_REQUEST, "{}")),
    };
    let done = Instant::now();
    if route == "/init/error" {
        *lock(&state.init_error) = Some(String::from_utf8_lossy(&body).into_owned());
        state.changed.notify_one();
        return Ok(reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#));
    }
    let Some((id, kind)) = route
        .strip_prefix("/invocation/")
        .and_then(|rest| rest.rsplit_once('/'))
    else {
        return Ok(reply(StatusCode::NOT_FOUND, "{}"));
    };
    if kind != "response" && kind != "error" {
        return Ok(reply(StatusCode::NOT_FOUND, "{}"));
    }
    let Some(in_flight) = lock(&state.in_flight).remove(id) else {
        return Ok(reply(
            StatusCode::BAD_REQUEST,
            r#"{"errorType":"InvalidRequestID"}"#,
        ));
    };
    let _ = in_flight.reply.send(Outcome {
        body,
        duration: done.duration_since(in_flight.handed_over),
        done,
        error: kind == "error",
    });
    Ok(reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#))
}

/// Long-polls for the next event, then hands it over with the invocation headers.
async fn next(state: &State) -> Reply {
    state.first_poll.get_or_init(Instant::now);
    state.changed.notify_one();
    let pending = state.events.lock().await.recv().await;
    let Some(pending) = pending else {
        // The harness is done with this instance: leave the function waiting, as a
        // frozen sandbox would.
        return std::future::pending().await;
    };
    let sequence = state.invocations.fetch_add(1, Ordering::Relaxed);
    let request_id = format!(
        "{:08x}-0000-4000-8000-{sequence:012x}",
        state.instance & 0xffff_ffff
    );
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let deadline_ms = (since_epoch + FUNCTION_TIMEOUT).as_millis();
    let trace_id = if FIXED_TRACE_ID.load(Ordering::Relaxed) {
        "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0".to_owned()
    } else {
        format!(
            "Root=1-{:08x}-{:012x}{sequence:012x};Parent={sequence:016x};Sampled=0",
            since_epoch.as_secs(),
            state.instance
        )
    };
    let response = Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("lambda-runtime-aws-request-id", request_id.as_str())
        .header("lambda-runtime-deadline-ms", deadline_ms.to_string())
        .header(
            "lambda-runtime-invoked-function-arn",
            state.function_arn.as_str(),
        )
        .header("lambda-runtime-trace-id", trace_id)
        .body(Full::new(pending.event));
    let Ok(response) = response else {
        return reply(StatusCode::INTERNAL_SERVER_ERROR, "{}");
    };
    let handed_over = Instant::now();
    lock(&state.in_flight).insert(
        request_id,
        InFlight {
            handed_over,
            reply: pending.reply,
        },
    );
    response
}
