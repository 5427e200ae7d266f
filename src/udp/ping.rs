//! Lesson 05 — a UDP pinger: how much is lost, and how long a round trip takes.
//!
//! [`ping`] sends numbered datagrams to an echo service one at a time, each
//! starting with the sequence header ([`DatagramHeader`]), and waits up to a
//! timeout for the echo carrying the same number. UDP may lose the ping or its
//! echo, deliver an echo twice, or deliver it after its timeout, while the
//! next ping is waited for; and anyone may send to the socket. Matching
//! replies by sequence number and source address is what keeps every one of
//! those from being counted as an answer.

use super::header::{DatagramHeader, MAX_DATAGRAM_PAYLOAD};
use std::fmt;
use std::io::{self, ErrorKind};
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// What follows the sequence header in every ping: the echo service sends
/// it back unchanged, and it names the sender in a capture.
pub const PING_MESSAGE: &[u8] = b"netlab ping";

/// What a run of pings found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PingReport {
    /// Pings sent.
    pub sent: u32,
    /// Pings answered within their timeout (each counted once).
    pub received: u32,
    /// Pings not answered in time: `sent - received`.
    pub lost: u32,
    /// Round-trip time of each answered ping, in the order they were sent.
    pub rtts: Vec<Duration>,
}

impl PingReport {
    /// The share of pings lost, 0 to 1 (0 when none was sent).
    pub fn loss_rate(&self) -> f64 {
        if self.sent == 0 {
            0.0
        } else {
            f64::from(self.lost) / f64::from(self.sent)
        }
    }

    /// The shortest round trip, if any ping was answered.
    pub fn min_rtt(&self) -> Option<Duration> {
        self.rtts.iter().min().copied()
    }

    /// The longest round trip, if any ping was answered.
    pub fn max_rtt(&self) -> Option<Duration> {
        self.rtts.iter().max().copied()
    }

    /// The mean round trip, if any ping was answered.
    pub fn avg_rtt(&self) -> Option<Duration> {
        let n = u32::try_from(self.rtts.len()).ok().filter(|&n| n > 0)?;
        Some(self.rtts.iter().sum::<Duration>() / n)
    }
}

impl fmt::Display for PingReport {
    /// `10 sent, 8 received, 2 lost (20% loss); rtt min/avg/max 0.081/0.104/0.150 ms`,
    /// as ping(8) sums up.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} sent, {} received, {} lost ({:.0}% loss)",
            self.sent,
            self.received,
            self.lost,
            self.loss_rate() * 100.0
        )?;
        if let (Some(min), Some(avg), Some(max)) = (self.min_rtt(), self.avg_rtt(), self.max_rtt())
        {
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            write!(
                f,
                "; rtt min/avg/max {:.3}/{:.3}/{:.3} ms",
                ms(min),
                ms(avg),
                ms(max)
            )?;
        }
        Ok(())
    }
}

/// Pings the UDP echo service at `target` `count` times, one after another,
/// and reports how many answers came back within `timeout` and how fast.
///
/// Ping `seq` (0, 1, 2, ...) is one datagram: a [`DatagramHeader`] with that
/// number, then [`PING_MESSAGE`]. It is answered by the first datagram from
/// `target` whose header carries the same number, if that arrives within
/// `timeout` of the ping leaving; the next ping leaves only then (or when the
/// timeout ran out). Anything else is ignored: datagrams from other
/// addresses, copies of an answer already counted, answers arriving after
/// their own timeout. The socket's read timeout is used for the waiting and
/// put back as it was afterwards. A zero `timeout` is `InvalidInput`; socket
/// errors are returned.
pub fn ping(
    socket: &UdpSocket,
    target: SocketAddr,
    count: u32,
    timeout: Duration,
) -> io::Result<PingReport> {
    if timeout.is_zero() {
        return Err(io::Error::new(
            ErrorKind::InvalidInput,
            "a ping timeout of zero leaves no time for any answer",
        ));
    }
    let previous = socket.read_timeout()?;
    let result = ping_each(socket, target, count, timeout);
    socket.set_read_timeout(previous)?;
    result
}

fn ping_each(
    socket: &UdpSocket,
    target: SocketAddr,
    count: u32,
    timeout: Duration,
) -> io::Result<PingReport> {
    let start = Instant::now();
    let mut report = PingReport::default();
    let mut buf = vec![0u8; MAX_DATAGRAM_PAYLOAD + 1];
    for seq in 0..count {
        // The header's clock is the pinger's, in µs, wrapping like RTP's (header.rs).
        let timestamp = start.elapsed().as_micros() as u32;
        let datagram = DatagramHeader { seq, timestamp }
            .encode(PING_MESSAGE)
            .expect("the ping message fits one datagram");
        let sent_at = Instant::now();
        socket.send_to(&datagram, target)?;
        report.sent += 1;
        if let Some(rtt) = await_answer(socket, target, seq, sent_at, timeout, &mut buf)? {
            report.received += 1;
            report.rtts.push(rtt);
        }
    }
    report.lost = report.sent - report.received;
    Ok(report)
}

/// Waits until ping `seq`, sent at `sent_at`, is answered (its round-trip
/// time) or its `timeout` runs out (`None`). Unrelated datagrams do not
/// restart the clock: the deadline is fixed when the ping leaves.
fn await_answer(
    socket: &UdpSocket,
    target: SocketAddr,
    seq: u32,
    sent_at: Instant,
    timeout: Duration,
    buf: &mut [u8],
) -> io::Result<Option<Duration>> {
    let deadline = sent_at + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        socket.set_read_timeout(Some(left))?;
        match socket.recv_from(buf) {
            Ok((n, from)) if from == target => {
                let answered = DatagramHeader::parse(&buf[..n]).is_ok_and(|(h, _)| h.seq == seq);
                if answered {
                    return Ok(Some(sent_at.elapsed()));
                }
            }
            // Anyone may send to a UDP socket: only `target` answers pings.
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Ok(None)
            }
            // An ICMP error about an earlier datagram (some systems report it
            // on the next receive): that ping is lost, this one may still come.
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::Interrupted
                        | ErrorKind::ConnectionRefused
                        | ErrorKind::ConnectionReset
                ) => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use std::thread;

    /// An echo service on loopback that answers every ping `copies` times,
    /// except those `skip` says to ignore.
    fn responder(copies: usize, skip: fn(u32) -> bool) -> SocketAddr {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = socket.local_addr().unwrap();
        thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while let Ok((n, from)) = socket.recv_from(&mut buf) {
                let (h, _) = DatagramHeader::parse(&buf[..n]).unwrap();
                if !skip(h.seq) {
                    for _ in 0..copies {
                        socket.send_to(&buf[..n], from).unwrap();
                    }
                }
            }
        });
        addr
    }

    #[test]
    fn every_ping_is_answered_once_even_when_echoed_twice() {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let report = ping(&socket, responder(2, |_| false), 5, Duration::from_secs(2)).unwrap();
        assert_eq!((report.sent, report.received, report.lost), (5, 5, 0));
        assert_eq!(report.rtts.len(), 5);
        assert!(report.min_rtt() <= report.avg_rtt() && report.avg_rtt() <= report.max_rtt());
        assert!(report
            .to_string()
            .starts_with("5 sent, 5 received, 0 lost (0% loss); rtt min/avg/max "));
    }

    #[test]
    fn unanswered_pings_are_lost_and_the_read_timeout_is_put_back() {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(7)))
            .unwrap();
        let report = ping(
            &socket,
            responder(1, |seq| seq % 2 == 1),
            4,
            Duration::from_millis(100),
        )
        .unwrap();
        assert_eq!((report.sent, report.received, report.lost), (4, 2, 2));
        assert_eq!(
            report.to_string().split(';').next(),
            Some("4 sent, 2 received, 2 lost (50% loss)")
        );
        assert_eq!(socket.read_timeout().unwrap(), Some(Duration::from_secs(7)));
    }

    #[test]
    fn a_zero_timeout_is_refused_and_no_pings_is_an_empty_report() {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let target = socket.local_addr().unwrap();
        let err = ping(&socket, target, 3, Duration::ZERO).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        let empty = ping(&socket, target, 0, Duration::from_millis(10)).unwrap();
        assert_eq!(empty, PingReport::default());
        assert_eq!(empty.to_string(), "0 sent, 0 received, 0 lost (0% loss)");
    }
}
