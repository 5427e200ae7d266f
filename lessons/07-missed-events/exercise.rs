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
    /// Nothing received yet: 0 is expected first.
    pub fn new(window: u64) -> Self {
        // TODO
        todo!()
    }

    /// Offers segment `seq`:
    /// - below `next_expected`, or already held   → `Offer::Duplicate` (dropped)
    /// - `seq - next_expected >= window`          → `Offer::OutOfWindow` (dropped)
    /// - otherwise                                → kept, `Offer::Accepted`
    pub fn offer(&mut self, seq: u64, payload: Bytes) -> Offer {
        // TODO: check for a duplicate before the window (and mind overflow).
        todo!()
    }

    /// The payload numbered `next_expected`, if held; then `next_expected` moves on.
    pub fn pop(&mut self) -> Option<Bytes> {
        // TODO
        todo!()
    }

    /// The cumulative ack: the lowest number not yet delivered.
    pub fn next_expected(&self) -> u64 {
        // TODO
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
    /// No sample yet: RTO = `config.initial`, kept within `config.min..=config.max`.
    pub fn new(config: RtoConfig) -> Self {
        // TODO
        todo!()
    }

    /// The current RTO.
    pub fn rto(&self) -> Duration {
        // TODO
        todo!()
    }

    /// The smoothed RTT.
    pub fn srtt(&self) -> Option<Duration> {
        // TODO
        todo!()
    }

    /// The RTT variation.
    pub fn rttvar(&self) -> Duration {
        // TODO
        todo!()
    }

    /// One round-trip sample `r`. First: SRTT = r, RTTVAR = r/2. Later:
    /// RTTVAR = (3·RTTVAR + |SRTT − r|)/4 with the OLD SRTT, then SRTT = (7·SRTT + r)/8.
    /// RTO = SRTT + max(granularity, 4·RTTVAR), clamped to min..=max.
    pub fn on_sample(&mut self, r: Duration) {
        // TODO: Duration supports `* u32` and `/ u32`; |a − b| is the larger minus the smaller.
        todo!()
    }

    /// The timer fired: RTO doubles, up to `config.max`.
    pub fn on_timeout(&mut self) {
        // TODO
        todo!()
    }
}
