//! Mistake: the pinger counts whatever datagram comes back next as the answer, without checking who sent it or which ping it answers.
//! Caught by: a second copy of an answer is not another answer

// Part 1 done right: this fixture is about ping.
pub use netlab::udp::PingReport;
pub use netlab::udp::ReceiveTracker;

use netlab::udp::header::DatagramHeader;
use std::io::{self, ErrorKind};
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

pub fn ping(
    socket: &UdpSocket,
    target: SocketAddr,
    count: u32,
    timeout: Duration,
) -> io::Result<PingReport> {
    if timeout.is_zero() {
        return Err(io::Error::new(ErrorKind::InvalidInput, "zero timeout"));
    }
    let mut report = PingReport::default();
    let mut buf = [0u8; 2048];
    for seq in 0..count {
        let datagram = DatagramHeader { seq, timestamp: 0 }
            .encode(b"ping")
            .expect("fits");
        let sent_at = Instant::now();
        socket.send_to(&datagram, target)?;
        report.sent += 1;
        socket.set_read_timeout(Some(timeout))?;
        // Should check that it came from `target` and carries `seq`.
        if socket.recv_from(&mut buf).is_ok() {
            report.received += 1;
            report.rtts.push(sent_at.elapsed());
        }
    }
    report.lost = report.sent - report.received;
    Ok(report)
}
