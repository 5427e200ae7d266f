// Lesson 06 — the grader. Included by tests/lessons.rs (against the library)
// and exercises/tests/lesson_06.rs (against your lessons/06-tcp-vs-udp/exercise.rs),
// inside a module where `subject` is the code under test.

use self::subject::{fraction_lost, interarrival_jitter, next_jitter};
use pretty_assertions::assert_eq;

#[test]
fn fraction_lost_is_eight_bit_fixed_point() {
    assert_eq!(fraction_lost(16, 12), 64, "4 of 16 lost = 0.25 = 64/256");
    assert_eq!(fraction_lost(100, 50), 128, "half");
    assert_eq!(fraction_lost(3, 2), 85, "1 * 256 / 3 = 85.33, truncated");
    assert_eq!(fraction_lost(1000, 1000), 0);
}

#[test]
fn fraction_lost_is_never_negative_or_a_division_by_zero() {
    assert_eq!(fraction_lost(0, 0), 0);
    assert_eq!(fraction_lost(10, 13), 0, "3 duplicates: no loss");
    assert_eq!(fraction_lost(256, 1), 255, "255 of 256 lost");
}

#[test]
fn jitter_moves_a_sixteenth_of_the_way() {
    assert_eq!(next_jitter(0.0, 160), 10.0);
    assert_eq!(next_jitter(0.0, -160), 10.0, "|D|: earlier counts like later");
    assert_eq!(next_jitter(10.0, 10), 10.0);
    assert_eq!(next_jitter(32.0, 0), 30.0);
}

#[test]
fn jitter_over_a_run_of_samples() {
    // Sent every 1000 µs; transits 100, 300, 300, 100.
    let samples = [(0, 100), (1000, 1300), (2000, 2300), (3000, 3100)];
    // D = 200, 0, -200: J = 12.5, then 11.71875, then 11.71875 + (200 - 11.71875)/16
    let j1 = 200.0 / 16.0;
    let j2 = j1 - j1 / 16.0;
    let j3 = j2 + (200.0 - j2) / 16.0;
    assert_eq!(interarrival_jitter(&samples), j3);
    assert_eq!(interarrival_jitter(&samples[..1]), 0.0, "one sample: no difference yet");
    assert_eq!(interarrival_jitter(&[]), 0.0);
}

#[test]
fn jitter_survives_the_timestamp_wrapping() {
    // The sender's clock wraps between the two samples; transits are 16 and 176.
    let s0 = u32::MAX - 10;
    let samples = [(s0, 5), (s0.wrapping_add(1000), 1165)];
    assert_eq!(interarrival_jitter(&samples), 10.0);
}

#[test]
fn a_constant_delay_has_no_jitter() {
    let samples: Vec<(u32, u32)> = (0..100).map(|i| (i * 1000, i * 1000 + 5000)).collect();
    assert_eq!(interarrival_jitter(&samples), 0.0);
}
