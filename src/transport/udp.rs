//! The chat hub over UDP: one JSON event per datagram, each behind its
//! sender's sequence header (lesson 05, [`crate::udp::header`]).
//!
//! ```text
//!   client                                     server
//!   hello (padded to HELLO_MIN_LEN)   ──────▶  session created, hub connect
//!                                     ◀──────  welcome {id}
//!   heartbeat {id}                    ──────▶  address verified (it got the welcome)
//!                                     ◀──────  session {heartbeat_ms, expiry_ms}
//!   join / message / ... (as TCP)     ──────▶  hub
//!                                     ◀──────  events, each numbered per client
//!   heartbeat {id} every heartbeat    ──────▶  keeps the session alive
//!   bye                               ──────▶  hub disconnect "client said bye"
//!   (silence for expiry)                       hub disconnect "expired: ..."
//! ```
//!
//! **UDP has no connection, so the server decides who is there.** A session
//! exists from a `hello` until a `bye`, or until nothing at all has been heard
//! from its address for [`DEFAULT_EXPIRY`]; clients send a `heartbeat` every
//! [`DEFAULT_HEARTBEAT`] (the server says how often in its `session`
//! datagram), so two lost heartbeats in a row do not end a session. An expired
//! session leaves the hub like a closed TCP connection: its rooms see it leave.
//!
//! **Anyone can put any source address on a datagram**, so:
//! - a datagram from an address without a session that is not a `hello` is
//!   dropped and counted, never answered;
//! - a `hello` must be padded to at least [`HELLO_MIN_LEN`] bytes, so the
//!   answer to it (welcome + session, a few hundred bytes) is smaller than the
//!   question — the same rule QUIC uses for its first packet (RFC 9000 §8.1);
//! - until the client proves it receives at its address (its `heartbeat`
//!   echoes the id sent in the welcome — only a real receiver knows it), the
//!   server sends that address at most as many bytes as it has received from
//!   it ([`Gate`]); the rest is held back and counted. A spoofed `hello`
//!   followed by a spoofed `join` cannot aim a room's traffic at a victim;
//! - a datagram shorter than the header is garbage: dropped and counted.
//!
//! The server keeps a [`ReceiveTracker`] per session too: a client's
//! duplicated datagram is delivered to the hub once, and lost ones are counted.

use super::outbound::Outbound;
use super::server::ChatServer;
use crate::chat::datagram::{
    Control, SessionInfo, DEFAULT_EXPIRY, DEFAULT_HEARTBEAT, HELLO_MIN_LEN,
};
use crate::chat::id::ConnId;
use crate::chat::protocol::{ErrorCode, Refusal, ServerEvent};
use crate::udp::{Arrival, DatagramHeader, ReceiveTracker, Sequencer, HEADER_LEN, MAX_MESSAGE};
use bytes::Bytes;
use serde::Serialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;

/// Default most UDP sessions at once; a `hello` beyond it gets `bye` `server_full`.
pub const DEFAULT_MAX_SESSIONS: usize = 4096;

/// The largest datagram the server reads; anything longer is oversized.
const RECV_BUF: usize = 65_536;

/// The UDP transport's own limits (each a `netlab serve` flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpConfig {
    /// Most sessions at once.
    pub max_sessions: usize,
    /// Silence after which a session expires.
    pub expiry: Duration,
    /// How often clients must send a heartbeat (below `expiry`).
    pub heartbeat: Duration,
}

impl Default for UdpConfig {
    fn default() -> Self {
        Self {
            max_sessions: DEFAULT_MAX_SESSIONS,
            expiry: DEFAULT_EXPIRY,
            heartbeat: DEFAULT_HEARTBEAT,
        }
    }
}

/// What the transport counted (dropped datagrams, sessions); `netlab serve` prints it.
#[derive(Debug, Default)]
pub struct UdpStats {
    /// Datagrams received.
    pub datagrams: AtomicU64,
    /// Shorter than the sequence header: dropped.
    pub garbage: AtomicU64,
    /// From an address with no session and not a `hello`: dropped, unanswered.
    pub unknown: AtomicU64,
    /// `hello`s shorter than [`HELLO_MIN_LEN`]: dropped, unanswered.
    pub short_hello: AtomicU64,
    /// Longer than one datagram may be ([`crate::udp::MAX_DATAGRAM_PAYLOAD`]).
    pub oversized: AtomicU64,
    /// Duplicated client datagrams (given to the hub once).
    pub duplicates: AtomicU64,
    /// Client datagrams too old to place: dropped.
    pub too_old: AtomicU64,
    /// Client datagrams that never arrived (gaps in their sequence numbers).
    pub lost: AtomicU64,
    /// Bytes held back from unverified addresses (anti-amplification).
    pub held_back: AtomicU64,
    /// Events too large for one datagram, replaced by an error.
    pub too_large_out: AtomicU64,
    /// Sessions opened.
    pub opened: AtomicU64,
    /// Sessions refused (full).
    pub refused: AtomicU64,
    /// Sessions ended by expiry.
    pub expired: AtomicU64,
    /// Sessions ended by a client's `bye`.
    pub byes: AtomicU64,
}

/// A snapshot of [`UdpStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[allow(missing_docs)]
pub struct UdpCounters {
    pub datagrams: u64,
    pub garbage: u64,
    pub unknown: u64,
    pub short_hello: u64,
    pub oversized: u64,
    pub duplicates: u64,
    pub too_old: u64,
    pub lost: u64,
    pub held_back: u64,
    pub too_large_out: u64,
    pub opened: u64,
    pub refused: u64,
    pub expired: u64,
    pub byes: u64,
}

impl UdpStats {
    /// The counters now.
    pub fn snapshot(&self) -> UdpCounters {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        UdpCounters {
            datagrams: g(&self.datagrams),
            garbage: g(&self.garbage),
            unknown: g(&self.unknown),
            short_hello: g(&self.short_hello),
            oversized: g(&self.oversized),
            duplicates: g(&self.duplicates),
            too_old: g(&self.too_old),
            lost: g(&self.lost),
            held_back: g(&self.held_back),
            too_large_out: g(&self.too_large_out),
            opened: g(&self.opened),
            refused: g(&self.refused),
            expired: g(&self.expired),
            byes: g(&self.byes),
        }
    }
}

fn bump(a: &AtomicU64, n: u64) {
    a.fetch_add(n, Ordering::Relaxed);
}

impl std::fmt::Display for UdpCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "udp: {} datagrams; dropped {} garbage, {} from unknown addresses, {} short hellos, {} oversized, {} duplicates, {} too old; {} lost from clients; {} bytes held back from unverified addresses; {} events too large; sessions {} opened, {} refused, {} expired, {} byes",
            self.datagrams, self.garbage, self.unknown, self.short_hello, self.oversized,
            self.duplicates, self.too_old, self.lost, self.held_back, self.too_large_out,
            self.opened, self.refused, self.expired, self.byes
        )
    }
}

/// The anti-amplification budget of one address: until it is verified, the
/// server sends it at most as many bytes as it has received from it.
#[derive(Debug, Default)]
pub struct Gate {
    verified: bool,
    credit: usize,
}

impl Gate {
    /// `n` bytes arrived from the address.
    pub fn received(&mut self, n: usize) {
        if !self.verified {
            self.credit = self.credit.saturating_add(n);
        }
    }

    /// The address proved it receives (it echoed the id).
    pub fn verify(&mut self) {
        self.verified = true;
    }

    /// Whether `n` more bytes may be sent now (and takes them from the budget).
    pub fn may_send(&mut self, n: usize) -> bool {
        if self.verified {
            return true;
        }
        if n > self.credit {
            return false;
        }
        self.credit -= n;
        true
    }
}

struct Session {
    id: ConnId,
    queue: Arc<Outbound>,
    gate: Arc<Mutex<Gate>>,
    tracker: ReceiveTracker,
    last_heard: Instant,
}

struct Shared {
    socket: UdpSocket,
    server: Arc<ChatServer>,
    config: UdpConfig,
    sessions: Mutex<HashMap<SocketAddr, Session>>,
    stats: Arc<UdpStats>,
    epoch: Instant,
}

impl Shared {
    /// Microseconds since the server started, wrapping at 2³² (the header's timestamp).
    fn now_us(&self) -> u32 {
        self.epoch.elapsed().as_micros() as u32
    }
}

/// A running UDP transport's counters (kept while it serves).
pub fn new_stats() -> Arc<UdpStats> {
    Arc::new(UdpStats::default())
}

/// Serves chat over UDP on `socket` until the task is dropped; counts into `stats`.
pub async fn serve(
    socket: UdpSocket,
    server: Arc<ChatServer>,
    config: UdpConfig,
    stats: Arc<UdpStats>,
) -> std::io::Result<()> {
    let shared = Arc::new(Shared {
        socket,
        server,
        config,
        sessions: Mutex::new(HashMap::new()),
        stats,
        epoch: Instant::now(),
    });
    let expiry = tokio::spawn(expire_loop(shared.clone()));
    let _guard = AbortOnDrop(expiry);
    let mut buf = vec![0u8; RECV_BUF];
    loop {
        let (n, from) = match shared.socket.recv_from(&mut buf).await {
            Ok(r) => r,
            // e.g. ICMP port unreachable from an earlier send (Linux reports it
            // on the next receive): nothing to do with this datagram.
            Err(_) => continue,
        };
        on_datagram(&shared, &buf[..n], from);
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn on_datagram(shared: &Arc<Shared>, datagram: &[u8], from: SocketAddr) {
    let stats = &shared.stats;
    bump(&stats.datagrams, 1);
    let mut sessions = shared.sessions.lock().expect("sessions lock");
    if datagram.len() > HEADER_LEN + MAX_MESSAGE {
        bump(&stats.oversized, 1);
        if let Some(s) = sessions.get_mut(&from) {
            s.last_heard = Instant::now();
            s.gate.lock().expect("gate lock").received(datagram.len());
            let error = ServerEvent::Error {
                code: ErrorCode::FrameTooLong,
                message: format!(
                    "a datagram of {} bytes is over the limit of {} (header {HEADER_LEN} + message {MAX_MESSAGE}): it was dropped, not cut; send shorter messages",
                    datagram.len(),
                    HEADER_LEN + MAX_MESSAGE
                ),
            };
            s.queue.push(error.to_bytes());
        }
        return;
    }
    let Ok((header, message)) = DatagramHeader::parse(datagram) else {
        bump(&stats.garbage, 1);
        return;
    };
    let control = Control::parse(message);
    let Some(s) = sessions.get_mut(&from) else {
        drop(sessions);
        if control == Some(Control::Hello) {
            open(shared, datagram.len(), header, from);
        } else {
            bump(&stats.unknown, 1);
        }
        return;
    };
    s.last_heard = Instant::now();
    s.gate.lock().expect("gate lock").received(datagram.len());
    let arrival = s.tracker.on_arrival(u64::from(header.seq));
    match &arrival {
        Arrival::Duplicate { .. } => return bump(&stats.duplicates, 1),
        Arrival::TooOld { .. } => return bump(&stats.too_old, 1),
        Arrival::AfterGap { missing, .. } => bump(&stats.lost, missing.end() - missing.start() + 1),
        Arrival::InOrder { .. } | Arrival::Late { .. } => {}
    }
    let id = s.id;
    match control {
        Some(Control::Hello) => {
            // The welcome was lost (or the client restarted): say it again.
            let Some(welcome) = shared.server.welcome_again(id) else {
                return;
            };
            s.queue.push(welcome.to_bytes());
        }
        Some(Control::Heartbeat { id: echoed }) => {
            // Only a client that received the welcome knows the id: its
            // address is real. The answer says how often to come back.
            if echoed == id.to_hex() {
                s.gate.lock().expect("gate lock").verify();
                s.queue.push(session_info(&shared.config));
            }
        }
        Some(Control::Bye) => {
            let s = sessions.remove(&from).expect("looked up above");
            drop(sessions);
            bump(&stats.byes, 1);
            let reason = format!("client said bye ({})", from_client(&s.tracker));
            shared.server.disconnect(s.id, &reason);
            s.queue.close();
        }
        None => shared.server.handle_frames(id, [message]),
    }
}

/// What the server's tracker saw of one client's datagrams, for the log.
fn from_client(t: &ReceiveTracker) -> String {
    let s = t.stats();
    format!(
        "from it: {} datagrams, {} lost, {} duplicates, {} late",
        s.received, s.missing, s.duplicates, s.late
    )
}

#[cfg(test)]
fn wire_limits(l: &crate::chat::limits::Limits) -> crate::chat::protocol::WireLimits {
    crate::chat::protocol::WireLimits {
        max_nick: l.max_nick,
        max_room: l.max_room,
        max_rooms: l.max_rooms,
        max_text: l.max_text,
        rate: l.rate,
        burst: l.burst,
    }
}

fn session_info(config: &UdpConfig) -> Bytes {
    let info = SessionInfo {
        event: (),
        heartbeat_ms: config.heartbeat.as_millis() as u64,
        expiry_ms: config.expiry.as_millis() as u64,
        max_message: MAX_MESSAGE,
    };
    Bytes::from(serde_json::to_vec(&info).unwrap_or_default())
}

/// A padded `hello` from a new address: open a session (or say why not).
fn open(shared: &Arc<Shared>, len: usize, header: DatagramHeader, from: SocketAddr) {
    let stats = &shared.stats;
    if len < HELLO_MIN_LEN {
        bump(&stats.short_hello, 1);
        return;
    }
    let full = shared.sessions.lock().expect("sessions lock").len() >= shared.config.max_sessions;
    let connected = if full {
        Err(Refusal::ServerFull {
            max: shared.config.max_sessions,
        })
    } else {
        shared.server.connect(&format!("udp {from}"))
    };
    let (id, queue) = match connected {
        Ok(c) => c,
        Err(refusal) => {
            bump(&stats.refused, 1);
            // One small datagram (well under the padded hello), then nothing.
            let bye = ServerEvent::Bye {
                code: refusal.code(),
                message: refusal.to_string(),
            };
            if let Ok(d) = Sequencer::new().encode(shared.now_us(), &bye.to_bytes()) {
                let _ = shared.socket.try_send_to(&d, from);
            }
            return;
        }
    };
    bump(&stats.opened, 1);
    let mut gate = Gate::default();
    gate.received(len);
    let gate = Arc::new(Mutex::new(gate));
    let mut tracker = ReceiveTracker::from_first_seen();
    tracker.on_arrival(u64::from(header.seq));
    shared.sessions.lock().expect("sessions lock").insert(
        from,
        Session {
            id,
            queue: queue.clone(),
            gate: gate.clone(),
            tracker,
            last_heard: Instant::now(),
        },
    );
    tokio::spawn(write_loop(shared.clone(), from, id, queue, gate));
}

/// Sends a session's queued events, one datagram each, numbered 0, 1, 2, ...
async fn write_loop(
    shared: Arc<Shared>,
    to: SocketAddr,
    id: ConnId,
    queue: Arc<Outbound>,
    gate: Arc<Mutex<Gate>>,
) {
    let mut seq = Sequencer::new();
    loop {
        let batch = queue.take().await;
        if batch.dropped > 0 {
            let notice = ServerEvent::Dropped {
                count: batch.dropped,
            };
            send(&shared, &mut seq, &gate, to, &notice.to_bytes()).await;
        }
        for e in &batch.events {
            send(&shared, &mut seq, &gate, to, e).await;
        }
        if batch.closing {
            // Closed by the hub (too many strikes): end the session here. If
            // expiry or a `bye` ended it, it is already gone from the table.
            let mine = {
                let mut sessions = shared.sessions.lock().expect("sessions lock");
                match sessions.get(&to) {
                    Some(s) if s.id == id => sessions.remove(&to).is_some(),
                    _ => false,
                }
            };
            if mine {
                shared.server.disconnect(id, "closed by the server");
            }
            return;
        }
    }
}

async fn send(
    shared: &Shared,
    seq: &mut Sequencer,
    gate: &Mutex<Gate>,
    to: SocketAddr,
    event: &[u8],
) {
    let oversized;
    let event = if event.len() > MAX_MESSAGE {
        // Never cut an event: tell the client what it missed instead.
        bump(&shared.stats.too_large_out, 1);
        oversized = ServerEvent::Error {
            code: ErrorCode::FrameTooLong,
            message: format!(
                "an event of {} bytes did not fit one datagram (at most {MAX_MESSAGE}) and was not delivered; use tcp:// for long messages",
                event.len()
            ),
        }
        .to_bytes();
        &oversized[..]
    } else {
        event
    };
    if !gate
        .lock()
        .expect("gate lock")
        .may_send(HEADER_LEN + event.len())
    {
        bump(&shared.stats.held_back, (HEADER_LEN + event.len()) as u64);
        return;
    }
    if let Ok(d) = seq.encode(shared.now_us(), event) {
        // A full socket buffer loses the datagram, as the network may: UDP.
        let _ = shared.socket.send_to(&d, to).await;
    }
}

/// Ends sessions that have been silent for `expiry`.
async fn expire_loop(shared: Arc<Shared>) {
    let tick = (shared.config.expiry / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
    let mut every = tokio::time::interval(tick);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let now = Instant::now();
        let gone: Vec<Session> = {
            let mut sessions = shared.sessions.lock().expect("sessions lock");
            let old: Vec<SocketAddr> = sessions
                .iter()
                .filter(|(_, s)| now.duration_since(s.last_heard) >= shared.config.expiry)
                .map(|(a, _)| *a)
                .collect();
            old.iter().filter_map(|a| sessions.remove(a)).collect()
        };
        for s in gone {
            bump(&shared.stats.expired, 1);
            let reason = format!(
                "expired: nothing heard for {:?} (clients send a heartbeat every {:?}; {})",
                shared.config.expiry,
                shared.config.heartbeat,
                from_client(&s.tracker)
            );
            shared.server.disconnect(s.id, &reason);
            s.queue.close();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn session_info_is_a_session_event() {
        let b = session_info(&UdpConfig::default());
        assert_eq!(
            std::str::from_utf8(&b).unwrap(),
            r#"{"event":"session","heartbeat_ms":10000,"expiry_ms":30000,"max_message":1464}"#
        );
        let back: SessionInfo = serde_json::from_slice(&b).unwrap();
        assert_eq!(back.heartbeat_ms, 10_000);
        assert!(serde_json::from_slice::<SessionInfo>(
            br#"{"event":"welcome","heartbeat_ms":1,"expiry_ms":1,"max_message":1}"#
        )
        .is_err());
    }

    #[test]
    fn an_unverified_address_gets_no_more_bytes_than_it_sent() {
        let mut g = Gate::default();
        g.received(100);
        assert!(g.may_send(60));
        assert!(g.may_send(40), "exactly the credit fits");
        assert!(!g.may_send(1), "one byte more does not");
        g.received(10);
        assert!(!g.may_send(11));
        assert!(g.may_send(10));
        g.verify();
        assert!(g.may_send(1_000_000), "a verified address is not limited");
    }

    #[test]
    fn the_answer_to_a_hello_is_smaller_than_the_hello() {
        // The longest welcome: a 64-character nick would still be far below.
        let welcome = ServerEvent::Welcome {
            id: "ffffffffffffffffffffffffffffffff".parse().unwrap(),
            nick: "n".repeat(64),
            limits: wire_limits(&crate::chat::limits::Limits::default()),
            session: None,
            session_ttl_ms: None,
        }
        .to_bytes();
        assert!(HEADER_LEN + welcome.len() < HELLO_MIN_LEN);
    }
}
