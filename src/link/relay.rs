//! `netlab link`: a UDP relay that puts an impaired [`Link`] in each direction.
//!
//! ```text
//!   client ──▶ [listen] ── forward Link ──▶ [session socket] ──▶ server (--to)
//!   client ◀── [listen] ◀─ backward Link ── [session socket] ◀── server
//! ```
//!
//! UDP has no connections, so the relay keeps a *session* per client address:
//! its own socket towards the server (so replies can be told apart) and a
//! `Link` each way, seeded from `--seed` and the session's number, so a run with
//! one client is reproducible packet for packet. Idle sessions expire.
//!
//! Anyone can send to the relay, so everything it keeps is bounded and
//! everything it refuses is counted in its [`RelayReport`]: sessions (all
//! together and per source address), the sockets the process may open, and
//! the bytes the links hold (per session and all together). A datagram
//! beyond a bound is dropped, never waited for, and the relay goes on.

use super::impairment::{Counters, Impairment, Link};
use bytes::Bytes;
use serde::Serialize;
use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

/// Largest datagram relayed: the most a UDP payload can be over IPv4 (65,535 − 8 − 20).
pub const MAX_DATAGRAM: usize = 65_507;

/// Default most clients relayed at once; a new client beyond it is refused
/// (and counted) until a session expires.
///
/// Each session holds one socket, a file descriptor. 512 is half the usual
/// open-file limit (`ulimit -n` 1,024 on Linux), leaving the rest for the
/// process and for whatever else it opens; a relay started under a lower
/// limit still runs: a client it cannot open a socket for is refused and
/// counted ([`RelayReport::refused_no_socket`]), the others go on.
pub const DEFAULT_MAX_SESSIONS: usize = 512;

/// Default most sessions for one source address (IPv6: one /64, what one
/// host usually has): one sender cycling through ports cannot take every
/// slot. 64 leaves room for a class's worth of clients on one machine.
pub const DEFAULT_MAX_SESSIONS_PER_IP: usize = 64;

/// Default idle time after which a client's session is forgotten (its slot
/// and socket freed). Longer than the chat's UDP expiry (30 s) and heartbeat
/// (10 s), so the relay never forgets a live client before the server does;
/// short enough that a flood of one-datagram clients gives its slots back
/// within a minute.
pub const DEFAULT_SESSION_IDLE: Duration = Duration::from_secs(60);

/// Default most bytes all sessions' links may hold together (see
/// [`DATAGRAM_OVERHEAD`] for how a datagram is counted). Without a bound,
/// `--delay 5s` keeps five seconds of whatever arrives: a burst of 64 KiB
/// datagrams took a relay to 2.35 GB. 64 MiB is eight sessions at their own
/// limit, and plenty for a lesson.
pub const DEFAULT_MAX_MEMORY: usize = 64 << 20;

/// Default most bytes one session's links (both directions) may hold: one
/// client cannot fill the relay's memory for the others. 8 MiB carries,
/// for example, 100 ms of delay at 80 MB/s.
pub const DEFAULT_MAX_SESSION_MEMORY: usize = 8 << 20;

/// What a datagram held in a link costs on top of its payload: its entry in
/// the delivery queue (due time, order, `Bytes` handle: 56 B) and its
/// allocation, rounded up. Counting it means a flood of empty datagrams is
/// bounded too.
pub const DATAGRAM_OVERHEAD: usize = 64;

/// How often the relay reports its counters.
pub const REPORT_EVERY: Duration = Duration::from_secs(1);

/// Datagrams from servers waiting for the relay loop; beyond this (or beyond
/// `max_memory`) they are dropped and counted.
const UPSTREAM_QUEUE: usize = 4096;

/// Datagrams taken off the listening socket per wake-up: amortises the event
/// loop's cost over a burst (the relay's hot path; see scripts/bench-link).
const RECV_BATCH: usize = 256;

/// Settings of a relay.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Where the real server listens.
    pub to: SocketAddr,
    /// What the link does to packets (both directions).
    pub impairment: Impairment,
    /// Most clients at once.
    pub max_sessions: usize,
    /// Most clients at once from one source address (IPv6: one /64).
    pub max_sessions_per_ip: usize,
    /// Idle time before a session is dropped.
    pub session_idle: Duration,
    /// Most bytes all links hold together, datagrams from servers waiting
    /// for the relay included.
    pub max_memory: usize,
    /// Most bytes one session's two links hold.
    pub max_session_memory: usize,
}

impl RelayConfig {
    /// A relay to `to` applying `impairment`, every limit at its default.
    pub fn new(to: SocketAddr, impairment: Impairment) -> Self {
        Self {
            to,
            impairment,
            max_sessions: DEFAULT_MAX_SESSIONS,
            max_sessions_per_ip: DEFAULT_MAX_SESSIONS_PER_IP,
            session_idle: DEFAULT_SESSION_IDLE,
            max_memory: DEFAULT_MAX_MEMORY,
            max_session_memory: DEFAULT_MAX_SESSION_MEMORY,
        }
    }

    /// Checks the limits: each must let something through.
    pub fn validate(&self) -> Result<(), RelayConfigError> {
        for (name, zero) in [
            ("--max-sessions", self.max_sessions == 0),
            ("--max-sessions-per-ip", self.max_sessions_per_ip == 0),
            ("--session-idle", self.session_idle.is_zero()),
            ("--max-memory", self.max_memory == 0),
            ("--max-session-memory", self.max_session_memory == 0),
        ] {
            if zero {
                return Err(RelayConfigError::Zero { name });
            }
        }
        Ok(())
    }

    fn limits(&self) -> RelayLimits {
        RelayLimits {
            max_sessions: self.max_sessions,
            max_sessions_per_ip: self.max_sessions_per_ip,
            session_idle_ms: u64::try_from(self.session_idle.as_millis()).unwrap_or(u64::MAX),
            max_memory: self.max_memory,
            max_session_memory: self.max_session_memory,
        }
    }
}

/// Why a [`RelayConfig`] is not usable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RelayConfigError {
    /// A limit of zero would refuse every client or every datagram.
    #[error("{name} must be above 0: at 0 the relay would relay nothing")]
    Zero {
        /// Which limit (its flag).
        name: &'static str,
    },
}

/// The limits a relay ran with, so a report says where its edges were.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RelayLimits {
    /// Most clients at once.
    pub max_sessions: usize,
    /// Most clients at once from one source address.
    pub max_sessions_per_ip: usize,
    /// Idle time before a session is dropped, in milliseconds.
    pub session_idle_ms: u64,
    /// Most bytes all links hold together.
    pub max_memory: usize,
    /// Most bytes one session's links hold.
    pub max_session_memory: usize,
}

/// What the relay did, in both directions, and what it refused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RelayReport {
    /// Client → server. Datagrams over a memory limit count as `overflowed`.
    pub forward: Counters,
    /// Server → client. Datagrams over a memory limit count as `overflowed`.
    pub backward: Counters,
    /// Sessions open now.
    pub sessions: usize,
    /// Datagrams from new clients refused because `max_sessions` were open.
    pub refused: u64,
    /// Datagrams from new clients refused because their address already had
    /// `max_sessions_per_ip` sessions.
    pub refused_per_ip: u64,
    /// Datagrams from new clients refused because no socket could be opened
    /// for them (usually: out of file descriptors, `ulimit -n`).
    pub refused_no_socket: u64,
    /// Datagrams from servers dropped before their backward link: the relay
    /// loop was behind, or all links held `max_memory`.
    pub server_overflowed: u64,
    /// Bytes the links hold now (payload plus [`DATAGRAM_OVERHEAD`] each).
    pub held_bytes: usize,
    /// The most bytes the links held at once.
    pub peak_held_bytes: usize,
    /// The limits these counters ran into.
    pub limits: RelayLimits,
}

struct Session {
    number: u64,
    upstream: Arc<UdpSocket>,
    forward: Link,
    backward: Link,
    last_seen: Instant,
    reader: tokio::task::JoinHandle<()>,
    /// Datagrams due upstream from the current burst, sent together by [`flush`].
    outbox: Vec<Bytes>,
    /// Bytes both links hold, as last counted into the [`Budget`].
    held: usize,
    /// The source-address key this session counts against.
    source: IpAddr,
}

/// What a link costs in memory: its payload bytes plus the bookkeeping of each datagram.
fn link_cost(link: &Link) -> usize {
    link.bytes_in_flight() + link.in_flight() * DATAGRAM_OVERHEAD
}

impl Session {
    /// Reserves room for a `len`-byte datagram entering one of this session's
    /// links: from the session's share and from the relay's budget. `None`
    /// (after counting the drop in that link) when either is full.
    fn admit(
        &mut self,
        forward: bool,
        len: usize,
        max_session: usize,
        budget: &Budget,
    ) -> Option<usize> {
        let link = if forward {
            &mut self.forward
        } else {
            &mut self.backward
        };
        // A duplicated datagram is held twice; reserve for the worst case.
        let copies = if link.config().duplicate > 0.0 { 2 } else { 1 };
        let cost = (len + DATAGRAM_OVERHEAD) * copies;
        if self.held + cost > max_session || !budget.reserve(cost) {
            link.overflow();
            return None;
        }
        Some(cost)
    }

    /// Counts what the links hold now, giving back to `budget` whatever of
    /// the previous count and `reserved` is no longer held.
    fn settle(&mut self, reserved: usize, budget: &Budget) {
        let now = link_cost(&self.forward) + link_cost(&self.backward);
        budget.release((self.held + reserved).saturating_sub(now));
        self.held = now;
    }
}

/// Bytes held by all links (and by datagrams from servers on their way to
/// the loop), against `max_memory`. Shared with the sessions' reader tasks.
struct Budget {
    held: AtomicUsize,
    peak: AtomicUsize,
    max: usize,
    /// Datagrams from servers dropped before the loop ([`RelayReport::server_overflowed`]).
    server_overflowed: AtomicU64,
}

impl Budget {
    fn new(max: usize) -> Self {
        Self {
            held: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            max,
            server_overflowed: AtomicU64::new(0),
        }
    }

    /// Takes `n` bytes if they fit under `max`.
    fn reserve(&self, n: usize) -> bool {
        let taken = self
            .held
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |held| {
                held.checked_add(n).filter(|total| *total <= self.max)
            });
        match taken {
            Ok(before) => {
                self.peak.fetch_max(before + n, Ordering::Relaxed);
                true
            }
            Err(_) => false,
        }
    }

    /// Gives `n` bytes back.
    fn release(&self, n: usize) {
        if n > 0 {
            self.held.fetch_sub(n, Ordering::Relaxed);
        }
    }
}

/// The key a source address counts against for `max_sessions_per_ip`: an
/// IPv4 address (also when written IPv4-mapped in IPv6), or an IPv6 /64 —
/// one host usually holds a whole /64, so counting single IPv6 addresses
/// would bound nothing.
pub fn source_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Something going wrong again and again (no socket for new clients, a
/// failing receive) is said once when it starts and once when it ends, with
/// how many datagrams it cost, not once per datagram.
#[derive(Debug, Default)]
struct Episode {
    /// Datagrams refused since it started; `None` when all is well.
    refused: Option<u64>,
}

impl Episode {
    /// One more failure; says `start` if this one begins the episode.
    fn failed(&mut self, start: impl FnOnce() -> String) {
        match &mut self.refused {
            Some(n) => *n += 1,
            None => {
                eprintln!("{}", start());
                self.refused = Some(1);
            }
        }
    }

    /// Things work again; says `end(count)` if an episode was going on.
    fn recovered(&mut self, end: impl FnOnce(u64) -> String) {
        if let Some(n) = self.refused.take() {
            eprintln!("{}", end(n));
        }
    }
}

/// Opens a session's own socket towards the server.
async fn open_upstream(to: SocketAddr) -> std::io::Result<UdpSocket> {
    let socket = UdpSocket::bind(if to.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }).await?;
    socket.connect(to).await?;
    Ok(socket)
}

fn add(total: &mut Counters, c: Counters) {
    total.received += c.received;
    total.delivered += c.delivered;
    total.lost += c.lost;
    total.overflowed += c.overflowed;
    total.duplicated += c.duplicated;
    total.reordered += c.reordered;
    total.corrupted += c.corrupted;
    total.bytes_delivered += c.bytes_delivered;
}

/// Relays datagrams arriving on `front` to `config.to` and back, impaired, until
/// `stop` completes; calls `on_report` every [`REPORT_EVERY`] and returns the final report.
///
/// Nothing a client or server sends makes it fail: datagrams beyond a limit
/// are dropped and counted, and a client the process cannot open a socket
/// for is refused (said once on stderr per episode, not per datagram).
pub async fn run<F, S>(
    front: UdpSocket,
    config: RelayConfig,
    stop: S,
    mut on_report: F,
) -> std::io::Result<RelayReport>
where
    F: FnMut(&RelayReport),
    S: Future<Output = ()>,
{
    let start = Instant::now();
    let mut sessions: HashMap<SocketAddr, Session> = HashMap::new();
    let mut per_source: HashMap<IpAddr, usize> = HashMap::new();
    let mut closed = RelayReport {
        limits: config.limits(),
        ..RelayReport::default()
    };
    let budget = Arc::new(Budget::new(config.max_memory));
    let mut no_socket = Episode::default();
    let mut receive_failing = Episode::default();
    let mut next_number = 0u64;
    let (up_tx, mut up_rx) = mpsc::channel::<(SocketAddr, Bytes)>(UPSTREAM_QUEUE);
    let mut buf = vec![0u8; MAX_DATAGRAM + 1];
    let mut tick = tokio::time::interval(REPORT_EVERY);
    let mut gso = gso::SUPPORTED;
    tokio::pin!(stop);

    loop {
        let next_due = sessions
            .values()
            .flat_map(|s| [s.forward.next_due(), s.backward.next_due()])
            .flatten()
            .min();
        let wake = match next_due {
            Some(d) => tokio::time::Instant::from_std(start + d),
            None => tokio::time::Instant::now() + REPORT_EVERY,
        };
        tokio::select! {
            received = front.recv_from(&mut buf) => {
                let first = match received {
                    Ok(first) => {
                        receive_failing.recovered(|n| format!("link: receiving works again after {n} failures"));
                        first
                    }
                    Err(e) => {
                        // E.g. a Windows socket reporting an earlier ICMP error: not the relay's end.
                        receive_failing.failed(|| format!("link: receive failed: {e}; going on"));
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                // Take what else is already waiting too (up to RECV_BATCH) before going
                // round the select again: one wake-up and one timer per batch, not per datagram.
                let mut next = Some(first);
                let mut taken = 0;
                // One clock reading per burst: the burst arrived within microseconds.
                let now = start.elapsed();
                let seen_at = Instant::now();
                while let Some((n, client)) = next.take() {
                    taken += 1;
                    let source = source_key(client.ip());
                    if !sessions.contains_key(&client) {
                        let from_source = per_source.get(&source).copied().unwrap_or(0);
                        if sessions.len() >= config.max_sessions {
                            closed.refused += 1;
                        } else if from_source >= config.max_sessions_per_ip {
                            closed.refused_per_ip += 1;
                        } else {
                            match open_upstream(config.to).await {
                                Err(e) => {
                                    closed.refused_no_socket += 1;
                                    no_socket.failed(|| format!(
                                        "link: cannot open a socket for new client {client}: {e}; \
                                         new clients are refused (and counted) until one can be opened \
                                         (raise the open-file limit, ulimit -n, or lower --max-sessions)"
                                    ));
                                }
                                Ok(upstream) => {
                                    no_socket.recovered(|n| format!(
                                        "link: sockets for new clients can be opened again; {n} datagrams were refused meanwhile"
                                    ));
                                    let upstream = Arc::new(upstream);
                                    let reader = tokio::spawn(read_upstream(upstream.clone(), client, up_tx.clone(), budget.clone()));
                                    let seed = config.impairment.seed;
                                    // Each session and direction gets its own reproducible stream of decisions.
                                    let forward = Link::new(Impairment { seed: seed.wrapping_add(2 * next_number), ..config.impairment.clone() });
                                    let backward = Link::new(Impairment { seed: seed.wrapping_add(2 * next_number + 1), ..config.impairment.clone() });
                                    sessions.insert(client, Session { number: next_number, upstream, forward, backward, last_seen: seen_at, reader, outbox: Vec::new(), held: 0, source });
                                    *per_source.entry(source).or_insert(0) += 1;
                                    next_number += 1;
                                }
                            }
                        }
                    }
                    if let Some(s) = sessions.get_mut(&client) {
                        s.last_seen = seen_at;
                        if let Some(reserved) = s.admit(true, n, config.max_session_memory, &budget) {
                            s.forward.send(now, Bytes::copy_from_slice(&buf[..n]));
                            // What is already due (everything, on a link without delay)
                            // leaves with the rest of the burst.
                            while let Some(p) = s.forward.receive(now) {
                                s.outbox.push(p);
                            }
                            s.settle(reserved, &budget);
                        }
                    }
                    if taken < RECV_BATCH {
                        next = front.try_recv_from(&mut buf).ok();
                    }
                }
                for s in sessions.values_mut().filter(|s| !s.outbox.is_empty()) {
                    flush(&s.upstream, &mut s.outbox, &mut gso).await;
                }
            }
            Some((client, datagram)) = up_rx.recv() => {
                // The reader reserved it while it waited in the channel.
                budget.release(datagram.len() + DATAGRAM_OVERHEAD);
                if let Some(s) = sessions.get_mut(&client) {
                    if let Some(reserved) = s.admit(false, datagram.len(), config.max_session_memory, &budget) {
                        s.backward.send(start.elapsed(), datagram);
                        s.settle(reserved, &budget);
                    }
                }
            }
            _ = tokio::time::sleep_until(wake) => {}
            _ = tick.tick() => {
                let idle = config.session_idle;
                let expired: Vec<SocketAddr> = sessions
                    .iter()
                    .filter(|(_, s)| s.last_seen.elapsed() > idle && s.forward.in_flight() + s.backward.in_flight() == 0)
                    .map(|(a, _)| *a)
                    .collect();
                for a in expired {
                    let Some(mut s) = sessions.remove(&a) else { continue };
                    s.reader.abort();
                    s.settle(0, &budget);
                    if let Some(count) = per_source.get_mut(&s.source) {
                        *count = count.saturating_sub(1);
                        if *count == 0 {
                            per_source.remove(&s.source);
                        }
                    }
                    add(&mut closed.forward, s.forward.counters());
                    add(&mut closed.backward, s.backward.counters());
                }
                on_report(&report(&closed, &sessions, &budget));
            }
            _ = &mut stop => break,
        }

        // Deliver everything whose time has come.
        let now = start.elapsed();
        for (client, s) in sessions.iter_mut() {
            let mut delivered = false;
            while let Some(p) = s.forward.receive(now) {
                // A server that is not there yet (ICMP port unreachable) is not the relay's failure.
                let _ = s.upstream.send(&p).await;
                delivered = true;
            }
            while let Some(p) = s.backward.receive(now) {
                let _ = front.send_to(&p, client).await;
                delivered = true;
            }
            if delivered {
                s.settle(0, &budget);
            }
        }
    }
    let mut sessions_by_number: Vec<_> = sessions.into_values().collect();
    sessions_by_number.sort_by_key(|s| s.number);
    let mut last = closed;
    for s in &sessions_by_number {
        s.reader.abort();
        add(&mut last.forward, s.forward.counters());
        add(&mut last.backward, s.backward.counters());
    }
    last.sessions = 0;
    last.server_overflowed = budget.server_overflowed.load(Ordering::Relaxed);
    last.held_bytes = budget.held.load(Ordering::Relaxed);
    last.peak_held_bytes = budget.peak.load(Ordering::Relaxed);
    on_report(&last);
    Ok(last)
}

fn report(
    closed: &RelayReport,
    sessions: &HashMap<SocketAddr, Session>,
    budget: &Budget,
) -> RelayReport {
    let mut r = *closed;
    for s in sessions.values() {
        add(&mut r.forward, s.forward.counters());
        add(&mut r.backward, s.backward.counters());
    }
    r.sessions = sessions.len();
    r.server_overflowed = budget.server_overflowed.load(Ordering::Relaxed);
    r.held_bytes = budget.held.load(Ordering::Relaxed);
    r.peak_held_bytes = budget.peak.load(Ordering::Relaxed);
    r
}

/// Sends `outbox` upstream, emptying it. Runs of equal-sized datagrams go out
/// in one `sendmsg` with UDP generic segmentation offload (Linux `UDP_SEGMENT`):
/// the kernel cuts them back into the same datagrams, for one system call
/// instead of dozens. If the kernel refuses, `gso` turns off and each datagram
/// is sent alone from then on.
async fn flush(upstream: &UdpSocket, outbox: &mut Vec<Bytes>, gso: &mut bool) {
    let mut rest = &outbox[..];
    let mut joined = Vec::new();
    while let Some(first) = rest.first() {
        let size = first.len();
        let mut run = 1;
        if *gso && size > 0 {
            let fits = gso::MAX_BYTES / size;
            while run < rest.len().min(gso::MAX_SEGMENTS).min(fits) && rest[run].len() == size {
                run += 1;
            }
        }
        if run > 1 {
            joined.clear();
            for p in &rest[..run] {
                joined.extend_from_slice(p);
            }
            match gso::send(upstream, &joined, size) {
                Ok(()) => {
                    rest = &rest[run..];
                    continue;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    // The socket buffer is full: wait once, then send them one by one.
                }
                Err(_) => *gso = false,
            }
        }
        for p in &rest[..run] {
            if let Err(e) = upstream.try_send(p) {
                if e.kind() == std::io::ErrorKind::WouldBlock {
                    let _ = upstream.send(p).await;
                }
            }
        }
        rest = &rest[run..];
    }
    outbox.clear();
}

/// UDP generic segmentation offload: many datagrams of one size, one `sendmsg`.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
mod gso {
    use socket2::{MsgHdr, SockRef};
    use std::io::IoSlice;
    use tokio::io::Interest;
    use tokio::net::UdpSocket;

    /// Linux has UDP_SEGMENT (since 4.18).
    pub const SUPPORTED: bool = true;
    /// Most segments in one send (the kernel's UDP_MAX_SEGMENTS on older kernels).
    pub const MAX_SEGMENTS: usize = 64;
    /// Most bytes in one send: one IP packet's worth before segmentation.
    pub const MAX_BYTES: usize = 65_000;
    /// `SOL_UDP` and `UDP_SEGMENT` from linux/udp.h.
    const SOL_UDP: i32 = 17;
    const UDP_SEGMENT: i32 = 103;

    /// The control message `UDP_SEGMENT = size`, laid out as `struct cmsghdr`
    /// (64-bit Linux: an 8-byte length, two 4-byte ints, then the data, padded to 8).
    fn control(size: u16) -> [u8; 24] {
        let mut c = [0u8; 24];
        c[0..8].copy_from_slice(&(16usize + 2).to_ne_bytes());
        c[8..12].copy_from_slice(&SOL_UDP.to_ne_bytes());
        c[12..16].copy_from_slice(&UDP_SEGMENT.to_ne_bytes());
        c[16..18].copy_from_slice(&size.to_ne_bytes());
        c
    }

    /// Sends `joined` (segments of `size` bytes) on the connected socket in one call.
    pub fn send(socket: &UdpSocket, joined: &[u8], size: usize) -> std::io::Result<()> {
        let size = u16::try_from(size).map_err(|_| std::io::Error::other("segment too large"))?;
        let ctl = control(size);
        socket.try_io(Interest::WRITABLE, || {
            let iov = [IoSlice::new(joined)];
            let msg = MsgHdr::new().with_buffers(&iov).with_control(&ctl);
            let sent = SockRef::from(socket).sendmsg(&msg, 0)?;
            if sent == joined.len() {
                Ok(())
            } else {
                Err(std::io::Error::other("short GSO send"))
            }
        })
    }
}

/// Elsewhere: no segmentation offload; every datagram is sent alone.
#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
mod gso {
    use tokio::net::UdpSocket;
    pub const SUPPORTED: bool = false;
    pub const MAX_SEGMENTS: usize = 1;
    pub const MAX_BYTES: usize = 0;
    pub fn send(_: &UdpSocket, _: &[u8], _: usize) -> std::io::Result<()> {
        Err(std::io::Error::other("no UDP segmentation offload here"))
    }
}

/// Forwards every datagram the server sends to this session's socket into the
/// relay loop, reserving its bytes in `budget` while it waits there.
async fn read_upstream(
    socket: Arc<UdpSocket>,
    client: SocketAddr,
    to_loop: mpsc::Sender<(SocketAddr, Bytes)>,
    budget: Arc<Budget>,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM + 1];
    loop {
        match socket.recv(&mut buf).await {
            Ok(n) => {
                let cost = n + DATAGRAM_OVERHEAD;
                // The loop is behind, or every link is full: dropping is what a full router queue does.
                if !budget.reserve(cost) {
                    budget.server_overflowed.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                if to_loop
                    .try_send((client, Bytes::copy_from_slice(&buf[..n])))
                    .is_err()
                {
                    budget.release(cost);
                    if to_loop.is_closed() {
                        return;
                    }
                    budget.server_overflowed.fetch_add(1, Ordering::Relaxed);
                }
            }
            // ICMP "port unreachable" from an absent server surfaces here; keep listening.
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn a_source_is_an_ipv4_address_or_an_ipv6_slash_64() {
        let key = |s: &str| source_key(s.parse().unwrap()).to_string();
        assert_eq!(key("127.3.0.1"), "127.3.0.1");
        assert_eq!(
            key("::ffff:127.3.0.1"),
            "127.3.0.1",
            "IPv4-mapped is the IPv4 host"
        );
        assert_eq!(key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::");
        assert_eq!(
            key("2001:db8:1:2::1"),
            key("2001:db8:1:2:ffff::9"),
            "one /64, one source"
        );
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
    }

    #[test]
    fn the_budget_never_goes_over_its_maximum() {
        let b = Budget::new(1000);
        assert!(b.reserve(600));
        assert!(!b.reserve(401), "one byte over");
        assert!(b.reserve(400), "exactly at the maximum");
        assert!(!b.reserve(1));
        b.release(1000);
        assert!(b.reserve(1));
        assert_eq!(b.peak.load(Ordering::Relaxed), 1000);
    }

    #[test]
    fn limits_of_zero_are_refused_with_their_flag() {
        let ok = RelayConfig::new("127.0.0.1:9".parse().unwrap(), Impairment::default());
        assert_eq!(ok.validate(), Ok(()));
        let zero = RelayConfig {
            max_sessions_per_ip: 0,
            ..ok
        };
        assert_eq!(
            zero.validate(),
            Err(RelayConfigError::Zero {
                name: "--max-sessions-per-ip"
            })
        );
    }
}
