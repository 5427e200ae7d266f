//! Mistake: the jitter step forgets the /16 gain, so J jumps all the way to |D| instead of moving a sixteenth of the way.
//! Caught by: J + (|D| - J) / 16 = 0 + (160 - 0) / 16 = 10

pub use netlab::udp::tracker::{fraction_lost, interarrival_jitter};

pub fn next_jitter(jitter: f64, d: i64) -> f64 {
    jitter + (d.unsigned_abs() as f64 - jitter) // should be divided by 16
}
