//! Mistake: the jitter step uses D instead of |D|, so arriving earlier pulls the jitter down instead of up.
//! Caught by: arriving 160 µs earlier counts like arriving 160 µs later

pub use netlab::udp::tracker::{fraction_lost, interarrival_jitter};

pub fn next_jitter(jitter: f64, d: i64) -> f64 {
    jitter + (d as f64 - jitter) / 16.0 // should be |d|
}
