//! `netlab bench chat`: how many idle clients the hub holds, and how fast it
//! fans one sender's messages out to a big room.
//!
//! - **idle**: opens `conns` connections, reads each welcome, then holds them
//!   all open and reads the server's resident memory (`VmRSS` in
//!   `/proc/PID/status`) before and after: the difference divided by the
//!   number of connections is the server's memory per idle connection.
//! - **fan-out**: `receivers` connections join one room; one more connection
//!   sends messages to it, each carrying its send time. Every receiver records
//!   the end-to-end latency of every message. The sender keeps at most
//!   `window` messages in flight (a message is done when every receiver has
//!   it), so the server's queues never overflow and nothing is dropped: the
//!   figure is sustained deliveries, not a burst into buffers.

use super::{group_thousands, process_cpu_time};
use crate::chat::protocol::{ClientEvent, ClientFrame};
use crate::client::tcp::{ChatClient, ChatClientError};
use crate::framing::{decode_frame, encode_frame, FrameError};
use bytes::BytesMut;
use hdrhistogram::Histogram;
use serde::Serialize;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;

/// The room the fan-out benchmark uses.
pub const ROOM: &str = "bench";

/// Connections opened at once while building up the idle set (below the
/// listen backlog, so no SYN is dropped and retried a second later).
const CONNECT_BATCH: usize = 256;

/// Largest latency the histogram tracks: 60 s in nanoseconds.
const MAX_LATENCY_NS: u64 = 60_000_000_000;

const WARMUP: u8 = 0;
const MEASURE: u8 = 1;
const STOP: u8 = 2;

/// Errors of a chat benchmark run.
#[derive(Debug, thiserror::Error)]
pub enum ChatBenchError {
    /// A client failed.
    #[error(transparent)]
    Client(#[from] ChatClientError),
    /// Framing or the socket failed.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// A socket failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// A connection got no welcome in time.
    #[error("a new connection got no welcome within {0:?}: the server accepts nothing (out of file descriptors?)")]
    NoWelcome(Duration),
    /// The server refused something the benchmark needs.
    #[error("the server refused: {0} (start it with a high --rate and --burst for benchmarks)")]
    Refused(String),
}

/// The server's resident memory in bytes (`VmRSS` from `/proc/PID/status`).
pub fn resident_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// What the idle benchmark measured.
#[derive(Debug, Clone, Serialize)]
pub struct IdleReport {
    /// Connections held.
    pub conns: usize,
    /// Server RSS before connecting (bytes).
    pub rss_before: Option<u64>,
    /// Server RSS with every connection open and idle (bytes).
    pub rss_after: Option<u64>,
    /// `(after - before) / conns`.
    pub bytes_per_conn: Option<f64>,
    /// Seconds it took to open them all.
    pub connect_secs: f64,
}

impl IdleReport {
    /// The lines `netlab bench chat --idle` prints.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "idle: {} connections open (in {:.1} s)\n",
            group_thousands(self.conns as u64),
            self.connect_secs
        );
        if let (Some(b), Some(a), Some(per)) =
            (self.rss_before, self.rss_after, self.bytes_per_conn)
        {
            s.push_str(&format!(
                "  server RSS {:.1} MiB -> {:.1} MiB: {:.2} KiB per idle connection\n",
                b as f64 / 1048576.0,
                a as f64 / 1048576.0,
                per / 1024.0
            ));
        } else {
            s.push_str("  (give --server-pid to measure the server's memory)\n");
        }
        s
    }
}

/// Opens `conns` connections to `addr`, reads each welcome and holds them;
/// measures the server's memory growth if `server_pid` is given.
pub async fn idle(
    addr: &str,
    conns: usize,
    server_pid: Option<u32>,
    progress: bool,
) -> Result<(IdleReport, Vec<TcpStream>), ChatBenchError> {
    let rss_before = server_pid.and_then(resident_bytes);
    let start = Instant::now();
    let mut held = Vec::with_capacity(conns);
    let show = progress && std::io::stderr().is_terminal();
    while held.len() < conns {
        let n = CONNECT_BATCH.min(conns - held.len());
        let batch: Vec<_> = (0..n)
            .map(|_| {
                let addr = addr.to_string();
                tokio::spawn(async move { connect_and_read_welcome(&addr).await })
            })
            .collect();
        for t in batch {
            held.push(t.await.expect("connect task")?);
        }
        if show {
            eprint!(
                "\r  {} / {} connected ",
                group_thousands(held.len() as u64),
                group_thousands(conns as u64)
            );
        }
    }
    if show {
        eprintln!();
    }
    let connect_secs = start.elapsed().as_secs_f64();
    // Let the server finish any work from the connects before measuring.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_after = server_pid.and_then(resident_bytes);
    let bytes_per_conn = match (rss_before, rss_after) {
        (Some(b), Some(a)) if conns > 0 => Some(a.saturating_sub(b) as f64 / conns as f64),
        _ => None,
    };
    Ok((
        IdleReport {
            conns,
            rss_before,
            rss_after,
            bytes_per_conn,
            connect_secs,
        },
        held,
    ))
}

/// How long a new connection may wait for its welcome before the run fails
/// (a server out of file descriptors accepts nothing, and would hang the run).
const WELCOME_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects and reads exactly the welcome frame, keeping nothing else.
async fn connect_and_read_welcome(addr: &str) -> Result<TcpStream, ChatBenchError> {
    tokio::time::timeout(WELCOME_TIMEOUT, read_welcome(addr))
        .await
        .map_err(|_| ChatBenchError::NoWelcome(WELCOME_TIMEOUT))?
}

async fn read_welcome(addr: &str) -> Result<TcpStream, ChatBenchError> {
    let mut s = TcpStream::connect(addr)
        .await
        .map_err(|source| ChatClientError::Connect {
            addr: addr.to_string(),
            source,
        })?;
    let mut buf = BytesMut::with_capacity(512);
    loop {
        if s.read_buf(&mut buf).await? == 0 {
            return Err(ChatClientError::Closed.into());
        }
        if decode_frame(&mut buf, 1 << 20)?.is_some() {
            return Ok(s);
        }
    }
}

/// How a fan-out run is shaped.
#[derive(Debug, Clone)]
pub struct FanoutConfig {
    /// Server address.
    pub addr: String,
    /// Members of the room.
    pub receivers: usize,
    /// Messages in flight at most.
    pub window: usize,
    /// Warm-up before measuring.
    pub warmup: Duration,
    /// Measured time.
    pub duration: Duration,
    /// Server process to charge CPU time to, if known.
    pub server_pid: Option<u32>,
    /// Show progress on stderr (when it is a terminal).
    pub progress: bool,
}

/// What the fan-out benchmark measured.
#[derive(Debug, Clone, Serialize)]
pub struct FanoutReport {
    /// What was measured.
    pub target: String,
    /// Room members.
    pub receivers: usize,
    /// Messages in flight at most.
    pub window: usize,
    /// Measured seconds.
    pub secs: f64,
    /// Messages delivered to receivers in the window.
    pub deliveries: u64,
    /// Deliveries per second.
    pub deliveries_per_sec: f64,
    /// Median send-to-receive latency (µs).
    pub p50_us: f64,
    /// 99th percentile latency (µs).
    pub p99_us: f64,
    /// 99.9th percentile latency (µs).
    pub p999_us: f64,
    /// Slowest (µs).
    pub max_us: f64,
    /// Server CPU time per delivery (µs), with `--server-pid`.
    pub server_cpu_us_per_delivery: Option<f64>,
}

impl FanoutReport {
    /// The lines `netlab bench chat --fanout` prints.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{}: 1 sender -> room of {}, window {}, {:.1} s\n  {:>12} deliveries/s   ({} deliveries)\n  latency p50 {:.1} µs   p99 {:.1} µs   p99.9 {:.1} µs   max {:.1} µs\n",
            self.target,
            group_thousands(self.receivers as u64),
            self.window,
            self.secs,
            group_thousands(self.deliveries_per_sec as u64),
            group_thousands(self.deliveries),
            self.p50_us,
            self.p99_us,
            self.p999_us,
            self.max_us
        );
        if let Some(cpu) = self.server_cpu_us_per_delivery {
            s.push_str(&format!("  server CPU {cpu:.2} µs per delivery\n"));
        }
        s
    }
}

struct Shared {
    phase: AtomicU8,
    delivered: AtomicU64,
    measured: AtomicU64,
    progress: Notify,
    epoch: Instant,
}

/// Runs the fan-out benchmark.
pub async fn fanout(config: FanoutConfig) -> Result<FanoutReport, ChatBenchError> {
    let shared = Arc::new(Shared {
        phase: AtomicU8::new(WARMUP),
        delivered: AtomicU64::new(0),
        measured: AtomicU64::new(0),
        progress: Notify::new(),
        epoch: Instant::now(),
    });
    let mut receivers = Vec::with_capacity(config.receivers);
    for _ in 0..config.receivers {
        let mut c = ChatClient::connect(&config.addr).await?;
        if let crate::client::tcp::AckOutcome::Refused(code, why) = c
            .call(ClientEvent::Join {
                room: ROOM.into(),
                since: None,
            })
            .await?
        {
            return Err(ChatBenchError::Refused(format!("{code}: {why}")));
        }
        receivers.push(c);
    }
    let mut sender = ChatClient::connect(&config.addr).await?;
    if let crate::client::tcp::AckOutcome::Refused(code, why) = sender
        .call(ClientEvent::Join {
            room: ROOM.into(),
            since: None,
        })
        .await?
    {
        return Err(ChatBenchError::Refused(format!("{code}: {why}")));
    }
    let mut tasks = Vec::with_capacity(receivers.len());
    for c in receivers {
        let shared = shared.clone();
        tasks.push(tokio::spawn(async move { receive(c, &shared).await }));
    }
    let (framed, _) = sender.into_framed();
    let mut stream = framed.into_inner();
    let r = config.receivers.max(1) as u64;
    let window = config.window.max(1) as u64;
    let sender_shared = shared.clone();
    let send_task = tokio::spawn(async move {
        let shared = sender_shared;
        let mut sent: u64 = 0;
        let mut buf = BytesMut::new();
        let mut drain = [0u8; 4096];
        loop {
            if shared.phase.load(Ordering::Relaxed) == STOP {
                return Ok::<_, ChatBenchError>(sent);
            }
            let done = shared.delivered.load(Ordering::Relaxed) / r;
            let room = window.saturating_sub(sent - done.min(sent));
            if room == 0 {
                let _ =
                    tokio::time::timeout(Duration::from_millis(100), shared.progress.notified())
                        .await;
                continue;
            }
            for _ in 0..room {
                let ns = shared.epoch.elapsed().as_nanos() as u64;
                let json = ClientFrame {
                    event: ClientEvent::Message {
                        to: vec![ROOM.into()],
                        except: vec![],
                        text: ns.to_string(),
                        include_self: false,
                    },
                    ack: None,
                }
                .to_json();
                encode_frame(&json, &mut buf, usize::MAX)?;
                sent += 1;
            }
            stream.write_all(&buf).await?;
            buf.clear();
            // The sender is in the room too (joined notices): keep its socket drained.
            while let Ok(n) = stream.try_read(&mut drain) {
                if n == 0 {
                    break;
                }
            }
        }
    });

    tokio::time::sleep(config.warmup).await;
    let cpu_before = config.server_pid.and_then(process_cpu_time);
    let start = Instant::now();
    shared.phase.store(MEASURE, Ordering::SeqCst);
    let show = config.progress && std::io::stderr().is_terminal();
    let mut last = 0;
    while start.elapsed() < config.duration {
        let left = config.duration.saturating_sub(start.elapsed());
        tokio::time::sleep(left.min(Duration::from_secs(1))).await;
        if show {
            let now = shared.measured.load(Ordering::Relaxed);
            eprint!(
                "\r  {:>4.1}/{:.0} s  {:>10} deliveries/s ",
                start.elapsed().as_secs_f64(),
                config.duration.as_secs_f64(),
                group_thousands(now - last)
            );
            last = now;
        }
    }
    shared.phase.store(STOP, Ordering::SeqCst);
    let secs = start.elapsed().as_secs_f64();
    let cpu_after = config.server_pid.and_then(process_cpu_time);
    let deliveries = shared.measured.load(Ordering::SeqCst);
    if show {
        eprintln!();
    }
    shared.progress.notify_waiters();
    let _ = tokio::time::timeout(Duration::from_secs(5), send_task).await;
    let mut hist = new_histogram();
    for t in tasks {
        t.abort();
        if let Ok(Ok(h)) = t.await {
            hist.add(h).expect("same bounds");
        }
    }
    let us = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    let server_cpu_us_per_delivery = match (cpu_before, cpu_after) {
        (Some(b), Some(a)) if deliveries > 0 => {
            Some((a - b).as_secs_f64() * 1e6 / deliveries as f64)
        }
        _ => None,
    };
    Ok(FanoutReport {
        target: format!("chat tcp {}", config.addr),
        receivers: config.receivers,
        window: config.window,
        secs,
        deliveries,
        deliveries_per_sec: deliveries as f64 / secs,
        p50_us: us(0.5),
        p99_us: us(0.99),
        p999_us: us(0.999),
        max_us: hist.max() as f64 / 1000.0,
        server_cpu_us_per_delivery,
    })
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).expect("valid bounds")
}

/// The send time in a benchmark message: the digits of its `"text"`.
fn stamp(payload: &[u8]) -> Option<u64> {
    const KEY: &[u8] = b"\"text\":\"";
    let at = payload.windows(KEY.len()).rposition(|w| w == KEY)? + KEY.len();
    let digits = &payload[at..];
    let end = digits.iter().position(|b| !b.is_ascii_digit())?;
    std::str::from_utf8(&digits[..end]).ok()?.parse().ok()
}

/// One receiver: counts deliveries and records their latency until stopped.
async fn receive(client: ChatClient, shared: &Shared) -> Result<Histogram<u64>, ChatBenchError> {
    let (framed, _) = client.into_framed();
    let parts = framed.into_parts();
    let mut stream = parts.io;
    let mut inbox = parts.read_buf;
    let mut hist = new_histogram();
    loop {
        if inbox.capacity() - inbox.len() < 1024 {
            inbox.reserve(16 * 1024);
        }
        if stream.read_buf(&mut inbox).await? == 0 {
            return Ok(hist);
        }
        let phase = shared.phase.load(Ordering::Relaxed);
        let now = shared.epoch.elapsed().as_nanos() as u64;
        let mut n = 0;
        while let Some(frame) = decode_frame(&mut inbox, 1 << 20)? {
            if let Some(sent) = stamp(&frame) {
                n += 1;
                if phase == MEASURE {
                    hist.record(now.saturating_sub(sent).clamp(1, MAX_LATENCY_NS))
                        .expect("clamped");
                }
            }
        }
        if n > 0 {
            shared.delivered.fetch_add(n, Ordering::Relaxed);
            if phase == MEASURE {
                shared.measured.fetch_add(n, Ordering::Relaxed);
            }
            shared.progress.notify_one();
        }
        if phase == STOP {
            return Ok(hist);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stamp_is_read_from_the_text_field() {
        assert_eq!(
            stamp(br#"{"event":"message","from":"ab","nick":"x","to":["bench"],"text":"12345"}"#),
            Some(12345)
        );
        assert_eq!(stamp(br#"{"event":"joined","room":"bench"}"#), None);
    }

    #[test]
    fn own_resident_memory_is_readable() {
        assert!(resident_bytes(std::process::id()).unwrap() > 0);
    }
}
