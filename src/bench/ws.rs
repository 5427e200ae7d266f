//! `netlab bench ws`: a load generator for WebSocket echo servers.
//!
//! Each connection does the opening handshake with netlab's client, then keeps
//! `pipeline` binary messages in flight: whenever echoes come back it records
//! their round-trip times and queues as many new messages, written together
//! (the client masks every frame, as RFC 6455 requires). Any RFC 6455 echo
//! server can be measured — netlab's and a peer's, in the same run.

use super::{process_cpu_time, Report};
use crate::ws::client::{self, ClientConfig};
use crate::ws::protocol::Limits;
use crate::ws::{Message, WsError};
use bytes::Bytes;
use hdrhistogram::Histogram;
use std::collections::VecDeque;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How a WebSocket load run is shaped.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// Server URL, `ws://host:port/path`.
    pub url: String,
    /// Concurrent connections.
    pub conns: usize,
    /// Payload bytes per message.
    pub size: usize,
    /// Messages each connection keeps in flight.
    pub pipeline: usize,
    /// Warm-up before measuring.
    pub warmup: Duration,
    /// Measured window.
    pub duration: Duration,
    /// Server process to charge CPU time to, if known.
    pub server_pid: Option<u32>,
    /// Show a progress line on stderr (when it is a terminal).
    pub progress: bool,
}

const WARMUP: u8 = 0;
const MEASURE: u8 = 1;
const STOP: u8 = 2;

/// Largest latency the histogram tracks: 60 s in nanoseconds.
const MAX_LATENCY_NS: u64 = 60_000_000_000;

struct Shared {
    phase: AtomicU8,
    measured: AtomicU64,
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).expect("valid bounds")
}

/// Runs the load described by `config` and reports what it measured.
pub async fn run(config: LoadConfig) -> Result<Report, WsError> {
    let shared = Arc::new(Shared {
        phase: AtomicU8::new(WARMUP),
        measured: AtomicU64::new(0),
    });
    let client_config = ClientConfig {
        limits: Limits {
            max_frame: config.size.max(Limits::default().max_frame),
            max_message: config.size.max(Limits::default().max_message),
        },
        ..ClientConfig::default()
    };
    let mut tasks = Vec::with_capacity(config.conns);
    for _ in 0..config.conns {
        let (ws, _) = client::connect(&config.url, &client_config).await?;
        let shared = shared.clone();
        let (size, pipeline) = (config.size, config.pipeline.max(1));
        tasks.push(tokio::spawn(async move {
            connection(ws, size, pipeline, &shared).await
        }));
    }

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
                "\r  {:>4.1}/{:.0} s  {:>10} msgs/s ",
                start.elapsed().as_secs_f64(),
                config.duration.as_secs_f64(),
                super::group_thousands(now - last)
            );
            last = now;
        }
    }
    shared.phase.store(STOP, Ordering::SeqCst);
    let secs = start.elapsed().as_secs_f64();
    let cpu_after = config.server_pid.and_then(process_cpu_time);
    if show {
        eprintln!();
    }

    let mut hist = new_histogram();
    let mut failed = 0;
    for t in tasks {
        match tokio::time::timeout(Duration::from_secs(10), t).await {
            Ok(Ok(Ok(h))) => hist.add(h).expect("same bounds"),
            _ => failed += 1,
        }
    }
    let messages = hist.len();
    let us = |q: f64| hist.value_at_quantile(q) as f64 / 1000.0;
    let server_cpu_us_per_msg = match (cpu_before, cpu_after) {
        (Some(b), Some(a)) if messages > 0 => Some((a - b).as_secs_f64() * 1e6 / messages as f64),
        _ => None,
    };
    Ok(Report {
        target: format!("ws {}", config.url),
        conns: config.conns,
        size: config.size,
        pipeline: config.pipeline,
        secs,
        messages,
        msgs_per_sec: messages as f64 / secs,
        p50_us: us(0.5),
        p99_us: us(0.99),
        max_us: hist.max() as f64 / 1000.0,
        server_cpu_us_per_msg,
        failed_conns: failed,
    })
}

/// One connection: keep `pipeline` messages in flight until told to stop.
async fn connection(
    mut ws: crate::ws::WebSocket<tokio::net::TcpStream>,
    size: usize,
    pipeline: usize,
    shared: &Shared,
) -> Result<Histogram<u64>, WsError> {
    let msg = Message::Binary(Bytes::from(vec![b'x'; size]));
    let mut hist = new_histogram();
    let mut in_flight = VecDeque::with_capacity(pipeline);
    for _ in 0..pipeline {
        ws.feed(&msg)?;
        in_flight.push_back(Instant::now());
    }
    // `recv` writes what was fed before it waits for the socket.
    loop {
        let Some(echo) = ws.recv().await? else {
            return Err(WsError::ClosedWithoutHandshake { mid_message: false });
        };
        if !echo.is_data() {
            continue;
        }
        if echo.payload().len() != size {
            return Err(WsError::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "echo differs in length from what was sent",
            )));
        }
        let phase = shared.phase.load(Ordering::Relaxed);
        let sent = in_flight.pop_front().unwrap_or_else(Instant::now);
        if phase == MEASURE {
            let ns = sent.elapsed().as_nanos().clamp(1, MAX_LATENCY_NS as u128) as u64;
            hist.record(ns).expect("clamped into bounds");
            shared.measured.fetch_add(1, Ordering::Relaxed);
        }
        if phase == STOP {
            let _ = ws.close(crate::ws::CloseCode::Normal, "").await;
            return Ok(hist);
        }
        ws.feed(&msg)?;
        in_flight.push_back(Instant::now());
    }
}
