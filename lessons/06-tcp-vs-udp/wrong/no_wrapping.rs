//! Mistake: transit times are computed in i64 without wrapping, so when the 32-bit sender clock wraps, D becomes about 2^32 and the jitter explodes.
//! Caught by: timestamps wrap at 2^32

pub use netlab::udp::tracker::{fraction_lost, next_jitter};

pub fn interarrival_jitter(samples: &[(u32, u32)]) -> f64 {
    let mut jitter = 0.0;
    let mut previous: Option<i64> = None;
    for &(sent, arrived) in samples {
        let transit = arrived as i64 - sent as i64; // should be arrived.wrapping_sub(sent)
        if let Some(p) = previous {
            jitter = next_jitter(jitter, transit - p);
        }
        previous = Some(transit);
    }
    jitter
}
