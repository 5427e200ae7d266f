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
use super::connection::{WebSocket, WsError, READ_CHUNK};
use super::frame::Role;
use super::handshake::{
    accept_response, parse_request, HandshakeError, Policy, UpgradeRequest, DEFAULT_MAX_HEADER,
};
use super::message::Message;
use super::protocol::Limits;
use super::DEFAULT_HANDSHAKE_TIMEOUT;
use bytes::BytesMut;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Default cap on simultaneous connections (beyond it, new clients wait in the accept queue).
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;

/// How long to pause when `accept` fails (e.g. out of file descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

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
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            limits: Limits::default(),
            max_header: DEFAULT_MAX_HEADER,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            policy: Policy::default(),
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
            let ws = WebSocket::from_upgraded(stream, Role::Server, config.limits, buf);
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
}

impl Default for EchoConfig {
    fn default() -> Self {
        EchoConfig {
            server: ServerConfig::default(),
            max_connections: DEFAULT_MAX_CONNECTIONS,
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
    /// `accept` itself failed; the server pauses and goes on.
    AcceptFailed(std::io::Error),
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
    let on_event = Arc::new(on_event);
    let config = Arc::new(config);
    let slots = Arc::new(Semaphore::new(config.max_connections.max(1)));
    loop {
        let permit = slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                on_event(EchoEvent::AcceptFailed(e));
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let on_event = on_event.clone();
        let config = config.clone();
        tokio::spawn(async move {
            let (mut ws, up) = match accept(stream, &config.server).await {
                Ok(ok) => ok,
                Err(error) => {
                    on_event(EchoEvent::Refused { peer, error });
                    return;
                }
            };
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
            drop(permit);
        });
    }
}
