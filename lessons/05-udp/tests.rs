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
        vec![Arrival::InOrder { seq: 0 }, Arrival::InOrder { seq: 1 }, Arrival::InOrder { seq: 2 }]
    );
}

#[test]
fn a_jump_reports_the_numbers_skipped() {
    let got = feed(&[0, 1, 2, 6]);
    assert_eq!(got[3], Arrival::AfterGap { seq: 6, missing: 3..=5 });
    assert_eq!(got[3].to_string(), "3 messages lost: seq 3–5");
    // After the gap, the next in order is 7.
    let mut t = ReceiveTracker::new();
    t.on_arrival(0);
    t.on_arrival(2);
    assert_eq!(t.on_arrival(3), Arrival::InOrder { seq: 3 });
}

#[test]
fn losing_the_very_first_datagram_is_a_gap_from_zero() {
    assert_eq!(feed(&[1]), vec![Arrival::AfterGap { seq: 1, missing: 0..=0 }]);
}

#[test]
fn an_overtaken_datagram_arrives_late() {
    let got = feed(&[0, 2, 1]);
    assert_eq!(got[2], Arrival::Late { seq: 1 });
    assert_eq!(got[2].to_string(), "arrived late: 1");
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
        ]
    );
    assert_eq!(got[2].to_string(), "duplicate of 1");
}

#[test]
fn a_late_arrival_does_not_move_the_expectation_back() {
    let mut t = ReceiveTracker::new();
    for s in [0, 4, 2] {
        t.on_arrival(s);
    }
    assert_eq!(t.on_arrival(5), Arrival::InOrder { seq: 5 });
    assert_eq!(t.on_arrival(3), Arrival::Late { seq: 3 });
}
