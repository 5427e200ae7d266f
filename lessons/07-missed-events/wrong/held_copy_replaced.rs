//! Mistake: offer checks only for numbers already delivered, so a second copy of a held segment is accepted and replaces the first.
//! Caught by: 3 is already held: a second copy is a duplicate

use bytes::Bytes;
pub use netlab::reliable::{Offer, RtoConfig, RtoEstimator};
use std::collections::BTreeMap;

pub struct ReorderBuffer {
    pub next_expected: u64,
    pub window: u64,
    pub held: BTreeMap<u64, Bytes>,
}

impl ReorderBuffer {
    pub fn new(window: u64) -> Self {
        ReorderBuffer {
            next_expected: 0,
            window,
            held: BTreeMap::new(),
        }
    }

    pub fn offer(&mut self, seq: u64, payload: Bytes) -> Offer {
        if seq < self.next_expected {
            return Offer::Duplicate; // forgot `|| self.held.contains_key(&seq)`
        }
        if seq - self.next_expected >= self.window {
            return Offer::OutOfWindow;
        }
        self.held.insert(seq, payload);
        Offer::Accepted
    }

    pub fn pop(&mut self) -> Option<Bytes> {
        let payload = self.held.remove(&self.next_expected)?;
        self.next_expected += 1;
        Some(payload)
    }

    pub fn next_expected(&self) -> u64 {
        self.next_expected
    }
}
