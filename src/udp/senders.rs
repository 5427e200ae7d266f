//! One [`ReceiveTracker`] per sender, with a bound on how many senders are
//! remembered.
//!
//! UDP has no connections: anyone may send a datagram from any address, and a
//! spoofing sender can invent a new address for every datagram. A receiver
//! that kept a tracker for every address ever seen could be made to grow
//! without end, so the table holds at most `max_senders` and, when full,
//! forgets the one heard from longest ago (its next datagram starts afresh,
//! from the first number it carries).

use super::header::DatagramHeader;
use super::tracker::{Arrival, ReceiveTracker};
use std::collections::HashMap;
use std::hash::Hash;

/// Default most senders tracked at once (each costs about 600 bytes).
pub const DEFAULT_MAX_SENDERS: usize = 4096;

/// Per-sender trackers, bounded (see the module docs).
#[derive(Debug)]
pub struct SenderTable<K> {
    trackers: HashMap<K, (ReceiveTracker, u64)>,
    max_senders: usize,
    clock: u64,
    forgotten: u64,
}

impl<K: Hash + Eq + Clone> SenderTable<K> {
    /// A table remembering at most `max_senders` (at least 1).
    pub fn new(max_senders: usize) -> Self {
        Self {
            trackers: HashMap::new(),
            max_senders: max_senders.max(1),
            clock: 0,
            forgotten: 0,
        }
    }

    /// Records a datagram from `sender` that arrived at `arrival_us` (receiver clock, µs).
    ///
    /// A sender seen for the first time is tracked from the first number it
    /// sends (RFC 3550 A.1), since a receiver may join a stream already running.
    pub fn on_datagram(&mut self, sender: &K, header: DatagramHeader, arrival_us: u32) -> Arrival {
        self.clock += 1;
        if !self.trackers.contains_key(sender) && self.trackers.len() >= self.max_senders {
            self.forget_oldest();
        }
        let clock = self.clock;
        let (tracker, last) = self
            .trackers
            .entry(sender.clone())
            .or_insert_with(|| (ReceiveTracker::from_first_seen(), clock));
        *last = clock;
        tracker.on_timing(header.timestamp, arrival_us);
        tracker.on_arrival(u64::from(header.seq))
    }

    fn forget_oldest(&mut self) {
        let oldest = self
            .trackers
            .iter()
            .min_by_key(|(_, (_, last))| *last)
            .map(|(k, _)| k.clone());
        if let Some(k) = oldest {
            self.trackers.remove(&k);
            self.forgotten += 1;
        }
    }

    /// The tracker of `sender`, if it is remembered.
    pub fn get(&self, sender: &K) -> Option<&ReceiveTracker> {
        self.trackers.get(sender).map(|(t, _)| t)
    }

    /// Forgets `sender` (it said goodbye, or timed out).
    pub fn remove(&mut self, sender: &K) -> Option<ReceiveTracker> {
        self.trackers.remove(sender).map(|(t, _)| t)
    }

    /// Senders remembered now.
    pub fn len(&self) -> usize {
        self.trackers.len()
    }

    /// Whether no sender is remembered.
    pub fn is_empty(&self) -> bool {
        self.trackers.is_empty()
    }

    /// Senders forgotten to make room so far.
    pub fn forgotten(&self) -> u64 {
        self.forgotten
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn h(seq: u32) -> DatagramHeader {
        DatagramHeader { seq, timestamp: 0 }
    }

    #[test]
    fn each_sender_has_its_own_numbers() {
        let mut t = SenderTable::new(10);
        assert_eq!(
            t.on_datagram(&"alice", h(40), 0),
            Arrival::InOrder { seq: 40 }
        );
        assert_eq!(t.on_datagram(&"bob", h(0), 0), Arrival::InOrder { seq: 0 });
        assert_eq!(
            t.on_datagram(&"alice", h(44), 0).to_string(),
            "3 messages lost: seq 41–43"
        );
        assert_eq!(t.on_datagram(&"bob", h(1), 0), Arrival::InOrder { seq: 1 });
        assert_eq!(
            t.on_datagram(&"alice", h(42), 0).to_string(),
            "arrived late: 42"
        );
        assert_eq!(t.get(&"alice").unwrap().stats().missing, 2);
    }

    #[test]
    fn a_flood_of_new_senders_stays_within_the_bound_at_the_edge() {
        let mut t = SenderTable::new(3);
        for s in 0..3u32 {
            t.on_datagram(&s, h(0), 0);
        }
        assert_eq!((t.len(), t.forgotten()), (3, 0), "exactly max fits");
        t.on_datagram(&0, h(1), 0); // 0 is now the most recent
        t.on_datagram(&99, h(0), 0); // max + 1: the oldest (1) goes
        assert_eq!((t.len(), t.forgotten()), (3, 1));
        assert!(t.get(&1).is_none() && t.get(&0).is_some() && t.get(&99).is_some());
        for s in 1000..2000u32 {
            t.on_datagram(&s, h(s), 0);
        }
        assert_eq!(t.len(), 3);
    }
}
