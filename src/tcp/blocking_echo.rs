//! Lesson 01 — a blocking echo server: plain `std::net`, one thread per connection.
//!
//! The smallest server that serves many clients at once. `accept` hands over
//! one connection at a time; each gets a thread of its own that echoes bytes
//! back as they come, so a client that says nothing holds only its own thread,
//! never the others. When a client half-closes (its side of the stream ends,
//! `read` returns 0), its thread half-closes too: "everything has come back".
//!
//! There are no messages here, only bytes (lesson 01): whatever one `read`
//! returns goes straight back with [`write_all`]. Lesson 02's
//! [`echo`](super::echo) adds framing, async I/O and the limits a public
//! server needs; this one is the baseline it improves on.

use super::partial_io::write_all;
use std::io::{self, ErrorKind, Read};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread;

/// Bytes read from a connection at a time: a whole loopback segment usually
/// fits, and any bigger burst simply takes a few reads.
pub const ECHO_BUFFER: usize = 16 * 1024;

/// Serves echo on every connection `listener` accepts, each on its own
/// thread, until `accept` fails; returns that error.
///
/// A client that gave up before it was accepted (`ConnectionAborted`) and an
/// interrupted `accept` are skipped, not fatal. A connection's own failure
/// ends only that connection's thread.
pub fn serve_echo(listener: TcpListener) -> io::Result<()> {
    loop {
        let stream = match listener.accept() {
            Ok((stream, _peer)) => stream,
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::ConnectionAborted | ErrorKind::Interrupted
                ) =>
            {
                continue
            }
            Err(e) => return Err(e),
        };
        // Echoes are small and latency matters: send each write at once
        // instead of waiting to coalesce it with later ones (Nagle's algorithm).
        let _ = stream.set_nodelay(true);
        thread::Builder::new()
            .name("echo-connection".into())
            .spawn(move || echo_connection(stream))?;
    }
}

/// Echoes every byte `stream` delivers back to it, in order, until the peer
/// closes its side; then closes ours. Returns how many bytes were echoed.
///
/// End of stream is `read` returning 0 (the peer's FIN); after the last echo
/// `shutdown(Write)` sends ours, so the peer's own read loop ends too.
pub fn echo_connection(mut stream: TcpStream) -> io::Result<u64> {
    let mut buf = vec![0u8; ECHO_BUFFER];
    let mut echoed = 0u64;
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        write_all(&mut stream, &buf[..n])?;
        echoed += n as u64;
    }
    stream.shutdown(Shutdown::Write)?;
    Ok(echoed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcp::partial_io::read_to_end;
    use std::time::Duration;

    #[test]
    fn echoes_to_two_clients_at_once_and_half_closes() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        thread::spawn(move || serve_echo(listener));
        // The first client stays connected and silent while the second is served.
        let silent = TcpStream::connect(addr).unwrap();
        let mut c = TcpStream::connect(addr).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        write_all(&mut c, b"hello").unwrap();
        write_all(&mut c, b", echo").unwrap();
        c.shutdown(Shutdown::Write).unwrap();
        let mut back = Vec::new();
        read_to_end(&mut c, &mut back).unwrap();
        assert_eq!(back, b"hello, echo");
        drop(silent);
    }
}
