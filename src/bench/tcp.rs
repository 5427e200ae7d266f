//! `netlab bench tcp`: a load generator for length-prefixed echo servers.
//!
//! Each connection keeps `pipeline` frames in flight: whenever echoes come
//! back, it records their round-trip times and sends as many new frames, all in
//! one write. Latency is measured per frame from the moment it was encoded.

use super::window::{measure, new_histogram, record, Shape, Shared, Window, MEASURE, STOP};
use super::Report;
use crate::framing::{decode_frame, encode_frame, FrameError};
use bytes::BytesMut;
use hdrhistogram::Histogram;
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
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

/// Runs the load described by `config` and reports what it measured.
pub async fn run(config: LoadConfig) -> Result<Report, FrameError> {
    let shared = Arc::new(Shared::default());
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
    let window = Window {
        warmup: config.warmup,
        duration: config.duration,
        server_pid: config.server_pid,
        progress: config.progress,
        join_timeout: Duration::from_secs(5),
    };
    let shape = Shape {
        target: format!("tcp {}", config.addr),
        conns: config.conns,
        size: config.size,
        pipeline: config.pipeline,
    };
    Ok(measure(&shared, tasks, &window, shape).await)
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
                record(&mut hist, sent);
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
