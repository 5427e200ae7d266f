//! The receiver's view of one sender: gaps, duplicates, late arrivals, and the
//! loss rate and jitter of RFC 3550.
//!
//! UDP tells the receiver nothing about what went missing, so the receiver
//! works it out from the sequence numbers (see [`super::header`]):
//!
//! - the next number after the highest so far is **in order**;
//! - a jump over some numbers means those are **lost** (so far): "3 messages
//!   lost: seq 41–43";
//! - a number below the highest that has not been seen is **late** — it was
//!   overtaken, and fills an earlier gap: "arrived late: 12";
//! - a number already seen is a **duplicate**: "duplicate of 17".
//!
//! Memory is bounded: the tracker remembers which of the last [`WINDOW`]
//! numbers arrived in a fixed bitmap, so a hostile sender jumping to seq 4
//! billion costs nothing. Anything older than the window is reported as
//! [`Arrival::TooOld`] (it cannot tell late from duplicate any more).
//!
//! Statistics follow RFC 3550 Appendix A: *expected* is the highest number
//! minus the first plus one (A.3), *lost* is expected minus received, and the
//! *fraction lost* in an interval is `(lost << 8) / expected` (§6.4.1). The
//! interarrival *jitter* is the smoothed absolute change in transit time,
//! `J += (|D| − J) / 16` (§6.4.1, A.8).

use serde::Serialize;
use std::fmt;
use std::ops::RangeInclusive;

/// How many recent sequence numbers the tracker remembers, to tell a late
/// arrival from a duplicate: 4096 (512 bytes of bitmap), far more than any
/// reordering on a real path.
pub const WINDOW: u64 = 4096;

const WORDS: usize = (WINDOW / 64) as usize;

/// What one arriving datagram means, given everything before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Arrival {
    /// The next number expected.
    InOrder {
        /// Its sequence number.
        seq: u64,
    },
    /// A jump: every number in `missing` was skipped (lost, or still on its way).
    AfterGap {
        /// Its sequence number.
        seq: u64,
        /// The numbers skipped over.
        missing: RangeInclusive<u64>,
    },
    /// Below the highest so far and not seen before: it was overtaken.
    Late {
        /// Its sequence number.
        seq: u64,
    },
    /// Seen before.
    Duplicate {
        /// Its sequence number.
        seq: u64,
    },
    /// Older than the last [`WINDOW`] numbers (or than the first one seen):
    /// too old to tell late from duplicate.
    TooOld {
        /// Its sequence number.
        seq: u64,
    },
}

impl Arrival {
    /// The sequence number of the datagram that arrived.
    pub fn seq(&self) -> u64 {
        match *self {
            Arrival::InOrder { seq }
            | Arrival::AfterGap { seq, .. }
            | Arrival::Late { seq }
            | Arrival::Duplicate { seq }
            | Arrival::TooOld { seq } => seq,
        }
    }

    /// Whether the message is new to the receiver (deliver it) rather than a copy.
    pub fn is_new(&self) -> bool {
        matches!(
            self,
            Arrival::InOrder { .. } | Arrival::AfterGap { .. } | Arrival::Late { .. }
        )
    }
}

impl fmt::Display for Arrival {
    /// The line a chat client shows inline, e.g. `3 messages lost: seq 41–43`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Arrival::InOrder { seq } => write!(f, "in order: {seq}"),
            Arrival::AfterGap { missing, .. } => {
                let n = missing.end() - missing.start() + 1;
                if n == 1 {
                    write!(f, "1 message lost: seq {}", missing.start())
                } else {
                    write!(
                        f,
                        "{n} messages lost: seq {}–{}",
                        missing.start(),
                        missing.end()
                    )
                }
            }
            Arrival::Late { seq } => write!(f, "arrived late: {seq}"),
            Arrival::Duplicate { seq } => write!(f, "duplicate of {seq}"),
            Arrival::TooOld { seq } => write!(f, "too old to place: {seq}"),
        }
    }
}

/// Counters of one sender's stream, in RFC 3550's terms where it has them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct TrackerStats {
    /// Every datagram that arrived, duplicates included (RFC 3550's "received").
    pub received: u64,
    /// Distinct sequence numbers that arrived.
    pub unique: u64,
    /// Arrivals of a number already seen.
    pub duplicates: u64,
    /// Arrivals below the highest number so far (overtaken, filling a gap).
    pub late: u64,
    /// Arrivals too old to place.
    pub too_old: u64,
    /// Jumps over missing numbers.
    pub gaps: u64,
    /// Highest number seen minus the first plus one (RFC 3550 A.3 "expected").
    pub expected: u64,
    /// Numbers expected that never arrived: `expected − unique`.
    pub missing: u64,
    /// RFC 3550 "cumulative number of packets lost": `expected − received`;
    /// negative when duplicates outnumber losses.
    pub lost: i64,
    /// Interarrival jitter in microseconds (RFC 3550 A.8).
    pub jitter_us: f64,
}

impl TrackerStats {
    /// Share of expected datagrams that never arrived, 0.0–1.0.
    pub fn loss_rate(&self) -> f64 {
        if self.expected == 0 {
            0.0
        } else {
            self.missing as f64 / self.expected as f64
        }
    }
}

/// Tracks one sender's sequence numbers (see the module docs).
#[derive(Debug, Clone)]
pub struct ReceiveTracker {
    /// The first number expected (RFC 3550 `base_seq`); `None` = take the first seen.
    base: Option<u64>,
    highest: Option<u64>,
    /// Bit `seq % WINDOW` is set when `seq` (within the window) has arrived.
    seen: [u64; WORDS],
    stats: TrackerStats,
    /// `expected` and `received` at the last [`ReceiveTracker::fraction_lost`] report.
    expected_prior: u64,
    received_prior: u64,
    /// Transit time of the previous datagram, for jitter (A.8).
    last_transit: Option<u32>,
}

impl Default for ReceiveTracker {
    fn default() -> Self {
        Self::new()
    }
}

impl ReceiveTracker {
    /// A tracker for a sender that numbers its datagrams from 0 (as netlab's do):
    /// if seq 0 never arrives, it counts as lost.
    pub fn new() -> Self {
        Self::with_base(Some(0))
    }

    /// A tracker that starts from whatever number arrives first (RFC 3550 A.1),
    /// for joining a stream that is already running.
    pub fn from_first_seen() -> Self {
        Self::with_base(None)
    }

    fn with_base(base: Option<u64>) -> Self {
        Self {
            base,
            highest: None,
            seen: [0; WORDS],
            stats: TrackerStats::default(),
            expected_prior: 0,
            received_prior: 0,
            last_transit: None,
        }
    }

    fn bit(seq: u64) -> (usize, u64) {
        let i = seq % WINDOW;
        ((i / 64) as usize, 1u64 << (i % 64))
    }

    fn is_seen(&self, seq: u64) -> bool {
        let (w, b) = Self::bit(seq);
        self.seen[w] & b != 0
    }

    fn mark(&mut self, seq: u64) {
        let (w, b) = Self::bit(seq);
        self.seen[w] |= b;
    }

    fn unmark(&mut self, seq: u64) {
        let (w, b) = Self::bit(seq);
        self.seen[w] &= !b;
    }

    /// Records one arriving sequence number and says what it means.
    pub fn on_arrival(&mut self, seq: u64) -> Arrival {
        self.stats.received += 1;
        let base = *self.base.get_or_insert(seq);
        let arrival = match self.highest {
            _ if seq < base => Arrival::TooOld { seq },
            Some(h) if seq <= h => {
                if h - seq >= WINDOW {
                    Arrival::TooOld { seq }
                } else if self.is_seen(seq) {
                    Arrival::Duplicate { seq }
                } else {
                    Arrival::Late { seq }
                }
            }
            highest => {
                // A new highest: forget the bits that now leave the window.
                let from = highest.map_or(base, |h| h + 1);
                let span = seq - from + 1;
                if span >= WINDOW {
                    self.seen = [0; WORDS];
                } else {
                    for s in from..=seq {
                        self.unmark(s);
                    }
                }
                self.highest = Some(seq);
                if seq == from {
                    Arrival::InOrder { seq }
                } else {
                    Arrival::AfterGap {
                        seq,
                        missing: from..=seq - 1,
                    }
                }
            }
        };
        match &arrival {
            Arrival::InOrder { .. } => {}
            Arrival::AfterGap { .. } => self.stats.gaps += 1,
            Arrival::Late { .. } => self.stats.late += 1,
            Arrival::Duplicate { .. } => self.stats.duplicates += 1,
            Arrival::TooOld { .. } => self.stats.too_old += 1,
        }
        if arrival.is_new() {
            self.stats.unique += 1;
            self.mark(seq);
        }
        self.stats.expected = self.highest.map_or(0, |h| h - base + 1);
        self.stats.missing = self.stats.expected.saturating_sub(self.stats.unique);
        self.stats.lost = self.stats.expected as i64 - self.stats.received as i64;
        arrival
    }

    /// Records a datagram's timing for the jitter estimate: the sender's
    /// timestamp and the receiver's clock at arrival, both in microseconds
    /// (RFC 3550 A.8; the two clocks need not agree, only tick at the same rate).
    pub fn on_timing(&mut self, sent_timestamp: u32, arrival: u32) {
        let transit = arrival.wrapping_sub(sent_timestamp);
        if let Some(last) = self.last_transit {
            let d = i64::from(transit.wrapping_sub(last) as i32);
            self.stats.jitter_us = next_jitter(self.stats.jitter_us, d);
        }
        self.last_transit = Some(transit);
    }

    /// The counters so far.
    pub fn stats(&self) -> TrackerStats {
        self.stats
    }

    /// The highest sequence number seen so far.
    pub fn highest(&self) -> Option<u64> {
        self.highest
    }

    /// RFC 3550's 8-bit "fraction lost" since the previous call (as a receiver
    /// report carries it), and starts the next interval.
    pub fn fraction_lost(&mut self) -> u8 {
        let f = fraction_lost(
            self.stats.expected - self.expected_prior,
            self.stats.received - self.received_prior,
        );
        self.expected_prior = self.stats.expected;
        self.received_prior = self.stats.received;
        f
    }
}

/// RFC 3550 A.3: the fraction of an interval's expected packets that were lost,
/// as a fixed-point number with the binary point at the left (256 = all).
/// Duplicates can make `received > expected`; that counts as no loss.
pub fn fraction_lost(expected_interval: u64, received_interval: u64) -> u8 {
    if expected_interval == 0 || received_interval >= expected_interval {
        return 0;
    }
    let lost = expected_interval - received_interval;
    (((lost as u128) << 8) / expected_interval as u128).min(255) as u8
}

/// RFC 3550 §6.4.1 / A.8: one step of the interarrival jitter estimate.
/// `d` is the change in transit time between two consecutive arrivals.
pub fn next_jitter(jitter: f64, d: i64) -> f64 {
    jitter + ((d.unsigned_abs() as f64) - jitter) / 16.0
}

/// RFC 3550 A.8 over a whole run: the jitter after the last of `samples`,
/// each `(sender timestamp, arrival time)` in microseconds, in arrival order.
pub fn interarrival_jitter(samples: &[(u32, u32)]) -> f64 {
    let mut t = ReceiveTracker::new();
    for &(sent, arrived) in samples {
        t.on_timing(sent, arrived);
    }
    t.stats().jitter_us
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn feed(seqs: &[u64]) -> (Vec<Arrival>, ReceiveTracker) {
        let mut t = ReceiveTracker::new();
        let out = seqs.iter().map(|&s| t.on_arrival(s)).collect();
        (out, t)
    }

    #[test]
    fn the_issue_examples_read_as_written() {
        let (out, _) = feed(&[0, 1, 2, 6, 4, 4]);
        let lines: Vec<String> = out.iter().map(|a| a.to_string()).collect();
        assert_eq!(
            lines,
            [
                "in order: 0",
                "in order: 1",
                "in order: 2",
                "3 messages lost: seq 3–5",
                "arrived late: 4",
                "duplicate of 4"
            ]
        );
        assert_eq!(
            Arrival::AfterGap {
                seq: 44,
                missing: 41..=43
            }
            .to_string(),
            "3 messages lost: seq 41–43"
        );
    }

    #[test]
    fn a_lost_first_datagram_is_a_gap_from_zero() {
        let (out, t) = feed(&[2]);
        assert_eq!(
            out,
            [Arrival::AfterGap {
                seq: 2,
                missing: 0..=1
            }]
        );
        assert_eq!(t.stats().missing, 2);
    }

    #[test]
    fn joining_late_starts_from_the_first_seen() {
        let mut t = ReceiveTracker::from_first_seen();
        assert_eq!(t.on_arrival(100), Arrival::InOrder { seq: 100 });
        assert_eq!(t.on_arrival(99), Arrival::TooOld { seq: 99 });
        assert_eq!(t.stats().expected, 1);
    }

    #[test]
    fn a_huge_jump_costs_nothing_and_older_numbers_are_too_old() {
        let mut t = ReceiveTracker::new();
        t.on_arrival(0);
        let a = t.on_arrival(u64::from(u32::MAX));
        assert_eq!(
            a,
            Arrival::AfterGap {
                seq: u32::MAX as u64,
                missing: 1..=u32::MAX as u64 - 1
            }
        );
        assert_eq!(t.on_arrival(0), Arrival::TooOld { seq: 0 });
        let edge = u32::MAX as u64 - WINDOW;
        assert_eq!(t.on_arrival(edge), Arrival::TooOld { seq: edge });
        assert_eq!(t.on_arrival(edge + 1), Arrival::Late { seq: edge + 1 });
        assert_eq!(t.on_arrival(edge + 1), Arrival::Duplicate { seq: edge + 1 });
    }

    #[test]
    fn rfc3550_fraction_lost_is_eight_bit_fixed_point() {
        // 4 of 16 lost: 4 * 256 / 16 = 64 (= 0.25).
        assert_eq!(fraction_lost(16, 12), 64);
        assert_eq!(fraction_lost(0, 0), 0);
        assert_eq!(fraction_lost(10, 12), 0, "duplicates are not negative loss");
        let mut t = ReceiveTracker::new();
        for s in [0, 1, 3, 4] {
            t.on_arrival(s);
        }
        // expected 5, received 4: 1*256/5 = 51.
        assert_eq!(t.fraction_lost(), 51);
        t.on_arrival(5);
        assert_eq!(t.fraction_lost(), 0, "a new interval");
        assert_eq!(t.stats().lost, 1);
    }

    #[test]
    fn rfc3550_jitter_smooths_by_a_sixteenth() {
        let mut t = ReceiveTracker::new();
        // Sent every 1000 µs; transits 100, 300, 300: D = 200, then 0.
        t.on_timing(0, 100);
        assert_eq!(t.stats().jitter_us, 0.0);
        t.on_timing(1000, 1300);
        assert_eq!(t.stats().jitter_us, 12.5); // 0 + (200 - 0)/16
        t.on_timing(2000, 2300);
        assert_eq!(t.stats().jitter_us, 12.5 - 12.5 / 16.0);
        // Clocks that wrap still give the right difference.
        let mut w = ReceiveTracker::new();
        w.on_timing(u32::MAX - 10, 5);
        w.on_timing((u32::MAX - 10).wrapping_add(1000), 1005 + 160);
        assert_eq!(w.stats().jitter_us, 10.0);
    }

    /// The simple model: remember every number ever seen.
    fn model(seqs: &[u64]) -> Vec<Arrival> {
        let mut seen = BTreeSet::new();
        let mut highest: Option<u64> = None;
        let mut out = Vec::new();
        for &seq in seqs {
            let next = highest.map_or(0, |h| h + 1);
            let a = if seen.contains(&seq) {
                Arrival::Duplicate { seq }
            } else if seq < next {
                Arrival::Late { seq }
            } else if seq == next {
                Arrival::InOrder { seq }
            } else {
                Arrival::AfterGap {
                    seq,
                    missing: next..=seq - 1,
                }
            };
            if seq >= next {
                highest = Some(seq);
            }
            seen.insert(seq);
            out.push(a);
        }
        out
    }

    proptest! {
        #[test]
        fn agrees_with_a_model_that_remembers_everything(
            seqs in proptest::collection::vec(0u64..300, 0..400)
        ) {
            let (got, t) = feed(&seqs);
            prop_assert_eq!(&got, &model(&seqs));
            let distinct: BTreeSet<u64> = seqs.iter().copied().collect();
            let s = t.stats();
            let expected = seqs.iter().max().map_or(0, |m| m + 1);
            prop_assert_eq!(s.expected, expected);
            prop_assert_eq!(s.unique, distinct.len() as u64);
            prop_assert_eq!(s.missing, expected - distinct.len() as u64);
            prop_assert_eq!(s.duplicates, (seqs.len() - distinct.len()) as u64);
            prop_assert_eq!(s.lost, expected as i64 - seqs.len() as i64);
        }

        #[test]
        fn a_permuted_stream_with_copies_loses_nothing(n in 1u64..200, seed in any::<u64>()) {
            // Every number once or twice, in a shuffled order: nothing is missing at the end.
            let mut seqs: Vec<u64> = (0..n).chain((0..n).filter(|s| (s ^ seed) % 3 == 0)).collect();
            let mut x = seed | 1;
            for i in (1..seqs.len()).rev() {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                seqs.swap(i, (x % (i as u64 + 1)) as usize);
            }
            let (_, t) = feed(&seqs);
            prop_assert_eq!(t.stats().missing, 0);
            prop_assert_eq!(t.stats().unique, n);
        }
    }
}
