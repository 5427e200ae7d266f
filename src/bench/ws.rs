//! `netlab bench ws`: a load generator for WebSocket echo servers.
//!
//! Each connection does the opening handshake with netlab's client, then keeps
//! `pipeline` binary messages in flight: whenever echoes come back it records
//! their round-trip times and queues as many new messages, written together
//! (the client masks every frame, as RFC 6455 requires). Any RFC 6455 echo
//! server can be measured — netlab's and a peer's, in the same run.

use super::window::{measure, new_histogram, record, Shape, Shared, Window, MEASURE, STOP};
use super::Report;
use crate::ws::client::{self, ClientConfig};
use crate::ws::protocol::Limits;
use crate::ws::{Message, WsError};
use bytes::Bytes;
use hdrhistogram::Histogram;
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
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

/// Runs the load described by `config` and reports what it measured.
pub async fn run(config: LoadConfig) -> Result<Report, WsError> {
    let shared = Arc::new(Shared::default());
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

    let window = Window {
        warmup: config.warmup,
        duration: config.duration,
        server_pid: config.server_pid,
        progress: config.progress,
        join_timeout: Duration::from_secs(10),
    };
    let shape = Shape {
        target: format!("ws {}", config.url),
        conns: config.conns,
        size: config.size,
        pipeline: config.pipeline,
    };
    Ok(measure(&shared, tasks, &window, shape).await)
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
            record(&mut hist, sent);
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
