// Lesson 06 — exercise: RFC 3550's loss fraction and interarrival jitter.
//
// Replace each `todo!()`, then run `netlab check 06`.
// `netlab lesson 06` explains every rule the grader checks.

/// RFC 3550 §6.4.1 / A.3: the share of an interval's expected packets that
/// were lost, in 256ths (8-bit fixed point, 64 = a quarter), rounded down.
/// 0 when nothing was expected, or when duplicates made `received >= expected`;
/// never more than 255.
pub fn fraction_lost(expected_interval: u64, received_interval: u64) -> u8 {
    todo!()
}

/// RFC 3550 §6.4.1 / A.8: one step of the interarrival jitter estimate — the
/// estimate after one more packet, from the estimate so far (`jitter`) and
/// that packet's difference in transit time `d` (µs), with the RFC's gain
/// of 1/16. Only the size of `d` counts, not its sign.
pub fn next_jitter(jitter: f64, d: i64) -> f64 {
    todo!()
}

/// RFC 3550 §6.4.1 / A.8 over a run: the jitter estimate, starting from 0,
/// after `(sender timestamp, arrival time)` samples in µs, in arrival order.
/// Each packet's difference is its transit time (arrival minus timestamp)
/// minus the previous packet's, so the first sample gives no step. Both
/// clocks are 32-bit and wrap at 2^32; only differences count.
pub fn interarrival_jitter(samples: &[(u32, u32)]) -> f64 {
    todo!()
}
