//! Lesson 02 — a length-prefixed echo server.
//!
//! Every connection gets its own task. The task reads whatever bytes have
//! arrived, takes off every *complete* frame ([`decode_frame`]), appends each
//! echo to one write buffer ([`encode_frame`]), reads again *only if* more bytes
//! are already waiting, and then writes the buffer once: when a client
//! pipelines many frames, they go back in one `write` system call instead of
//! one each. A connection that breaks the framing rules gets an error
//! and is closed; the other connections never notice.

use crate::framing::{decode_frame, encode_frame, truncated, FrameError, DEFAULT_MAX_FRAME};
use bytes::BytesMut;
use futures_util::FutureExt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// Initial size of each connection's read and write buffers: 8 KiB holds
/// hundreds of small frames, and the buffers grow for bigger ones.
pub const READ_BUFFER: usize = 8 * 1024;

/// Default cap on simultaneous connections; beyond it, new clients wait in the
/// kernel's accept queue until one leaves, instead of the server running out of
/// file descriptors.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;

/// How long to pause when `accept` fails (e.g. out of file descriptors) before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Settings of an echo server.
#[derive(Debug, Clone, Copy)]
pub struct EchoConfig {
    /// Largest frame payload accepted (bytes).
    pub max_frame: usize,
    /// Most connections served at once.
    pub max_connections: usize,
}

impl Default for EchoConfig {
    fn default() -> Self {
        Self {
            max_frame: DEFAULT_MAX_FRAME,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// What one connection did before it ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnStats {
    /// Frames echoed.
    pub frames: u64,
    /// Payload bytes echoed.
    pub bytes: u64,
}

/// What the server reports as connections come and go.
#[derive(Debug)]
pub enum EchoEvent {
    /// A client connected.
    Connected {
        /// Its address.
        peer: SocketAddr,
    },
    /// A client closed its side cleanly after whole frames.
    Closed {
        /// Its address.
        peer: SocketAddr,
        /// What was echoed.
        stats: ConnStats,
    },
    /// The connection was ended because of an error.
    Failed {
        /// Its address.
        peer: SocketAddr,
        /// What was echoed before the error.
        stats: ConnStats,
        /// What went wrong.
        error: FrameError,
    },
    /// `accept` itself failed; the server pauses and goes on.
    AcceptFailed(std::io::Error),
}

/// Serves echo connections on `listener` forever, calling `on_event` for each
/// connection that opens or ends.
pub async fn serve<F>(listener: TcpListener, config: EchoConfig, on_event: F) -> std::io::Result<()>
where
    F: Fn(EchoEvent) + Send + Sync + 'static,
{
    let on_event = Arc::new(on_event);
    let slots = Arc::new(Semaphore::new(config.max_connections));
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
        // Echoes are small and latency matters: send each write at once
        // instead of waiting to coalesce it with later ones (Nagle's algorithm).
        let _ = stream.set_nodelay(true);
        let on_event = on_event.clone();
        tokio::spawn(async move {
            on_event(EchoEvent::Connected { peer });
            let mut stats = ConnStats::default();
            let result = echo_connection(stream, config.max_frame, &mut stats).await;
            on_event(match result {
                Ok(()) => EchoEvent::Closed { peer, stats },
                Err(error) => EchoEvent::Failed { peer, stats, error },
            });
            drop(permit);
        });
    }
}

/// Echoes frames on one connection until the peer closes it or breaks the rules.
///
/// `stats` is updated as frames go back, so it is meaningful even on error.
pub async fn echo_connection<S>(
    mut stream: S,
    max_frame: usize,
    stats: &mut ConnStats,
) -> Result<(), FrameError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut inbox = BytesMut::with_capacity(READ_BUFFER);
    let mut outbox = BytesMut::with_capacity(READ_BUFFER);
    loop {
        // Wait until some bytes arrive.
        make_room(&mut inbox);
        let mut got = stream.read_buf(&mut inbox).await?;
        // Echo every complete frame; while more bytes are *already* waiting in
        // the socket, read them too, so all the echoes leave in one write.
        let verdict = loop {
            if got == 0 {
                // End of stream: fine between frames, an error inside one.
                break if inbox.is_empty() {
                    Err(None)
                } else {
                    Err(Some(truncated(&inbox)))
                };
            }
            if let Err(e) = take_frames(&mut inbox, &mut outbox, max_frame, stats) {
                break Err(Some(e));
            }
            if outbox.len() >= WRITE_BATCH {
                break Ok(());
            }
            make_room(&mut inbox);
            match stream.read_buf(&mut inbox).now_or_never() {
                Some(read) => got = read?,
                None => break Ok(()), // nothing more right now
            }
        };
        // The good frames before a broken one (or before EOF) still go back: nothing is lost.
        if !outbox.is_empty() {
            stream.write_all(&outbox).await?;
            outbox.clear();
        }
        match verdict {
            Ok(()) => {}
            Err(None) => return Ok(()),
            Err(Some(e)) => return Err(e),
        }
    }
}

/// Most bytes of echoes gathered before writing them, so one busy client
/// cannot make the server buffer without bound before it writes.
pub const WRITE_BATCH: usize = 256 * 1024;

/// Keeps at least a quarter of [`READ_BUFFER`] free for the next read.
fn make_room(inbox: &mut BytesMut) {
    if inbox.capacity() - inbox.len() < READ_BUFFER / 4 {
        inbox.reserve(READ_BUFFER);
    }
}

/// Moves every complete frame from `inbox` to `outbox` as its echo; stops at
/// the first frame that breaks the rules.
fn take_frames(
    inbox: &mut BytesMut,
    outbox: &mut BytesMut,
    max_frame: usize,
    stats: &mut ConnStats,
) -> Result<(), FrameError> {
    while let Some(payload) = decode_frame(inbox, max_frame)? {
        encode_frame(&payload, outbox, max_frame)?;
        stats.frames += 1;
        stats.bytes += payload.len() as u64;
    }
    Ok(())
}
