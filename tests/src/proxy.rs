//! A TCP proxy in front of Postgres that a test can take down and bring back, to play
//! "the database stopped, then started again" without disturbing other tests.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub struct FlakyProxy {
    addr: SocketAddr,
    target: SocketAddr,
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    listener: Option<JoinHandle<()>>,
    connections: Vec<JoinHandle<()>>,
}

impl FlakyProxy {
    /// Listens on a free loopback port and forwards to `target`.
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let proxy = Self {
            addr,
            target,
            state: Arc::default(),
        };
        proxy.serve(listener);
        proxy
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Like a stopped server: open connections are cut and new ones refused.
    pub fn go_down(&self) {
        let mut state = self.state.lock().unwrap();
        if let Some(listener) = state.listener.take() {
            listener.abort();
        }
        state.connections.drain(..).for_each(|c| c.abort());
    }

    /// Like a restarted server: listening again on the same port.
    pub async fn come_up(&self) {
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(listener) => break listener,
                // The aborted accept loop may not have released the port yet.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
            }
        };
        self.serve(listener);
    }

    fn serve(&self, listener: TcpListener) {
        let (state, target) = (self.state.clone(), self.target);
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let connection = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                state.lock().unwrap().connections.push(connection);
            }
        });
        self.state.lock().unwrap().listener = Some(accept);
    }
}

impl Drop for FlakyProxy {
    fn drop(&mut self) {
        self.go_down();
    }
}
