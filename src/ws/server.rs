//! Lesson 08 — the server side: accept the upgrade, then speak frames.
//!
//! [`accept`] reads an HTTP request head from any stream (under a size limit
//! and a deadline, so a client trickling one byte a second cannot hold the
//! connection: the "slow-loris" attack), checks it ([`parse_request`]) and
//! answers `101 Switching Protocols`, or an HTTP error saying what was wrong.
//! It returns a [`WebSocket`] and the request, so any service — the echo
//! server below, the chat hub's WebSocket transport later — only has to handle
//! messages.

use super::close::CloseFrame;
use super::connection::{Timeouts, WebSocket, WsError, READ_CHUNK};
use super::frame::Role;
use super::handshake::{
    accept_response, parse_request, HandshakeError, Policy, UpgradeRequest, DEFAULT_MAX_HEADER,
};
use super::message::Message;
use super::protocol::Limits;
use super::DEFAULT_HANDSHAKE_TIMEOUT;
use crate::guard::{
    accept_with_backoff, AcceptFailures, AcceptReport, AddressCap, AddressFull, MemoryBudget,
    DEFAULT_FRAME_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_MEMORY, DEFAULT_MAX_PER_IP,
};
use bytes::BytesMut;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

/// Default cap on simultaneous connections (beyond it, new clients wait in the accept queue).
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;

/// How long a refused connection may take to receive its `503` before it is
/// closed anyway (reading what the client sent meanwhile, so the close does
/// not turn into a reset that loses the answer).
pub const REFUSAL_LINGER: Duration = Duration::from_secs(1);

/// Everything a WebSocket server enforces.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Frame and message size limits.
    pub limits: Limits,
    /// Largest request head in bytes (default [`DEFAULT_MAX_HEADER`]).
    pub max_header: usize,
    /// Time a client has to send its whole request (default [`DEFAULT_HANDSHAKE_TIMEOUT`]).
    pub handshake_timeout: Duration,
    /// Origins and subprotocols.
    pub policy: Policy,
    /// How long a peer may stall an upgraded connection (default: frames
    /// whole within [`DEFAULT_FRAME_TIMEOUT`], idle for at most [`DEFAULT_IDLE_TIMEOUT`]).
    pub timeouts: Timeouts,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            limits: Limits::default(),
            max_header: DEFAULT_MAX_HEADER,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            policy: Policy::default(),
            timeouts: Timeouts {
                frame: Some(DEFAULT_FRAME_TIMEOUT),
                idle: Some(DEFAULT_IDLE_TIMEOUT),
            },
        }
    }
}

/// An accepted upgrade: the request, and the subprotocol we answered with.
#[derive(Debug, Clone)]
pub struct Upgraded {
    /// The client's request.
    pub request: UpgradeRequest,
    /// The subprotocol chosen, if any.
    pub protocol: Option<String>,
}

/// Runs the server side of the opening handshake on `stream`.
///
/// On success the stream is a [`WebSocket`]. On a refused request the client
/// has been sent the HTTP error response, and the error says which rule broke.
pub async fn accept<S>(
    mut stream: S,
    config: &ServerConfig,
) -> Result<(WebSocket<S>, Upgraded), WsError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut buf = BytesMut::with_capacity(1024);
    let read_head = async {
        loop {
            if let Some(found) = parse_request(&buf, config.max_header, &config.policy)? {
                return Ok(found);
            }
            // Never read past the header limit: a client cannot make us buffer more.
            let room = config.max_header.saturating_add(1) - buf.len().min(config.max_header);
            buf.reserve(room.min(READ_CHUNK));
            let mut limited = (&mut stream).take(room as u64);
            if limited
                .read_buf(&mut buf)
                .await
                .map_err(|_| HandshakeError::ConnectionClosed)?
                == 0
            {
                return Err(HandshakeError::ConnectionClosed);
            }
        }
    };
    let outcome = match tokio::time::timeout(config.handshake_timeout, read_head).await {
        Ok(r) => r,
        Err(_) => Err(HandshakeError::Timeout(config.handshake_timeout)),
    };
    match outcome {
        Ok((request, used)) => {
            let protocol = config.policy.choose_protocol(&request.protocols);
            stream
                .write_all(&accept_response(&request, protocol.as_deref()))
                .await?;
            let _ = buf.split_to(used);
            let mut ws = WebSocket::from_upgraded(stream, Role::Server, config.limits, buf);
            ws.set_timeouts(config.timeouts);
            Ok((ws, Upgraded { request, protocol }))
        }
        Err(e) => {
            if !matches!(e, HandshakeError::ConnectionClosed) {
                let _ = stream.write_all(&e.response()).await;
                let _ = stream.shutdown().await;
            }
            Err(e.into())
        }
    }
}

/// Settings of the echo server.
#[derive(Debug, Clone)]
pub struct EchoConfig {
    /// Handshake and protocol settings.
    pub server: ServerConfig,
    /// Most connections served at once.
    pub max_connections: usize,
    /// Bytes all connections together may hold in unfinished messages and
    /// unwritten echoes (0: no limit).
    pub max_memory: usize,
    /// Most connections from one source address (0: no limit).
    pub max_per_ip: usize,
}

impl Default for EchoConfig {
    fn default() -> Self {
        EchoConfig {
            server: ServerConfig::default(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_memory: DEFAULT_MAX_MEMORY,
            max_per_ip: DEFAULT_MAX_PER_IP,
        }
    }
}

/// What one echo connection did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EchoStats {
    /// Messages echoed.
    pub messages: u64,
    /// Payload bytes echoed.
    pub bytes: u64,
}

/// What the echo server reports as connections come and go.
#[derive(Debug)]
pub enum EchoEvent {
    /// The handshake succeeded.
    Upgraded {
        /// The client's address.
        peer: SocketAddr,
        /// The request path.
        path: String,
    },
    /// The handshake was refused (the client got an HTTP error).
    Refused {
        /// The client's address.
        peer: SocketAddr,
        /// Why.
        error: WsError,
    },
    /// Refused before the handshake (`503`): its address holds `max_per_ip` connections.
    AddressFull {
        /// The client's address.
        peer: SocketAddr,
        /// The cap it hit.
        error: AddressFull,
    },
    /// The closing handshake completed.
    Closed {
        /// The client's address.
        peer: SocketAddr,
        /// The client's Close frame (None: no status code).
        close: Option<CloseFrame>,
        /// What was echoed.
        stats: EchoStats,
    },
    /// The connection failed (protocol error, or TCP closed without Close).
    Failed {
        /// The client's address.
        peer: SocketAddr,
        /// What was echoed before.
        stats: EchoStats,
        /// What went wrong.
        error: WsError,
    },
    /// `accept` itself is failing (or works again); said once per episode.
    Accept(AcceptReport),
}

/// Echoes every text and binary message on `ws` until the closing handshake.
///
/// Echoes are queued with [`WebSocket::feed`] and written together when the
/// connection waits for more input, so pipelined messages go back in one write.
pub async fn echo<S>(
    ws: &mut WebSocket<S>,
    stats: &mut EchoStats,
) -> Result<Option<CloseFrame>, WsError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    while let Some(msg) = ws.recv().await? {
        match msg {
            Message::Text(_) | Message::Binary(_) => {
                ws.feed(&msg)?;
                stats.messages += 1;
                stats.bytes += msg.payload().len() as u64;
            }
            Message::Close(frame) => return Ok(frame),
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
    Ok(None)
}

/// Serves the echo service on `listener` forever, reporting each connection to `on_event`.
pub async fn serve_echo<F>(
    listener: TcpListener,
    config: EchoConfig,
    on_event: F,
) -> std::io::Result<()>
where
    F: Fn(EchoEvent) + Send + Sync + 'static,
{
    let budget = MemoryBudget::new(config.max_memory);
    serve_echo_with_budget(listener, config, budget, on_event).await
}

/// Like [`serve_echo`], drawing on a `budget` the caller holds too (to
/// report its peak); `config.max_memory` is not used, the budget has its own limit.
pub async fn serve_echo_with_budget<F>(
    listener: TcpListener,
    config: EchoConfig,
    budget: Arc<MemoryBudget>,
    on_event: F,
) -> std::io::Result<()>
where
    F: Fn(EchoEvent) + Send + Sync + 'static,
{
    let on_event = Arc::new(on_event);
    let config = Arc::new(config);
    let slots = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let per_ip = AddressCap::new(config.max_per_ip);
    let mut failures = AcceptFailures::new();
    loop {
        let permit = slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let (stream, peer) =
            accept_with_backoff(&listener, &mut failures, |r| on_event(EchoEvent::Accept(r))).await;
        let place = match per_ip.admit(peer.ip()) {
            Ok(place) => place,
            Err(error) => {
                on_event(EchoEvent::AddressFull { peer, error });
                tokio::spawn(refuse_busy(stream, error.to_string()));
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let on_event = on_event.clone();
        let config = config.clone();
        let held = budget.reservation();
        tokio::spawn(async move {
            let (mut ws, up) = match accept(stream, &config.server).await {
                Ok(ok) => ok,
                Err(error) => {
                    on_event(EchoEvent::Refused { peer, error });
                    return;
                }
            };
            ws.set_budget(held);
            on_event(EchoEvent::Upgraded {
                peer,
                path: up.request.path,
            });
            let mut stats = EchoStats::default();
            let result = echo(&mut ws, &mut stats).await;
            on_event(match result {
                Ok(close) => EchoEvent::Closed { peer, close, stats },
                Err(error) => EchoEvent::Failed { peer, stats, error },
            });
            drop(place);
            drop(permit);
        });
    }
}

/// Answers a connection the server will not serve with `503 Service
/// Unavailable` saying `why`, before reading its request (there is no point),
/// then closes it within [`REFUSAL_LINGER`].
pub async fn refuse_busy(mut stream: TcpStream, why: String) {
    let body = format!("{why}\n");
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let linger = async {
        stream.write_all(head.as_bytes()).await?;
        stream.shutdown().await?;
        // Read (and drop) what the client sends until it closes: closing with
        // unread bytes would reset the connection and could lose the answer.
        let mut sink = [0u8; 1024];
        while stream.read(&mut sink).await? > 0 {}
        Ok::<_, std::io::Error>(())
    };
    let _ = tokio::time::timeout(REFUSAL_LINGER, linger).await;
}
