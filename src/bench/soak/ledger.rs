//! The ledger: the sender's book of what the server accepted, held against
//! what each observer counted on the wire. An accepted number an observer
//! never got is **lost**; every copy past the first is **duplicated**; both
//! must be 0 for observers that resumed.

use super::observer::ObserverOutcome;
use super::report::{ObserverTotals, SenderTotals};
use super::sender::{ACCEPTED, REFUSED, UNSENT, WAITING};

/// The sender's book, once the sender has finished (index = sender number).
pub(super) struct Ledger {
    states: Vec<u8>,
}

impl Ledger {
    /// The book the sender handed back.
    pub(super) fn new(states: Vec<u8>) -> Self {
        Ledger { states }
    }

    /// The highest number the server accepted (0: none): an observer has
    /// caught up when it has this one.
    pub(super) fn last_accepted(&self) -> u64 {
        self.states
            .iter()
            .rposition(|&s| s == ACCEPTED)
            .unwrap_or(0) as u64
    }

    /// How many numbers the server accepted: what each observer must get.
    pub(super) fn accepted(&self) -> u64 {
        self.count(ACCEPTED)
    }

    fn count(&self, state: u8) -> u64 {
        self.states.iter().filter(|&&s| s == state).count() as u64
    }

    /// Adds one observer's counts to `totals`: what it should have had, what
    /// it lost, what it got twice, and its other figures.
    pub(super) fn add_observer(&self, totals: &mut ObserverTotals, o: &ObserverOutcome) {
        totals.resumes += o.resumes;
        totals.dropped_by_seq += o.dropped_by_seq;
        totals.gaps += o.gaps;
        totals.queue_drops += o.queue_drops;
        if !o.finished {
            totals.unfinished += 1;
        }
        totals.expected += self.accepted();
        for (n, &state) in self.states.iter().enumerate() {
            let got = o.counts.get(n).copied().unwrap_or(0);
            if state == ACCEPTED && got == 0 {
                totals.lost += 1;
            }
            if got > 0 {
                totals.delivered += 1;
            }
            totals.duplicated += u64::from(got.saturating_sub(1));
        }
    }

    /// The sender's side of the report.
    pub(super) fn sender_totals(&self) -> SenderTotals {
        SenderTotals {
            sent: self.states.iter().filter(|&&s| s != UNSENT).count() as u64,
            accepted: self.accepted(),
            refused: self.count(REFUSED),
            unanswered: self.count(WAITING),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_accepted_number_never_seen_is_lost_and_every_extra_copy_is_a_duplicate() {
        // Numbers 1 and 2 accepted, 3 refused, 4 never answered.
        let ledger = Ledger::new(vec![UNSENT, ACCEPTED, ACCEPTED, REFUSED, WAITING]);
        assert_eq!(ledger.last_accepted(), 2);
        let mut totals = ObserverTotals::default();
        let twice = ObserverOutcome {
            counts: vec![0, 1, 2, 0, 1],
            finished: true,
            ..Default::default()
        };
        ledger.add_observer(&mut totals, &twice);
        assert_eq!(
            (totals.lost, totals.duplicated, totals.delivered),
            (0, 1, 3)
        );
        let missed_one = ObserverOutcome {
            counts: vec![0, 0, 1],
            ..Default::default()
        };
        ledger.add_observer(&mut totals, &missed_one);
        assert_eq!((totals.lost, totals.duplicated), (1, 1));
        assert_eq!(totals.expected, 4, "two accepted numbers, two observers");
        assert_eq!(totals.unfinished, 1);
        let s = ledger.sender_totals();
        assert_eq!((s.sent, s.accepted, s.refused, s.unanswered), (4, 2, 1, 1));
    }
}
