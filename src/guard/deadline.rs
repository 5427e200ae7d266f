//! One reusable timer per connection, for its frame and idle deadlines.
//!
//! Wrapping every read in `tokio::time::timeout` would put a new timer in
//! the runtime's timer wheel each time a read has to wait — once per
//! message for a client doing request/response. A [`Deadline`] keeps one
//! [`Sleep`] for the connection's whole life and only moves it: moving a
//! deadline later (the common case: more bytes arrived, the idle clock
//! restarts) is a single atomic store in tokio, not a timer-wheel operation.

use std::future::Future;
use std::pin::Pin;
use tokio::time::{Instant, Sleep};

/// A connection's deadline: none, or one instant, reusing one timer.
#[derive(Debug, Default)]
pub struct Deadline {
    sleep: Option<Pin<Box<Sleep>>>,
    at: Option<Instant>,
}

impl Deadline {
    /// No deadline yet (no timer is made until one is set).
    pub fn new() -> Deadline {
        Deadline::default()
    }

    /// Sets the deadline (`None`: none). Cheap when unchanged or moved later.
    pub fn set(&mut self, at: Option<Instant>) {
        if at == self.at {
            return;
        }
        self.at = at;
        if let Some(at) = at {
            match &mut self.sleep {
                Some(sleep) => sleep.as_mut().reset(at),
                None => self.sleep = Some(Box::pin(tokio::time::sleep_until(at))),
            }
        }
    }

    /// The deadline in force.
    pub fn at(&self) -> Option<Instant> {
        self.at
    }

    /// Runs `work` until it finishes (`Some(output)`) or the deadline passes
    /// first (`None`). Without a deadline, simply runs it.
    pub async fn run<F: Future>(&mut self, work: F) -> Option<F::Output> {
        match (self.at, self.sleep.as_mut()) {
            (Some(_), Some(sleep)) => {
                tokio::select! {
                    biased;
                    out = work => Some(out),
                    _ = sleep.as_mut() => None,
                }
            }
            _ => Some(work.await),
        }
    }
}

/// The earlier of two optional deadlines (`None` when neither is set).
pub fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn earliest_of_two_deadlines() {
        let t = Instant::now();
        let later = t + Duration::from_secs(1);
        assert_eq!(earliest(None, None), None);
        assert_eq!(earliest(Some(t), None), Some(t));
        assert_eq!(earliest(None, Some(t)), Some(t));
        assert_eq!(earliest(Some(later), Some(t)), Some(t));
    }

    #[tokio::test]
    async fn work_done_in_time_passes_late_work_is_cut_and_the_timer_is_reused() {
        let mut d = Deadline::new();
        assert_eq!(d.run(async { 1 }).await, Some(1), "no deadline");
        d.set(Some(Instant::now() + Duration::from_secs(30)));
        assert_eq!(
            d.run(async { 2 }).await,
            Some(2),
            "done before the deadline"
        );
        d.set(Some(Instant::now() + Duration::from_millis(20)));
        assert_eq!(d.run(std::future::pending::<()>()).await, None, "cut");
        // Moved later, the same timer fires again.
        d.set(Some(Instant::now() + Duration::from_millis(20)));
        assert_eq!(d.run(std::future::pending::<()>()).await, None);
        d.set(None);
        assert_eq!(d.at(), None);
        assert_eq!(d.run(async { 3 }).await, Some(3));
    }
}
