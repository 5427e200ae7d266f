//! One TCP chat connection of the soak, counted while it lives: opened (from
//! one of the run's source addresses) up to the `welcome`, framed JSON in
//! and out, and the three ways it can end — a reset, a polite FIN, or the
//! server closing it.

use super::shared::{bump, Shared};
use crate::framing::FrameCodec;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpSocket, TcpStream};
use tokio_util::codec::Framed;

/// A connect (TCP handshake and `welcome`) that takes longer than this failed.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// An open connection, counted while it lives.
pub(super) struct Conn {
    pub(super) framed: Framed<TcpStream, FrameCodec>,
    pub(super) open: OpenGuard,
}

/// Counts a connection as open until dropped (also after its socket was split in two).
pub(super) struct OpenGuard(Arc<Shared>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.c.open_now.fetch_sub(1, Ordering::Relaxed);
    }
}

/// How an observer's (or member's) connection ended.
pub(super) enum Ended {
    /// Its time was up (or the load stopped): the caller decides how to go.
    TimeUp,
    /// The server closed it, or it failed.
    Closed,
}

impl Conn {
    /// Opens a TCP connection (from source address `slot % sources`) and
    /// reads the welcome; `None` (counted as a connect failure) if that
    /// fails or takes longer than [`CONNECT_TIMEOUT`].
    pub(super) async fn open(
        shared: &Arc<Shared>,
        slot: usize,
        rcvbuf: Option<u32>,
    ) -> Option<(Conn, Value)> {
        let r = tokio::time::timeout(CONNECT_TIMEOUT, Self::try_open(shared, slot, rcvbuf)).await;
        match r {
            Ok(Ok(c)) => Some(c),
            _ => {
                bump(&shared.c.connect_failures);
                None
            }
        }
    }

    async fn try_open(
        shared: &Arc<Shared>,
        slot: usize,
        rcvbuf: Option<u32>,
    ) -> std::io::Result<(Conn, Value)> {
        let socket = if shared.addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        if shared.sources > 1 {
            let n = (slot % usize::from(shared.sources)) as u8;
            socket.bind(SocketAddr::new(
                IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + n)),
                0,
            ))?;
        }
        if let Some(n) = rcvbuf {
            socket.set_recv_buffer_size(n)?;
        }
        let stream = socket.connect(shared.addr).await?;
        let _ = stream.set_nodelay(true);
        let mut conn = Conn::new(stream, shared.clone());
        match conn.recv().await {
            Some(w) if w["event"] == "welcome" => Ok((conn, w)),
            Some(other) => Err(std::io::Error::other(format!("no welcome: {other}"))),
            None => Err(std::io::Error::other("closed before the welcome")),
        }
    }

    fn new(stream: TcpStream, shared: Arc<Shared>) -> Self {
        bump(&shared.c.opened);
        let now = shared.c.open_now.fetch_add(1, Ordering::Relaxed) + 1;
        shared.c.peak_open.fetch_max(now, Ordering::Relaxed);
        Self {
            framed: Framed::new(stream, FrameCodec::new()),
            open: OpenGuard(shared),
        }
    }

    /// The next event as JSON; `None` when the connection closed or failed.
    /// Frames that are not JSON are skipped.
    pub(super) async fn recv(&mut self) -> Option<Value> {
        loop {
            match self.framed.next().await {
                Some(Ok(frame)) => {
                    if let Ok(v) = serde_json::from_slice::<Value>(&frame) {
                        return Some(v);
                    }
                }
                _ => return None,
            }
        }
    }

    /// Sends one frame; false if the connection failed.
    pub(super) async fn send(&mut self, frame: &[u8]) -> bool {
        self.framed.send(frame).await.is_ok()
    }

    /// Vanishes without a FIN: `SO_LINGER` 0 makes the close a reset.
    pub(super) fn reset(self) {
        let _ = socket2::SockRef::from(self.framed.get_ref()).set_linger(Some(Duration::ZERO));
        bump(&self.open.0.c.reset);
    }

    /// `leave` was sent: a FIN now, then the socket is closed.
    pub(super) fn close_politely(self) {
        let _ = socket2::SockRef::from(self.framed.get_ref()).shutdown(std::net::Shutdown::Write);
        bump(&self.open.0.c.closed_politely);
    }
}

/// A chat `message` event saying `text` into `room`.
pub(super) fn message(room: &str, text: String) -> Value {
    json!({"event": "message", "to": [room], "text": text})
}
