//! The Django peer (`tests/bench/peer`, started with its own `run.sh`)
//! and a sequential HTTP/1.1 client to measure it with.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, CONNECTION, CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use crate::Result;
use crate::machine::find_new_process;

pub struct Reply {
    pub status: u16,
    pub body: Value,
    /// From the start of the request (including a TCP connect when the server closed the
    /// previous connection) to the last byte of the response body.
    pub elapsed: Duration,
    pub connected: bool,
}

/// One connection at a time, reused while the server keeps it alive (gunicorn's sync
/// workers answer `Connection: close`, so every request then opens a new one).
pub struct HttpClient {
    address: SocketAddr,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl HttpClient {
    pub fn new(address: SocketAddr) -> Self {
        Self {
            address,
            sender: None,
        }
    }

    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Reply> {
        let started = Instant::now();
        let (mut sender, connected) = match self.sender.take() {
            Some(sender) if !sender.is_closed() => (sender, false),
            _ => (self.connect().await?, true),
        };
        sender.ready().await?;
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, self.address.to_string())
            .header("accept", "application/json");
        if let Some(token) = bearer {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        let payload = match body {
            Some(body) => {
                request = request.header(CONTENT_TYPE, "application/json");
                Bytes::from(body.to_string())
            }
            None => Bytes::new(),
        };
        let response = sender
            .send_request(request.body(Full::new(payload))?)
            .await?;
        let status = response.status().as_u16();
        let closes = response
            .headers()
            .get(CONNECTION)
            .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"close"));
        let bytes = response.into_body().collect().await?.to_bytes();
        let elapsed = started.elapsed();
        if !closes {
            self.sender = Some(sender);
        }
        Ok(Reply {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            elapsed,
            connected,
        })
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>> {
        let stream = TcpStream::connect(self.address).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(sender)
    }
}

/// The peer's routes (its bench/profiles/djoser.env).
pub const ME: &str = "/api/auth/users/me/";
pub const REGISTER: &str = "/api/auth/users/";
pub const LOGIN: &str = "/api/auth/jwt/create/";
pub const REFRESH: &str = "/api/auth/jwt/refresh/";

/// A running `run.sh` (foreground mode).
pub struct Peer {
    pub address: SocketAddr,
    child: Child,
    stopped: bool,
}

pub struct PeerSettings {
    pub dir: PathBuf,
    pub port: u16,
    pub database_url: String,
    pub secret_key: String,
    pub log: PathBuf,
}

/// When the peer's processes appeared and answered.
pub struct PeerStart {
    pub peer: Peer,
    /// `run.sh` spawned to the gunicorn master process seen (venv check, migrate).
    pub script: Option<Duration>,
    /// The gunicorn master process seen to the first successful authenticated response.
    pub cold: Option<Duration>,
    /// `run.sh` spawned to the first successful authenticated response.
    pub total: Option<Duration>,
}

impl Peer {
    /// Starts `run.sh` with the peer's scrypt at our parameters and waits until it
    /// answers: `/healthz`, or with `token` a `200` from `GET me` (the cold start).
    pub async fn start(settings: &PeerSettings, token: Option<&str>) -> Result<PeerStart> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&settings.log)?;
        let mut command = Command::new(settings.dir.join("run.sh"));
        command
            .current_dir(&settings.dir)
            .env("PORT", settings.port.to_string())
            .env("PEER_DATABASE_URL", &settings.database_url)
            .env("SECRET_KEY", &settings.secret_key)
            .env("PASSWORD_HASHER", "scrypt")
            .env("SCRYPT_WORK_FACTOR", "131072")
            .env("SCRYPT_BLOCK_SIZE", "8")
            .env("SCRYPT_PARALLELISM", "1")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        let spawned = Instant::now();
        let mut child = command.spawn()?;
        let floor = child.id().unwrap_or(0);
        let address = SocketAddr::from(([127, 0, 0, 1], settings.port));
        let mut client = HttpClient::new(address);
        let mut gunicorn_seen = None;
        let limit = spawned + Duration::from_secs(600);
        loop {
            if gunicorn_seen.is_none() && find_new_process(floor, "gunicorn").is_some() {
                gunicorn_seen = Some(Instant::now());
            }
            if let Some(status) = child.try_wait()? {
                return Err(format!(
                    "the peer's run.sh exited ({status}); see {}",
                    settings.log.display()
                )
                .into());
            }
            if Instant::now() > limit {
                terminate(&child);
                return Err("the peer did not answer within 600 s".into());
            }
            // Only probe once gunicorn exists: before, nothing listens (or, worse, an
            // earlier instance might); afterwards a refused connection is cheap.
            if gunicorn_seen.is_some() {
                let answered = match token {
                    Some(token) => client.send(Method::GET, ME, Some(token), None).await,
                    None => client.send(Method::GET, "/healthz", None, None).await,
                };
                if answered.is_ok_and(|reply| reply.status == 200) {
                    let answered = Instant::now();
                    let peer = Peer {
                        address,
                        child,
                        stopped: false,
                    };
                    return Ok(PeerStart {
                        peer,
                        script: gunicorn_seen.map(|seen| seen.duration_since(spawned)),
                        cold: gunicorn_seen.map(|seen| answered.duration_since(seen)),
                        total: Some(answered.duration_since(spawned)),
                    });
                }
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// SIGTERM to `run.sh` (its trap stops gunicorn; the database is ours and stays up).
    pub async fn stop(mut self) -> Result<()> {
        self.stopped = true;
        terminate(&self.child);
        match tokio::time::timeout(Duration::from_secs(60), self.child.wait()).await {
            Ok(_) => Ok(()),
            Err(_) => Err("the peer's run.sh did not stop within 60 s".into()),
        }
    }
}

impl Drop for Peer {
    /// A harness that fails half-way still lets `run.sh` stop gunicorn.
    fn drop(&mut self) {
        if !self.stopped {
            terminate(&self.child);
        }
    }
}

fn terminate(child: &Child) {
    if let Some(pid) = child.id() {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
    }
}

/// Whether `dir` holds the peer.
pub fn available(dir: &Path) -> bool {
    dir.join("run.sh").is_file() && dir.join("app/manage.py").is_file()
}
