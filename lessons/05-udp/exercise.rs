// Lesson 05 — exercise: tell what the network did from sequence numbers.
//
// Every datagram carries its sender's sequence number: 0, 1, 2, ...
// Replace each `todo!()`, then run `netlab check 05`.
// `netlab lesson 05` explains every rule the grader checks.

use netlab::udp::Arrival;
use std::collections::BTreeSet;

/// The receiver's view of one sender.
pub struct ReceiveTracker {
    /// The next number expected in order (the highest seen + 1; 0 at the start).
    pub next_expected: u64,
    /// Every number seen so far.
    pub seen: BTreeSet<u64>,
}

impl ReceiveTracker {
    /// A tracker for a sender that numbers from 0: nothing seen yet, 0 expected first.
    pub fn new() -> Self {
        todo!()
    }

    /// Records `seq` and says what it means (the first line that fits wins):
    /// - seen before, whatever its value → `Arrival::Duplicate { seq }`
    /// - exactly `next_expected`         → `Arrival::InOrder { seq }`
    /// - above `next_expected`           → `Arrival::AfterGap { seq, missing: next_expected..=seq - 1 }`
    /// - below `next_expected`           → `Arrival::Late { seq }`
    ///
    /// Afterwards both fields hold what their doc comments say: a late
    /// arrival never moves `next_expected` back.
    pub fn on_arrival(&mut self, seq: u64) -> Arrival {
        todo!()
    }
}
