//! Mistake: every arrival sets next_expected to seq + 1, so a late datagram moves the expectation back and the next one looks like a gap.
//! Caught by: a late arrival must not move next_expected back

// Part 2 done right: this fixture is about part 1.
pub use netlab::udp::ping::ping;

use netlab::udp::Arrival;
use std::collections::BTreeSet;

pub struct ReceiveTracker {
    pub next_expected: u64,
    pub seen: BTreeSet<u64>,
}

impl ReceiveTracker {
    pub fn new() -> Self {
        ReceiveTracker {
            next_expected: 0,
            seen: BTreeSet::new(),
        }
    }

    pub fn on_arrival(&mut self, seq: u64) -> Arrival {
        if !self.seen.insert(seq) {
            return Arrival::Duplicate { seq };
        }
        let arrival = if seq == self.next_expected {
            Arrival::InOrder { seq }
        } else if seq > self.next_expected {
            Arrival::AfterGap {
                seq,
                missing: self.next_expected..=seq - 1,
            }
        } else {
            Arrival::Late { seq }
        };
        self.next_expected = seq + 1; // also after a late one: should only move forward
        arrival
    }
}
