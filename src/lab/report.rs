//! The workload both transports carry, and how each run is measured.

use crate::udp::{DatagramHeader, ReceiveTracker, HEADER_LEN, MAX_DATAGRAM_PAYLOAD};
use serde::Serialize;
use std::time::Duration;

/// Default messages per run: enough for a 5% loss to show tens of gaps.
pub const DEFAULT_COUNT: u64 = 1000;
/// Default message size: a chat-sized message.
pub const DEFAULT_SIZE: usize = 200;
/// Default send rate, messages per second.
pub const DEFAULT_RATE: u64 = 1000;
/// Most messages in one run: bounds memory (latencies and timeline keep one entry each).
pub const MAX_COUNT: u64 = 1_000_000;

/// Why a workload cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkloadError {
    /// Each message carries the sequence header, so it cannot be smaller.
    #[error("--size {0} is too small: every message carries an {HEADER_LEN}-byte sequence header")]
    TooSmall(usize),
    /// UDP must fit a message in one unfragmented datagram.
    #[error("--size {0} is too large: one UDP datagram carries at most {MAX_DATAGRAM_PAYLOAD} bytes under a 1500-byte MTU")]
    TooLarge(usize),
    /// No messages, or more than the lab keeps track of.
    #[error("--count {0} is out of range: send 1 to {MAX_COUNT} messages")]
    Count(u64),
    /// A zero rate would never send.
    #[error("--rate must be at least 1 message per second")]
    ZeroRate,
}

/// The same workload for both transports: `count` messages of `size` bytes at `rate` per second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Workload {
    /// Messages to send.
    pub count: u64,
    /// Bytes per message, sequence header included.
    pub size: usize,
    /// Messages per second the sender offers.
    pub rate: u64,
}

impl Default for Workload {
    fn default() -> Self {
        Self {
            count: DEFAULT_COUNT,
            size: DEFAULT_SIZE,
            rate: DEFAULT_RATE,
        }
    }
}

impl Workload {
    /// Checks the limits (sizes between the header and one MTU, count, rate).
    pub fn validate(&self) -> Result<(), WorkloadError> {
        if self.size < HEADER_LEN {
            return Err(WorkloadError::TooSmall(self.size));
        }
        if self.size > MAX_DATAGRAM_PAYLOAD {
            return Err(WorkloadError::TooLarge(self.size));
        }
        if self.count == 0 || self.count > MAX_COUNT {
            return Err(WorkloadError::Count(self.count));
        }
        if self.rate == 0 {
            return Err(WorkloadError::ZeroRate);
        }
        Ok(())
    }

    /// When message `seq` is due to be sent, from the start of the run.
    pub fn send_time(&self, seq: u64) -> Duration {
        Duration::from_nanos((u128::from(seq) * 1_000_000_000 / u128::from(self.rate)) as u64)
    }

    /// Message `seq`: its header (sent at `at`) and zero padding up to `size`.
    pub fn message(&self, seq: u64, at: Duration) -> Vec<u8> {
        let mut m = vec![0; self.size];
        DatagramHeader {
            seq: seq as u32,
            timestamp: at.as_micros() as u32,
        }
        .emit(&mut m);
        m
    }
}

/// What one transport did with the workload.
#[derive(Debug, Clone, Serialize)]
pub struct TransportResult {
    /// `TCP` or `UDP`.
    pub transport: &'static str,
    /// Messages the sender handed to the socket.
    pub sent: u64,
    /// Distinct messages that reached the receiving program.
    pub delivered: u64,
    /// Messages that never arrived.
    pub lost: u64,
    /// Extra copies that arrived.
    pub duplicated: u64,
    /// Messages that arrived after a later one.
    pub out_of_order: u64,
    /// Median send-to-arrival latency, µs.
    pub p50_latency_us: Option<u64>,
    /// 99th percentile latency, µs.
    pub p99_latency_us: Option<u64>,
    /// Delivered messages per second, from first send to last arrival.
    pub throughput_msgs: f64,
    /// Delivered payload bytes per second.
    pub throughput_bytes: f64,
    /// TCP segments sent again (counted on the wire, or the kernel's counter).
    pub retransmissions: Option<u64>,
    /// Datagrams the receiver's kernel dropped for a full receive buffer.
    pub kernel_drops: Option<u64>,
    /// RFC 3550 interarrival jitter, µs.
    pub jitter_us: f64,
    /// From first send to last arrival, µs.
    pub elapsed_us: u64,
    /// `(arrival µs, seq)` of every arrival, in arrival order (the plot).
    pub timeline: Vec<(u64, u64)>,
}

/// Measures the receiving side of one run: feed it every message as it arrives.
#[derive(Debug)]
pub struct Recorder {
    tracker: ReceiveTracker,
    size: usize,
    latencies: Vec<u64>,
    timeline: Vec<(u64, u64)>,
    last_arrival_us: u64,
    malformed: u64,
}

impl Recorder {
    /// A recorder for messages of `size` bytes.
    pub fn new(size: usize) -> Self {
        Self {
            tracker: ReceiveTracker::new(),
            size,
            latencies: Vec::new(),
            timeline: Vec::new(),
            last_arrival_us: 0,
            malformed: 0,
        }
    }

    /// One message arrived at `now` (time since the run started).
    pub fn arrive(&mut self, message: &[u8], now: Duration) {
        let Ok((h, _)) = DatagramHeader::parse(message) else {
            self.malformed += 1;
            return;
        };
        let now_us = now.as_micros() as u64;
        let arrival = self.tracker.on_arrival(u64::from(h.seq));
        self.tracker.on_timing(h.timestamp, now_us as u32);
        if arrival.is_new() {
            self.latencies
                .push(u64::from((now_us as u32).wrapping_sub(h.timestamp)));
        }
        self.timeline.push((now_us, u64::from(h.seq)));
        self.last_arrival_us = now_us;
    }

    /// Distinct messages so far.
    pub fn delivered(&self) -> u64 {
        self.tracker.stats().unique
    }

    /// Arrivals that did not even carry a header (corrupted beyond recognition).
    pub fn malformed(&self) -> u64 {
        self.malformed
    }

    /// The result, given what the sender did.
    pub fn finish(
        mut self,
        transport: &'static str,
        sent: u64,
        retransmissions: Option<u64>,
        kernel_drops: Option<u64>,
    ) -> TransportResult {
        let s = self.tracker.stats();
        self.latencies.sort_unstable();
        let pct = |p: f64| -> Option<u64> {
            let n = self.latencies.len();
            (n > 0).then(|| self.latencies[((n as f64 * p).ceil() as usize).clamp(1, n) - 1])
        };
        let secs = self.last_arrival_us as f64 / 1e6;
        let (tm, tb) = if secs > 0.0 {
            (
                s.unique as f64 / secs,
                (s.unique as f64 * self.size as f64) / secs,
            )
        } else {
            (0.0, 0.0)
        };
        TransportResult {
            transport,
            sent,
            delivered: s.unique,
            lost: sent.saturating_sub(s.unique),
            duplicated: s.duplicates,
            out_of_order: s.late,
            p50_latency_us: pct(0.50),
            p99_latency_us: pct(0.99),
            throughput_msgs: tm,
            throughput_bytes: tb,
            retransmissions,
            kernel_drops,
            jitter_us: s.jitter_us,
            elapsed_us: self.last_arrival_us,
            timeline: self.timeline,
        }
    }
}

/// One scenario: both transports, and what ran them.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    /// Scenario name, e.g. `lossy-wire`.
    pub scenario: &'static str,
    /// Which TCP/IP stack carried the packets.
    pub stack: String,
    /// Which impairment was applied, and how.
    pub impairment: String,
    /// The workload.
    pub workload: Workload,
    /// The TCP run.
    pub tcp: TransportResult,
    /// The UDP run.
    pub udp: TransportResult,
    /// netlab's reliable UDP (lesson 07) over the same wire; simulated scenarios only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reliable: Option<TransportResult>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_checked_at_both_edges() {
        let w = |size| Workload {
            size,
            ..Workload::default()
        };
        assert_eq!(w(7).validate(), Err(WorkloadError::TooSmall(7)));
        assert!(w(8).validate().is_ok());
        assert!(w(1472).validate().is_ok());
        assert_eq!(w(1473).validate(), Err(WorkloadError::TooLarge(1473)));
        let c = |count| Workload {
            count,
            ..Workload::default()
        };
        assert!(c(MAX_COUNT).validate().is_ok());
        assert_eq!(
            c(MAX_COUNT + 1).validate(),
            Err(WorkloadError::Count(MAX_COUNT + 1))
        );
    }

    #[test]
    fn the_recorder_counts_what_the_tracker_sees() {
        let w = Workload {
            count: 5,
            size: 8,
            rate: 1000,
        };
        let mut r = Recorder::new(8);
        for (seq, at_ms) in [(0u64, 1u64), (2, 3), (1, 4), (2, 5)] {
            r.arrive(
                &w.message(seq, w.send_time(seq)),
                Duration::from_millis(at_ms),
            );
        }
        r.arrive(b"junk", Duration::from_millis(6));
        assert_eq!(r.malformed(), 1);
        let t = r.finish("UDP", 5, None, None);
        assert_eq!(
            (t.delivered, t.lost, t.duplicated, t.out_of_order),
            (3, 2, 1, 1)
        );
        // latencies: 1000, 1000, 3000 µs (seq 0 at 1 ms, seq 2 sent 2 ms got 3 ms, seq 1 sent 1 ms got 4 ms)
        assert_eq!(t.p50_latency_us, Some(1000));
        assert_eq!(t.p99_latency_us, Some(3000));
        assert_eq!(t.timeline.len(), 4);
    }
}
