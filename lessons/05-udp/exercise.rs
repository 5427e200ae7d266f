// Lesson 05 — exercise: tell what the network did from sequence numbers.
//
// Every datagram carries its sender's sequence number: 0, 1, 2, ...
// Replace each `todo!()`, then run `netlab check 05`.
// `netlab lesson 05` explains every rule the grader checks.

use netlab::udp::Arrival;
use std::collections::BTreeSet;

/// The receiver's view of one sender.
pub struct ReceiveTracker {
    /// The next number expected in order (the highest seen + 1; 0 at the start).
    pub next_expected: u64,
    /// Every number seen so far.
    pub seen: BTreeSet<u64>,
}

impl ReceiveTracker {
    /// A tracker for a sender that numbers from 0: nothing seen yet, 0 expected first.
    pub fn new() -> Self {
        todo!()
    }

    /// Records `seq` and says what it means (the first line that fits wins):
    /// - seen before, whatever its value → `Arrival::Duplicate { seq }`
    /// - exactly `next_expected`         → `Arrival::InOrder { seq }`
    /// - above `next_expected`           → `Arrival::AfterGap { seq, missing: next_expected..=seq - 1 }`
    /// - below `next_expected`           → `Arrival::Late { seq }`
    ///
    /// Afterwards both fields hold what their doc comments say: a late
    /// arrival never moves `next_expected` back.
    pub fn on_arrival(&mut self, seq: u64) -> Arrival {
        todo!()
    }
}

// Part 2 — a UDP pinger (`netlab lesson 05`, "Exercise, part 2"). The grader
// pings an echo service through netlab's impaired link and compares your
// report with what the link says it dropped.

use netlab::udp::PingReport;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

/// Pings the UDP echo service at `target` `count` times, one ping at a time,
/// and reports how many were answered within `timeout` and how fast.
///
/// - ping number `seq` (0, 1, 2, ... `count - 1`) is one datagram sent to
///   `target`: a `netlab::udp::DatagramHeader { seq, timestamp }` (any
///   timestamp) followed by any short message. The service sends each
///   datagram back unchanged;
/// - a ping is answered by the first datagram *from `target`* whose header
///   carries its `seq` and that arrives within `timeout` of the ping being
///   sent. Ignore everything else: datagrams from other addresses, a second
///   copy of an answer, an answer to an earlier ping that arrives late — and
///   none of those may make a ping wait longer than `timeout`;
/// - the next ping is sent when the previous one was answered or its
///   `timeout` ran out, so the whole call takes at most about
///   `count × timeout`;
/// - the report: `sent` = `count`; `received` = pings answered (each at most
///   once); `lost` = `sent - received`; `rtts` = for each answered ping, in
///   order, the time from sending it to its answer;
/// - `count` 0: no datagram is sent and the report is all zeros and empty;
///   `timeout` zero: an error of kind `ErrorKind::InvalidInput`; an error from
///   the socket other than a receive timing out is returned.
pub fn ping(
    socket: &UdpSocket,
    target: SocketAddr,
    count: u32,
    timeout: Duration,
) -> std::io::Result<PingReport> {
    todo!()
}
