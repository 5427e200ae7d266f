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
//! **Nor can spoofed hellos fill the server.** A session whose address is not
//! verified yet lives in its own small pool ([`DEFAULT_MAX_UNVERIFIED`]),
//! apart from the verified sessions ([`DEFAULT_MAX_SESSIONS`]): a flood of
//! `hello`s from addresses that never answer only churns that pool — when it
//! is full, a new `hello` replaces the oldest session still waiting — and a
//! waiting session that has not verified within [`DEFAULT_VERIFY_TIMEOUT`] is
//! reclaimed, long before the expiry. A real client needs its slot for one
//! round trip (welcome out, heartbeat back), so it gets in while the flood
//! goes on; a flood fast enough to take the slot within that round trip
//! pushes it out without a word, and the client, whose heartbeat then goes
//! unanswered, says hello again ([`crate::client::udp`]) until it is in. And one IP address holds at most [`DEFAULT_MAX_PER_IP`] sessions:
//! a `hello` past that replaces the address's own oldest waiting session, or
//! gets `bye` `address_limit` when all of them are verified. Nor can they
//! flood the log: a session is logged once it has proved its address, and
//! those that never do are one line per episode ([`super::udp_log`]).
//!
//! The server keeps a [`ReceiveTracker`] per session too: a client's
//! duplicated datagram is delivered to the hub once, and lost ones are counted.

use super::outbound::Outbound;
use super::server::ChatServer;
use super::udp_log::{peer_name, UdpNote, Unverified, UnverifiedEpisodes};
use crate::chat::datagram::{
    Control, SessionInfo, DEFAULT_EXPIRY, DEFAULT_HEARTBEAT, HELLO_MIN_LEN,
};
use crate::chat::id::ConnId;
use crate::chat::protocol::{ErrorCode, Refusal, ServerEvent};
use crate::udp::{Arrival, DatagramHeader, ReceiveTracker, Sequencer, HEADER_LEN, MAX_MESSAGE};
use bytes::Bytes;
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;

/// Default most UDP sessions with a verified address at once
/// (`--udp-max-sessions`); a `hello` when they are all taken gets `bye`
/// `server_full`. Sessions still proving their address are counted apart
/// ([`DEFAULT_MAX_UNVERIFIED`]), so spoofed hellos cannot take these slots.
pub const DEFAULT_MAX_SESSIONS: usize = 4096;

/// Default most sessions waiting to prove their address (`hello` received,
/// no `heartbeat` echoing the id yet) at once (`--udp-max-unverified`).
///
/// Why a pool of their own: anyone can send a `hello` from any source
/// address, and a spoofer never receives the welcome, so its sessions never
/// verify. In one shared table 6,000 such hellos held every slot and locked
/// real clients out with `server_full` for the 30 s expiry. In their own pool
/// they can only replace one another: when it is full, a new `hello` takes
/// the slot of the oldest session still waiting. A real client needs its slot
/// for one round trip, so a flood must send 256 hellos within that round trip
/// to push it out.
pub const DEFAULT_MAX_UNVERIFIED: usize = 256;

/// Default time a session has to prove its address before its slot is
/// reclaimed (`--udp-verify-timeout`): 5 s, far above one round trip on any
/// sane network (the client answers a welcome with its heartbeat at once,
/// and says hello again every round it gets no `session`), and far below
/// the 30 s expiry that used to hold the slots of spoofed hellos.
pub const DEFAULT_VERIFY_TIMEOUT: Duration = Duration::from_secs(5);

/// Default most sessions one IP address may hold, verified or not
/// (`--udp-max-per-ip`): 256, a sixteenth of [`DEFAULT_MAX_SESSIONS`], so one
/// machine cannot take the server for itself, and still far more than the
/// clients of one student's machine (a benchmark with more receivers from one
/// host raises it). Counted per address: an IPv6 host with a whole /64 could
/// use many.
pub const DEFAULT_MAX_PER_IP: usize = 256;

/// The largest datagram the server reads; anything longer is oversized.
const RECV_BUF: usize = 65_536;

/// The UDP transport's own limits (each a `netlab serve` flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpConfig {
    /// Most sessions with a verified address at once.
    pub max_sessions: usize,
    /// Most sessions waiting to verify their address at once (their own pool).
    pub max_unverified: usize,
    /// A session that has not verified its address within this is reclaimed.
    pub verify_timeout: Duration,
    /// Most sessions (verified or not) from one IP address.
    pub max_per_ip: usize,
    /// Silence after which a session expires.
    pub expiry: Duration,
    /// How often clients must send a heartbeat (below `expiry`).
    pub heartbeat: Duration,
}

impl Default for UdpConfig {
    fn default() -> Self {
        Self {
            max_sessions: DEFAULT_MAX_SESSIONS,
            max_unverified: DEFAULT_MAX_UNVERIFIED,
            verify_timeout: DEFAULT_VERIFY_TIMEOUT,
            max_per_ip: DEFAULT_MAX_PER_IP,
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
    /// Unverified sessions whose slot a newer `hello` took (pool or per-address limit full).
    pub replaced: AtomicU64,
    /// Unverified sessions reclaimed after `verify_timeout`.
    pub never_verified: AtomicU64,
    /// `hello`s refused because their address holds its most sessions, all verified.
    pub address_refused: AtomicU64,
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
    pub replaced: u64,
    pub never_verified: u64,
    pub address_refused: u64,
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
            replaced: g(&self.replaced),
            never_verified: g(&self.never_verified),
            address_refused: g(&self.address_refused),
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
            "udp: {} datagrams; dropped {} garbage, {} from unknown addresses, {} short hellos, {} oversized, {} duplicates, {} too old; {} lost from clients; {} bytes held back from unverified addresses; {} events too large; sessions {} opened, {} refused, {} expired, {} byes; unverified sessions {} replaced by newer hellos, {} never verified; {} hellos over the per-address limit",
            self.datagrams, self.garbage, self.unknown, self.short_hello, self.oversized,
            self.duplicates, self.too_old, self.lost, self.held_back, self.too_large_out,
            self.opened, self.refused, self.expired, self.byes,
            self.replaced, self.never_verified, self.address_refused
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
    /// When its `hello` arrived (an unverified session is reclaimed
    /// `verify_timeout` after it, however much else it sends).
    opened: Instant,
    /// Whether a heartbeat echoed its id (its address is real).
    verified: bool,
}

/// Every session by address, and the counts the limits are checked against.
#[derive(Default)]
struct Table {
    by_addr: HashMap<SocketAddr, Session>,
    /// Sessions with a verified address.
    verified: usize,
    /// Sessions still waiting to verify theirs.
    unverified: usize,
    /// Waiting sessions in the order their hellos came. Entries of sessions
    /// since verified or gone are skipped when met (and swept out when they
    /// outnumber the live ones).
    waiting: VecDeque<(SocketAddr, ConnId)>,
    /// Sessions per IP address, verified or not.
    per_ip: HashMap<IpAddr, usize>,
}

impl Table {
    fn insert(&mut self, addr: SocketAddr, session: Session) {
        self.waiting.push_back((addr, session.id));
        if self.waiting.len() > 2 * self.unverified + 64 {
            let by_addr = &self.by_addr;
            self.waiting
                .retain(|(a, id)| by_addr.get(a).is_some_and(|s| s.id == *id && !s.verified));
        }
        self.unverified += 1;
        *self.per_ip.entry(addr.ip()).or_default() += 1;
        if let Some(old) = self.by_addr.insert(addr, session) {
            // Never happens (a hello from a known address is not a new session);
            // keep the counts right if it did.
            self.uncount(addr, &old);
        }
    }

    fn remove(&mut self, addr: SocketAddr) -> Option<Session> {
        let s = self.by_addr.remove(&addr)?;
        self.uncount(addr, &s);
        Some(s)
    }

    fn uncount(&mut self, addr: SocketAddr, s: &Session) {
        if s.verified {
            self.verified -= 1;
        } else {
            self.unverified -= 1;
        }
        if let Some(n) = self.per_ip.get_mut(&addr.ip()) {
            *n -= 1;
            if *n == 0 {
                self.per_ip.remove(&addr.ip());
            }
        }
    }

    /// Moves the session at `addr` to the verified ones.
    fn verify(&mut self, addr: SocketAddr) {
        if let Some(s) = self.by_addr.get_mut(&addr) {
            if !s.verified {
                s.verified = true;
                self.unverified -= 1;
                self.verified += 1;
            }
        }
    }

    fn sessions_of(&self, ip: IpAddr) -> usize {
        self.per_ip.get(&ip).copied().unwrap_or(0)
    }

    /// The address of the oldest session still waiting to verify (from `ip`
    /// only, if given).
    fn oldest_waiting(&mut self, ip: Option<IpAddr>) -> Option<SocketAddr> {
        let live = |t: &Table, (a, id): &(SocketAddr, ConnId)| {
            t.by_addr.get(a).is_some_and(|s| s.id == *id && !s.verified)
        };
        match ip {
            None => {
                while let Some(front) = self.waiting.front() {
                    if live(self, front) {
                        return Some(front.0);
                    }
                    self.waiting.pop_front();
                }
                None
            }
            Some(ip) => self
                .waiting
                .iter()
                .find(|e| e.0.ip() == ip && live(self, e))
                .map(|e| e.0),
        }
    }
}

/// Where the transport's own notes go ([`serve_with_notes`]).
type NoteSink = Box<dyn Fn(&UdpNote) + Send + Sync>;

struct Shared {
    socket: UdpSocket,
    server: Arc<ChatServer>,
    config: UdpConfig,
    sessions: Mutex<Table>,
    stats: Arc<UdpStats>,
    epoch: Instant,
    notes: NoteSink,
    /// Sessions ending before they proved their address, counted per episode.
    unverified: Mutex<UnverifiedEpisodes>,
}

impl Shared {
    /// Microseconds since the server started, wrapping at 2³² (the header's timestamp).
    fn now_us(&self) -> u32 {
        self.epoch.elapsed().as_micros() as u32
    }

    /// A session that never proved its address ended, for `why`: counted in
    /// the episode, and said if the episode has gone on long enough.
    fn unverified_ended(&self, why: Unverified) {
        let report = self
            .unverified
            .lock()
            .expect("episodes lock")
            .ended(why, Instant::now());
        if let Some(r) = report {
            (self.notes)(&UdpNote::Unverified(r));
        }
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
    serve_with_notes(socket, server, config, stats, |_| {}).await
}

/// [`serve`], telling `notes` when a session proves its address and, once
/// per episode, how many ended without doing so ([`super::udp_log`]: what
/// `netlab serve` logs).
pub async fn serve_with_notes(
    socket: UdpSocket,
    server: Arc<ChatServer>,
    config: UdpConfig,
    stats: Arc<UdpStats>,
    notes: impl Fn(&UdpNote) + Send + Sync + 'static,
) -> std::io::Result<()> {
    let shared = Arc::new(Shared {
        socket,
        server,
        config,
        sessions: Mutex::new(Table::default()),
        stats,
        epoch: Instant::now(),
        notes: Box::new(notes),
        unverified: Mutex::new(UnverifiedEpisodes::new()),
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
        if let Some(s) = sessions.by_addr.get_mut(&from) {
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
    let Some(s) = sessions.by_addr.get_mut(&from) else {
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
            if echoed != id.to_hex() {
                return;
            }
            let newly_verified = !s.verified;
            if newly_verified {
                if sessions.verified >= shared.config.max_sessions {
                    // The verified sessions filled up since its hello.
                    let s = sessions.remove(from).expect("looked up above");
                    drop(sessions);
                    let max = shared.config.max_sessions;
                    refuse(shared, from, Refusal::ServerFull { max });
                    shared
                        .server
                        .disconnect(s.id, "refused: the server is full");
                    s.queue.close();
                    shared.unverified_ended(Unverified::Other);
                    return;
                }
                sessions.verify(from);
            }
            let s = sessions.by_addr.get_mut(&from).expect("looked up above");
            s.gate.lock().expect("gate lock").verify();
            s.queue.push(session_info(&shared.config));
            drop(sessions);
            if newly_verified {
                (shared.notes)(&UdpNote::Verified { id });
            }
        }
        Some(Control::Bye) => {
            let s = sessions.remove(from).expect("looked up above");
            drop(sessions);
            bump(&stats.byes, 1);
            let reason = format!("client said bye ({})", from_client(&s.tracker));
            shared.server.disconnect(s.id, &reason);
            s.queue.close();
            if !s.verified {
                shared.unverified_ended(Unverified::Other);
            }
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
    let config = &shared.config;
    // Room for one more waiting session: the verified ones are not all taken,
    // and the address and the waiting pool have a slot (or one to take back
    // from the oldest session that never verified).
    let (refusal, replaced) = {
        let mut table = shared.sessions.lock().expect("sessions lock");
        let mut replaced = Vec::new();
        let mut refusal = None;
        if table.verified >= config.max_sessions {
            refusal = Some(Refusal::ServerFull {
                max: config.max_sessions,
            });
        } else if table.sessions_of(from.ip()) >= config.max_per_ip {
            match table.oldest_waiting(Some(from.ip())) {
                Some(addr) => replaced.extend(table.remove(addr)),
                None => {
                    bump(&stats.address_refused, 1);
                    refusal = Some(Refusal::AddressLimit {
                        max: config.max_per_ip,
                    });
                }
            }
        }
        while refusal.is_none() && table.unverified >= config.max_unverified {
            let Some(addr) = table.oldest_waiting(None) else {
                break;
            };
            replaced.extend(table.remove(addr));
        }
        (refusal, replaced)
    };
    for s in replaced {
        bump(&stats.replaced, 1);
        shared.server.disconnect(
            s.id,
            "replaced: it never proved its address (no heartbeat echoing its id) before newer hellos needed its slot",
        );
        s.queue.close();
        shared.unverified_ended(Unverified::Replaced);
    }
    let connected = match refusal {
        Some(r) => Err(r),
        None => shared.server.connect(&peer_name(from)),
    };
    let (id, queue) = match connected {
        Ok(c) => c,
        Err(refusal) => return refuse(shared, from, refusal),
    };
    bump(&stats.opened, 1);
    let mut gate = Gate::default();
    gate.received(len);
    let gate = Arc::new(Mutex::new(gate));
    let mut tracker = ReceiveTracker::from_first_seen();
    tracker.on_arrival(u64::from(header.seq));
    let now = Instant::now();
    shared.sessions.lock().expect("sessions lock").insert(
        from,
        Session {
            id,
            queue: queue.clone(),
            gate: gate.clone(),
            tracker,
            last_heard: now,
            opened: now,
            verified: false,
        },
    );
    tokio::spawn(write_loop(shared.clone(), from, id, queue, gate));
}

/// Says `bye` with the refusal to `to` and counts it: one small datagram,
/// well under the padded hello it answers, then nothing.
fn refuse(shared: &Shared, to: SocketAddr, refusal: Refusal) {
    bump(&shared.stats.refused, 1);
    let bye = ServerEvent::Bye {
        code: refusal.code(),
        message: refusal.to_string(),
    };
    if let Ok(d) = Sequencer::new().encode(shared.now_us(), &bye.to_bytes()) {
        let _ = shared.socket.try_send_to(&d, to);
    }
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
                match sessions.by_addr.get(&to) {
                    Some(s) if s.id == id => sessions.remove(to),
                    _ => None,
                }
            };
            if let Some(s) = mine {
                shared.server.disconnect(id, "closed by the server");
                if !s.verified {
                    shared.unverified_ended(Unverified::Other);
                }
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

/// Ends sessions that have been silent for `expiry`, and reclaims those
/// that did not verify their address within `verify_timeout`.
async fn expire_loop(shared: Arc<Shared>) {
    let config = shared.config;
    let tick = (config.expiry.min(config.verify_timeout) / 4)
        .clamp(Duration::from_millis(10), Duration::from_secs(1));
    let mut every = tokio::time::interval(tick);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let now = Instant::now();
        let (gone, waiting): (Vec<(Session, bool)>, usize) = {
            let mut sessions = shared.sessions.lock().expect("sessions lock");
            let old: Vec<(SocketAddr, bool)> = sessions
                .by_addr
                .iter()
                .filter_map(|(a, s)| {
                    let unproven =
                        !s.verified && now.duration_since(s.opened) >= config.verify_timeout;
                    let silent = now.duration_since(s.last_heard) >= config.expiry;
                    (unproven || silent).then_some((*a, unproven))
                })
                .collect();
            let gone = old
                .iter()
                .filter_map(|(a, unproven)| sessions.remove(*a).map(|s| (s, *unproven)))
                .collect();
            (gone, sessions.unverified)
        };
        for (s, unproven) in gone {
            let reason = if unproven {
                bump(&shared.stats.never_verified, 1);
                format!(
                    "never proved its address: no heartbeat echoing its id within {:?} of its hello (a spoofed source, or a client that lost every welcome)",
                    config.verify_timeout
                )
            } else {
                bump(&shared.stats.expired, 1);
                format!(
                    "expired: nothing heard for {:?} (clients send a heartbeat every {:?}; {})",
                    config.expiry,
                    config.heartbeat,
                    from_client(&s.tracker)
                )
            };
            shared.server.disconnect(s.id, &reason);
            s.queue.close();
            if unproven {
                shared.unverified_ended(Unverified::TimedOut);
            } else if !s.verified {
                shared.unverified_ended(Unverified::Other);
            }
        }
        let over = shared
            .unverified
            .lock()
            .expect("episodes lock")
            .tick(waiting, Instant::now());
        if let Some(r) = over {
            (shared.notes)(&UdpNote::Unverified(r));
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

    fn session(id: u128) -> Session {
        let now = Instant::now();
        Session {
            id: ConnId(id),
            queue: Arc::new(Outbound::new(4)),
            gate: Arc::default(),
            tracker: ReceiveTracker::from_first_seen(),
            last_heard: now,
            opened: now,
            verified: false,
        }
    }

    #[test]
    fn the_table_counts_verified_waiting_and_per_address_sessions() {
        let addr = |ip: u8, port: u16| SocketAddr::from(([127, 0, 0, ip], port));
        let mut t = Table::default();
        t.insert(addr(1, 1), session(1));
        t.insert(addr(1, 2), session(2));
        t.insert(addr(2, 1), session(3));
        assert_eq!((t.verified, t.unverified), (0, 3));
        assert_eq!(t.sessions_of(addr(1, 0).ip()), 2);
        t.verify(addr(1, 1));
        t.verify(addr(1, 1)); // twice changes nothing
        assert_eq!((t.verified, t.unverified), (1, 2));
        // The oldest waiting overall, and the oldest waiting of one address.
        assert_eq!(t.oldest_waiting(None), Some(addr(1, 2)));
        assert_eq!(t.oldest_waiting(Some(addr(2, 0).ip())), Some(addr(2, 1)));
        t.remove(addr(1, 2));
        assert_eq!(
            t.oldest_waiting(Some(addr(1, 0).ip())),
            None,
            "only verified left"
        );
        assert_eq!(t.oldest_waiting(None), Some(addr(2, 1)));
        t.remove(addr(2, 1));
        t.remove(addr(1, 1));
        assert_eq!((t.verified, t.unverified), (0, 0));
        assert!(t.per_ip.is_empty(), "no address kept without sessions");
        // Entries of sessions that verified or left do not pile up.
        for i in 0..10_000u32 {
            let a = SocketAddr::from(([127, 1, (i >> 8) as u8, i as u8], 9));
            t.insert(a, session(u128::from(i) + 10));
            t.verify(a);
            t.remove(a);
        }
        assert!(t.waiting.len() <= 64 + 1, "{}", t.waiting.len());
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
