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

// ---- Part 2: the pinger, over real UDP sockets and netlab's impaired link. ----
//
// Every ping runs on a thread of its own with a deadline, so a pinger that
// waits forever fails its test instead of hanging it.

use self::subject::ping;
use netlab::link::background::BackgroundRelay;
use netlab::link::relay::RelayConfig;
use netlab::link::Impairment;
use netlab::udp::{DatagramHeader, PingReport};
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// Time a pinger may take beyond `count × timeout` before the test calls it stuck.
const PING_SLACK: Duration = Duration::from_secs(3);

/// How often the echo service below looks up from an idle socket.
const RESPONDER_TICK: Duration = Duration::from_millis(25);

/// A UDP echo service on loopback. For every datagram (and, with `None`,
/// every [`RESPONDER_TICK`] without one) it calls its `answer` function; it
/// records the sequence number of every ping it receives.
struct Responder {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<u32>>>,
    stop: Arc<AtomicBool>,
}

impl Responder {
    fn start<F>(mut answer: F) -> Responder
    where
        F: FnMut(&UdpSocket, Option<(&[u8], SocketAddr)>) + Send + 'static,
    {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind the echo service");
        socket.set_read_timeout(Some(RESPONDER_TICK)).unwrap();
        let addr = socket.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen2, stop2) = (seen.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            let born = Instant::now();
            while !stop2.load(Ordering::SeqCst) && born.elapsed() < Duration::from_secs(60) {
                match socket.recv_from(&mut buf) {
                    Ok((n, from)) => {
                        if let Ok((h, _)) = DatagramHeader::parse(&buf[..n]) {
                            seen2.lock().unwrap().push(h.seq);
                        }
                        answer(&socket, Some((&buf[..n], from)));
                    }
                    Err(_) => answer(&socket, None),
                }
            }
        });
        Responder { addr, seen, stop }
    }

    /// An echo service that sends every datagram back once, unchanged.
    fn echo() -> Responder {
        Responder::start(|socket, got| {
            if let Some((datagram, from)) = got {
                let _ = socket.send_to(datagram, from);
            }
        })
    }

    /// The sequence numbers of the pings it received, in order.
    fn seen(&self) -> Vec<u32> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// The sequence number in a datagram the pinger sent.
fn seq_of(datagram: &[u8]) -> Option<u32> {
    DatagramHeader::parse(datagram).ok().map(|(h, _)| h.seq)
}

/// Runs the student's `ping` from a fresh loopback socket, failing the test
/// if it takes longer than `count × timeout` plus [`PING_SLACK`].
fn ping_within(target: SocketAddr, count: u32, timeout: Duration) -> std::io::Result<PingReport> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind the pinger's socket");
        let _ = tx.send(ping(&socket, target, count, timeout));
    });
    let limit = timeout * count + PING_SLACK;
    match rx.recv_timeout(limit) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!(
            "ping({count} pings, timeout {timeout:?}) did not return within {limit:?}: each ping \
             may wait at most its timeout, counted from when it was sent, whatever else arrives"
        ),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            panic!("ping panicked (its message is above)")
        }
    }
}

/// Every round trip must be positive and shorter than the timeout it was measured under.
fn check_rtts(report: &PingReport, timeout: Duration) {
    assert_eq!(
        report.rtts.len() as u32,
        report.received,
        "rtts must hold one round-trip time per answered ping"
    );
    for (i, rtt) in report.rtts.iter().enumerate() {
        assert!(
            *rtt > Duration::ZERO && *rtt < timeout,
            "round trip {i} is {rtt:?}: an answered ping's round trip is above zero and below \
             the timeout ({timeout:?}), or it would not count as answered"
        );
    }
}

#[test]
fn ping_through_a_perfect_link_gets_every_answer() {
    let service = Responder::echo();
    let link = BackgroundRelay::start(
        "127.0.0.1:0".parse().unwrap(),
        RelayConfig::new(service.addr, Impairment::default()),
    )
    .expect("start netlab's link");
    let timeout = Duration::from_secs(1);
    let report = ping_within(link.addr(), 10, timeout).expect("ping through a perfect link failed");
    let counters = link.stop().unwrap();
    assert_eq!(
        service.seen(),
        (0..10).collect::<Vec<u32>>(),
        "the echo service must receive pings numbered 0 to 9, in order, each once, each starting \
         with a DatagramHeader carrying its number"
    );
    assert_eq!(
        (report.sent, report.received, report.lost),
        (10, 10, 0),
        "(sent, received, lost) over a link that loses nothing"
    );
    assert_eq!(
        counters.forward.received, 10,
        "the link must carry exactly one datagram per ping towards the service"
    );
    check_rtts(&report, timeout);
}

#[test]
fn ping_through_a_lossy_link_counts_exactly_what_the_link_dropped() {
    let service = Responder::echo();
    // 15 % loss each way, seeded: about one round trip in four fails.
    let lossy = Impairment { loss: 0.15, seed: 4, ..Impairment::default() };
    let link = BackgroundRelay::start(
        "127.0.0.1:0".parse().unwrap(),
        RelayConfig::new(service.addr, lossy),
    )
    .expect("start netlab's link");
    let timeout = Duration::from_millis(400);
    let report = ping_within(link.addr(), 30, timeout).expect("ping through a lossy link failed");
    let counters = link.stop().unwrap();
    let (forward, backward) = (counters.forward, counters.backward);
    assert!(
        forward.lost > 0 && backward.lost > 0,
        "(the grader's own check) seed 4 should drop pings on the way there and answers on the \
         way back; the link dropped {} and {}",
        forward.lost,
        backward.lost
    );
    assert_eq!(report.sent, 30, "sent must be the number of pings asked for");
    assert_eq!(
        forward.received, 30,
        "the link must see exactly one datagram per ping: {} went through it",
        forward.received
    );
    assert_eq!(
        report.received + report.lost,
        report.sent,
        "every ping is either answered or lost: received + lost must equal sent"
    );
    assert_eq!(
        u64::from(report.lost),
        forward.lost + backward.lost,
        "lost must be what the link dropped: {} pings on the way there plus {} answers on the \
         way back",
        forward.lost,
        backward.lost
    );
    assert_eq!(
        u64::from(report.received),
        backward.delivered,
        "received must be the number of answers the link delivered back, each counted once"
    );
    check_rtts(&report, timeout);
}

#[test]
fn ping_counts_repeated_and_late_answers_once_or_not_at_all() {
    // Every answer comes twice, except the answers to pings 2 and 5, which
    // come once and late: after their timeout, while the next ping waits.
    let timeout = Duration::from_millis(400);
    let service = Responder::start(move |socket, got| {
        let Some((datagram, from)) = got else { return };
        if matches!(seq_of(datagram), Some(2 | 5)) {
            std::thread::sleep(timeout + Duration::from_millis(100));
            let _ = socket.send_to(datagram, from);
        } else {
            let _ = socket.send_to(datagram, from);
            let _ = socket.send_to(datagram, from);
        }
    });
    let report = ping_within(service.addr, 8, timeout).expect("ping failed");
    assert_eq!(
        (report.sent, report.received, report.lost),
        (8, 6, 2),
        "(sent, received, lost): a second copy of an answer is not another answer, and an answer \
         after its ping's timeout counts for nothing (nor for the ping being waited for)"
    );
    check_rtts(&report, timeout);
}

#[test]
fn ping_ignores_strangers_and_their_noise_does_not_stop_the_clock() {
    // The service answers only even pings, each after a too-short datagram.
    // A stranger copies every ping straight back (right number, wrong
    // address) and keeps repeating it while nothing else happens.
    let stranger = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut last: Option<(Vec<u8>, SocketAddr)> = None;
    let service = Responder::start(move |socket, got| match got {
        Some((datagram, from)) => {
            let _ = stranger.send_to(datagram, from);
            if seq_of(datagram).is_some_and(|seq| seq % 2 == 0) {
                let _ = socket.send_to(b"?", from);
                let _ = socket.send_to(datagram, from);
            }
            last = Some((datagram.to_vec(), from));
        }
        None => {
            if let Some((datagram, to)) = &last {
                let _ = stranger.send_to(datagram, *to);
            }
        }
    });
    let timeout = Duration::from_millis(300);
    let started = Instant::now();
    let report = ping_within(service.addr, 6, timeout).expect("ping failed");
    let took = started.elapsed();
    assert_eq!(
        (report.sent, report.received, report.lost),
        (6, 3, 3),
        "(sent, received, lost): only datagrams from the target count as answers; a stranger \
         sending the right sequence number is not the service, and a datagram too short for a \
         header is no answer"
    );
    check_rtts(&report, timeout);
    assert!(
        took < timeout * 6 + Duration::from_secs(1),
        "6 pings with a {timeout:?} timeout took {took:?}: datagrams that are not the answer \
         must not restart a ping's timeout"
    );
}

#[test]
fn ping_of_nothing_sends_nothing_and_a_zero_timeout_is_refused() {
    let service = Responder::echo();
    let report =
        ping_within(service.addr, 0, Duration::from_millis(100)).expect("ping of 0 failed");
    assert_eq!(
        report,
        PingReport::default(),
        "pinging 0 times sends nothing and reports all zeros"
    );
    std::thread::sleep(RESPONDER_TICK * 4);
    assert_eq!(service.seen(), Vec::<u32>::new(), "pinging 0 times must send no datagram");
    let err = ping_within(service.addr, 3, Duration::ZERO)
        .expect_err("a zero timeout leaves no time for any answer: it must be an error");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "a zero timeout is invalid input");
}
