// Lesson 06 — the grader. Included by tests/lessons.rs (against the library)
// and exercises/tests/lesson_06.rs (against your lessons/06-tcp-vs-udp/exercise.rs),
// inside a module where `subject` is the code under test.

use self::subject::{fraction_lost, interarrival_jitter, next_jitter};
use pretty_assertions::assert_eq;

#[test]
fn fraction_lost_is_eight_bit_fixed_point() {
    assert_eq!(fraction_lost(16, 12), 64, "4 of 16 lost = 0.25 = 64/256: (4 << 8) / 16");
    assert_eq!(fraction_lost(100, 50), 128, "half lost = 128/256");
    assert_eq!(fraction_lost(3, 2), 85, "1 of 3 lost: (1 << 8) / 3 = 85.33, truncated to 85");
    assert_eq!(fraction_lost(1000, 1000), 0, "everything expected arrived: nothing lost");
}

#[test]
fn fraction_lost_is_never_negative_or_a_division_by_zero() {
    assert_eq!(fraction_lost(0, 0), 0, "nothing was expected: 0, not a division by zero");
    assert_eq!(fraction_lost(10, 13), 0, "13 received of 10 expected means 3 duplicates, not a negative loss: 0");
    assert_eq!(fraction_lost(256, 1), 255, "255 of 256 lost: (255 << 8) / 256 = 255");
    assert_eq!(
        fraction_lost(10, 0),
        255,
        "all 10 lost: (10 << 8) / 10 = 256 does not fit in 8 bits, so it is capped at 255 (not wrapped to 0, which would say nothing was lost)"
    );
}

#[test]
fn jitter_moves_a_sixteenth_of_the_way() {
    assert_eq!(next_jitter(0.0, 160), 10.0, "J + (|D| - J) / 16 = 0 + (160 - 0) / 16 = 10");
    assert_eq!(next_jitter(0.0, -160), 10.0, "|D|: arriving 160 µs earlier counts like arriving 160 µs later, 10");
    assert_eq!(next_jitter(10.0, 10), 10.0, "|D| equal to J leaves J where it is");
    assert_eq!(next_jitter(32.0, 0), 30.0, "D = 0 pulls J down by a sixteenth of itself: 32 - 32/16 = 30");
}

#[test]
fn jitter_over_a_run_of_samples() {
    // Sent every 1000 µs; transits 100, 300, 300, 100.
    let samples = [(0, 100), (1000, 1300), (2000, 2300), (3000, 3100)];
    // D = 200, 0, -200: J = 12.5, then 11.71875, then 11.71875 + (200 - 11.71875)/16
    let j1 = 200.0 / 16.0;
    let j2 = j1 - j1 / 16.0;
    let j3 = j2 + (200.0 - j2) / 16.0;
    assert_eq!(
        interarrival_jitter(&samples),
        j3,
        "transits 100, 300, 300, 100 give D = 200, 0, -200: J = 12.5, then 11.71875, then {j3}"
    );
    assert_eq!(
        interarrival_jitter(&samples[..1]),
        0.0,
        "one sample only sets the first transit time: no difference yet, so no jitter"
    );
    assert_eq!(interarrival_jitter(&[]), 0.0, "no samples: no jitter");
}

#[test]
fn jitter_survives_the_timestamp_wrapping() {
    // The sender's clock wraps between the two samples; transits are 16 and 176.
    let s0 = u32::MAX - 10;
    let samples = [(s0, 5), (s0.wrapping_add(1000), 1165)];
    assert_eq!(
        interarrival_jitter(&samples),
        10.0,
        "timestamps wrap at 2^32: with wrapping subtraction the transits are 16 and 176, so D = 160 and J = 10"
    );
}

#[test]
fn a_constant_delay_has_no_jitter() {
    let samples: Vec<(u32, u32)> = (0..100).map(|i| (i * 1000, i * 1000 + 5000)).collect();
    assert_eq!(
        interarrival_jitter(&samples),
        0.0,
        "every datagram takes exactly 5000 µs: D is always 0, so there is no jitter, however long the delay"
    );
}
