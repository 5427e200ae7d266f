//! Lesson 02 — a length-prefixed echo server.
//!
//! Every connection gets its own task. The task reads whatever bytes have
//! arrived, takes off every *complete* frame ([`decode_frame`]), appends each
//! echo to one write buffer ([`encode_frame`]), reads again *only if* more bytes
//! are already waiting, and then writes the buffer once: when a client
//! pipelines many frames, they go back in one `write` system call instead of
//! one each. A connection that breaks the framing rules gets an error
//! and is closed; the other connections never notice.
//!
//! What a stranger cannot make it do (each a field of [`EchoConfig`]):
//! - hold a slot with a frame it never finishes: the frame must be whole
//!   within `frame_timeout` of its first byte (trickling one byte a second
//!   does not restart the clock);
//! - hold a slot by saying nothing: `idle_timeout`;
//! - take every slot: `max_per_ip` connections per source address;
//! - make the server buffer without bound: every partial frame and every
//!   echo waiting to be written is charged to one [`MemoryBudget`] of
//!   `max_memory` bytes, reserved when a frame's header arrives (once per
//!   frame), not as its bytes trickle in.
//!
//! The raw echo protocol has no error message: a connection that breaks a
//! rule or a limit is simply closed, and the server's log says why.

use crate::framing::{
    decode_frame, encode_frame, pending_len, truncated, FrameError, DEFAULT_MAX_FRAME,
};
use crate::guard::{
    accept_with_backoff, earliest, AcceptFailures, AcceptReport, AddressCap, AddressFull, Deadline,
    MemoryBudget, OverBudget, Reservation, DEFAULT_FRAME_TIMEOUT, DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_MEMORY, DEFAULT_MAX_PER_IP,
};
use bytes::BytesMut;
use futures_util::FutureExt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// Initial size of each connection's read and write buffers: 8 KiB holds
/// hundreds of small frames, and the buffers grow for bigger ones.
pub const READ_BUFFER: usize = 8 * 1024;

/// Buffers that grew past this (for a big frame) are replaced by small ones
/// once empty, so an idle connection holds little memory.
pub const KEEP_BUFFER: usize = 64 * 1024;

/// Default cap on simultaneous connections; beyond it, new clients wait in the
/// kernel's accept queue until one leaves, instead of the server running out of
/// file descriptors.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;

/// Settings of an echo server.
#[derive(Debug, Clone, Copy)]
pub struct EchoConfig {
    /// Largest frame payload accepted (bytes).
    pub max_frame: usize,
    /// Most connections served at once.
    pub max_connections: usize,
    /// Time a frame has to arrive whole after its first byte (`None`: no limit).
    pub frame_timeout: Option<Duration>,
    /// Time a connection may stay idle, nothing read nor written (`None`: no limit).
    pub idle_timeout: Option<Duration>,
    /// Bytes all connections together may hold in partial frames and
    /// unwritten echoes (0: no limit).
    pub max_memory: usize,
    /// Most connections from one source address (0: no limit).
    pub max_per_ip: usize,
}

impl Default for EchoConfig {
    fn default() -> Self {
        Self {
            max_frame: DEFAULT_MAX_FRAME,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            frame_timeout: Some(DEFAULT_FRAME_TIMEOUT),
            idle_timeout: Some(DEFAULT_IDLE_TIMEOUT),
            max_memory: DEFAULT_MAX_MEMORY,
            max_per_ip: DEFAULT_MAX_PER_IP,
        }
    }
}

/// Why an echo connection was ended by the server.
#[derive(Debug, Error)]
pub enum EchoError {
    /// The peer broke the framing rules (or the socket failed).
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// A frame's first byte came, the rest did not come in time.
    #[error("frame not complete {timeout:?} after its first byte ({have} of {need} bytes had arrived): closed (--frame-timeout)")]
    FrameTimeout {
        /// The limit.
        timeout: Duration,
        /// Bytes of the frame (header included) that arrived.
        have: usize,
        /// Bytes the frame needed (header included).
        need: usize,
    },
    /// Nothing was read, and no echo could be written, for this long.
    #[error("idle for {0:?}, nothing read or written: closed (--idle-timeout)")]
    IdleTimeout(Duration),
    /// Holding this frame would take the server past its memory budget.
    #[error("{0}: connection closed")]
    OverBudget(#[from] OverBudget),
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
    /// A client was refused at once: its address holds `max_per_ip` connections.
    Refused {
        /// Its address.
        peer: SocketAddr,
        /// The cap it hit.
        error: AddressFull,
    },
    /// A client closed its side cleanly after whole frames.
    Closed {
        /// Its address.
        peer: SocketAddr,
        /// What was echoed.
        stats: ConnStats,
    },
    /// The connection was ended because of an error or a limit.
    Failed {
        /// Its address.
        peer: SocketAddr,
        /// What was echoed before the error.
        stats: ConnStats,
        /// What went wrong.
        error: EchoError,
    },
    /// `accept` itself is failing (or works again); said once per episode.
    Accept(AcceptReport),
}

/// Serves echo connections on `listener` forever, calling `on_event` for each
/// connection that opens or ends.
pub async fn serve<F>(listener: TcpListener, config: EchoConfig, on_event: F) -> std::io::Result<()>
where
    F: Fn(EchoEvent) + Send + Sync + 'static,
{
    serve_with_budget(
        listener,
        config,
        MemoryBudget::new(config.max_memory),
        on_event,
    )
    .await
}

/// Like [`serve`], drawing on a `budget` the caller holds too (to report its
/// peak); `config.max_memory` is not used, the budget has its own limit.
pub async fn serve_with_budget<F>(
    listener: TcpListener,
    config: EchoConfig,
    budget: Arc<MemoryBudget>,
    on_event: F,
) -> std::io::Result<()>
where
    F: Fn(EchoEvent) + Send + Sync + 'static,
{
    let on_event = Arc::new(on_event);
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
                // The echo protocol has no error message: close at once.
                drop(stream);
                on_event(EchoEvent::Refused { peer, error });
                continue;
            }
        };
        // Echoes are small and latency matters: send each write at once
        // instead of waiting to coalesce it with later ones (Nagle's algorithm).
        let _ = stream.set_nodelay(true);
        let on_event = on_event.clone();
        let held = budget.reservation();
        tokio::spawn(async move {
            on_event(EchoEvent::Connected { peer });
            let mut stats = ConnStats::default();
            let result = echo_connection(stream, &config, held, &mut stats).await;
            on_event(match result {
                Ok(()) => EchoEvent::Closed { peer, stats },
                Err(error) => EchoEvent::Failed { peer, stats, error },
            });
            drop(place);
            drop(permit);
        });
    }
}

/// Echoes frames on one connection until the peer closes it or breaks the
/// rules or a limit of `config`. `held` is charged for the partial frame and
/// the unwritten echoes (and gives them back when the connection ends).
///
/// `stats` is updated as frames go back, so it is meaningful even on error.
pub async fn echo_connection<S>(
    mut stream: S,
    config: &EchoConfig,
    mut held: Reservation,
    stats: &mut ConnStats,
) -> Result<(), EchoError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let max_frame = config.max_frame;
    let mut inbox = BytesMut::with_capacity(READ_BUFFER);
    let mut outbox = BytesMut::with_capacity(READ_BUFFER);
    // When the first byte of the incomplete frame at the front of `inbox`
    // arrived (None: nothing incomplete), and when anything last moved.
    let mut frame_started: Option<Instant> = None;
    let mut last_moved = Instant::now();
    // One timer for the connection's life, moved as the deadlines move (no
    // clock reads at all when both timeouts are off).
    let mut deadline = Deadline::new();
    let timed = config.frame_timeout.is_some() || config.idle_timeout.is_some();
    loop {
        // Wait until some bytes arrive, but not past the frame's or the idle deadline.
        make_room(&mut inbox);
        let frame_due = frame_started.zip(config.frame_timeout).map(|(t, d)| t + d);
        let idle_due = config.idle_timeout.map(|d| last_moved + d);
        deadline.set(earliest(frame_due, idle_due));
        let mut got = match deadline.run(stream.read_buf(&mut inbox)).await {
            Some(read) => read.map_err(FrameError::Io)?,
            None if frame_due == deadline.at() => {
                return Err(EchoError::FrameTimeout {
                    timeout: config.frame_timeout.unwrap_or_default(),
                    have: inbox.len(),
                    need: pending_len(&inbox),
                })
            }
            None => {
                return Err(EchoError::IdleTimeout(
                    config.idle_timeout.unwrap_or_default(),
                ))
            }
        };
        let now = if timed { Instant::now() } else { last_moved };
        last_moved = now;
        // Echo every complete frame; while more bytes are *already* waiting in
        // the socket, read them too, so all the echoes leave in one write.
        let verdict = loop {
            if got == 0 {
                // End of stream: fine between frames, an error inside one.
                break if inbox.is_empty() {
                    Err(None)
                } else {
                    Err(Some(truncated(&inbox).into()))
                };
            }
            let before = stats.frames;
            if let Err(e) = take_frames(&mut inbox, &mut outbox, max_frame, stats) {
                break Err(Some(e.into()));
            }
            // The clock runs from the first byte of a frame until it is whole:
            // it restarts only when a frame completed, so a trickle cannot reset it.
            if inbox.is_empty() {
                frame_started = None;
            } else if frame_started.is_none() || stats.frames != before {
                frame_started = Some(now);
            }
            // Charge what this connection now holds: the frame still arriving
            // (its whole announced size, before its bytes come) and the echoes
            // not yet written. Unchanged for every read of one big frame.
            if let Err(e) = held.hold(pending_len(&inbox) + outbox.len()) {
                break Err(Some(e.into()));
            }
            if outbox.len() >= WRITE_BATCH {
                break Ok(());
            }
            make_room(&mut inbox);
            match stream.read_buf(&mut inbox).now_or_never() {
                Some(read) => got = read.map_err(FrameError::Io)?,
                None => break Ok(()), // nothing more right now
            }
        };
        // The good frames before a broken one (or before EOF) still go back: nothing is lost.
        if !outbox.is_empty() {
            // The peer must read its echoes within the idle timeout.
            deadline.set(config.idle_timeout.map(|d| last_moved + d));
            match deadline.run(stream.write_all(&outbox)).await {
                Some(written) => written.map_err(FrameError::Io)?,
                None => {
                    return Err(EchoError::IdleTimeout(
                        config.idle_timeout.unwrap_or_default(),
                    ))
                }
            }
            if timed {
                last_moved = Instant::now();
            }
            outbox.clear();
            if outbox.capacity() > KEEP_BUFFER {
                outbox = BytesMut::with_capacity(READ_BUFFER);
            }
        }
        if inbox.is_empty() && inbox.capacity() > KEEP_BUFFER {
            // A big frame has gone: give its memory back.
            inbox = BytesMut::with_capacity(READ_BUFFER);
        }
        match verdict {
            Ok(()) => {}
            Err(None) => return Ok(()),
            // Not a hold past this point: after a refused frame, holding it
            // would ask the budget again (and count a second refusal).
            Err(Some(e)) => return Err(e),
        }
        // Shrinking never fails: the echoes are written.
        let _ = held.hold(pending_len(&inbox));
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
