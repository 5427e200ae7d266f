//! Mistake: the window test is `seq - next_expected > window`, so next_expected + window, one past the window, is still accepted.
//! Caught by: the first number outside it

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
        if seq < self.next_expected || self.held.contains_key(&seq) {
            return Offer::Duplicate;
        }
        // should be >=
        if seq - self.next_expected > self.window {
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
