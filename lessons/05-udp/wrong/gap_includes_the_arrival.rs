//! Mistake: the missing range of a gap runs up to seq itself (`next_expected..=seq`), counting the datagram that did arrive as lost.
//! Caught by: without 6 itself

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
        if seq < self.next_expected {
            return Arrival::Late { seq };
        }
        let arrival = if seq == self.next_expected {
            Arrival::InOrder { seq }
        } else {
            Arrival::AfterGap {
                seq,
                missing: self.next_expected..=seq,
            } // should end at seq - 1
        };
        self.next_expected = seq + 1;
        arrival
    }
}
