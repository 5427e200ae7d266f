//! `netlab bench tcp`: a load generator for length-prefixed echo servers.
//!
//! Each connection keeps `pipeline` frames in flight: whenever echoes come
//! back, it records their round-trip times and sends as many new frames, all in
//! one write. Latency is measured per frame from the moment it was encoded.

use super::{process_cpu_time, Report};
use crate::framing::{decode_frame, encode_frame, FrameError};
use bytes::BytesMut;
use hdrhistogram::Histogram;
use std::collections::VecDeque;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How a load run is shaped.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    /// Server address.
    pub addr: String,
    /// Concurrent connections.
    pub conns: usize,
    /// Payload bytes per frame.
    pub size: usize,
    /// Frames each connection keeps in flight.
    pub pipeline: usize,
    /// Seconds of warm-up before measuring.
    pub warmup: Duration,
    /// Seconds measured.
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

/// Runs the load described by `config` and reports what it measured.
pub async fn run(config: LoadConfig) -> Result<Report, FrameError> {
    let shared = Arc::new(Shared {
        phase: AtomicU8::new(WARMUP),
        measured: AtomicU64::new(0),
    });
    let mut tasks = Vec::with_capacity(config.conns);
    for _ in 0..config.conns {
        let stream = TcpStream::connect(&config.addr).await?;
        stream.set_nodelay(true)?;
        let shared = shared.clone();
        let (size, pipeline) = (config.size, config.pipeline.max(1));
        tasks.push(tokio::spawn(async move {
            connection(stream, size, pipeline, &shared).await
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
        match tokio::time::timeout(Duration::from_secs(5), t).await {
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
        target: format!("tcp {}", config.addr),
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

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).expect("valid bounds")
}

/// One connection's loop: keep `pipeline` frames in flight until told to stop.
async fn connection(
    mut stream: TcpStream,
    size: usize,
    pipeline: usize,
    shared: &Shared,
) -> Result<Histogram<u64>, FrameError> {
    let payload = vec![b'x'; size];
    let max = size.max(1);
    let mut hist = new_histogram();
    let mut inbox = BytesMut::with_capacity(64 * 1024);
    let mut outbox = BytesMut::with_capacity(pipeline * (size + 4));
    let mut in_flight = VecDeque::with_capacity(pipeline);
    for _ in 0..pipeline {
        encode_frame(&payload, &mut outbox, max)?;
        in_flight.push_back(Instant::now());
    }
    stream.write_all(&outbox).await?;
    outbox.clear();
    loop {
        if inbox.capacity() - inbox.len() < 4096 {
            inbox.reserve(64 * 1024);
        }
        if stream.read_buf(&mut inbox).await? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "server closed the connection",
            )
            .into());
        }
        let phase = shared.phase.load(Ordering::Relaxed);
        let mut done = 0;
        while let Some(echo) = decode_frame(&mut inbox, max)? {
            if echo.len() != size {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "echo differs in length from what was sent",
                )
                .into());
            }
            let sent = in_flight.pop_front().unwrap_or_else(Instant::now);
            if phase == MEASURE {
                let ns = sent.elapsed().as_nanos().clamp(1, MAX_LATENCY_NS as u128) as u64;
                hist.record(ns).expect("clamped into bounds");
            }
            done += 1;
        }
        if phase == MEASURE {
            shared.measured.fetch_add(done, Ordering::Relaxed);
        }
        if phase == STOP {
            return Ok(hist);
        }
        for _ in 0..done {
            encode_frame(&payload, &mut outbox, max)?;
            in_flight.push_back(Instant::now());
        }
        if !outbox.is_empty() {
            stream.write_all(&outbox).await?;
            outbox.clear();
        }
    }
}
