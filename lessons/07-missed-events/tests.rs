// Lesson 07 — the grader. Included by tests/lessons.rs (against the library)
// and exercises/tests/lesson_07.rs (against your lessons/07-missed-events/exercise.rs),
// inside a module where `subject` is the code under test.

use self::subject::{Offer, ReorderBuffer, RtoConfig, RtoEstimator};
use bytes::Bytes;
use pretty_assertions::assert_eq;
use std::time::Duration;

fn b(s: &'static str) -> Bytes {
    Bytes::from_static(s.as_bytes())
}
const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}
const fn us(n: u64) -> Duration {
    Duration::from_micros(n)
}
/// RFC 6298's timing rules without the 1 s floor, so small numbers show.
const OPEN: RtoConfig = RtoConfig {
    initial: Duration::from_secs(1),
    min: Duration::ZERO,
    max: Duration::from_secs(60),
    granularity: Duration::from_millis(1),
};

#[test]
fn in_order_segments_come_straight_out() {
    let mut r = ReorderBuffer::new(4);
    assert_eq!(r.next_expected(), 0, "nothing received yet: 0 is expected first");
    assert_eq!(r.offer(0, b("a")), Offer::Accepted, "0 is the next expected: accepted");
    assert_eq!(r.pop(), Some(b("a")), "0 was accepted and is next in order: pop delivers it");
    assert_eq!(r.pop(), None, "1 has not arrived: nothing more to deliver");
    assert_eq!(r.next_expected(), 1, "0 was delivered, so the cumulative ack moves to 1");
}

#[test]
fn early_segments_wait_for_the_gap_then_come_out_in_order() {
    let mut r = ReorderBuffer::new(8);
    assert_eq!(r.offer(2, b("c")), Offer::Accepted, "2 is early but inside the window: held");
    assert_eq!(r.offer(1, b("b")), Offer::Accepted, "1 is early but inside the window: held");
    assert_eq!(r.pop(), None, "0 has not arrived, so 1 and 2 must wait: nothing is delivered out of order");
    assert_eq!(r.next_expected(), 0, "nothing delivered yet: the ack stays at 0");
    assert_eq!(r.offer(0, b("a")), Offer::Accepted, "0 fills the gap: accepted");
    let out: Vec<Bytes> = std::iter::from_fn(|| r.pop()).collect();
    assert_eq!(out, vec![b("a"), b("b"), b("c")], "once 0 arrives, 0, 1 and 2 come out in sequence order");
    assert_eq!(r.next_expected(), 3, "0, 1 and 2 were delivered: the ack moves to 3");
}

#[test]
fn a_second_copy_is_dropped_whether_delivered_or_held() {
    let mut r = ReorderBuffer::new(8);
    r.offer(0, b("a"));
    r.pop();
    assert_eq!(r.offer(0, b("a")), Offer::Duplicate, "0 was already delivered: a second copy is a duplicate");
    assert_eq!(r.offer(3, b("d")), Offer::Accepted, "3 is early but inside the window: held");
    assert_eq!(r.offer(3, b("X")), Offer::Duplicate, "3 is already held: a second copy is a duplicate");
    for s in [1, 2] {
        r.offer(s, b("-"));
    }
    let out: Vec<Bytes> = std::iter::from_fn(|| r.pop()).collect();
    assert_eq!(
        out,
        vec![b("-"), b("-"), b("d")],
        "the first copy of 3 is kept: a duplicate must not replace what is held"
    );
}

#[test]
fn the_window_bounds_what_is_held() {
    let mut r = ReorderBuffer::new(4);
    assert_eq!(r.offer(3, b("x")), Offer::Accepted, "3 = next_expected + window - 1, the last number inside the window");
    assert_eq!(r.offer(4, b("y")), Offer::OutOfWindow, "4 = next_expected + window, the first number outside it");
    assert_eq!(
        r.offer(u64::MAX, b("z")),
        Offer::OutOfWindow,
        "u64::MAX is far outside the window; computing seq - next_expected (never next_expected + window) cannot overflow"
    );
}

#[test]
fn before_any_sample_the_rto_is_the_initial_one_within_bounds() {
    let e = RtoEstimator::new(RtoConfig {
        initial: Duration::from_secs(1),
        min: Duration::from_secs(1),
        max: Duration::from_secs(60),
        granularity: ms(1),
    });
    assert_eq!(
        (e.rto(), e.srtt()),
        (Duration::from_secs(1), None),
        "before any round trip was measured, RTO is the initial 1 s and there is no SRTT"
    );
    let capped = RtoEstimator::new(RtoConfig { max: ms(500), ..OPEN });
    assert_eq!(capped.rto(), ms(500), "an initial RTO of 1 s above a max of 500 ms is clamped to 500 ms");
}

#[test]
fn the_first_sample_sets_srtt_and_half_of_it_as_variation() {
    let mut e = RtoEstimator::new(OPEN);
    e.on_sample(ms(100));
    // SRTT 100, RTTVAR 50, RTO = 100 + 4·50.
    assert_eq!(
        (e.srtt(), e.rttvar(), e.rto()),
        (Some(ms(100)), ms(50), ms(300)),
        "(SRTT, RTTVAR, RTO) after the first sample R = 100 ms: SRTT = R, RTTVAR = R/2 = 50, RTO = 100 + 4·50 = 300"
    );
}

#[test]
fn later_samples_follow_rfc_6298_worked_by_hand() {
    let mut e = RtoEstimator::new(OPEN);
    e.on_sample(ms(100));
    // RTTVAR = 3/4·50 + 1/4·|100 − 200| = 62.5; SRTT = 7/8·100 + 1/8·200 = 112.5.
    e.on_sample(ms(200));
    assert_eq!(
        (e.srtt(), e.rttvar(), e.rto()),
        (Some(us(112_500)), us(62_500), us(362_500)),
        "(SRTT, RTTVAR, RTO) after 100 then 200 ms: RTTVAR = 3/4·50 + 1/4·|100 − 200| = 62.5 with the OLD SRTT (100), then SRTT = 7/8·100 + 1/8·200 = 112.5"
    );
    // RTTVAR = 3/4·62.5 + 1/4·12.5 = 50; SRTT = 7/8·112.5 + 1/8·100 = 110.9375.
    e.on_sample(ms(100));
    assert_eq!(
        e.rto(),
        Duration::from_nanos(310_937_500),
        "after a third sample of 100 ms: RTTVAR = 3/4·62.5 + 1/4·|112.5 − 100| = 50, SRTT = 110.9375, RTO = 110.9375 + 4·50"
    );
}

#[test]
fn a_steady_path_keeps_the_granularity_and_the_floor() {
    let mut e = RtoEstimator::new(OPEN);
    for _ in 0..200 {
        e.on_sample(ms(10));
    }
    assert_eq!(
        e.rto(),
        ms(11),
        "200 samples of 10 ms: 4·RTTVAR has shrunk below G = 1 ms, so RTO = SRTT + max(G, 4·RTTVAR) = 10 + 1"
    );
    let mut floored = RtoEstimator::new(RtoConfig { min: ms(200), ..OPEN });
    floored.on_sample(ms(10));
    assert_eq!(floored.rto(), ms(200), "10 + 4·5 = 30 ms is below the minimum, so RTO is raised to the 200 ms floor");
}

#[test]
fn each_timeout_doubles_up_to_the_maximum() {
    let mut e = RtoEstimator::new(RtoConfig { max: ms(5000), ..OPEN });
    let seen: Vec<Duration> = (0..4)
        .map(|_| {
            e.on_timeout();
            e.rto()
        })
        .collect();
    assert_eq!(
        seen,
        vec![ms(2000), ms(4000), ms(5000), ms(5000)],
        "the RTO after each of four timeouts from 1 s: it doubles (2 s, 4 s), but never above the max of 5 s"
    );
}
