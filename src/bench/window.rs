//! What the echo load generators share: the warm-up → measure → stop phases,
//! the latency histogram, and the measured window that turns the connections'
//! histograms into one [`Report`].
//!
//! Connections record round trips only while the phase is [`MEASURE`], so
//! connection set-up and warm-up never count, and every load generator reports
//! the same figures in the same way.

use super::{group_thousands, process_cpu_time, Fairness, Report};
use hdrhistogram::Histogram;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// Connections run but record nothing.
pub const WARMUP: u8 = 0;
/// Connections record every round trip.
pub const MEASURE: u8 = 1;
/// Connections finish and hand in their histograms.
pub const STOP: u8 = 2;

/// Largest latency the histogram tracks: 60 s in nanoseconds.
pub const MAX_LATENCY_NS: u64 = 60_000_000_000;

/// State shared by a load run and its connections.
#[derive(Debug, Default)]
pub struct Shared {
    /// [`WARMUP`], [`MEASURE`] or [`STOP`].
    pub phase: AtomicU8,
    /// Round trips measured so far (for the progress line).
    pub measured: AtomicU64,
}

/// An empty latency histogram in nanoseconds, 3 significant digits.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).expect("valid bounds")
}

/// Records one round trip that started at `sent`.
pub fn record(hist: &mut Histogram<u64>, sent: Instant) {
    let ns = sent.elapsed().as_nanos().clamp(1, MAX_LATENCY_NS as u128) as u64;
    hist.record(ns).expect("clamped into bounds");
}

/// How long to warm up and measure, and what else to watch.
#[derive(Debug, Clone)]
pub struct Window {
    /// Warm-up before measuring.
    pub warmup: Duration,
    /// Measured window.
    pub duration: Duration,
    /// Server process to charge CPU time to, if known.
    pub server_pid: Option<u32>,
    /// Show a progress line on stderr (when it is a terminal).
    pub progress: bool,
    /// How long a connection may take to hand in its histogram after [`STOP`].
    pub join_timeout: Duration,
}

/// What was loaded, as the report names it.
#[derive(Debug, Clone)]
pub struct Shape {
    /// e.g. `tcp 127.0.0.1:7000`.
    pub target: String,
    /// Concurrent connections.
    pub conns: usize,
    /// Payload bytes per message.
    pub size: usize,
    /// Messages each connection keeps in flight.
    pub pipeline: usize,
}

/// Warms up, measures for `window.duration`, stops the connections and
/// merges their histograms into a report. A connection that failed or did not
/// hand in its histogram in time counts in `failed_conns`.
pub async fn measure<E>(
    shared: &Shared,
    tasks: Vec<JoinHandle<Result<Histogram<u64>, E>>>,
    window: &Window,
    shape: Shape,
) -> Report {
    tokio::time::sleep(window.warmup).await;
    let cpu_before = window.server_pid.and_then(process_cpu_time);
    let start = Instant::now();
    shared.phase.store(MEASURE, Ordering::SeqCst);
    let show = window.progress && std::io::stderr().is_terminal();
    let mut last = 0;
    while start.elapsed() < window.duration {
        let left = window.duration.saturating_sub(start.elapsed());
        tokio::time::sleep(left.min(Duration::from_secs(1))).await;
        if show {
            let now = shared.measured.load(Ordering::Relaxed);
            eprint!(
                "\r  {:>4.1}/{:.0} s  {:>10} msgs/s ",
                start.elapsed().as_secs_f64(),
                window.duration.as_secs_f64(),
                group_thousands(now - last)
            );
            last = now;
        }
    }
    shared.phase.store(STOP, Ordering::SeqCst);
    let secs = start.elapsed().as_secs_f64();
    let cpu_after = window.server_pid.and_then(process_cpu_time);
    if show {
        eprintln!();
    }

    let mut hist = new_histogram();
    let mut per_conn = Vec::with_capacity(tasks.len());
    let mut failed = 0;
    for t in tasks {
        match tokio::time::timeout(window.join_timeout, t).await {
            Ok(Ok(Ok(h))) => {
                per_conn.push(h.len());
                hist.add(h).expect("same bounds");
            }
            _ => failed += 1,
        }
    }
    let messages = hist.len();
    let us = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    let server_cpu_us_per_msg = match (cpu_before, cpu_after) {
        (Some(b), Some(a)) if messages > 0 => Some((a - b).as_secs_f64() * 1e6 / messages as f64),
        _ => None,
    };
    Report {
        target: shape.target,
        conns: shape.conns,
        size: shape.size,
        pipeline: shape.pipeline,
        secs,
        messages,
        msgs_per_sec: messages as f64 / secs,
        p50_us: us(0.5),
        p99_us: us(0.99),
        p999_us: us(0.999),
        max_us: hist.max() as f64 / 1000.0,
        fairness: Fairness::of(&per_conn),
        server_cpu_us_per_msg,
        failed_conns: failed,
    }
}
