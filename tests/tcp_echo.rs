//! The echo server over real loopback sockets: many clients at once, and
//! hostile clients that must not disturb anyone else — in process, and
//! against the real `netlab tcp echo` binary (stalls, trickles, floods,
//! memory, one address taking every slot).

mod support;

use bytes::{Bytes, BytesMut};
use netlab::framing::{decode_frame, encode_frame, FrameCodec, FrameError};
use netlab::tcp::client::FramedClient;
use netlab::tcp::echo::{self, EchoConfig, EchoEvent};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Starts an echo server on port 0; returns its address and a log of failures.
async fn start(config: EchoConfig) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let failures = Arc::new(Mutex::new(Vec::new()));
    let log = failures.clone();
    tokio::spawn(echo::serve(listener, config, move |e| {
        if let EchoEvent::Failed { error, .. } = e {
            log.lock().unwrap().push(error.to_string());
        }
    }));
    (addr, failures)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_clients_times_a_hundred_frames_nothing_lost_or_reordered() {
    let (addr, failures) = start(EchoConfig::default()).await;
    let mut clients = Vec::new();
    for c in 0..200u32 {
        clients.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            // Frames of varying sizes carrying (client, index), sent in bursts
            // so that frames get split and glued on the way.
            let mut out = BytesMut::new();
            let mut expected = Vec::new();
            for i in 0..100u32 {
                let mut p = format!("client {c} frame {i} ").into_bytes();
                p.resize(p.len() + (i as usize * 37 + c as usize) % 700, b'.');
                encode_frame(&p, &mut out, 1 << 20).unwrap();
                expected.push(p);
            }
            let (mut rd, mut wr) = stream.split();
            let writer = async {
                for chunk in out.chunks(1013) {
                    wr.write_all(chunk).await.unwrap();
                }
            };
            let reader = async {
                let mut inbox = BytesMut::new();
                let mut got = Vec::new();
                while got.len() < expected.len() {
                    assert!(
                        rd.read_buf(&mut inbox).await.unwrap() > 0,
                        "server closed early"
                    );
                    while let Some(f) = decode_frame(&mut inbox, 1 << 20).unwrap() {
                        got.push(f.to_vec());
                    }
                }
                got
            };
            let ((), got) = tokio::join!(writer, reader);
            assert!(
                got == expected,
                "client {c}: echoes lost, changed or reordered"
            );
        }));
    }
    for c in clients {
        c.await.unwrap();
    }
    assert!(
        failures.lock().unwrap().is_empty(),
        "{:?}",
        failures.lock().unwrap()
    );
}

/// A well-behaved client that keeps echoing while `hostile` runs.
async fn assert_others_unaffected(
    addr: SocketAddr,
    hostile: impl std::future::Future<Output = ()>,
) {
    let mut good = FramedClient::connect(&addr.to_string(), FrameCodec::new())
        .await
        .unwrap();
    let before = good
        .exchange(&[Bytes::from_static(b"before")])
        .await
        .unwrap();
    assert_eq!(before[0].received, Bytes::from_static(b"before"));
    hostile.await;
    let after = good
        .exchange(&[Bytes::from_static(b"after"), Bytes::from_static(b"")])
        .await
        .unwrap();
    assert_eq!(after[0].received, Bytes::from_static(b"after"));
    assert_eq!(after[1].received, Bytes::new());
}

#[tokio::test]
async fn a_4_gib_header_closes_only_that_connection() {
    let (addr, failures) = start(EchoConfig::default()).await;
    assert_others_unaffected(addr, async {
        let mut evil = TcpStream::connect(addr).await.unwrap();
        // A good frame first: it must still be echoed before the bad header is refused.
        let mut out = BytesMut::new();
        encode_frame(b"ok", &mut out, 10).unwrap();
        out.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        evil.write_all(&out).await.unwrap();
        let mut back = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), evil.read_to_end(&mut back))
            .await
            .expect("the server must close the hostile connection, not wait for 4 GiB")
            .ok();
        assert_eq!(
            back,
            vec![0, 0, 0, 2, b'o', b'k'],
            "the good frame before the bad header is echoed"
        );
    })
    .await;
    let log = failures.lock().unwrap().clone();
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(
        log[0].contains("4294967295") && log[0].contains("--max-frame"),
        "{log:?}"
    );
}

#[tokio::test]
async fn half_a_frame_then_hanging_up_is_reported_as_truncated() {
    let (addr, failures) = start(EchoConfig::default()).await;
    assert_others_unaffected(addr, async {
        let mut evil = TcpStream::connect(addr).await.unwrap();
        evil.write_all(&[0, 0, 0, 10, b'h', b'a', b'l', b'f'])
            .await
            .unwrap();
        evil.shutdown().await.unwrap();
        let mut back = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), evil.read_to_end(&mut back)).await;
        assert!(back.is_empty());
    })
    .await;
    // The server logs the failure just after closing; give it a moment.
    for _ in 0..100 {
        if !failures.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let log = failures.lock().unwrap().clone();
    assert_eq!(
        log,
        vec![
            "the peer closed the connection in the middle of a frame: 8 of 14 bytes had arrived"
                .to_string()
        ]
    );
}

#[tokio::test]
async fn the_max_frame_limit_is_exact() {
    let config = EchoConfig {
        max_frame: 1024,
        ..EchoConfig::default()
    };
    let (addr, failures) = start(config).await;
    // Exactly the limit is echoed.
    let mut ok = FramedClient::connect(&addr.to_string(), FrameCodec::with_max_frame(1 << 20))
        .await
        .unwrap();
    let at_max = Bytes::from(vec![b'm'; 1024]);
    assert_eq!(
        ok.exchange(std::slice::from_ref(&at_max)).await.unwrap()[0].received,
        at_max
    );
    // One byte more: the connection is closed and the reason logged.
    let mut over = FramedClient::connect(&addr.to_string(), FrameCodec::with_max_frame(1 << 20))
        .await
        .unwrap();
    let err = over
        .exchange(&[Bytes::from(vec![b'm'; 1025])])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            netlab::tcp::client::ClientError::ClosedEarly {
                got: 0,
                expected: 1
            } | netlab::tcp::client::ClientError::Frame(FrameError::Io(_))
        ),
        "{err:?}"
    );
    let log = failures.lock().unwrap().clone();
    assert_eq!(log.len(), 1);
    assert!(
        log[0].contains("1025") && log[0].contains("1024"),
        "{log:?}"
    );
}

// ---------------------------------------------------------------------------
// Hostile clients against the real binary (issue 16).

/// Generous bound for "this must happen" (a hang fails instead of blocking).
const PATIENCE: Duration = Duration::from_secs(30);

/// `netlab tcp echo` on port 0 with `extra` flags; killed when dropped.
fn binary(extra: &[&str]) -> support::Listening {
    let mut args = vec!["tcp", "echo", "--listen", "127.0.0.1:0", "--quiet"];
    args.extend_from_slice(extra);
    support::listen(&args)
}

fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = BytesMut::new();
    encode_frame(payload, &mut out, usize::MAX).unwrap();
    out.to_vec()
}

/// Reads until the server closes the connection (EOF or reset); fails after PATIENCE.
async fn closed_by_server(s: &mut TcpStream) {
    let mut sink = vec![0u8; 64 * 1024];
    tokio::time::timeout(PATIENCE, async {
        loop {
            match s.read(&mut sink).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .expect("the server closes the connection");
}

/// Sends `payload` as one frame and reads its echo.
async fn echo_once(s: &mut TcpStream, payload: &[u8]) -> Vec<u8> {
    s.write_all(&frame(payload)).await.unwrap();
    let mut back = vec![0u8; 4 + payload.len()];
    tokio::time::timeout(PATIENCE, s.read_exact(&mut back))
        .await
        .expect("the echo arrives")
        .expect("the connection is open");
    back.split_off(4)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_or_trickled_frame_is_dropped_after_the_frame_timeout_a_prompt_one_is_served() {
    let server = binary(&["--frame-timeout", "300ms"]);
    // A header, three bytes of ten, then silence.
    let mut stalled = TcpStream::connect(&server.addr).await.unwrap();
    stalled.write_all(&[0, 0, 0, 10, 1, 2, 3]).await.unwrap();
    // One byte every 100 ms of a 1,000-byte frame: would take 100 s.
    let mut trickle = TcpStream::connect(&server.addr).await.unwrap();
    trickle.write_all(&[0, 0, 3, 0xe8]).await.unwrap();
    let trickling = async {
        for _ in 0..1000 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if trickle.write_all(b"x").await.is_err() {
                return; // the server closed it: the trickle did not keep it open
            }
        }
        panic!("a trickled frame kept its connection open for 100 s");
    };
    tokio::time::timeout(PATIENCE, trickling)
        .await
        .expect("the trickle is cut off");
    closed_by_server(&mut stalled).await;
    // A frame sent in two halves, well within the timeout, is echoed; a
    // pause longer than the timeout *between* frames is fine.
    let mut prompt = TcpStream::connect(&server.addr).await.unwrap();
    let whole = frame(b"in two halves");
    prompt.write_all(&whole[..6]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    prompt.write_all(&whole[6..]).await.unwrap();
    let mut back = vec![0u8; whole.len()];
    prompt.read_exact(&mut back).await.unwrap();
    assert_eq!(back, whole);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(echo_once(&mut prompt, b"still here").await, b"still here");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_connection_is_closed_after_the_idle_timeout_a_talking_one_stays() {
    // The frame timeout off: a stalled frame is then cut off as idle.
    let server = binary(&["--idle-timeout", "300ms", "--frame-timeout", "0"]);
    let mut idle = TcpStream::connect(&server.addr).await.unwrap();
    assert_eq!(echo_once(&mut idle, b"hello").await, b"hello");
    let mut stalled = TcpStream::connect(&server.addr).await.unwrap();
    stalled.write_all(&[0, 0, 0, 10, 1, 2]).await.unwrap();
    let mut talking = TcpStream::connect(&server.addr).await.unwrap();
    for i in 0..10 {
        let msg = format!("message {i}");
        assert_eq!(
            echo_once(&mut talking, msg.as_bytes()).await,
            msg.as_bytes()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    closed_by_server(&mut idle).await;
    closed_by_server(&mut stalled).await;
    // With the flag at 0 nothing is closed for idling (the default is minutes).
    let off = binary(&["--idle-timeout", "0"]);
    let mut quiet = TcpStream::connect(&off.addr).await.unwrap();
    let waited = tokio::time::timeout(Duration::from_millis(900), quiet.read_u8()).await;
    assert!(
        waited.is_err(),
        "nothing happens to an idle client: {waited:?}"
    );
    assert_eq!(echo_once(&mut quiet, b"ok").await, b"ok");
}

/// N clients each send the first half of an 8 MiB frame to a server with a
/// 32 MiB budget: four fit, the others are refused (closed) at once; the
/// four then finish and get their echoes, a fresh client is served, and the
/// server never held anything like N × 4 MiB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_memory_budget_refuses_the_frames_that_do_not_fit_and_serves_the_rest() {
    const N: usize = 40;
    const FRAME: usize = 8 * 1024 * 1024;
    let server = binary(&["--max-memory", "32MiB", "--frame-timeout", "0"]);
    let pid = server.child.id();
    let payload: Vec<u8> = (0..FRAME).map(|i| (i % 251) as u8).collect();
    let whole = frame(&payload);
    let half = whole.len() / 2;
    let mut conns = Vec::new();
    for _ in 0..N {
        let mut s = TcpStream::connect(&server.addr).await.unwrap();
        // A refused connection may be reset while we write: that is the refusal.
        let _ = s.write_all(&whole[..half]).await;
        conns.push(s);
    }
    // The refused ones are closed by the server; the held ones stay open.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut open = Vec::new();
    for (i, s) in conns.into_iter().enumerate() {
        let (mut rd, wr) = s.into_split();
        let tx = tx.clone();
        let reader = tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            let n = rd.read(&mut buf).await.unwrap_or(0);
            let _ = tx.send(i);
            (rd, buf[..n].to_vec())
        });
        open.push((i, reader, wr));
    }
    let mut closed = std::collections::BTreeSet::new();
    tokio::time::timeout(PATIENCE, async {
        while closed.len() < N - 4 {
            closed.insert(rx.recv().await.unwrap());
        }
    })
    .await
    .unwrap_or_else(|_| panic!("only {} of {N} refused", closed.len()));
    let rss = support::rss_bytes(pid);
    assert!(
        rss < 96 * 1024 * 1024,
        "the server holds {} MiB; {N} half frames would be {} MiB",
        rss >> 20,
        (N * half) >> 20
    );
    // The four still open finish their frames and get them back whole.
    let mut served = 0;
    for (i, reader, mut wr) in open {
        if closed.contains(&i) {
            continue;
        }
        wr.write_all(&whole[half..]).await.unwrap();
        // The reader task returns with the first bytes of the echo.
        let (mut rd, mut back) = tokio::time::timeout(PATIENCE, reader)
            .await
            .expect("the echo starts")
            .unwrap();
        assert!(!back.is_empty(), "connection {i} was closed after all");
        let mut rest = vec![0u8; whole.len() - back.len()];
        tokio::time::timeout(PATIENCE, rd.read_exact(&mut rest))
            .await
            .expect("the echo arrives")
            .expect("the connection stays open");
        back.extend_from_slice(&rest);
        assert!(back == whole, "connection {i}: the echo differs");
        served += 1;
    }
    assert_eq!(served, 4, "exactly what the budget holds is served");
    let mut fresh = TcpStream::connect(&server.addr).await.unwrap();
    assert_eq!(echo_once(&mut fresh, b"small").await, b"small");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_gets_max_per_ip_connections_and_another_address_still_gets_in() {
    let server = binary(&["--max-per-ip", "3"]);
    let mut three = Vec::new();
    for i in 0..3 {
        let mut s = support::connect_from("127.0.0.1", &server.addr).await;
        let msg = format!("at the cap: {i}");
        assert_eq!(echo_once(&mut s, msg.as_bytes()).await, msg.as_bytes());
        three.push(s);
    }
    let mut fourth = support::connect_from("127.0.0.1", &server.addr).await;
    let _ = fourth.write_all(&frame(b"one too many")).await;
    closed_by_server(&mut fourth).await;
    let mut elsewhere = support::connect_from("127.0.0.2", &server.addr).await;
    assert_eq!(
        echo_once(&mut elsewhere, b"other address").await,
        b"other address"
    );
    // One of the three leaves: its address may connect again.
    drop(three.pop());
    let again = tokio::time::timeout(PATIENCE, async {
        loop {
            let mut s = support::connect_from("127.0.0.1", &server.addr).await;
            if s.write_all(&frame(b"back")).await.is_ok() {
                let mut back = [0u8; 8];
                if s.read_exact(&mut back).await.is_ok() {
                    return back;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("a slot comes back when a connection ends");
    assert_eq!(&again[4..], b"back");
}

#[test]
fn accept_failures_are_logged_once_per_episode_not_every_50_ms() {
    support::accept_failures_are_logged_once_per_episode(&[
        "tcp",
        "echo",
        "--listen",
        "127.0.0.1:0",
    ]);
}

#[test]
fn a_client_that_never_reads_its_echoes_is_closed_after_the_idle_timeout() {
    use std::io::Write;
    let server = binary(&["--idle-timeout", "300ms"]);
    let mut s = std::net::TcpStream::connect(&server.addr).unwrap();
    s.set_write_timeout(Some(PATIENCE)).unwrap();
    let msg = frame(&vec![7u8; 256 * 1024]);
    for _ in 0..100_000 {
        if let Err(e) = s.write_all(&msg) {
            assert!(
                !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ),
                "the server kept a connection that reads nothing open: {e}"
            );
            return;
        }
    }
    panic!("the server took 100,000 frames from a client that reads nothing");
}

/// `--json`: stopped with SIGTERM, the server prints one JSON object with
/// what it served and refused and the memory budget's peak. One client is
/// echoed and leaves, one holds most of a 1 MiB budget with a partial frame,
/// and one more partial frame of that size is refused for memory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_stats_at_sigterm_count_the_refusal_and_the_peak_of_the_partial_frame() {
    const FRAME: usize = 600 * 1024;
    let mut server = support::JsonServer::start(&[
        "tcp",
        "echo",
        "--listen",
        "127.0.0.1:0",
        "--quiet",
        "--json",
        "--max-memory",
        "1MiB",
        "--frame-timeout",
        "0",
    ]);
    let mut talk = TcpStream::connect(&server.addr).await.unwrap();
    assert_eq!(echo_once(&mut talk, b"hello").await, b"hello");
    talk.shutdown().await.unwrap();
    closed_by_server(&mut talk).await;
    // Two partial frames of 600 KiB: both cannot be held within 1 MiB.
    let mut partial = frame(&vec![7u8; FRAME]);
    partial.truncate(4 + 1000);
    let mut a = TcpStream::connect(&server.addr).await.unwrap();
    a.write_all(&partial).await.unwrap();
    let mut b = TcpStream::connect(&server.addr).await.unwrap();
    let _ = b.write_all(&partial).await; // the refused one may be reset meanwhile
                                         // Exactly one of them is closed; the other is held open.
    let (mut sink_a, mut sink_b) = ([0u8; 16], [0u8; 16]);
    let first_closed = tokio::time::timeout(PATIENCE, async {
        tokio::select! {
            _ = a.read(&mut sink_a) => 'a',
            _ = b.read(&mut sink_b) => 'b',
        }
    })
    .await
    .expect("one partial frame is refused");
    let held = if first_closed == 'a' { &mut b } else { &mut a };
    let still_open = tokio::time::timeout(Duration::from_millis(300), held.read(&mut sink_a)).await;
    assert!(
        still_open.is_err(),
        "the other frame is held: {still_open:?}"
    );

    let report = server.stop("TERM");
    let c = &report["connections"];
    assert_eq!(c["accepted"], 3, "{report}");
    assert_eq!(c["refused"]["memory"], 1, "{report}");
    assert_eq!(c["refused"]["per_ip"], 0, "{report}");
    assert_eq!(c["refused"]["full"], 0, "{report}");
    assert_eq!(
        c["open_at_stop"], 1,
        "the held frame's connection: {report}"
    );
    assert_eq!(report["echoed"]["frames"], 1, "{report}");
    assert_eq!(report["echoed"]["bytes"], 5, "{report}");
    let m = &report["memory_budget"];
    assert_eq!(m["limit"], 1024 * 1024, "{report}");
    assert_eq!(m["refusals"], 1, "{report}");
    let peak = m["peak"].as_u64().unwrap();
    assert!(
        (FRAME as u64 - 4096..=1024 * 1024).contains(&peak),
        "the peak is the partial frame held (less the uncharged 4 KiB): {report}"
    );
}
