//! `netlab bench soak`: a long, hostile, churning load on one chat server, and
//! the four figures that say whether it held.
//!
//! Every connection plays one part:
//!
//! - **the sender** says numbered, time-stamped messages (`soak N NANOS`) into
//!   the room `soak` at a steady rate, each with an ack id, and remembers
//!   which numbers the server accepted;
//! - **observers** sit in `soak` with a session (the server runs with
//!   `--history`). Each one, again and again, *vanishes without a FIN* — a
//!   reset (`SO_LINGER` 0, then close), or the socket simply abandoned, so the
//!   server believes a dead connection is alive — stays away a while,
//!   reconnects and sends `resume` with its token and the last seq it saw
//!   ([`crate::client::resume::Resume`]). At the end each observer must have
//!   received every accepted number exactly once: **lost** and **duplicated**
//!   are counted on the wire, before the client's own seq check (which would
//!   hide a duplicate from a user, but the server promises none on resume);
//! - **members** make up the connection count: each joins a room of about
//!   [`MEMBER_ROOM_SIZE`], says something, idles for a random lifetime, then
//!   leaves in one of four ways (reset and resume, abandon and resume, reset
//!   and start a new session, or `leave` and a polite FIN) and comes back;
//! - **one slow reader** in `soak` and `flood` never reads after joining;
//! - **one flooder** says [`FLOOD_TEXT`]-byte messages into `flood` as fast as
//!   the rate limit in its `welcome` lets it;
//! - **UDP clients** (with [`SoakConfig::udp`], usually through `netlab link
//!   --loss 5%`) sit in `soak`, heartbeat, chat in `udp`, and start a new
//!   session now and then; their losses are reported, not judged (UDP loses).
//!
//! With the server's process id the server's resident memory (`VmRSS`) is
//! sampled all along; after the warm-up it must stay within
//! [`SoakConfig::max_rss_growth`]. Latency (send → receive of live messages at
//! the observers) is reported, never judged. [`SoakReport::failures`] lists
//! every must-be-zero figure that is not zero; `netlab bench soak` exits 1
//! when there is one. `scripts/soak` runs the whole thing against a real
//! server and adds what only it can see: panics in the server's stderr and
//! restarts.

use super::chat::resident_bytes;
use super::group_thousands;
use crate::chat::protocol::{ClientEvent, ServerEvent};
use crate::client::resume::{Incoming, Resume, ResumeConfig};
use crate::client::udp::{Incoming as UdpIncoming, UdpChatClient};
use crate::framing::FrameCodec;
use crate::link::rng::SplitMix64;
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde::Serialize;
use serde_json::{json, Value};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio_util::codec::Framed;

/// The room the sender talks to and the observers listen in.
pub const SOAK_ROOM: &str = "soak";
/// The room the flooder floods (the slow reader is in it too).
pub const FLOOD_ROOM: &str = "flood";
/// The room the UDP clients chat in.
pub const UDP_ROOM: &str = "udp";
/// Members per member room (`m-0`, `m-1`, …): big enough to fan out, small
/// enough that churn does not turn into a broadcast storm.
pub const MEMBER_ROOM_SIZE: usize = 50;
/// Members that sit in the flood room instead of a member room (they read it all).
pub const FLOOD_WATCHERS: usize = 4;
/// Bytes of text in each flood message.
pub const FLOOD_TEXT: usize = 512;
/// Messages per second from the sender, unless told otherwise. At this rate
/// `--history 200` covers 20 s of absence, ten times the longest planned one.
pub const DEFAULT_SENDER_RATE: u32 = 10;
/// UDP clients, unless told otherwise.
pub const DEFAULT_UDP_CLIENTS: usize = 8;
/// How much the server's RSS may grow after the warm-up before the run fails:
/// generous on purpose — it catches leaks (the issue's +49 MB after 30,000
/// rooms), not allocator noise.
pub const DEFAULT_MAX_RSS_GROWTH: u64 = 64 * 1024 * 1024;
/// A connect (TCP handshake and `welcome`) that takes longer than this failed.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// After the load stops, how long observers may take to catch up before they
/// count what they are missing as lost (unless [`SoakConfig::drain_timeout`] says otherwise).
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// After the load stops, how long the sender waits for its last acks.
const ACK_WAIT: Duration = Duration::from_secs(10);
/// Largest latency the histogram tracks: 60 s in nanoseconds.
const MAX_LATENCY_NS: u64 = 60_000_000_000;
/// Receive buffer of the slow reader's socket: small, so the server's side fills at once.
const SLOW_READER_RCVBUF: u32 = 4096;

/// A deliberate mistake in the observers, to prove the accounting can fail
/// (the tests use it; `netlab bench soak` always runs with [`Fault::None`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// Observers behave.
    #[default]
    None,
    /// Observers come back as new sessions (no `resume`) and join again
    /// without `since`: what was said while they were away is lost.
    NoResume,
    /// Observers resume but claim to have seen nothing (`"last":{}`): the
    /// server replays what they already had, and every replayed message is a
    /// duplicate on the wire.
    ReplayAll,
}

/// How a soak run is shaped.
#[derive(Debug, Clone)]
pub struct SoakConfig {
    /// The server's TCP address.
    pub addr: String,
    /// A UDP address of the same server (usually a `netlab link` in front of its `--udp`).
    pub udp: Option<String>,
    /// TCP connections held at once: the sender, observers, slow reader,
    /// flooder, and members for the rest.
    pub conns: usize,
    /// How long the load runs.
    pub duration: Duration,
    /// RSS growth is measured from the end of this (connections ramp up in its first half).
    pub warmup: Duration,
    /// Observers (the clients whose lost and duplicated events are counted).
    pub observers: usize,
    /// UDP clients (with [`SoakConfig::udp`]).
    pub udp_clients: usize,
    /// The sender's messages per second.
    pub sender_rate: u32,
    /// Mean lifetime of a member's connection (each is uniform in 0.5–1.5 × this).
    pub member_lifetime: Duration,
    /// How long an observer stays connected between vanishings (uniform in this range).
    pub observer_stay: (Duration, Duration),
    /// How long anyone who vanished stays away (uniform in this range).
    pub away: (Duration, Duration),
    /// Spread TCP clients over this many source addresses 127.0.0.1, .2, …
    /// (Linux routes all of 127/8 to `lo`), for servers that cap connections per address.
    pub sources: u8,
    /// The server's process id: its RSS is sampled.
    pub server_pid: Option<u32>,
    /// How often RSS is sampled.
    pub rss_every: Duration,
    /// RSS growth after the warm-up that fails the run.
    pub max_rss_growth: u64,
    /// Seed of every random pause, lifetime and choice.
    pub seed: u64,
    /// After the load stops, how long observers may take to catch up.
    pub drain_timeout: Duration,
    /// A deliberate mistake, for tests.
    pub fault: Fault,
    /// Print a progress line now and then on stderr.
    pub progress: bool,
}

impl SoakConfig {
    /// A run of `conns` connections for `duration` against `addr`, everything
    /// else scaled from those: a quarter of the run is warm-up, one observer
    /// per 30 connections (4 to 50), members live 10 % of the run (5–60 s).
    pub fn new(addr: &str, conns: usize, duration: Duration) -> Self {
        let secs = duration.as_secs_f64();
        Self {
            addr: addr.to_string(),
            udp: None,
            conns,
            duration,
            warmup: duration / 4,
            observers: default_observers(conns),
            udp_clients: DEFAULT_UDP_CLIENTS,
            sender_rate: DEFAULT_SENDER_RATE,
            member_lifetime: Duration::from_secs_f64((secs / 10.0).clamp(5.0, 60.0)),
            observer_stay: (Duration::from_secs(2), Duration::from_secs(8)),
            away: (Duration::from_millis(100), Duration::from_secs(2)),
            sources: 1,
            server_pid: None,
            rss_every: Duration::from_secs_f64((secs / 100.0).clamp(1.0, 5.0)),
            max_rss_growth: DEFAULT_MAX_RSS_GROWTH,
            seed: 1,
            drain_timeout: DRAIN_TIMEOUT,
            fault: Fault::None,
            progress: false,
        }
    }
}

/// Observers for a run of `conns` connections: one per 30, at least 4, at most 50.
pub fn default_observers(conns: usize) -> usize {
    (conns / 30).clamp(4, 50)
}

/// Errors that stop a soak run before it starts.
#[derive(Debug, thiserror::Error)]
pub enum SoakError {
    /// The address does not resolve.
    #[error("cannot resolve {addr}: {why}")]
    Resolve {
        /// What was given.
        addr: String,
        /// Why not.
        why: String,
    },
    /// The run's shape cannot work.
    #[error("{0}")]
    Config(String),
    /// An observer could not connect or join (the run needs them all).
    #[error("{0}")]
    Start(String),
}

// ---------------------------------------------------------------- the report

/// Connections over the whole run, every part together.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ConnTotals {
    /// TCP connections opened (each reconnect is one more).
    pub opened: u64,
    /// Most open at once.
    pub peak_open: u64,
    /// Connections that vanished with a reset (`SO_LINGER` 0).
    pub reset: u64,
    /// Connections abandoned without a word (the server learns on the next `resume`).
    pub abandoned: u64,
    /// Connections closed politely (`leave`, then FIN).
    pub closed_politely: u64,
    /// Connections the server closed.
    pub closed_by_server: u64,
    /// Sessions started (`welcome` without a resume).
    pub new_sessions: u64,
    /// Sessions taken back with `resume` and answered with `resumed`.
    pub resumed: u64,
    /// `resume` refused (`session_unknown`): the client joined again with `since`.
    pub resume_refused: u64,
    /// Connects that failed (refused, timed out, no `welcome`).
    pub connect_failures: u64,
}

/// What the observers saw of the sender's messages.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ObserverTotals {
    /// Observers.
    pub observers: usize,
    /// Times an observer vanished and came back with `resume`.
    pub resumes: u64,
    /// Accepted sender messages × observers: what should have arrived.
    pub expected: u64,
    /// Distinct sender messages that arrived.
    pub delivered: u64,
    /// Accepted sender messages an observer never got (must be 0).
    pub lost: u64,
    /// Sender messages that reached an observer more than once, counted on
    /// the wire before the client's seq check (must be 0).
    pub duplicated: u64,
    /// Events the client's seq check dropped as already seen.
    pub dropped_by_seq: u64,
    /// `gap` notices (the history no longer held what was missed).
    pub gaps: u64,
    /// Events the server dropped from an observer's full queue (`dropped`).
    pub queue_drops: u64,
    /// Observers that did not catch up within [`SoakConfig::drain_timeout`] after the load stopped.
    pub unfinished: usize,
}

/// Send → receive latency of live (not replayed) sender messages at the observers.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LatencyTotals {
    /// Messages timed.
    pub samples: u64,
    /// Median (µs).
    pub p50_us: f64,
    /// 99th percentile (µs).
    pub p99_us: f64,
    /// Slowest (µs).
    pub max_us: f64,
}

/// The sender's side.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SenderTotals {
    /// Messages sent.
    pub sent: u64,
    /// Accepted (ack ok).
    pub accepted: u64,
    /// Refused (ack not ok).
    pub refused: u64,
    /// Never answered.
    pub unanswered: u64,
}

/// The flooder's side.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FlooderTotals {
    /// Messages sent.
    pub sent: u64,
    /// `error` answers (rate limit) it got.
    pub refused: u64,
    /// Times the server closed it.
    pub closed: u64,
}

/// The UDP clients' side (lossy on purpose: reported, not judged).
#[derive(Debug, Clone, Default, Serialize)]
pub struct UdpTotals {
    /// UDP clients.
    pub clients: usize,
    /// Sessions opened (each client starts a new one now and then).
    pub sessions: u64,
    /// Session opens that got no answer (hello or heartbeat lost every try).
    pub session_failures: u64,
    /// Sender messages each session should have seen (from its first to its
    /// last one seen; approximate at the edges).
    pub expected: u64,
    /// Distinct sender messages that arrived.
    pub delivered: u64,
    /// `100 × (1 − delivered / expected)`.
    pub loss_percent: f64,
}

/// One RSS sample.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RssSample {
    /// Seconds since the run started.
    pub secs: f64,
    /// The server's `VmRSS` in bytes.
    pub bytes: u64,
}

/// The server's memory over the run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RssTrace {
    /// Every sample.
    pub samples: Vec<RssSample>,
    /// Where the warm-up ends (s).
    pub warmup_secs: f64,
    /// The first sample after the warm-up (bytes).
    pub after_warmup: Option<u64>,
    /// The largest sample after the warm-up (bytes).
    pub peak_after_warmup: Option<u64>,
    /// `peak_after_warmup − after_warmup` (bytes).
    pub growth: Option<u64>,
    /// Growth that fails the run (bytes).
    pub max_growth: u64,
    /// The process was sampled once and then gone (it died).
    pub server_gone: bool,
}

impl RssTrace {
    fn finish(&mut self) {
        let after: Vec<u64> = self
            .samples
            .iter()
            .filter(|s| s.secs >= self.warmup_secs)
            .map(|s| s.bytes)
            .collect();
        self.after_warmup = after.first().copied();
        self.peak_after_warmup = after.iter().copied().max();
        self.growth = match (self.after_warmup, self.peak_after_warmup) {
            (Some(a), Some(p)) => Some(p.saturating_sub(a)),
            _ => None,
        };
    }
}

/// Everything a soak run measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SoakReport {
    /// What was soaked.
    pub target: String,
    /// Seconds the load ran.
    pub secs: f64,
    /// TCP connections held at once (asked for).
    pub conns: usize,
    /// The deliberate mistake, if any.
    pub fault: Fault,
    /// Connections.
    pub connections: ConnTotals,
    /// Observers: lost and duplicated.
    pub observers: ObserverTotals,
    /// Latency for the well-behaved observers.
    pub latency: LatencyTotals,
    /// The sender.
    pub sender: SenderTotals,
    /// The flooder.
    pub flooder: FlooderTotals,
    /// UDP clients, if any.
    pub udp: Option<UdpTotals>,
    /// The server's memory.
    pub rss: RssTrace,
    /// Things that went wrong in the driver itself (e.g. the sender's connection died).
    pub errors: Vec<String>,
}

impl SoakReport {
    /// Every must-be-zero figure that is not zero, and RSS growth past the
    /// bound, in words. Empty: the server held.
    pub fn failures(&self) -> Vec<String> {
        let mut f = Vec::new();
        let o = &self.observers;
        if o.lost > 0 {
            f.push(format!(
                "{} sender messages lost by resuming observers (must be 0)",
                o.lost
            ));
        }
        if o.duplicated > 0 {
            f.push(format!(
                "{} sender messages duplicated to resuming observers (must be 0)",
                o.duplicated
            ));
        }
        if o.unfinished > 0 {
            f.push(format!(
                "{} observers did not catch up with the sender after the load stopped",
                o.unfinished
            ));
        }
        if self.sender.accepted == 0 {
            f.push("the server accepted no sender message: nothing was checked".into());
        }
        if self.rss.server_gone {
            f.push("the server process disappeared during the run".into());
        }
        if let Some(g) = self.rss.growth {
            if g > self.rss.max_growth {
                f.push(format!(
                    "server RSS grew {} after the warm-up (bound {})",
                    mib(g),
                    mib(self.rss.max_growth)
                ));
            }
        }
        for e in &self.errors {
            f.push(e.clone());
        }
        f
    }

    /// The report as the lines `netlab bench soak` prints.
    pub fn to_text(&self) -> String {
        let c = &self.connections;
        let o = &self.observers;
        let g = |n: u64| group_thousands(n);
        let mut s = format!(
            "soak {}: {} connections held, {:.0} s{}\n",
            self.target,
            g(self.conns as u64),
            self.secs,
            match self.fault {
                Fault::None => String::new(),
                f => format!(" (fault injected: {f:?})"),
            }
        );
        s.push_str(&format!(
            "  connections  {} opened (peak {} open), {} reset, {} abandoned, {} closed politely, {} closed by the server, {} connect failures\n",
            g(c.opened), g(c.peak_open), g(c.reset), g(c.abandoned), g(c.closed_politely), g(c.closed_by_server), g(c.connect_failures)
        ));
        s.push_str(&format!(
            "  sessions     {} new, {} resumed, {} resumes refused\n",
            g(c.new_sessions),
            g(c.resumed),
            g(c.resume_refused)
        ));
        s.push_str(&format!(
            "  sender       {} sent, {} accepted, {} refused, {} unanswered\n",
            g(self.sender.sent),
            g(self.sender.accepted),
            g(self.sender.refused),
            g(self.sender.unanswered)
        ));
        s.push_str(&format!(
            "  observers    {} observers resumed {} times: {} lost, {} duplicated  (of {} expected; {} dropped by the seq check, {} gaps, {} queue drops)\n",
            o.observers, g(o.resumes), g(o.lost), g(o.duplicated), g(o.expected), g(o.dropped_by_seq), g(o.gaps), g(o.queue_drops)
        ));
        s.push_str(&format!(
            "  latency      p50 {:.1} ms   p99 {:.1} ms   max {:.1} ms   ({} live messages at the observers)\n",
            self.latency.p50_us / 1000.0,
            self.latency.p99_us / 1000.0,
            self.latency.max_us / 1000.0,
            g(self.latency.samples)
        ));
        s.push_str(&format!(
            "  flooder      {} sent, {} refused, closed {} times; one slow reader never read\n",
            g(self.flooder.sent),
            g(self.flooder.refused),
            self.flooder.closed
        ));
        if let Some(u) = &self.udp {
            s.push_str(&format!(
                "  udp          {} clients, {} sessions ({} failed to open): {} of {} sender messages arrived ({:.1}% lost; UDP loses, not judged)\n",
                u.clients, u.sessions, u.session_failures, g(u.delivered), g(u.expected), u.loss_percent
            ));
        }
        s.push_str(&self.rss_text());
        let failures = self.failures();
        if failures.is_empty() {
            s.push_str(if self.rss.samples.is_empty() {
                "  verdict      held: 0 lost, 0 duplicated\n"
            } else {
                "  verdict      held: 0 lost, 0 duplicated, RSS flat within the bound after the warm-up\n"
            });
        } else {
            for f in failures {
                s.push_str(&format!("  FAILED       {f}\n"));
            }
        }
        s
    }

    fn rss_text(&self) -> String {
        let r = &self.rss;
        if r.samples.is_empty() {
            return "  server RSS   not sampled (give --server-pid)\n".into();
        }
        let mut s = format!(
            "  server RSS   {}  ({} samples; warm-up {:.0} s)\n",
            sparkline(&r.samples),
            r.samples.len(),
            r.warmup_secs
        );
        // At most ten rows, evenly spaced, the last sample always shown.
        let n = r.samples.len();
        let rows = n.min(10);
        let mut line = String::from("              ");
        for i in 0..rows {
            let at = if rows == 1 {
                0
            } else {
                i * (n - 1) / (rows - 1)
            };
            let x = r.samples[at];
            line.push_str(&format!("{:.0}s {}  ", x.secs, mib(x.bytes)));
        }
        s.push_str(line.trim_end());
        s.push('\n');
        if let (Some(a), Some(p), Some(gr)) = (r.after_warmup, r.peak_after_warmup, r.growth) {
            s.push_str(&format!(
                "               after warm-up {} -> peak {}: +{} (bound +{})\n",
                mib(a),
                mib(p),
                mib(gr),
                mib(r.max_growth)
            ));
        }
        s
    }

    /// Prints the report (JSON with `json`) and says how `netlab bench soak`
    /// exits: failure if [`SoakReport::failures`] is not empty.
    pub fn print(&self, json: bool) -> Result<std::process::ExitCode, serde_json::Error> {
        if json {
            println!("{}", serde_json::to_string(self)?);
        } else {
            anstream::print!("{}", self.to_text());
        }
        Ok(if self.failures().is_empty() {
            std::process::ExitCode::SUCCESS
        } else {
            std::process::ExitCode::FAILURE
        })
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / 1048576.0)
}

/// The samples as one line of block characters, lowest to highest sample,
/// squeezed to at most 60 characters.
fn sparkline(samples: &[RssSample]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let lo = samples.iter().map(|s| s.bytes).min().unwrap_or(0);
    let hi = samples.iter().map(|s| s.bytes).max().unwrap_or(0);
    let width = samples.len().min(60);
    let mut out = String::new();
    for i in 0..width {
        let from = i * samples.len() / width;
        let to = ((i + 1) * samples.len() / width).max(from + 1);
        let v = samples[from..to].iter().map(|s| s.bytes).max().unwrap_or(0);
        let k = if hi == lo {
            0
        } else {
            ((v - lo) as f64 / (hi - lo) as f64 * 7.0).round() as usize
        };
        out.push(BARS[k.min(7)]);
    }
    format!("{out}  {} .. {}", mib(lo), mib(hi))
}

// ---------------------------------------------------------------- shared state

#[derive(Default)]
struct Counters {
    opened: AtomicU64,
    open_now: AtomicU64,
    peak_open: AtomicU64,
    reset: AtomicU64,
    abandoned: AtomicU64,
    closed_politely: AtomicU64,
    closed_by_server: AtomicU64,
    new_sessions: AtomicU64,
    resumed: AtomicU64,
    resume_refused: AtomicU64,
    connect_failures: AtomicU64,
    flood_sent: AtomicU64,
    flood_refused: AtomicU64,
    flood_closed: AtomicU64,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// What every task shares: where to connect, the clock, counters, and the phase.
struct Shared {
    addr: SocketAddr,
    sources: u8,
    epoch: Instant,
    c: Counters,
    /// `true` while the load runs.
    running: watch::Receiver<bool>,
    /// The highest sender number accepted, once the sender has finished.
    last_accepted: watch::Receiver<Option<u64>>,
}

impl Shared {
    fn running(&self) -> bool {
        *self.running.borrow()
    }

    fn now_ns(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64
    }

    /// Opens a TCP connection (from source address `slot % sources`) and reads the welcome.
    async fn connect(self: &Arc<Self>, slot: usize, rcvbuf: Option<u32>) -> Option<(Conn, Value)> {
        let r = tokio::time::timeout(CONNECT_TIMEOUT, self.try_connect(slot, rcvbuf)).await;
        match r {
            Ok(Ok(c)) => Some(c),
            _ => {
                bump(&self.c.connect_failures);
                None
            }
        }
    }

    async fn try_connect(
        self: &Arc<Self>,
        slot: usize,
        rcvbuf: Option<u32>,
    ) -> std::io::Result<(Conn, Value)> {
        let socket = if self.addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        if self.sources > 1 {
            let n = (slot % usize::from(self.sources)) as u8;
            socket.bind(SocketAddr::new(
                IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1 + n)),
                0,
            ))?;
        }
        if let Some(n) = rcvbuf {
            socket.set_recv_buffer_size(n)?;
        }
        let stream = socket.connect(self.addr).await?;
        let _ = stream.set_nodelay(true);
        let mut conn = Conn::new(stream, self.clone());
        match conn.recv().await {
            Some(w) if w["event"] == "welcome" => Ok((conn, w)),
            Some(other) => Err(std::io::Error::other(format!("no welcome: {other}"))),
            None => Err(std::io::Error::other("closed before the welcome")),
        }
    }
}

/// An open connection, counted while it lives.
struct Conn {
    framed: Framed<TcpStream, FrameCodec>,
    open: OpenGuard,
}

/// Counts a connection as open until dropped (also after its socket was split in two).
struct OpenGuard(Arc<Shared>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.c.open_now.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Conn {
    fn new(stream: TcpStream, shared: Arc<Shared>) -> Self {
        bump(&shared.c.opened);
        let now = shared.c.open_now.fetch_add(1, Ordering::Relaxed) + 1;
        shared.c.peak_open.fetch_max(now, Ordering::Relaxed);
        Self {
            framed: Framed::new(stream, FrameCodec::new()),
            open: OpenGuard(shared),
        }
    }

    /// The next event as JSON; `None` when the connection closed or failed.
    /// Frames that are not JSON are skipped.
    async fn recv(&mut self) -> Option<Value> {
        loop {
            match self.framed.next().await {
                Some(Ok(frame)) => {
                    if let Ok(v) = serde_json::from_slice::<Value>(&frame) {
                        return Some(v);
                    }
                }
                _ => return None,
            }
        }
    }

    /// Sends one frame; false if the connection failed.
    async fn send(&mut self, frame: &[u8]) -> bool {
        self.framed.send(frame).await.is_ok()
    }

    /// Vanishes without a FIN: `SO_LINGER` 0 makes the close a reset.
    fn reset(self) {
        let _ = socket2::SockRef::from(self.framed.get_ref()).set_linger(Some(Duration::ZERO));
        bump(&self.open.0.c.reset);
    }

    /// `leave` was sent: a FIN now, then the socket is closed.
    fn close_politely(self) {
        let _ = socket2::SockRef::from(self.framed.get_ref()).shutdown(std::net::Shutdown::Write);
        bump(&self.open.0.c.closed_politely);
    }
}

fn uniform(rng: &mut SplitMix64, (lo, hi): (Duration, Duration)) -> Duration {
    lo + hi.saturating_sub(lo).mul_f64(rng.next_f64())
}

/// Returns when the load stops (at once if it has). Its output is `()`, not
/// the watch's guard, so tasks that wait on it in a `select!` stay `Send`.
async fn stopped(running: &mut watch::Receiver<bool>) {
    let _ = running.wait_for(|r| !*r).await;
}

/// Sleeps for `d`; false if the load stopped meanwhile.
async fn pause(shared: &Shared, d: Duration) -> bool {
    let mut running = shared.running.clone();
    tokio::select! {
        _ = tokio::time::sleep(d) => shared.running(),
        _ = stopped(&mut running) => false,
    }
}

fn message(room: &str, text: String) -> Value {
    json!({"event": "message", "to": [room], "text": text})
}

/// The sender's number and send time in a `soak N NANOS` message.
fn soak_stamp(event: &Value) -> Option<(u64, u64)> {
    if event["event"] != "message" {
        return None;
    }
    let mut words = event["text"].as_str()?.strip_prefix("soak ")?.split(' ');
    let n = words.next()?.parse().ok()?;
    let ns = words.next()?.parse().ok()?;
    Some((n, ns))
}

// ---------------------------------------------------------------- the sender

/// Per sender number: not sent, waiting, accepted, refused.
const UNSENT: u8 = 0;
const WAITING: u8 = 1;
const ACCEPTED: u8 = 2;
const REFUSED: u8 = 3;

struct SenderOutcome {
    states: Vec<u8>,
    error: Option<String>,
}

/// Joins `soak` (ack 1), then says `soak N NANOS` with ack id N + 1, `rate`
/// times a second, until the load stops; then waits for the last acks.
async fn sender(shared: Arc<Shared>, rate: u32) -> Result<SenderOutcome, String> {
    let (mut conn, _welcome) = shared
        .connect(0, None)
        .await
        .ok_or("no connection or no welcome")?;
    let join = json!({"event": "join", "room": SOAK_ROOM, "ack": 1}).to_string();
    if !conn.send(join.as_bytes()).await {
        return Err("the connection failed".into());
    }
    loop {
        match conn.recv().await {
            Some(v) if v["event"] == "ack" && v["ack"] == 1 => {
                if v["ok"] != true {
                    return Err(format!("join refused: {v}"));
                }
                break;
            }
            Some(_) => {}
            None => return Err("closed while joining".into()),
        }
    }
    let states = Arc::new(Mutex::new(vec![UNSENT]));
    let Conn {
        framed,
        open: guard,
    } = conn;
    let (mut sink, mut stream) = framed.split();
    let reader_states = states.clone();
    let reader = tokio::spawn(async move {
        while let Some(Ok(frame)) = stream.next().await {
            let Ok(v) = serde_json::from_slice::<Value>(&frame) else {
                continue;
            };
            if v["event"] != "ack" {
                continue;
            }
            let Some(n) = v["ack"].as_u64().and_then(|a| a.checked_sub(1)) else {
                continue;
            };
            let mut st = reader_states.lock().expect("sender states");
            if let Some(slot) = st.get_mut(n as usize) {
                *slot = if v["ok"] == true { ACCEPTED } else { REFUSED };
            }
        }
    });
    let mut every = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate.max(1))));
    let mut n: u64 = 0;
    let mut error = None;
    let mut running = shared.running.clone();
    while shared.running() {
        tokio::select! {
            _ = every.tick() => {}
            _ = stopped(&mut running) => break,
        }
        n += 1;
        states.lock().expect("sender states").push(WAITING);
        let text = format!("soak {n} {}", shared.now_ns());
        let mut frame = message(SOAK_ROOM, text);
        frame["ack"] = (n + 1).into();
        if sink.send(frame.to_string()).await.is_err() {
            error = Some(format!("the sender's connection failed after {n} messages"));
            break;
        }
    }
    let deadline = Instant::now() + ACK_WAIT;
    while Instant::now() < deadline && !reader.is_finished() {
        if !states.lock().expect("sender states").contains(&WAITING) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    reader.abort();
    drop(guard);
    let states = states.lock().expect("sender states").clone();
    Ok(SenderOutcome { states, error })
}

// ---------------------------------------------------------------- observers

#[derive(Default)]
struct ObserverOutcome {
    counts: Vec<u8>,
    resumes: u64,
    dropped_by_seq: u64,
    gaps: u64,
    queue_drops: u64,
    finished: bool,
    hist: Option<Histogram<u64>>,
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).expect("valid bounds")
}

/// How an observer's (or member's) connection ended.
enum Ended {
    /// Its time was up (or the load stopped): the caller decides how to go.
    TimeUp,
    /// The server closed it, or it failed.
    Closed,
}

struct Observer {
    shared: Arc<Shared>,
    slot: usize,
    fault: Fault,
    resume: Resume,
    counts: Vec<u8>,
    replay_left: u64,
    out: ObserverOutcome,
    hist: Histogram<u64>,
    /// A connection abandoned without a word, kept until the next `resumed`.
    abandoned: Option<Conn>,
    seed: u64,
    drain_timeout: Duration,
}

impl Observer {
    /// Connects; the first time joins `soak` as a new session, afterwards
    /// resumes (or, with a fault, does the wrong thing on purpose).
    async fn connect(&mut self) -> Option<Conn> {
        let (mut conn, welcome) = self.shared.connect(self.slot, None).await?;
        let now = Instant::now();
        let mut frames = Vec::new();
        if !self.resume.has_session() {
            self.resume.on_event(&welcome, now);
            bump(&self.shared.c.new_sessions);
            frames.push(
                self.resume
                    .send(json!({"event": "join", "room": SOAK_ROOM}), now)
                    .1,
            );
        } else {
            match self.fault {
                Fault::None | Fault::ReplayAll => {
                    // The old token first: the new welcome brings a provisional one.
                    let frame = self.resume.resume_frame();
                    self.resume.on_event(&welcome, now);
                    match frame {
                        Some(mut f) => {
                            if self.fault == Fault::ReplayAll {
                                let mut v: Value = serde_json::from_slice(&f).unwrap_or_default();
                                v["last"] = json!({});
                                f = v.to_string().into_bytes();
                            }
                            frames.push(f);
                        }
                        // The token went out with a `resume` whose answer never
                        // came (the connection died first): the session may be
                        // resumed already under a token we never saw. Start
                        // over on this one and join again since the last seq.
                        None => {
                            bump(&self.shared.c.new_sessions);
                            frames.extend(self.resume.rejoin(now, true));
                        }
                    }
                }
                Fault::NoResume => {
                    self.resume.on_event(&welcome, now);
                    self.resume.forget_unanswered();
                    bump(&self.shared.c.new_sessions);
                    frames.extend(self.resume.rejoin(now, false));
                }
            }
        }
        for f in frames {
            if !conn.send(&f).await {
                return None;
            }
        }
        Some(conn)
    }

    /// One event: counted, timed, answered.
    async fn on_event(&mut self, conn: &mut Conn, v: &Value) -> bool {
        let now = Instant::now();
        let recorded = v.get("seq").is_some_and(|s| s.is_object());
        let verdict = self.resume.on_event(v, now);
        let replayed = recorded && self.replay_left > 0;
        if replayed {
            self.replay_left -= 1;
        }
        match &verdict {
            Incoming::Ping(pong) => return conn.send(pong).await,
            Incoming::Resumed { replayed } => {
                self.replay_left = *replayed;
                self.out.resumes += 1;
                bump(&self.shared.c.resumed);
                // The server has closed the half-open old connection by now.
                self.abandoned = None;
            }
            Incoming::ResumeRefused { .. } => {
                bump(&self.shared.c.resume_refused);
                let frames = self.resume.rejoin(now, true);
                for f in frames {
                    if !conn.send(&f).await {
                        return false;
                    }
                }
            }
            Incoming::Duplicate => self.out.dropped_by_seq += 1,
            _ => {}
        }
        match v["event"].as_str() {
            Some("gap") => self.out.gaps += 1,
            Some("dropped") => self.out.queue_drops += v["count"].as_u64().unwrap_or(0),
            _ => {}
        }
        if let Some((n, sent_ns)) = soak_stamp(v) {
            let i = n as usize;
            if self.counts.len() <= i {
                self.counts.resize(i + 1, 0);
            }
            self.counts[i] = self.counts[i].saturating_add(1);
            if self.counts[i] == 1 && !replayed && verdict == Incoming::Fresh {
                let lat = self.shared.now_ns().saturating_sub(sent_ns);
                let _ = self.hist.record(lat.clamp(1, MAX_LATENCY_NS));
            }
        }
        if let Some(seen) = self.resume.seen_frame(now) {
            return conn.send(&seen).await;
        }
        true
    }

    /// Reads until `until` (or the load stops, or, when draining, until
    /// the last accepted number has arrived).
    async fn serve(&mut self, conn: &mut Conn, until: Option<Instant>) -> Ended {
        let mut running = self.shared.running.clone();
        let mut last = self.shared.last_accepted.clone();
        loop {
            if until.is_none() && self.caught_up() {
                return Ended::TimeUp;
            }
            let wake = [until, self.resume.deadline()].into_iter().flatten().min();
            let sleep = async {
                match wake {
                    Some(w) => tokio::time::sleep_until(w.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                v = conn.recv() => match v {
                    Some(v) => {
                        if !self.on_event(conn, &v).await {
                            return Ended::Closed;
                        }
                    }
                    None => return Ended::Closed,
                },
                _ = sleep => {
                    if until.is_some_and(|u| Instant::now() >= u) {
                        return Ended::TimeUp;
                    }
                    for a in self.resume.poll(Instant::now()) {
                        let frame = match a {
                            crate::client::resume::Action::Resend(f)
                            | crate::client::resume::Action::Seen(f)
                            | crate::client::resume::Action::Ping(f) => f,
                            _ => continue,
                        };
                        if !conn.send(&frame).await {
                            return Ended::Closed;
                        }
                    }
                }
                _ = stopped(&mut running), if until.is_some() => return Ended::TimeUp,
                _ = last.changed(), if until.is_none() => {}
            }
        }
    }

    /// Whether the sender has finished and its last accepted message is here.
    fn caught_up(&self) -> bool {
        match *self.shared.last_accepted.borrow() {
            Some(0) => true,
            Some(n) => self.counts.get(n as usize).is_some_and(|&c| c > 0),
            None => false,
        }
    }

    /// Stays, vanishes, comes back and resumes until the load stops, then catches up.
    async fn run(
        mut self,
        first: Conn,
        stay: (Duration, Duration),
        away: (Duration, Duration),
    ) -> ObserverOutcome {
        let mut rng =
            SplitMix64::new(self.seed ^ (self.slot as u64).wrapping_mul(0x2545_f491_4f6c_dd1d));
        let mut conn = Some(first);
        let mut vanish_by_reset = self.slot % 2 == 0;
        while self.shared.running() {
            let Some(mut c) = (match conn.take() {
                Some(c) => Some(c),
                None => self.connect().await,
            }) else {
                if !pause(&self.shared, uniform(&mut rng, away)).await {
                    break;
                }
                continue;
            };
            let until = Instant::now() + uniform(&mut rng, stay);
            match self.serve(&mut c, Some(until)).await {
                Ended::Closed => {
                    bump(&self.shared.c.closed_by_server);
                    drop(c);
                }
                Ended::TimeUp if !self.shared.running() => {
                    conn = Some(c);
                    break;
                }
                Ended::TimeUp => {
                    // Vanish without a FIN: a reset, or just silence.
                    if vanish_by_reset {
                        c.reset();
                    } else {
                        bump(&self.shared.c.abandoned);
                        self.abandoned = Some(c);
                    }
                    vanish_by_reset = !vanish_by_reset;
                }
            }
            if !pause(&self.shared, uniform(&mut rng, away)).await {
                break;
            }
        }
        // The load stopped: come back if away, then read until the last
        // accepted message is here.
        let deadline = Instant::now() + self.drain_timeout;
        let drain = async {
            loop {
                let mut c = match conn.take() {
                    Some(c) => c,
                    None => match self.connect().await {
                        Some(c) => c,
                        None => {
                            tokio::time::sleep(Duration::from_millis(200)).await;
                            continue;
                        }
                    },
                };
                if let Ended::TimeUp = self.serve(&mut c, None).await {
                    return;
                }
            }
        };
        self.out.finished = tokio::time::timeout_at(deadline.into(), drain)
            .await
            .is_ok();
        self.out.counts = std::mem::take(&mut self.counts);
        self.out.hist = Some(self.hist);
        self.out
    }
}

// ---------------------------------------------------------------- members

/// One member slot: join, chat, idle, leave one way or another, come back.
async fn member(
    shared: Arc<Shared>,
    slot: usize,
    room: String,
    start: Duration,
    lifetime: Duration,
    away: (Duration, Duration),
    seed: u64,
) {
    let mut rng = SplitMix64::new(seed ^ (slot as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    if !pause(&shared, start).await {
        return;
    }
    let mut session: Option<Resume> = None;
    let mut abandoned: Option<Conn> = None;
    while shared.running() {
        let Some((mut conn, welcome)) = shared.connect(slot, None).await else {
            if !pause(&shared, uniform(&mut rng, away)).await {
                break;
            }
            continue;
        };
        let now = Instant::now();
        let mut frames = Vec::new();
        let resume_frame = session.as_mut().and_then(|r| {
            r.forget_unanswered();
            r.resume_frame()
        });
        match resume_frame {
            Some(f) => frames.push(f),
            None => {
                let mut r = Resume::new(ResumeConfig::default(), 1, now);
                frames.push(r.send(json!({"event": "join", "room": room}), now).1);
                bump(&shared.c.new_sessions);
                session = Some(r);
            }
        }
        let Some(r) = session.as_mut() else {
            continue;
        };
        r.on_event(&welcome, now);
        frames.push(
            r.send(message(&room, format!("hello from member {slot}")), now)
                .1,
        );
        let mut ok = true;
        for f in frames {
            ok &= conn.send(&f).await;
        }
        let until = Instant::now() + lifetime.mul_f64(0.5 + rng.next_f64());
        let ended = if ok {
            member_read(&shared, &mut conn, r, until, &mut abandoned).await
        } else {
            Ended::Closed
        };
        if !shared.running() {
            break;
        }
        match ended {
            Ended::Closed => bump(&shared.c.closed_by_server),
            Ended::TimeUp => match rng.below(100) {
                // Reset, and resume the session later.
                0..=44 => conn.reset(),
                // Abandon the socket; the next `resume` makes the server close it.
                45..=59 => {
                    bump(&shared.c.abandoned);
                    abandoned = Some(conn);
                }
                // Reset, and come back as someone new (the old session expires).
                60..=79 => {
                    conn.reset();
                    session = None;
                }
                // Leave, FIN; come back as someone new.
                _ => {
                    let leave = json!({"event": "leave", "room": room}).to_string();
                    let _ = conn.send(leave.as_bytes()).await;
                    conn.close_politely();
                    session = None;
                }
            },
        }
        if !pause(&shared, uniform(&mut rng, away)).await {
            break;
        }
    }
}

/// A member reads everything (it is not a slow reader) until its time is up.
async fn member_read(
    shared: &Shared,
    conn: &mut Conn,
    r: &mut Resume,
    until: Instant,
    abandoned: &mut Option<Conn>,
) -> Ended {
    let mut running = shared.running.clone();
    loop {
        tokio::select! {
            v = conn.recv() => {
                let Some(v) = v else {
                    return Ended::Closed;
                };
                let mut answers = Vec::new();
                match r.on_event(&v, Instant::now()) {
                    Incoming::Ping(pong) => answers.push(pong),
                    Incoming::Resumed { .. } => {
                        bump(&shared.c.resumed);
                        *abandoned = None;
                    }
                    Incoming::ResumeRefused { .. } => {
                        bump(&shared.c.resume_refused);
                        *abandoned = None;
                        answers = r.rejoin(Instant::now(), true);
                    }
                    _ => {}
                }
                for f in answers {
                    if !conn.send(&f).await {
                        return Ended::Closed;
                    }
                }
            }
            _ = tokio::time::sleep_until(until.into()) => return Ended::TimeUp,
            _ = stopped(&mut running) => return Ended::TimeUp,
        }
    }
}

// ---------------------------------------------------------------- slow reader, flooder

/// Joins `soak` and `flood`, then never reads again; holds the socket to the end.
async fn slow_reader(shared: Arc<Shared>, slot: usize) {
    let Some((mut conn, _)) = shared.connect(slot, Some(SLOW_READER_RCVBUF)).await else {
        return;
    };
    for room in [SOAK_ROOM, FLOOD_ROOM] {
        let join = json!({"event": "join", "room": room}).to_string();
        if !conn.send(join.as_bytes()).await {
            return;
        }
    }
    let mut running = shared.running.clone();
    let _ = stopped(&mut running).await;
    drop(conn);
}

/// Floods `flood` at the rate its `welcome` allows (the burst first), reading
/// and counting refusals; comes back when the server closes it.
async fn flooder(shared: Arc<Shared>, slot: usize) {
    let text = "f".repeat(FLOOD_TEXT);
    while shared.running() {
        let Some((conn, welcome)) = shared.connect(slot, None).await else {
            if !pause(&shared, Duration::from_secs(1)).await {
                return;
            }
            continue;
        };
        let rate = welcome["limits"]["rate"].as_u64().unwrap_or(100).max(1);
        let burst = welcome["limits"]["burst"].as_u64().unwrap_or(1).max(1);
        let Conn {
            framed,
            open: guard,
        } = conn;
        let (mut sink, mut stream) = framed.split();
        let join = json!({"event": "join", "room": FLOOD_ROOM}).to_string();
        if sink.send(join).await.is_err() {
            continue;
        }
        let counters = shared.clone();
        let reader = tokio::spawn(async move {
            while let Some(Ok(frame)) = stream.next().await {
                // Only refusals matter here; the room's own traffic is skipped unparsed.
                if frame.starts_with(br#"{"event":"error""#) {
                    bump(&counters.c.flood_refused);
                }
            }
        });
        // The burst at once (less the join), then one message per 1/rate.
        let mut sent_now = 1u64;
        let mut every = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
        let mut running = shared.running.clone();
        let frame = message(FLOOD_ROOM, text.clone()).to_string();
        loop {
            if sent_now >= burst {
                tokio::select! {
                    _ = every.tick() => {}
                    _ = stopped(&mut running) => break,
                }
            }
            if reader.is_finished() || sink.send(frame.clone()).await.is_err() {
                bump(&shared.c.flood_closed);
                break;
            }
            sent_now += 1;
            bump(&shared.c.flood_sent);
        }
        reader.abort();
        drop(guard);
        if !pause(&shared, Duration::from_secs(1)).await {
            return;
        }
    }
}

// ---------------------------------------------------------------- UDP clients

#[derive(Default)]
struct UdpOutcome {
    sessions: u64,
    failures: u64,
    expected: u64,
    delivered: u64,
}

/// A UDP client: joins `soak`, heartbeats, chats in `udp` now and then, and
/// starts a new session every 20–40 s; counts the sender's numbers it got.
async fn udp_client(shared: Arc<Shared>, addr: String, seed: u64) -> UdpOutcome {
    let mut rng = SplitMix64::new(seed);
    let mut out = UdpOutcome::default();
    while shared.running() {
        let mut c = match UdpChatClient::connect(&addr).await {
            Ok(c) => c,
            Err(_) => {
                out.failures += 1;
                if !pause(&shared, Duration::from_secs(1)).await {
                    break;
                }
                continue;
            }
        };
        out.sessions += 1;
        let join = ClientEvent::Join {
            room: SOAK_ROOM.into(),
            since: None,
        };
        let chat = ClientEvent::Join {
            room: UDP_ROOM.into(),
            since: None,
        };
        if !matches!(c.call(join).await, Ok(Some(_))) || !matches!(c.call(chat).await, Ok(Some(_)))
        {
            out.failures += 1;
            continue;
        }
        let (mut first, mut last, mut seen) = (u64::MAX, 0u64, std::collections::HashSet::new());
        let mut note = |e: &ServerEvent| {
            if let ServerEvent::Message { text, .. } = e {
                if let Some((n, _)) = soak_stamp(&json!({"event": "message", "text": text})) {
                    first = first.min(n);
                    last = last.max(n);
                    seen.insert(n);
                }
            }
        };
        for i in c.take_pending() {
            if let UdpIncoming::Event(e) = i {
                note(&e);
            }
        }
        let beat = (c.heartbeat_interval() / 2).max(Duration::from_millis(100));
        let mut heartbeat = tokio::time::interval(beat);
        let mut chat_every = tokio::time::interval(Duration::from_secs(5));
        let session_ends = Instant::now() + Duration::from_secs(20 + rng.below(21));
        let mut running = shared.running.clone();
        loop {
            if Instant::now() >= session_ends || c.silent_for() > c.expiry() {
                break;
            }
            tokio::select! {
                got = c.recv() => match got {
                    Ok(got) => {
                        for i in got {
                            if let UdpIncoming::Event(e) = i {
                                note(&e);
                            }
                        }
                    }
                    Err(_) => break,
                },
                _ = heartbeat.tick() => {
                    if c.heartbeat_now().await.is_err() {
                        break;
                    }
                }
                _ = chat_every.tick() => {
                    let m = ClientEvent::Message {
                        to: vec![UDP_ROOM.into()],
                        except: vec![],
                        text: "udp says hi".into(),
                        include_self: false,
                    };
                    if c.send(m, true).await.is_err() {
                        break;
                    }
                }
                _ = tokio::time::sleep_until(session_ends.into()) => break,
                _ = stopped(&mut running) => break,
            }
        }
        let _ = c.send_control(&crate::chat::datagram::Control::Bye).await;
        if last >= first {
            out.expected += last - first + 1;
            out.delivered += seen.len() as u64;
        }
    }
    out
}

// ---------------------------------------------------------------- the run

/// Runs the soak and reports what it measured. Fails only when it cannot
/// start (an address that does not resolve, the sender refused); everything
/// that goes wrong later is in the report ([`SoakReport::failures`]).
pub async fn run(config: SoakConfig) -> Result<SoakReport, SoakError> {
    let addr = resolve(&config.addr).await?;
    if config.observers == 0 {
        return Err(SoakError::Config("at least one observer is needed".into()));
    }
    if config.sources == 0 {
        return Err(SoakError::Config("--sources must be at least 1".into()));
    }
    if config.sources > 1 && !addr.ip().is_loopback() {
        return Err(SoakError::Config(
            "--sources spreads clients over 127.0.0.x: only for a server on loopback".into(),
        ));
    }
    let (run_tx, run_rx) = watch::channel(true);
    let (last_tx, last_rx) = watch::channel(None);
    let shared = Arc::new(Shared {
        addr,
        sources: config.sources,
        epoch: Instant::now(),
        c: Counters::default(),
        running: run_rx,
        last_accepted: last_rx,
    });
    let start = Instant::now();
    let rss_task = config.server_pid.map(|pid| {
        let every = config.rss_every;
        let mut running = shared.running.clone();
        tokio::spawn(async move {
            let mut trace = Vec::new();
            let mut gone = false;
            let mut tick = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopped(&mut running) => break,
                }
                match resident_bytes(pid) {
                    Some(bytes) => trace.push(RssSample {
                        secs: start.elapsed().as_secs_f64(),
                        bytes,
                    }),
                    None => gone = !trace.is_empty(),
                }
            }
            if let Some(bytes) = resident_bytes(pid) {
                trace.push(RssSample {
                    secs: start.elapsed().as_secs_f64(),
                    bytes,
                });
            }
            (trace, gone)
        })
    });

    // Observers first: they must be in `soak` before the first message.
    let mut observers = Vec::new();
    let mut ready = Vec::new();
    for i in 0..config.observers {
        let mut o = Observer {
            shared: shared.clone(),
            slot: i + 1,
            fault: config.fault,
            resume: Resume::new(ResumeConfig::default(), 1, Instant::now()),
            counts: Vec::new(),
            replay_left: 0,
            out: ObserverOutcome::default(),
            hist: new_histogram(),
            abandoned: None,
            seed: config.seed,
            drain_timeout: config.drain_timeout,
        };
        let mut conn = None;
        for _ in 0..3 {
            conn = o.connect().await;
            if conn.is_some() {
                break;
            }
        }
        let Some(mut conn) = conn else {
            return Err(SoakError::Start(format!(
                "observer {i} could not connect to {addr}"
            )));
        };
        // Wait for the join's answer so the observer is in the room.
        while o.resume.rooms().is_empty() {
            match tokio::time::timeout(CONNECT_TIMEOUT, conn.recv()).await {
                Ok(Some(v)) => {
                    o.on_event(&mut conn, &v).await;
                }
                _ => {
                    return Err(SoakError::Start(format!(
                        "observer {i} could not join {SOAK_ROOM}"
                    )))
                }
            }
        }
        ready.push((o, conn));
    }
    let (stay, away) = (config.observer_stay, config.away);
    for (o, conn) in ready {
        observers.push(tokio::spawn(o.run(conn, stay, away)));
    }

    let slot0 = config.observers + 1;
    let specials = vec![
        tokio::spawn(slow_reader(shared.clone(), slot0)),
        tokio::spawn(flooder(shared.clone(), slot0 + 1)),
    ];
    let sender_task = tokio::spawn(sender(shared.clone(), config.sender_rate));

    // Members for the rest of the connections, ramped up over the first half of the warm-up.
    let fixed = config.observers + 3;
    let members = config.conns.saturating_sub(fixed);
    let rooms = members.div_ceil(MEMBER_ROOM_SIZE).max(1);
    let ramp = config.warmup / 2;
    let mut member_tasks = Vec::with_capacity(members);
    for m in 0..members {
        let room = if m < FLOOD_WATCHERS {
            FLOOD_ROOM.to_string()
        } else {
            format!("m-{}", m % rooms)
        };
        let start_at = ramp.mul_f64(m as f64 / members as f64);
        member_tasks.push(tokio::spawn(member(
            shared.clone(),
            slot0 + 2 + m,
            room,
            start_at,
            config.member_lifetime,
            config.away,
            config.seed,
        )));
    }
    let udp_tasks: Vec<_> = match &config.udp {
        Some(a) => (0..config.udp_clients)
            .map(|i| {
                tokio::spawn(udp_client(
                    shared.clone(),
                    a.clone(),
                    config.seed ^ (1000 + i as u64),
                ))
            })
            .collect(),
        None => Vec::new(),
    };

    // The load runs.
    let progress_every = Duration::from_secs_f64((config.duration.as_secs_f64() / 20.0).max(5.0));
    let end = start + config.duration;
    while Instant::now() < end {
        let left = end.saturating_duration_since(Instant::now());
        tokio::time::sleep(left.min(progress_every)).await;
        if config.progress {
            let c = &shared.c;
            eprintln!(
                "  {:>5.0}/{:.0} s  {} open  {} opened  {} resumed  {} new sessions{}",
                start.elapsed().as_secs_f64(),
                config.duration.as_secs_f64(),
                group_thousands(c.open_now.load(Ordering::Relaxed)),
                group_thousands(c.opened.load(Ordering::Relaxed)),
                group_thousands(c.resumed.load(Ordering::Relaxed)),
                group_thousands(c.new_sessions.load(Ordering::Relaxed)),
                config
                    .server_pid
                    .and_then(resident_bytes)
                    .map(|b| format!("  server RSS {}", mib(b)))
                    .unwrap_or_default()
            );
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let _ = run_tx.send(false);

    // The sender's last acks, then the observers catch up.
    let mut errors = Vec::new();
    let states = match sender_task.await {
        Ok(Ok(out)) => {
            if let Some(e) = out.error {
                errors.push(e);
            }
            out.states
        }
        Ok(Err(e)) => {
            errors.push(format!("the sender could not start: {e}"));
            vec![UNSENT]
        }
        Err(e) => {
            errors.push(format!("the sender task failed: {e}"));
            vec![UNSENT]
        }
    };
    let last_ok = states.iter().rposition(|&s| s == ACCEPTED).unwrap_or(0) as u64;
    let _ = last_tx.send(Some(last_ok));
    let mut totals = ObserverTotals {
        observers: config.observers,
        ..Default::default()
    };
    let mut hist = new_histogram();
    let accepted = states.iter().filter(|&&s| s == ACCEPTED).count() as u64;
    for t in observers {
        let o = match t.await {
            Ok(o) => o,
            Err(e) => {
                errors.push(format!("an observer task failed: {e}"));
                continue;
            }
        };
        totals.resumes += o.resumes;
        totals.dropped_by_seq += o.dropped_by_seq;
        totals.gaps += o.gaps;
        totals.queue_drops += o.queue_drops;
        if !o.finished {
            totals.unfinished += 1;
        }
        totals.expected += accepted;
        for (n, &state) in states.iter().enumerate() {
            let got = o.counts.get(n).copied().unwrap_or(0);
            if state == ACCEPTED && got == 0 {
                totals.lost += 1;
            }
            if got > 0 {
                totals.delivered += 1;
            }
            totals.duplicated += u64::from(got.saturating_sub(1));
        }
        if let Some(h) = o.hist {
            let _ = hist.add(h);
        }
    }
    for t in member_tasks.into_iter().chain(specials) {
        let _ = t.await;
    }
    let mut udp = config.udp.as_ref().map(|_| UdpTotals {
        clients: config.udp_clients,
        ..Default::default()
    });
    for t in udp_tasks {
        if let (Ok(o), Some(u)) = (t.await, udp.as_mut()) {
            u.sessions += o.sessions;
            u.session_failures += o.failures;
            u.expected += o.expected;
            u.delivered += o.delivered;
        }
    }
    if let Some(u) = udp.as_mut() {
        u.loss_percent = if u.expected == 0 {
            0.0
        } else {
            100.0 * (1.0 - u.delivered as f64 / u.expected as f64)
        };
    }
    let mut rss = RssTrace {
        warmup_secs: config.warmup.as_secs_f64(),
        max_growth: config.max_rss_growth,
        ..Default::default()
    };
    if let Some(t) = rss_task {
        if let Ok((samples, gone)) = t.await {
            rss.samples = samples;
            rss.server_gone = gone;
        }
    }
    rss.finish();
    let c = &shared.c;
    let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let us = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    Ok(SoakReport {
        target: format!("chat tcp {}", config.addr),
        secs,
        conns: config.conns,
        fault: config.fault,
        connections: ConnTotals {
            opened: load(&c.opened),
            peak_open: load(&c.peak_open),
            reset: load(&c.reset),
            abandoned: load(&c.abandoned),
            closed_politely: load(&c.closed_politely),
            closed_by_server: load(&c.closed_by_server),
            new_sessions: load(&c.new_sessions),
            resumed: load(&c.resumed),
            resume_refused: load(&c.resume_refused),
            connect_failures: load(&c.connect_failures),
        },
        observers: totals,
        latency: LatencyTotals {
            samples: hist.len(),
            p50_us: us(0.5),
            p99_us: us(0.99),
            max_us: hist.max() as f64 / 1000.0,
        },
        sender: SenderTotals {
            sent: states.iter().filter(|&&s| s != UNSENT).count() as u64,
            accepted,
            refused: states.iter().filter(|&&s| s == REFUSED).count() as u64,
            unanswered: states.iter().filter(|&&s| s == WAITING).count() as u64,
        },
        flooder: FlooderTotals {
            sent: load(&c.flood_sent),
            refused: load(&c.flood_refused),
            closed: load(&c.flood_closed),
        },
        udp,
        rss,
        errors,
    })
}

async fn resolve(addr: &str) -> Result<SocketAddr, SoakError> {
    tokio::net::lookup_host(addr)
        .await
        .map_err(|e| SoakError::Resolve {
            addr: addr.to_string(),
            why: e.to_string(),
        })?
        .next()
        .ok_or_else(|| SoakError::Resolve {
            addr: addr.to_string(),
            why: "no address".into(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> SoakReport {
        SoakReport {
            sender: SenderTotals {
                sent: 10,
                accepted: 10,
                ..Default::default()
            },
            rss: RssTrace {
                warmup_secs: 10.0,
                max_growth: 1000,
                samples: [
                    (0.0, 100),
                    (5.0, 5000),
                    (10.0, 6000),
                    (20.0, 6500),
                    (30.0, 6200),
                ]
                .iter()
                .map(|&(secs, bytes)| RssSample { secs, bytes })
                .collect(),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn rss_growth_counts_from_the_first_sample_after_the_warm_up_to_the_peak() {
        let mut r = report();
        r.rss.finish();
        assert_eq!(r.rss.after_warmup, Some(6000));
        assert_eq!(r.rss.peak_after_warmup, Some(6500));
        assert_eq!(
            r.rss.growth,
            Some(500),
            "the warm-up's growth does not count"
        );
        assert!(r.failures().is_empty(), "{:?}", r.failures());
        r.rss.max_growth = 499;
        assert_eq!(r.failures().len(), 1);
        assert!(r.failures()[0].contains("RSS grew"));
    }

    #[test]
    fn every_must_be_zero_figure_fails_the_run() {
        let mut r = report();
        r.rss.finish();
        r.observers.lost = 1;
        r.observers.duplicated = 2;
        r.rss.server_gone = true;
        r.errors.push("the sender's connection failed".into());
        let f = r.failures();
        assert_eq!(f.len(), 4, "{f:?}");
        assert!(f[0].contains("1 sender messages lost"));
        assert!(f[1].contains("2 sender messages duplicated"));
        assert!(r.to_text().contains("FAILED"));
        let nothing = SoakReport::default();
        assert!(
            nothing.failures()[0].contains("accepted no sender message"),
            "a run that checked nothing is not a pass"
        );
    }

    #[test]
    fn the_stamp_is_the_number_and_the_send_time() {
        let v = json!({"event": "message", "text": "soak 42 123456"});
        assert_eq!(soak_stamp(&v), Some((42, 123456)));
        assert_eq!(soak_stamp(&json!({"event": "message", "text": "hi"})), None);
        assert_eq!(
            soak_stamp(&json!({"event": "joined", "text": "soak 1 2"})),
            None
        );
    }

    #[test]
    fn the_sparkline_spans_lowest_to_highest() {
        let s: Vec<RssSample> = [1u64, 2, 3, 8]
            .iter()
            .map(|&b| RssSample {
                secs: 0.0,
                bytes: b << 20,
            })
            .collect();
        let line = sparkline(&s);
        // (v − lo) / (hi − lo) × 7 = 0, 1, 2, 7 for 1, 2, 3, 8 MiB.
        assert!(line.starts_with("▁▂▃█"), "{line}");
        assert!(line.ends_with("1.0 MiB .. 8.0 MiB"));
    }

    #[test]
    fn defaults_scale_with_the_run() {
        let c = SoakConfig::new("127.0.0.1:1", 10_000, Duration::from_secs(600));
        assert_eq!(c.observers, 50);
        assert_eq!(c.warmup, Duration::from_secs(150));
        assert_eq!(c.member_lifetime, Duration::from_secs(60));
        let c = SoakConfig::new("127.0.0.1:1", 300, Duration::from_secs(30));
        assert_eq!(c.observers, 10);
        assert_eq!(c.member_lifetime, Duration::from_secs(5));
    }
}
