// Lesson 07 — exercise: the receiver's reordering buffer and the RTO estimator.
//
// Replace each `todo!()`, then run `netlab check 07`.
// `netlab lesson 07` explains every rule the grader checks.

use bytes::Bytes;
use std::collections::BTreeMap;
use std::time::Duration;

pub use netlab::reliable::{Offer, RtoConfig};

/// Holds early segments and releases payloads in sequence order.
pub struct ReorderBuffer {
    /// The lowest number not yet delivered (also the cumulative ack).
    pub next_expected: u64,
    /// Most numbers held ahead of `next_expected`.
    pub window: u64,
    /// Segments that arrived early, by number.
    pub held: BTreeMap<u64, Bytes>,
}

impl ReorderBuffer {
    /// Nothing received yet: 0 is expected first, nothing is held.
    pub fn new(window: u64) -> Self {
        todo!()
    }

    /// Offers segment `seq` (any `u64`, up to `u64::MAX`):
    /// - already delivered (below `next_expected`) or already held
    ///   → `Offer::Duplicate`, dropped (a held first copy stays as it was);
    /// - `window` or more numbers ahead of `next_expected` → `Offer::OutOfWindow`, dropped;
    /// - otherwise kept in `held` → `Offer::Accepted`.
    pub fn offer(&mut self, seq: u64, payload: Bytes) -> Offer {
        todo!()
    }

    /// The payload numbered `next_expected`, taken out of `held`, and
    /// `next_expected` moves on by one; `None` while that number has not
    /// arrived (and nothing moves).
    pub fn pop(&mut self) -> Option<Bytes> {
        todo!()
    }

    /// The cumulative ack: the lowest number not yet delivered.
    pub fn next_expected(&self) -> u64 {
        todo!()
    }
}

/// SRTT, RTTVAR and RTO (RFC 6298 §2, §5.5).
pub struct RtoEstimator {
    /// Bounds and granularity.
    pub config: RtoConfig,
    /// Smoothed RTT; `None` before the first sample.
    pub srtt: Option<Duration>,
    /// RTT variation.
    pub rttvar: Duration,
    /// The current timeout.
    pub rto: Duration,
}

impl RtoEstimator {
    /// No sample yet (RFC 6298 §2.1): no SRTT, RTTVAR zero, and RTO =
    /// `config.initial`, kept within `config.min..=config.max`.
    pub fn new(config: RtoConfig) -> Self {
        todo!()
    }

    /// The current RTO.
    pub fn rto(&self) -> Duration {
        todo!()
    }

    /// The smoothed RTT.
    pub fn srtt(&self) -> Option<Duration> {
        todo!()
    }

    /// The RTT variation.
    pub fn rttvar(&self) -> Duration {
        todo!()
    }

    /// One round-trip measurement `r` (RFC 6298 §2): the first one sets SRTT
    /// and RTTVAR as §2.2 says, every later one updates them as §2.3 says, with
    /// the RFC's constants. The RTO is then recomputed from them, with
    /// `config.granularity` as the clock granularity G, and kept within
    /// `config.min..=config.max` (§2.4, §2.5). Exact to the nanosecond.
    pub fn on_sample(&mut self, r: Duration) {
        todo!()
    }

    /// The timer fired: the RTO doubles (§5.5), up to `config.max`.
    pub fn on_timeout(&mut self) {
        todo!()
    }
}
