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
        assert!(self.calls < 100_000, "read_exact keeps calling read() after end of stream");
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
        write_all(&mut w, &sample(100)).unwrap();
        assert_eq!(w.written, sample(100), "bytes written with at most {step} per call");
    }
}

#[test]
fn write_all_of_nothing_writes_nothing() {
    let mut w = Trickle { written: Vec::new(), step: 1, calls: 0 };
    write_all(&mut w, &[]).unwrap();
    assert_eq!(w.written, Vec::<u8>::new());
}

#[test]
fn write_all_reports_a_writer_that_accepts_nothing() {
    let err = write_all(&mut Full { calls: 0 }, b"data").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WriteZero);
}

#[test]
fn read_exact_survives_short_reads_and_interrupts() {
    for step in [1, 2, 5, 64] {
        let mut r = Drip { data: sample(50), pos: 0, step, calls: 0 };
        let mut buf = [0u8; 30];
        read_exact(&mut r, &mut buf).unwrap();
        assert_eq!(buf.to_vec(), sample(30), "with at most {step} bytes per read");
        // The rest is still there for the next call.
        let mut rest = [0u8; 20];
        read_exact(&mut r, &mut rest).unwrap();
        assert_eq!(rest.to_vec(), sample(50)[30..].to_vec());
    }
}

#[test]
fn read_exact_reports_a_peer_that_hung_up_early() {
    let mut r = Drip { data: sample(10), pos: 0, step: 3, calls: 0 };
    let mut buf = [0u8; 11];
    let err = read_exact(&mut r, &mut buf).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
}

#[test]
fn a_megabyte_crosses_a_real_tcp_connection() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let data = sample(1 << 20);
    let to_send = data.clone();
    let writer = std::thread::spawn(move || {
        let mut client = std::net::TcpStream::connect(addr).unwrap();
        write_all(&mut client, &to_send).unwrap();
    });
    let (mut server, _) = listener.accept().unwrap();
    let mut got = vec![0u8; 1 << 20];
    read_exact(&mut server, &mut got).unwrap();
    writer.join().unwrap();
    assert!(got == data, "the megabyte arrived changed or reordered");
    // And the writer's close is seen as end of stream.
    let mut one = [0u8; 1];
    assert_eq!(read_exact(&mut server, &mut one).unwrap_err().kind(), ErrorKind::UnexpectedEof);
}
