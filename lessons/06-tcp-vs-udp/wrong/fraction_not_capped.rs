//! Mistake: fraction_lost is not capped at 255, so when every packet is lost 256 wraps to 0 in a u8 and the report says nothing was lost.
//! Caught by: capped at 255

pub use netlab::udp::tracker::{interarrival_jitter, next_jitter};

pub fn fraction_lost(expected_interval: u64, received_interval: u64) -> u8 {
    if expected_interval == 0 || received_interval >= expected_interval {
        return 0;
    }
    let lost = expected_interval - received_interval;
    ((lost << 8) / expected_interval) as u8 // 256 becomes 0
}
