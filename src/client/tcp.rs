//! A chat client over TCP: the terminal chat, the tests, the tour and the
//! benchmark all use it.
//!
//! It frames JSON events with lesson 02's codec. [`ChatClient::call`] sends an
//! event with an ack id and waits for the matching `ack`, keeping every other
//! event that arrives meanwhile for [`ChatClient::next_event`], so nothing is lost.

use crate::chat::id::ConnId;
use crate::chat::protocol::{ClientEvent, ClientFrame, ErrorCode, ServerEvent, WireLimits};
use crate::framing::{FrameCodec, FrameError};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use std::collections::VecDeque;
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

/// What can go wrong for a chat client.
#[derive(Debug, thiserror::Error)]
pub enum ChatClientError {
    /// Nothing accepted the connection.
    #[error("could not connect to {addr}: {source} (is `netlab serve --tcp {addr}` running?)")]
    Connect {
        /// Where.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// Framing or the socket failed.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The server sent something that is not a server event.
    #[error("the server sent a frame that is not a chat event: {0}")]
    BadEvent(String),
    /// The server closed the connection.
    #[error("the server closed the connection")]
    Closed,
    /// The first event was not `welcome` (is it a chat server?).
    #[error("expected a welcome event first, got {0}")]
    NoWelcome(String),
}

/// The outcome of an acked event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckOutcome {
    /// Accepted; it reached this many connections.
    Reached(usize),
    /// Refused by this rule.
    Refused(ErrorCode, String),
}

/// A connected chat client.
pub struct ChatClient {
    framed: Framed<TcpStream, FrameCodec>,
    id: ConnId,
    nick: String,
    limits: WireLimits,
    next_ack: u64,
    pending: VecDeque<ServerEvent>,
}

impl ChatClient {
    /// Connects to `addr` and reads the welcome.
    pub async fn connect(addr: &str) -> Result<Self, ChatClientError> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|source| ChatClientError::Connect {
                addr: addr.to_string(),
                source,
            })?;
        Self::with_stream(stream).await
    }

    /// Runs the protocol over an already connected socket (e.g. one with a
    /// small receive buffer, to play a slow reader) and reads the welcome.
    pub async fn with_stream(stream: TcpStream) -> Result<Self, ChatClientError> {
        let _ = stream.set_nodelay(true);
        let mut framed = Framed::new(stream, FrameCodec::new());
        let first = read_event(&mut framed).await?;
        match first {
            ServerEvent::Welcome {
                id, nick, limits, ..
            } => Ok(Self {
                framed,
                id,
                nick,
                limits,
                next_ack: 1,
                pending: VecDeque::new(),
            }),
            other => Err(ChatClientError::NoWelcome(format!("{other:?}"))),
        }
    }

    /// The id the server gave us.
    pub fn id(&self) -> ConnId {
        self.id
    }

    /// The nickname the server gave us at first.
    pub fn nick(&self) -> &str {
        &self.nick
    }

    /// The welcome event as the server sent it.
    pub fn welcome(&self) -> ServerEvent {
        ServerEvent::Welcome {
            id: self.id,
            nick: self.nick.clone(),
            limits: self.limits,
            session: None,
            session_ttl_ms: None,
        }
    }

    /// Sends `event` with a fresh ack id (without waiting); returns the id.
    pub async fn send(&mut self, event: ClientEvent) -> Result<u64, ChatClientError> {
        let ack = self.next_ack;
        self.next_ack += 1;
        let json = ClientFrame {
            event,
            ack: Some(ack),
        }
        .to_json();
        self.framed.send(Bytes::from(json)).await?;
        Ok(ack)
    }

    /// Sends `event` without an ack id.
    pub async fn send_quiet(&mut self, event: ClientEvent) -> Result<(), ChatClientError> {
        let json = ClientFrame { event, ack: None }.to_json();
        self.framed.send(Bytes::from(json)).await?;
        Ok(())
    }

    /// Sends any bytes as one frame (tests use it to play a hostile client).
    pub async fn send_raw(&mut self, payload: &[u8]) -> Result<(), ChatClientError> {
        self.framed.send(Bytes::copy_from_slice(payload)).await?;
        Ok(())
    }

    /// Sends `event` with an ack id and waits for its outcome; other events
    /// that arrive meanwhile are kept for [`ChatClient::next_event`].
    pub async fn call(&mut self, event: ClientEvent) -> Result<AckOutcome, ChatClientError> {
        let want = self.send(event).await?;
        let mut held = Vec::new();
        let outcome = loop {
            match read_event(&mut self.framed).await? {
                ServerEvent::Ack {
                    ack,
                    ok,
                    reached,
                    error,
                    message,
                } if ack == want => {
                    break if ok {
                        AckOutcome::Reached(reached.unwrap_or(0))
                    } else {
                        AckOutcome::Refused(
                            error.unwrap_or(ErrorCode::InvalidFields),
                            message.unwrap_or_default(),
                        )
                    };
                }
                other => held.push(other),
            }
        };
        self.pending.extend(held);
        Ok(outcome)
    }

    /// The next event from the server (kept ones first).
    pub async fn next_event(&mut self) -> Result<ServerEvent, ChatClientError> {
        if let Some(e) = self.pending.pop_front() {
            return Ok(e);
        }
        read_event(&mut self.framed).await
    }

    /// Events that arrived during a [`ChatClient::call`] and were not read yet.
    pub fn take_pending(&mut self) -> Vec<ServerEvent> {
        self.pending.drain(..).collect()
    }

    /// The framed socket, for callers that split reading from writing.
    pub fn into_framed(self) -> (Framed<TcpStream, FrameCodec>, Vec<ServerEvent>) {
        (self.framed, self.pending.into_iter().collect())
    }
}

/// Reads and parses one server event.
pub async fn read_event(
    framed: &mut Framed<TcpStream, FrameCodec>,
) -> Result<ServerEvent, ChatClientError> {
    match framed.next().await {
        None => Err(ChatClientError::Closed),
        Some(frame) => parse_server_event(&frame?),
    }
}

/// Parses one server event from a frame's payload.
pub fn parse_server_event(payload: &[u8]) -> Result<ServerEvent, ChatClientError> {
    serde_json::from_slice(payload).map_err(|e| {
        ChatClientError::BadEvent(format!("{e}: {}", crate::term::printable(payload, 80)))
    })
}
