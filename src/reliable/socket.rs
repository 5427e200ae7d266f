//! The same [`Sender`] and [`Receiver`] over real UDP sockets.
//!
//! Blocking `std::net::UdpSocket`s and the wall clock: the socket's read
//! timeout is set to the retransmission deadline, so the sender sleeps in the
//! kernel until an ack arrives or the timer fires. Run the two ends through
//! `netlab link --loss 20%` to watch them recover.

use super::receiver::{Receiver, ReceiverStats};
use super::sender::{Sender, SenderConfig, SenderStats};
use super::wire::HEADER_LEN;
use bytes::Bytes;
use serde::Serialize;
use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// Default: the sender gives up when nothing was acknowledged for this long.
pub const DEFAULT_GIVE_UP: Duration = Duration::from_secs(30);
/// Default: after the FIN, the receiver keeps answering retransmissions this
/// long (its last ack may be lost), like TCP's TIME-WAIT.
pub const DEFAULT_LINGER: Duration = Duration::from_secs(2);
/// Default most bytes a receiver accepts in one stream.
pub const DEFAULT_MAX_BYTES: usize = 64 * 1024 * 1024;
/// Largest datagram read; longer ones are cut by the kernel and then rejected.
const RECV_BUFFER: usize = 65_536;

/// Why a transfer over a socket failed.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The socket failed.
    #[error("socket error: {0}")]
    Io(#[from] std::io::Error),
    /// No progress for the give-up time.
    #[error("no acknowledgement for {after:?} ({acked} of {segments} segments acknowledged); is the receiver running?")]
    GaveUp {
        /// How long without progress.
        after: Duration,
        /// Segments acknowledged before giving up.
        acked: u64,
        /// Segments in the stream.
        segments: u64,
    },
    /// Nothing arrived for the idle time.
    #[error("nothing arrived for {0:?}; is the sender running?")]
    Idle(Duration),
    /// The stream is longer than the receiver accepts.
    #[error("the stream is longer than the {max}-byte limit (raise --max-bytes)")]
    TooLarge {
        /// The limit.
        max: usize,
    },
}

/// What a socket sender reports.
#[derive(Debug, Clone, Serialize)]
pub struct SendReport {
    /// Bytes in the stream.
    pub bytes: usize,
    /// Wall time from the first datagram to the last ack.
    pub elapsed: Duration,
    /// The sender's counters.
    pub stats: SenderStats,
    /// The smoothed RTT at the end.
    pub srtt: Option<Duration>,
    /// The RTO at the end.
    pub rto: Duration,
}

/// Sends `data` to `peer` reliably; returns when everything is acknowledged.
pub fn send(
    sock: &UdpSocket,
    peer: SocketAddr,
    data: Bytes,
    config: SenderConfig,
    give_up: Duration,
) -> Result<SendReport, TransferError> {
    let bytes = data.len();
    let mut sender = Sender::new(data, config);
    let start = Instant::now();
    let mut buf = vec![0u8; RECV_BUFFER];
    let (mut last_progress, mut acked) = (start, 0u64);
    while !sender.is_done() {
        let now = start.elapsed();
        sender.on_timeout(now);
        while let Some(d) = sender.poll_transmit(now) {
            send_ignoring_refusal(sock, &d, peer)?;
        }
        let wait = sender
            .deadline()
            .map_or(give_up, |d| d.saturating_sub(start.elapsed()))
            .max(Duration::from_millis(1));
        sock.set_read_timeout(Some(wait))?;
        match sock.recv_from(&mut buf) {
            Ok((n, from)) if from == peer => {
                let _ = sender.on_datagram(start.elapsed(), &buf[..n]);
            }
            Ok(_) => {} // a stranger: ignore
            Err(e) if is_timeout_or_refused(&e) => {}
            Err(e) => return Err(e.into()),
        }
        let now_acked = sender.stats().segments - sender.unacked();
        if now_acked > acked {
            (acked, last_progress) = (now_acked, Instant::now());
        } else if last_progress.elapsed() >= give_up {
            return Err(TransferError::GaveUp {
                after: give_up,
                acked,
                segments: sender.stats().segments,
            });
        }
    }
    Ok(SendReport {
        bytes,
        elapsed: start.elapsed(),
        stats: sender.stats(),
        srtt: sender.rto().srtt(),
        rto: sender.rto().rto(),
    })
}

/// How a socket receiver behaves.
#[derive(Debug, Clone, Copy)]
pub struct ReceiveConfig {
    /// Most early segments held.
    pub window: u64,
    /// Most bytes accepted.
    pub max_bytes: usize,
    /// How long to keep answering after the FIN.
    pub linger: Duration,
    /// Give up when nothing arrives for this long.
    pub idle: Duration,
}

impl Default for ReceiveConfig {
    fn default() -> Self {
        Self {
            window: super::DEFAULT_WINDOW,
            max_bytes: DEFAULT_MAX_BYTES,
            linger: DEFAULT_LINGER,
            idle: DEFAULT_GIVE_UP,
        }
    }
}

/// What a socket receiver reports.
#[derive(Debug, Clone, Serialize)]
pub struct ReceiveReport {
    /// Where the stream came from (the first datagram's source).
    pub peer: SocketAddr,
    /// The receiver's counters.
    pub stats: ReceiverStats,
    /// Datagrams from other addresses: ignored.
    pub strangers: u64,
}

/// Receives one stream on `sock`: from whoever sends the first valid datagram.
pub fn receive(
    sock: &UdpSocket,
    config: ReceiveConfig,
) -> Result<(Vec<u8>, ReceiveReport), TransferError> {
    let mut receiver = Receiver::new(config.window);
    let mut buf = vec![0u8; RECV_BUFFER];
    let mut out = Vec::new();
    let mut peer: Option<SocketAddr> = None;
    let mut strangers = 0;
    let mut finished_at: Option<Instant> = None;
    loop {
        let wait = match finished_at {
            Some(t) => match config.linger.checked_sub(t.elapsed()) {
                Some(left) if !left.is_zero() => left,
                _ => break,
            },
            None => config.idle,
        };
        sock.set_read_timeout(Some(wait))?;
        let (n, from) = match sock.recv_from(&mut buf) {
            Ok(got) => got,
            Err(e) if is_timeout_or_refused(&e) => {
                if finished_at.is_some() {
                    continue;
                }
                return Err(TransferError::Idle(config.idle));
            }
            Err(e) => return Err(e.into()),
        };
        if peer.is_some_and(|p| p != from) || n < HEADER_LEN {
            strangers += 1;
            continue;
        }
        let Ok(ack) = receiver.on_datagram(&buf[..n]) else {
            continue;
        };
        peer.get_or_insert(from);
        out.extend(receiver.take_delivered());
        if out.len() > config.max_bytes {
            return Err(TransferError::TooLarge {
                max: config.max_bytes,
            });
        }
        send_ignoring_refusal(sock, &ack, from)?;
        if receiver.is_finished() && finished_at.is_none() {
            finished_at = Some(Instant::now());
        }
    }
    let report = ReceiveReport {
        peer: peer.expect("finished implies a peer"),
        stats: receiver.stats(),
        strangers,
    };
    Ok((out, report))
}

fn send_ignoring_refusal(sock: &UdpSocket, d: &[u8], to: SocketAddr) -> std::io::Result<()> {
    match sock.send_to(d, to) {
        Err(e) if e.kind() == ErrorKind::ConnectionRefused => Ok(()),
        other => other.map(drop),
    }
}

fn is_timeout_or_refused(e: &std::io::Error) -> bool {
    // A refused send (ICMP port unreachable) surfaces on the next recv; the
    // retransmission timer deals with it like any other loss.
    matches!(
        e.kind(),
        ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::ConnectionRefused
    )
}
