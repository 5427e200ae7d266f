// Lesson 05 — the grader. Included by tests/lessons.rs (against the library)
// and exercises/tests/lesson_05.rs (against your lessons/05-udp/exercise.rs), inside a
// module where `subject` is the code under test.

use self::subject::ReceiveTracker;
use netlab::udp::Arrival;
use pretty_assertions::assert_eq;

fn feed(seqs: &[u64]) -> Vec<Arrival> {
    let mut t = ReceiveTracker::new();
    seqs.iter().map(|&s| t.on_arrival(s)).collect()
}

#[test]
fn numbers_in_order_are_in_order() {
    assert_eq!(
        feed(&[0, 1, 2]),
        vec![Arrival::InOrder { seq: 0 }, Arrival::InOrder { seq: 1 }, Arrival::InOrder { seq: 2 }],
        "0, 1, 2 each arrive exactly when expected: all in order"
    );
}

#[test]
fn a_jump_reports_the_numbers_skipped() {
    let got = feed(&[0, 1, 2, 6]);
    assert_eq!(
        got[3],
        Arrival::AfterGap { seq: 6, missing: 3..=5 },
        "3 was expected after 2, so 6 skips 3, 4 and 5: missing is 3..=5, without 6 itself"
    );
    assert_eq!(got[3].to_string(), "3 messages lost: seq 3–5", "how the gap 3..=5 is shown to the user");
    // After the gap, the next in order is 7.
    let mut t = ReceiveTracker::new();
    t.on_arrival(0);
    t.on_arrival(2);
    assert_eq!(
        t.on_arrival(3),
        Arrival::InOrder { seq: 3 },
        "after 0 and then 2 (a gap), 3 is the next number expected: in order"
    );
}

#[test]
fn losing_the_very_first_datagram_is_a_gap_from_zero() {
    assert_eq!(
        feed(&[1]),
        vec![Arrival::AfterGap { seq: 1, missing: 0..=0 }],
        "the sender numbers from 0, so a first arrival of 1 means 0 is missing"
    );
}

#[test]
fn an_overtaken_datagram_arrives_late() {
    let got = feed(&[0, 2, 1]);
    assert_eq!(
        got[2],
        Arrival::Late { seq: 1 },
        "1 is below the expected 3 and was never seen: it was overtaken by 2, so it is late, not a duplicate"
    );
    assert_eq!(got[2].to_string(), "arrived late: 1", "how a late arrival is shown to the user");
}

#[test]
fn a_copy_is_a_duplicate_whenever_it_comes() {
    let got = feed(&[0, 1, 1, 5, 3, 3, 0]);
    assert_eq!(
        got,
        vec![
            Arrival::InOrder { seq: 0 },
            Arrival::InOrder { seq: 1 },
            Arrival::Duplicate { seq: 1 },
            Arrival::AfterGap { seq: 5, missing: 2..=4 },
            Arrival::Late { seq: 3 },
            Arrival::Duplicate { seq: 3 },
            Arrival::Duplicate { seq: 0 },
        ],
        "a number seen before is a duplicate, checked before anything else, whether it was in order or late the first time"
    );
    assert_eq!(got[2].to_string(), "duplicate of 1", "how a duplicate is shown to the user");
}

#[test]
fn a_late_arrival_does_not_move_the_expectation_back() {
    let mut t = ReceiveTracker::new();
    for s in [0, 4, 2] {
        t.on_arrival(s);
    }
    assert_eq!(
        t.on_arrival(5),
        Arrival::InOrder { seq: 5 },
        "after 0, 4 and the late 2, the highest is still 4, so 5 is in order: a late arrival must not move next_expected back"
    );
    assert_eq!(t.on_arrival(3), Arrival::Late { seq: 3 }, "3 was skipped and never seen: late");
}
