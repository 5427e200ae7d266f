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

use super::impairment::{Counters, Impairment, Link};
use bytes::Bytes;
use serde::Serialize;
use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

/// Largest datagram relayed: the most a UDP payload can be over IPv4 (65,535 − 8 − 20).
pub const MAX_DATAGRAM: usize = 65_507;

/// Default most clients relayed at once; a new client beyond it is ignored
/// (and counted) until a session expires.
pub const DEFAULT_MAX_SESSIONS: usize = 1024;

/// Default idle time after which a client's session is forgotten.
pub const DEFAULT_SESSION_IDLE: Duration = Duration::from_secs(60);

/// How often the relay reports its counters.
pub const REPORT_EVERY: Duration = Duration::from_secs(1);

/// Datagrams from servers waiting for the relay loop; beyond this they are dropped.
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
    /// Idle time before a session is dropped.
    pub session_idle: Duration,
}

/// What the relay did, in both directions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RelayReport {
    /// Client → server.
    pub forward: Counters,
    /// Server → client.
    pub backward: Counters,
    /// Sessions open now.
    pub sessions: usize,
    /// Datagrams from new clients refused because `max_sessions` were open.
    pub refused: u64,
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
    let mut closed = RelayReport::default();
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
                // Take what else is already waiting too (up to RECV_BATCH) before going
                // round the select again: one wake-up and one timer per batch, not per datagram.
                let mut next = Some(received?);
                let mut taken = 0;
                // One clock reading per burst: the burst arrived within microseconds.
                let now = start.elapsed();
                let seen_at = Instant::now();
                while let Some((n, client)) = next.take() {
                    taken += 1;
                    let known = sessions.contains_key(&client);
                    if !known && sessions.len() >= config.max_sessions {
                        closed.refused += 1;
                    } else {
                        if !known {
                            let upstream = UdpSocket::bind(if config.to.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" }).await?;
                            upstream.connect(config.to).await?;
                            let upstream = Arc::new(upstream);
                            let reader = tokio::spawn(read_upstream(upstream.clone(), client, up_tx.clone()));
                            let seed = config.impairment.seed;
                            // Each session and direction gets its own reproducible stream of decisions.
                            let forward = Link::new(Impairment { seed: seed.wrapping_add(2 * next_number), ..config.impairment.clone() });
                            let backward = Link::new(Impairment { seed: seed.wrapping_add(2 * next_number + 1), ..config.impairment.clone() });
                            sessions.insert(client, Session { number: next_number, upstream, forward, backward, last_seen: Instant::now(), reader, outbox: Vec::new() });
                            next_number += 1;
                        }
                        let s = sessions.get_mut(&client).expect("inserted above");
                        s.last_seen = seen_at;
                        s.forward.send(now, Bytes::copy_from_slice(&buf[..n]));
                        // What is already due (everything, on a link without delay)
                        // leaves with the rest of the burst.
                        while let Some(p) = s.forward.receive(now) {
                            s.outbox.push(p);
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
                if let Some(s) = sessions.get_mut(&client) {
                    s.backward.send(start.elapsed(), datagram);
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
                    let s = sessions.remove(&a).expect("listed above");
                    s.reader.abort();
                    add(&mut closed.forward, s.forward.counters());
                    add(&mut closed.backward, s.backward.counters());
                }
                on_report(&report(&closed, &sessions));
            }
            _ = &mut stop => break,
        }

        // Deliver everything whose time has come.
        let now = start.elapsed();
        for (client, s) in sessions.iter_mut() {
            while let Some(p) = s.forward.receive(now) {
                // A server that is not there yet (ICMP port unreachable) is not the relay's failure.
                let _ = s.upstream.send(&p).await;
            }
            while let Some(p) = s.backward.receive(now) {
                let _ = front.send_to(&p, client).await;
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
    on_report(&last);
    Ok(last)
}

fn report(closed: &RelayReport, sessions: &HashMap<SocketAddr, Session>) -> RelayReport {
    let mut r = *closed;
    for s in sessions.values() {
        add(&mut r.forward, s.forward.counters());
        add(&mut r.backward, s.backward.counters());
    }
    r.sessions = sessions.len();
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

/// Forwards every datagram the server sends to this session's socket into the relay loop.
async fn read_upstream(
    socket: Arc<UdpSocket>,
    client: SocketAddr,
    to_loop: mpsc::Sender<(SocketAddr, Bytes)>,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM + 1];
    loop {
        match socket.recv(&mut buf).await {
            Ok(n) => {
                if to_loop
                    .try_send((client, Bytes::copy_from_slice(&buf[..n])))
                    .is_err()
                {
                    // The loop is behind (or gone): dropping is what a full router queue does.
                    if to_loop.is_closed() {
                        return;
                    }
                }
            }
            // ICMP "port unreachable" from an absent server surfaces here; keep listening.
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}
