//! Lesson 02 — a framed client: send messages, read their echoes.
//!
//! The client wraps its socket in tokio-util's `Framed` with our
//! [`crate::framing::FrameCodec`]: the codec turns messages into
//! frames and the incoming byte stream back into messages, so this file only
//! talks in whole messages.

use crate::framing::{FrameCodec, FrameError};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use thiserror::Error;
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

/// What can go wrong for the framed client.
#[derive(Debug, Error)]
pub enum ClientError {
    /// Nothing accepted the connection.
    #[error("could not connect to {addr}: {source} (is a server listening there? try `netlab tcp echo --listen {addr}`)")]
    Connect {
        /// Where we tried to connect.
        addr: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// Sending or receiving a frame failed.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// The server closed the connection before echoing everything.
    #[error("the server closed the connection after {got} of {expected} echoes")]
    ClosedEarly {
        /// Echoes received.
        got: usize,
        /// Echoes expected.
        expected: usize,
    },
}

/// One message and its echo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Echo {
    /// What was sent.
    pub sent: Bytes,
    /// What came back.
    pub received: Bytes,
    /// Time from sending the first message to receiving this echo.
    pub elapsed: Duration,
}

/// A connected framed client.
pub struct FramedClient {
    framed: Framed<TcpStream, FrameCodec>,
}

impl FramedClient {
    /// Connects to `addr` and frames messages with `codec`.
    pub async fn connect(addr: &str, codec: FrameCodec) -> Result<Self, ClientError> {
        let stream = TcpStream::connect(addr)
            .await
            .map_err(|source| ClientError::Connect {
                addr: addr.to_string(),
                source,
            })?;
        let _ = stream.set_nodelay(true);
        Ok(Self {
            framed: Framed::new(stream, codec),
        })
    }

    /// The server's address.
    pub fn peer_addr(&self) -> std::io::Result<SocketAddr> {
        self.framed.get_ref().peer_addr()
    }

    /// Our own address (the port the kernel picked for us).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.framed.get_ref().local_addr()
    }

    /// Sends all `messages` at once (one flush), then waits for as many replies.
    pub async fn exchange(&mut self, messages: &[Bytes]) -> Result<Vec<Echo>, ClientError> {
        let start = Instant::now();
        for m in messages {
            self.framed.feed(m.clone()).await?;
        }
        SinkExt::<Bytes>::flush(&mut self.framed).await?;
        let mut echoes = Vec::with_capacity(messages.len());
        for sent in messages {
            match self.framed.next().await {
                Some(reply) => echoes.push(Echo {
                    sent: sent.clone(),
                    received: reply?.freeze(),
                    elapsed: start.elapsed(),
                }),
                None => {
                    return Err(ClientError::ClosedEarly {
                        got: echoes.len(),
                        expected: messages.len(),
                    })
                }
            }
        }
        Ok(echoes)
    }
}
