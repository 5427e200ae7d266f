// Lesson 01 — the grader. Included by tests/lessons.rs (against the library)
// and exercises/tests/lesson_01.rs (against your lessons/01-tcp/exercise.rs), inside a
// module where `subject` is the code under test.

use self::subject::{read_exact, write_all};
use pretty_assertions::assert_eq;
use std::io::{self, ErrorKind, Read, Write};

/// A writer like a busy socket: accepts at most `step` bytes per call and
/// fails with `Interrupted` every third call.
struct Trickle {
    written: Vec<u8>,
    step: usize,
    calls: usize,
}

impl Write for Trickle {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.calls += 1;
        if self.calls % 3 == 0 {
            return Err(ErrorKind::Interrupted.into());
        }
        let n = buf.len().min(self.step);
        self.written.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A writer that is full: every call accepts 0 bytes.
struct Full {
    calls: usize,
}

impl Write for Full {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        self.calls += 1;
        assert!(
            self.calls < 1000,
            "write_all keeps calling write() after it returned 0: that loop never ends"
        );
        Ok(0)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A reader like a socket receiving slowly: `step` bytes per call, and
/// `Interrupted` every third call.
struct Drip {
    data: Vec<u8>,
    pos: usize,
    step: usize,
    calls: usize,
}

impl Read for Drip {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.calls += 1;
        assert!(
            self.calls < 100_000,
            "read_exact keeps calling read() after it returned 0 (end of stream): that loop never ends"
        );
        if self.calls % 3 == 0 {
            return Err(ErrorKind::Interrupted.into());
        }
        let n = buf.len().min(self.step).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn sample(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 256) as u8).collect()
}

#[test]
fn write_all_survives_partial_writes_and_interrupts() {
    for step in [1, 2, 3, 7, 1000] {
        let mut w = Trickle { written: Vec::new(), step, calls: 0 };
        write_all(&mut w, &sample(100)).expect(
            "write_all must retry a write() that fails with Interrupted and go on after one that takes only part of the buffer",
        );
        netlab::assert_bytes_eq!(
            w.written,
            sample(100),
            "all 100 bytes must reach the writer, once each and in order, when each write() takes at most {step}"
        );
    }
}

#[test]
fn write_all_of_nothing_writes_nothing() {
    let mut w = Trickle { written: Vec::new(), step: 1, calls: 0 };
    write_all(&mut w, &[]).expect("an empty buffer has nothing to write: write_all must succeed at once");
    netlab::assert_bytes_eq!(w.written, [], "writing an empty buffer must write no bytes");
}

#[test]
fn write_all_reports_a_writer_that_accepts_nothing() {
    let err = write_all(&mut Full { calls: 0 }, b"data")
        .expect_err("a writer that accepts 0 bytes can take no more: write_all must fail, not report success");
    assert_eq!(
        err.kind(),
        ErrorKind::WriteZero,
        "a write() that accepts 0 bytes must be reported as ErrorKind::WriteZero"
    );
}

#[test]
fn read_exact_survives_short_reads_and_interrupts() {
    for step in [1, 2, 5, 64] {
        let mut r = Drip { data: sample(50), pos: 0, step, calls: 0 };
        let mut buf = [0u8; 30];
        read_exact(&mut r, &mut buf).expect(
            "read_exact must retry a read() that fails with Interrupted and keep reading after short reads",
        );
        netlab::assert_bytes_eq!(
            buf,
            sample(30),
            "the first 30 bytes must fill the buffer in order, each read() writing after the last one, with at most {step} bytes per read()"
        );
        // The rest is still there for the next call.
        let mut rest = [0u8; 20];
        read_exact(&mut r, &mut rest).expect("20 more bytes are in the stream: reading them must succeed");
        netlab::assert_bytes_eq!(
            rest,
            sample(50)[30..],
            "read_exact must take only what fits in its buffer: the next 20 bytes stay in the stream for the next call"
        );
    }
}

#[test]
fn read_exact_reports_a_peer_that_hung_up_early() {
    let mut r = Drip { data: sample(10), pos: 0, step: 3, calls: 0 };
    let mut buf = [0u8; 11];
    let err = read_exact(&mut r, &mut buf)
        .expect_err("the stream ends after 10 bytes: filling 11 must fail, not return Ok with a byte missing");
    assert_eq!(
        err.kind(),
        ErrorKind::UnexpectedEof,
        "a read() of 0 bytes before the buffer is full means the peer hung up: ErrorKind::UnexpectedEof"
    );
}

#[test]
fn a_megabyte_crosses_a_real_tcp_connection() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let data = sample(1 << 20);
    let to_send = data.clone();
    let writer = std::thread::spawn(move || {
        let mut client = std::net::TcpStream::connect(addr).unwrap();
        write_all(&mut client, &to_send).expect("write_all must send a whole megabyte over a real TCP socket");
    });
    let (mut server, _) = listener.accept().unwrap();
    let mut got = vec![0u8; 1 << 20];
    read_exact(&mut server, &mut got).expect("read_exact must receive a whole megabyte from a real TCP socket");
    writer.join().expect("the writing side failed (its message is above)");
    assert!(
        got == data,
        "the megabyte must arrive unchanged and in order; the first difference is at offset {:?}",
        netlab::course::hexdiff::first_difference(&got, &data)
    );
    // And the writer's close is seen as end of stream.
    let mut one = [0u8; 1];
    let err = read_exact(&mut server, &mut one)
        .expect_err("the writer has closed its socket: reading one more byte must fail, not succeed");
    assert_eq!(
        err.kind(),
        ErrorKind::UnexpectedEof,
        "the peer closing its socket is end of stream: ErrorKind::UnexpectedEof"
    );
}
