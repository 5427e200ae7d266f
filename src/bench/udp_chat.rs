//! `netlab bench chat --udp`: chat datagrams per second through the hub over UDP.
//!
//! One sender and `receivers` members of one room, all UDP sessions. The
//! sender keeps at most `window` messages in flight (a message is done when
//! its ack comes back; an ack lost for [`ACK_TIMEOUT`] frees its slot, since
//! UDP resends nothing). Receivers count the messages that reach them. The
//! figure to compare with `iperf3 -u` is the datagrams the hub sends per second.

use super::process_cpu_time;
use crate::chat::protocol::{ClientEvent, ServerEvent};
use crate::client::udp::{Incoming, UdpChatClient, UdpChatError};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long the sender waits for any ack before taking its window as lost.
pub const ACK_TIMEOUT: Duration = Duration::from_millis(50);

/// What to measure.
#[derive(Debug, Clone)]
pub struct UdpFanoutConfig {
    /// Server address (host:port).
    pub addr: String,
    /// Members of the room besides the sender.
    pub receivers: usize,
    /// Messages in flight.
    pub window: usize,
    /// Warm-up before measuring.
    pub warmup: Duration,
    /// Measured time.
    pub duration: Duration,
    /// The server's pid, for its CPU time.
    pub server_pid: Option<u32>,
}

/// What was measured.
#[derive(Debug, Clone, Serialize)]
pub struct UdpFanoutReport {
    /// Room members receiving.
    pub receivers: usize,
    /// Messages in flight.
    pub window: usize,
    /// Measured seconds.
    pub secs: f64,
    /// Messages the sender sent while measuring.
    pub sent: u64,
    /// Acks that came back.
    pub acked: u64,
    /// Messages that reached a receiver (one per receiver).
    pub delivered: u64,
    /// Deliveries that did not arrive: `sent × receivers − delivered`, floored at 0.
    /// Approximate: messages in flight when the window opens or closes count on either side.
    pub lost: i64,
    /// Datagrams the hub received and sent per second (messages in, acks and deliveries out).
    pub datagrams_per_sec: f64,
    /// Deliveries per second.
    pub deliveries_per_sec: f64,
    /// Server CPU time per datagram handled, in microseconds.
    pub server_cpu_us_per_datagram: Option<f64>,
}

impl UdpFanoutReport {
    /// The report as text.
    pub fn to_text(&self) -> String {
        format!(
            "udp fan-out to {} (window {}): {:.0} datagrams/s through the hub ({:.0} deliveries/s), {} sent, {} acked, {} delivered, ~{} lost{}\n",
            self.receivers,
            self.window,
            self.datagrams_per_sec,
            self.deliveries_per_sec,
            self.sent,
            self.acked,
            self.delivered,
            self.lost.max(0),
            self.server_cpu_us_per_datagram
                .map(|c| format!(", server CPU {c:.2} µs per datagram"))
                .unwrap_or_default()
        )
    }
}

async fn member(addr: &str) -> Result<UdpChatClient, UdpChatError> {
    let mut c = UdpChatClient::connect(addr).await?;
    c.call(ClientEvent::Join {
        room: "bench".into(),
        since: None,
    })
    .await?;
    c.take_pending();
    Ok(c)
}

/// Runs the fan-out measurement.
pub async fn fanout(config: UdpFanoutConfig) -> Result<UdpFanoutReport, UdpChatError> {
    let measuring = Arc::new(AtomicBool::new(false));
    let delivered = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..config.receivers {
        let mut c = member(&config.addr).await?;
        let (measuring, delivered) = (measuring.clone(), delivered.clone());
        tasks.push(tokio::spawn(async move {
            while let Ok(got) = c.recv().await {
                let n = got
                    .iter()
                    .filter(|i| matches!(i, Incoming::Event(ServerEvent::Message { .. })))
                    .count() as u64;
                if measuring.load(Ordering::Relaxed) {
                    delivered.fetch_add(n, Ordering::Relaxed);
                }
            }
        }));
    }
    let mut sender = member(&config.addr).await?;
    let text = "x".repeat(16);
    let event = ClientEvent::Message {
        to: vec!["bench".into()],
        except: vec![],
        text,
        include_self: false,
    };
    let start = Instant::now();
    let measure_from = start + config.warmup;
    let end = measure_from + config.duration;
    let (mut sent, mut acked, mut in_flight) = (0u64, 0u64, 0usize);
    let mut cpu_start = None;
    let mut measured = false;
    loop {
        let now = Instant::now();
        if !measured && now >= measure_from {
            measured = true;
            measuring.store(true, Ordering::Relaxed);
            cpu_start = config.server_pid.and_then(process_cpu_time);
            sent = 0;
            acked = 0;
        }
        if now >= end {
            break;
        }
        while in_flight < config.window.max(1) {
            sender.send(event.clone(), true).await?;
            sent += 1;
            in_flight += 1;
        }
        match tokio::time::timeout(ACK_TIMEOUT, sender.recv()).await {
            Ok(got) => {
                for i in got? {
                    if let Incoming::Event(ServerEvent::Ack { .. }) = i {
                        acked += 1;
                        in_flight = in_flight.saturating_sub(1);
                    }
                }
            }
            Err(_) => in_flight = 0, // the window's acks (or messages) were lost
        }
    }
    measuring.store(false, Ordering::Relaxed);
    let secs = config.duration.as_secs_f64();
    let cpu = match (cpu_start, config.server_pid.and_then(process_cpu_time)) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    for t in tasks {
        t.abort();
    }
    let delivered = delivered.load(Ordering::Relaxed);
    let datagrams = sent + acked + delivered;
    Ok(UdpFanoutReport {
        receivers: config.receivers,
        window: config.window,
        secs,
        sent,
        acked,
        delivered,
        lost: ((sent * config.receivers as u64) as i64 - delivered as i64).max(0),
        datagrams_per_sec: datagrams as f64 / secs,
        deliveries_per_sec: delivered as f64 / secs,
        server_cpu_us_per_datagram: cpu
            .filter(|_| datagrams > 0)
            .map(|c| c.as_secs_f64() * 1e6 / datagrams as f64),
    })
}
