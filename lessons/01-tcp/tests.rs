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

// ---- Part 2: the echo server, over real loopback sockets. ----
//
// Every client socket has a read timeout, so a server that never answers
// fails a test instead of hanging it.

use self::subject::{echo_connection, serve_echo};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

/// How long a client waits for its echo before the test fails.
const ECHO_WAIT: Duration = Duration::from_secs(5);

/// Starts `serve_echo` on a free loopback port, on a thread of its own.
fn start_echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || serve_echo(listener));
    addr
}

/// A client connected to `addr` whose reads give up after [`ECHO_WAIT`].
fn echo_client(addr: SocketAddr) -> TcpStream {
    let c = TcpStream::connect(addr).expect("connect to the echo server");
    c.set_read_timeout(Some(ECHO_WAIT)).unwrap();
    c.set_nodelay(true).unwrap();
    c
}

/// Reads exactly `len` bytes; when they do not come, says what went wrong and
/// what the server `must` do instead.
fn read_echo(c: &mut TcpStream, len: usize, what: &str, must: &str) -> Vec<u8> {
    let mut got = vec![0u8; len];
    let mut have = 0;
    while have < len {
        match c.read(&mut got[have..]) {
            Ok(0) => panic!(
                "{what}: the server closed the connection after echoing {have} of {len} bytes; \
                 it must echo everything it receives before closing"
            ),
            Ok(n) => have += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => panic!(
                "{what}: only {have} of {len} bytes came back within {ECHO_WAIT:?} ({e}); {must}"
            ),
        }
    }
    got
}

/// After the client's half-close, the server's side must end too: `read` returns 0.
fn expect_end_of_stream(c: &mut TcpStream, what: &str) {
    let mut one = [0u8; 1];
    match c.read(&mut one) {
        Ok(0) => {}
        Ok(_) => panic!("{what}: the server sent back bytes nobody sent"),
        Err(e) => panic!(
            "{what}: no end of stream within {ECHO_WAIT:?} of our half-close ({e}); once the \
             client's side ends (read returns 0), the server must shut down its writing side"
        ),
    }
}

/// What a server that does not answer in time usually got wrong.
const ECHO_AT_ONCE: &str =
    "the server must echo each piece as it arrives, without waiting for more or for the end";

/// Bytes unique to one client and one piece, so a mix-up between clients shows.
fn client_bytes(client: usize, piece: usize, len: usize) -> Vec<u8> {
    (0..len).map(|i| (client * 31 + piece * 7 + i) as u8).collect()
}

#[test]
fn echo_server_echoes_one_client_and_then_closes() {
    let mut c = echo_client(start_echo_server());
    c.write_all(b"hello, echo").unwrap();
    let back = read_echo(&mut c, 11, "one client", ECHO_AT_ONCE);
    assert_eq!(back, b"hello, echo".to_vec(), "the echo must be the bytes sent, unchanged");
    c.shutdown(Shutdown::Write).unwrap();
    expect_end_of_stream(&mut c, "one client");
}

#[test]
fn echo_server_echoes_a_message_split_over_paused_writes() {
    // One message in five small writes with pauses: the server sees several
    // reads and must echo each as it comes, in order.
    let mut c = echo_client(start_echo_server());
    let message = b"GET /chat please, and take your time".to_vec();
    let mut sent = 0;
    for piece in message.chunks(8) {
        c.write_all(piece).unwrap();
        sent += piece.len();
        std::thread::sleep(Duration::from_millis(20));
        let back = read_echo(&mut c, piece.len(), "split writes", ECHO_AT_ONCE);
        assert_eq!(
            back,
            piece.to_vec(),
            "after {sent} bytes written in pieces, the echo of the last piece must come back \
             before the next is sent, unchanged and in order"
        );
    }
    c.shutdown(Shutdown::Write).unwrap();
    expect_end_of_stream(&mut c, "split writes");
}

#[test]
fn echo_server_echoes_coalesced_writes_in_order() {
    // Several messages in one write, then a big one: the server may read them
    // in any pieces, but every byte must come back, in order.
    let mut c = echo_client(start_echo_server());
    let mut all = Vec::new();
    for m in [&b"one\n"[..], b"two\n", b"three\n", b"four\n"] {
        all.extend_from_slice(m);
    }
    c.write_all(&all).unwrap();
    assert_eq!(
        read_echo(&mut c, all.len(), "coalesced writes", ECHO_AT_ONCE),
        all,
        "four messages sent in one write must come back as the same bytes in the same order"
    );
    let big = sample(200_000);
    let mut writer = c.try_clone().unwrap();
    let to_send = big.clone();
    let sender = std::thread::spawn(move || writer.write_all(&to_send));
    let back = read_echo(&mut c, big.len(), "200 kB in one write", ECHO_AT_ONCE);
    sender.join().unwrap().unwrap();
    assert!(
        back == big,
        "200 kB written at once came back changed or reordered (the server's reads and writes \
         never line up with the client's, but the bytes must)"
    );
    c.shutdown(Shutdown::Write).unwrap();
    expect_end_of_stream(&mut c, "coalesced writes");
}

/// What a server that serves one client at a time gets wrong.
const CONCURRENTLY: &str = "the server must serve every connection at the same time \
                            (a thread per connection), not one after another, and echo each \
                            piece as it arrives";

#[test]
fn echo_server_serves_fifty_clients_at_the_same_time() {
    const CLIENTS: usize = 50;
    let addr = start_echo_server();
    // Every client gets its first echo while all fifty are connected: no client
    // may close before all have been answered, so a server taking them one at
    // a time cannot pass.
    let first_echoed = Arc::new(AtomicUsize::new(0));
    let (done_tx, done_rx) = mpsc::channel();
    for client in 0..CLIENTS {
        let first_echoed = first_echoed.clone();
        let done_tx = done_tx.clone();
        std::thread::spawn(move || {
            let result = std::panic::catch_unwind(move || {
                let what = format!("client {client} of {CLIENTS}");
                let mut c = echo_client(addr);
                // A message split over writes...
                let first = client_bytes(client, 0, 300);
                for piece in first.chunks(100) {
                    c.write_all(piece).unwrap();
                    std::thread::sleep(Duration::from_millis(5));
                }
                assert!(
                    read_echo(&mut c, first.len(), &what, CONCURRENTLY) == first,
                    "{what}: its first message came back changed"
                );
                first_echoed.fetch_add(1, Ordering::SeqCst);
                let deadline = Instant::now() + ECHO_WAIT;
                while first_echoed.load(Ordering::SeqCst) < CLIENTS {
                    assert!(
                        Instant::now() < deadline,
                        "only {} of {CLIENTS} clients got an echo while all were connected: {CONCURRENTLY}",
                        first_echoed.load(Ordering::SeqCst)
                    );
                    std::thread::sleep(Duration::from_millis(5));
                }
                // ...then several messages in one write.
                let rest: Vec<u8> = (1..4).flat_map(|p| client_bytes(client, p, 50)).collect();
                c.write_all(&rest).unwrap();
                assert!(
                    read_echo(&mut c, rest.len(), &what, ECHO_AT_ONCE) == rest,
                    "{what}: its coalesced messages came back changed"
                );
                c.shutdown(Shutdown::Write).unwrap();
                expect_end_of_stream(&mut c, &what);
            });
            let _ = done_tx.send(result.map_err(|e| {
                e.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            }));
        });
    }
    drop(done_tx);
    for _ in 0..CLIENTS {
        match done_rx.recv_timeout(ECHO_WAIT * 3) {
            Ok(Ok(())) => {}
            Ok(Err(why)) => panic!("{why}"),
            Err(_) => panic!("a client got no answer in {:?}", ECHO_WAIT * 3),
        }
    }
}

#[test]
fn echo_server_is_not_held_up_by_a_silent_client() {
    let addr = start_echo_server();
    // Connected first, says nothing, never closes (until the test ends).
    let _silent = echo_client(addr);
    let _half = {
        // Sends half a message and stops: also waiting, also holding nothing but itself.
        let mut c = echo_client(addr);
        c.write_all(b"half a mess").unwrap();
        c
    };
    std::thread::sleep(Duration::from_millis(50));
    let mut c = echo_client(addr);
    c.write_all(b"anyone there?").unwrap();
    assert_eq!(
        read_echo(
            &mut c,
            13,
            "a client behind a silent one",
            "a connection waiting in read for a silent client must not keep the server from \
             accepting and serving the next one (a thread per connection), and each piece \
             must be echoed as it arrives"
        ),
        b"anyone there?".to_vec(),
        "a client that connected after a silent one must still get its echo: \
         one connection waiting in read must not block the others"
    );
    c.shutdown(Shutdown::Write).unwrap();
    expect_end_of_stream(&mut c, "a client behind a silent one");
}

#[test]
fn echo_connection_counts_the_bytes_and_closes_its_side() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = echo_client(listener.local_addr().unwrap());
    let (server_side, _) = listener.accept().unwrap();
    let (count_tx, count_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = count_tx.send(echo_connection(server_side));
    });
    let data = sample(10_000);
    for piece in data.chunks(3_000) {
        client.write_all(piece).unwrap();
    }
    client.shutdown(Shutdown::Write).unwrap();
    let mut back = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match client.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => back.extend_from_slice(&chunk[..n]),
            Err(e) => panic!(
                "echo_connection: after {} of 10000 bytes, no more bytes and no end of stream \
                 within {ECHO_WAIT:?} of our half-close ({e}); it must echo everything, then \
                 shut down its writing side",
                back.len()
            ),
        }
    }
    assert!(
        back == data,
        "echo_connection sent back {} bytes that differ from the 10000 sent",
        back.len()
    );
    let count = count_rx
        .recv_timeout(ECHO_WAIT)
        .expect("echo_connection did not return after the client closed its side (or panicked)")
        .expect("echo_connection failed on a clean half-close");
    assert_eq!(count, 10_000, "echo_connection must return the number of bytes it echoed");
}
