// Lesson 06 — exercise: RFC 3550's loss fraction and interarrival jitter.
//
// Replace each `todo!()`, then run `netlab check 06`.
// `netlab lesson 06` explains every rule the grader checks.

/// RFC 3550 A.3: the share of an interval's expected packets that were lost,
/// as 8-bit fixed point: `(lost << 8) / expected`. 0 when nothing was expected
/// or when duplicates made `received >= expected`.
pub fn fraction_lost(expected_interval: u64, received_interval: u64) -> u8 {
    // TODO: lost = expected - received (when positive), then shift and divide.
    todo!()
}

/// RFC 3550 A.8: one step of the jitter estimate, `J + (|D| - J) / 16`.
pub fn next_jitter(jitter: f64, d: i64) -> f64 {
    // TODO: move a sixteenth of the way from `jitter` towards |d|.
    todo!()
}

/// The jitter after a run of `(sender timestamp, arrival time)` samples in µs,
/// in arrival order. The first sample only sets the transit time; each next
/// one gives `D = transit - previous transit`. Timestamps wrap at 2^32.
pub fn interarrival_jitter(samples: &[(u32, u32)]) -> f64 {
    // TODO: transit = arrival.wrapping_sub(sent); D = transit.wrapping_sub(prev) as i32.
    todo!()
}
