//! A TCP proxy between a function and Postgres that counts database round trips.
//!
//! It forwards bytes untouched and follows the frontend (client to server) message framing
//! of the Postgres wire protocol. Every `Sync` (end of an extended-protocol exchange:
//! prepare, or bind/execute) and every simple `Query` is one exchange the client waits for
//! (`ReadyForQuery`): one round trip. It also counts "flights": how often the client
//! starts writing again after the server has answered, which equals the round trips
//! unless the client pipelines several exchanges into one flight.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::Result;

#[derive(Default)]
pub struct Counters {
    pub syncs: AtomicU64,
    pub queries: AtomicU64,
    pub flights: AtomicU64,
    pub connections: AtomicU64,
    pub messages: AtomicU64,
}

/// A snapshot of the counters.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counts {
    pub round_trips: u64,
    pub flights: u64,
    pub connections: u64,
    pub messages: u64,
}

impl std::ops::Sub for Counts {
    type Output = Counts;
    fn sub(self, earlier: Counts) -> Counts {
        Counts {
            round_trips: self.round_trips - earlier.round_trips,
            flights: self.flights - earlier.flights,
            connections: self.connections - earlier.connections,
            messages: self.messages - earlier.messages,
        }
    }
}

pub struct Proxy {
    pub address: SocketAddr,
    counters: Arc<Counters>,
    task: JoinHandle<()>,
}

impl Proxy {
    /// Listens on a loopback port and forwards every connection to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let counters = Arc::new(Counters::default());
        let task = tokio::spawn({
            let counters = Arc::clone(&counters);
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    counters.connections.fetch_add(1, Ordering::Relaxed);
                    tokio::spawn(relay(client, upstream, Arc::clone(&counters)));
                }
            }
        });
        Ok(Self {
            address,
            counters,
            task,
        })
    }

    pub fn counts(&self) -> Counts {
        let c = &self.counters;
        Counts {
            round_trips: c.syncs.load(Ordering::Relaxed) + c.queries.load(Ordering::Relaxed),
            flights: c.flights.load(Ordering::Relaxed),
            connections: c.connections.load(Ordering::Relaxed),
            messages: c.messages.load(Ordering::Relaxed),
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn relay(client: TcpStream, upstream: SocketAddr, counters: Arc<Counters>) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let server_spoke = Arc::new(AtomicBool::new(true));
    let up = frontend(
        client_read,
        server_write,
        Arc::clone(&counters),
        Arc::clone(&server_spoke),
    );
    let down = backend(server_read, client_write, server_spoke);
    tokio::select! {
        () = up => {}
        () = down => {}
    }
}

/// Client to server: forward, and count messages by type.
async fn frontend(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    counters: Arc<Counters>,
    server_spoke: Arc<AtomicBool>,
) {
    let mut framing = Framing::default();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        if server_spoke.swap(false, Ordering::Relaxed) {
            counters.flights.fetch_add(1, Ordering::Relaxed);
        }
        framing.feed(&buffer[..read], &counters);
        if to.write_all(&buffer[..read]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

/// Server to client: forward, and note that the server has answered.
async fn backend(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, server_spoke: Arc<AtomicBool>) {
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(read) => read,
        };
        server_spoke.store(true, Ordering::Relaxed);
        if to.write_all(&buffer[..read]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

/// Follows frontend message boundaries across reads without buffering message bodies.
struct Framing {
    /// Until the startup message: untyped messages (`SSLRequest`, `StartupMessage`).
    startup: bool,
    header: Vec<u8>,
    skip: usize,
}

impl Default for Framing {
    fn default() -> Self {
        Self {
            startup: true,
            header: Vec::with_capacity(8),
            skip: 0,
        }
    }
}

const SSL_REQUEST: u32 = 80_877_103;
const GSS_ENC_REQUEST: u32 = 80_877_104;

impl Framing {
    fn feed(&mut self, mut bytes: &[u8], counters: &Counters) {
        while !bytes.is_empty() {
            if self.skip > 0 {
                let skipped = self.skip.min(bytes.len());
                self.skip -= skipped;
                bytes = &bytes[skipped..];
                continue;
            }
            let wanted = if self.startup { 8 } else { 5 };
            let taken = (wanted - self.header.len()).min(bytes.len());
            self.header.extend_from_slice(&bytes[..taken]);
            bytes = &bytes[taken..];
            if self.header.len() < wanted {
                continue;
            }
            let word = |at: usize| {
                u32::from_be_bytes([
                    self.header[at],
                    self.header[at + 1],
                    self.header[at + 2],
                    self.header[at + 3],
                ]) as usize
            };
            if self.startup {
                let (length, code) = (word(0), word(4) as u32);
                self.skip = length.saturating_sub(8);
                self.startup = code == SSL_REQUEST || code == GSS_ENC_REQUEST;
            } else {
                let kind = self.header[0];
                self.skip = word(1).saturating_sub(4);
                counters.messages.fetch_add(1, Ordering::Relaxed);
                match kind {
                    b'S' => counters.syncs.fetch_add(1, Ordering::Relaxed),
                    b'Q' => counters.queries.fetch_add(1, Ordering::Relaxed),
                    _ => 0,
                };
            }
            self.header.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut bytes = vec![kind];
        bytes.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
        bytes.extend_from_slice(body);
        bytes
    }

    #[test]
    fn syncs_and_queries_are_counted_across_arbitrary_read_boundaries() {
        let mut stream = Vec::new();
        stream.extend_from_slice(&8u32.to_be_bytes());
        stream.extend_from_slice(&SSL_REQUEST.to_be_bytes());
        let startup_body = b"\x00\x03\x00\x00user\x00bench\x00\x00";
        stream.extend_from_slice(&(startup_body.len() as u32 + 4).to_be_bytes());
        stream.extend_from_slice(startup_body);
        stream.extend(message(b'p', b"password\x00"));
        stream.extend(message(b'P', b"\x00SELECT 1\x00\x00\x00"));
        stream.extend(message(b'D', b"S\x00"));
        stream.extend(message(b'S', b""));
        stream.extend(message(b'B', &[0; 10]));
        stream.extend(message(b'E', b"\x00\x00\x00\x00\x00"));
        stream.extend(message(b'S', b""));
        stream.extend(message(b'Q', b"SELECT 1\x00"));

        for chunk in [1, 2, 3, 7, stream.len()] {
            let counters = Counters::default();
            let mut framing = Framing::default();
            for piece in stream.chunks(chunk) {
                framing.feed(piece, &counters);
            }
            assert_eq!(counters.syncs.load(Ordering::Relaxed), 2, "chunk {chunk}");
            assert_eq!(counters.queries.load(Ordering::Relaxed), 1, "chunk {chunk}");
            assert_eq!(
                counters.messages.load(Ordering::Relaxed),
                8,
                "chunk {chunk}"
            );
        }
    }
}
