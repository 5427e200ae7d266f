//! Mistake: seq is compared with next_expected before `seen` is asked, so a second copy of an old number is called late instead of a duplicate.
//! Caught by: a number seen before is a duplicate, checked before anything else

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
        let new = self.seen.insert(seq);
        if seq < self.next_expected {
            return Arrival::Late { seq }; // a copy of an old number lands here too
        }
        if !new {
            return Arrival::Duplicate { seq };
        }
        let arrival = if seq == self.next_expected {
            Arrival::InOrder { seq }
        } else {
            Arrival::AfterGap {
                seq,
                missing: self.next_expected..=seq - 1,
            }
        };
        self.next_expected = seq + 1;
        arrival
    }
}
