//! The slow-receiver scenario, on the kernel's own sockets over loopback.
//!
//! The receiver sleeps between reads, so data arrives faster than it is taken.
//! - **UDP** has no flow control: datagrams wait in the socket's receive buffer
//!   (set small with `SO_RCVBUF`), and once it is full the kernel drops each new
//!   one and counts it — the `drops` column of `/proc/net/udp` for that socket.
//! - **TCP** advertises its free receive buffer as the window (RFC 9293 §3.8.6):
//!   when it is full the sender's `write` blocks, so TCP slows the sender down
//!   and loses nothing.

use super::report::{Recorder, TransportResult, Workload};
use socket2::{Domain, Protocol, Socket, Type};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

/// The small receive buffer the scenario asks for (the kernel doubles it for
/// its own bookkeeping, and each datagram costs more than its payload).
pub const SMALL_RCVBUF: usize = 4096;
/// Default pause between the receiver's reads: 2 ms, i.e. at most 500 reads/s.
pub const DEFAULT_READ_DELAY: Duration = Duration::from_millis(2);
/// Longest pause between reads `--read-delay` accepts: 1 s (1000 messages would take 17 minutes).
pub const MAX_READ_DELAY: Duration = Duration::from_secs(1);
/// The UDP receiver stops after this long with nothing to read once the sender is done.
pub const UDP_IDLE: Duration = Duration::from_millis(300);

/// Paces a sender: waits until message `seq` is due.
fn wait_until(start: Instant, due: Duration) {
    let now = start.elapsed();
    if due > now {
        std::thread::sleep(due - now);
    }
}

/// Reads the kernel's drop counter for the UDP socket bound to `port`
/// (the last column of `/proc/net/udp`); `None` where there is no such file.
pub fn udp_drops(port: u16) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/net/udp").ok()?;
    let want = format!(":{port:04X}");
    text.lines().skip(1).find_map(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        (cols.get(1)?.ends_with(&want)).then(|| cols.last()?.parse().ok())?
    })
}

/// The kernel's TCP_INFO retransmission total (`tcpi_total_retrans`) for the
/// established connection from `local`, as `ss -ti` reads it over inet_diag;
/// `None` where `ss` is missing or the connection is not found.
pub fn tcp_info_retransmissions(local: SocketAddr) -> Option<u64> {
    let out = std::process::Command::new("ss")
        .args(["-tinH", "state", "established"])
        .arg(format!("( sport = :{} )", local.port()))
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || !text.contains(&local.to_string()) {
        return None;
    }
    // "retrans:0/5" = 0 unacknowledged now, 5 in total; absent when there were none.
    Some(
        text.split_whitespace()
            .find_map(|t| t.strip_prefix("retrans:"))
            .and_then(|r| r.split('/').nth(1))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0),
    )
}

/// Runs the UDP half: returns the result with the kernel's drop count.
pub fn run_udp(w: &Workload, read_delay: Duration) -> std::io::Result<TransportResult> {
    let sock = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    sock.set_recv_buffer_size(SMALL_RCVBUF)?;
    sock.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
    let rx: UdpSocket = sock.into();
    let addr = rx.local_addr()?;
    rx.set_read_timeout(Some(UDP_IDLE))?;
    let start = Instant::now();
    let w2 = *w;
    let sender = std::thread::spawn(move || -> std::io::Result<u64> {
        let tx = UdpSocket::bind("127.0.0.1:0")?;
        for seq in 0..w2.count {
            let due = w2.send_time(seq);
            wait_until(start, due);
            tx.send_to(&w2.message(seq, due), addr)?;
        }
        Ok(w2.count)
    });
    let mut rec = Recorder::new(w.size);
    let mut buf = vec![0u8; 2048];
    let drops;
    loop {
        match rx.recv(&mut buf) {
            Ok(n) => {
                rec.arrive(&buf[..n], start.elapsed());
                std::thread::sleep(read_delay);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if sender.is_finished() {
                    drops = udp_drops(addr.port());
                    break;
                }
            }
            Err(e) => return Err(e),
        }
    }
    let sent = sender
        .join()
        .map_err(|_| std::io::Error::other("the UDP sender thread panicked"))??;
    Ok(rec.finish("UDP", sent, None, drops))
}

/// Runs the TCP half: the same slow reader, a small buffer, and a sender that blocks.
pub fn run_tcp(w: &Workload, read_delay: Duration) -> std::io::Result<TransportResult> {
    let sock = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
    sock.set_recv_buffer_size(SMALL_RCVBUF)?;
    sock.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
    sock.listen(1)?;
    let listener: TcpListener = sock.into();
    let addr = listener.local_addr()?;
    let start = Instant::now();
    let w2 = *w;
    let sender = std::thread::spawn(move || -> std::io::Result<(u64, Option<u64>)> {
        let mut tx = TcpStream::connect(addr)?;
        tx.set_nodelay(true)?;
        for seq in 0..w2.count {
            let due = w2.send_time(seq);
            wait_until(start, due);
            // Blocks while the receiver's window is closed: flow control at work.
            tx.write_all(&w2.message(seq, due))?;
        }
        // Read while the connection is still open: everything is written by now.
        Ok((w2.count, tcp_info_retransmissions(tx.local_addr()?)))
    });
    let (mut rx, _) = listener.accept()?;
    let mut rec = Recorder::new(w.size);
    let mut msg = vec![0u8; w.size];
    for _ in 0..w.count {
        match rx.read_exact(&mut msg) {
            Ok(()) => rec.arrive(&msg, start.elapsed()),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e),
        }
        std::thread::sleep(read_delay);
    }
    let (sent, retransmissions) = sender
        .join()
        .map_err(|_| std::io::Error::other("the TCP sender thread panicked"))??;
    Ok(rec.finish("TCP", sent, retransmissions, None))
}
