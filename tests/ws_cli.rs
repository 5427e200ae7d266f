//! `netlab ws echo` and `netlab ws connect`, driven through the real binary.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

/// A `netlab ws echo` process on port 0; killed when dropped.
fn echo_server(extra: &[&str]) -> support::Listening {
    let mut args = vec!["ws", "echo", "--listen", "127.0.0.1:0", "--quiet"];
    args.extend_from_slice(extra);
    support::listen(&args)
}

fn netlab(args: &[&str]) -> std::process::Output {
    Command::new(support::netlab_bin())
        .args(args)
        .args(["--color", "never"])
        .output()
        .expect("run netlab")
}

#[test]
fn connect_sends_messages_and_prints_their_echoes() {
    let server = echo_server(&[]);
    let url = format!("ws://{}/", server.addr);
    let out = netlab(&["ws", "connect", &url, "hello", "κόσμε"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        vec!["← hello", "← κόσμε", "← close 1000 (normal closure) "]
    );
}

#[test]
fn connect_with_frames_draws_each_header() {
    let server = echo_server(&[]);
    let url = format!("ws://{}/", server.addr);
    let out = netlab(&["ws", "connect", &url, "--frames", "Hello"]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    // Our text frame: FIN, opcode 1, masked, length 5 = 1000 0001 1000 0101.
    assert!(
        stdout.contains("→ frame FIN=1 RSV=000 opcode=0x1 (text) MASK=1 key="),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 0 0 0 0 0 0 1 1 0 0 0 0 1 0 1"),
        "{stdout}"
    );
    // The echo: the same but unmasked = 1000 0001 0000 0101.
    assert!(
        stdout.contains("← frame FIN=1 RSV=000 opcode=0x1 (text) MASK=0 len=5"),
        "{stdout}"
    );
    assert!(
        stdout.contains("1 0 0 0 0 0 0 1 0 0 0 0 0 1 0 1"),
        "{stdout}"
    );
    assert!(stdout.contains("opcode=0x8 (close)"), "{stdout}");
    // The upgrade is shown too, and its accept value matches the key (RFC 6455 §4.2.2),
    // computed here with the sha1 and base64 crates directly.
    assert!(stdout.contains("→ http GET / HTTP/1.1\\r\\n"), "{stdout}");
    assert!(
        stdout.contains("← http HTTP/1.1 101 Switching Protocols\\r\\n"),
        "{stdout}"
    );
    let field = |name: &str| {
        let line = stdout
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("no {name} in {stdout}"));
        line.split(": ")
            .nth(1)
            .unwrap()
            .trim_end_matches("\\r\\n")
            .to_string()
    };
    let (key, accept) = (field("Sec-WebSocket-Key"), field("Sec-WebSocket-Accept"));
    use base64::Engine as _;
    use sha1::Digest as _;
    let digest =
        sha1::Sha1::digest(format!("{key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11").as_bytes());
    assert_eq!(
        accept,
        base64::engine::general_purpose::STANDARD.encode(digest)
    );
}

#[test]
fn connect_fragments_on_request() {
    let server = echo_server(&[]);
    let url = format!("ws://{}/", server.addr);
    let out = netlab(&[
        "ws",
        "connect",
        &url,
        "--frames",
        "--fragment",
        "4",
        "abcdefghij",
    ]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    // 10 bytes in fragments of 4: text(FIN=0), continuation(FIN=0), continuation(FIN=1).
    assert!(
        stdout.contains("→ frame FIN=0 RSV=000 opcode=0x1 (text) MASK=1"),
        "{stdout}"
    );
    assert!(
        stdout.contains("→ frame FIN=0 RSV=000 opcode=0x0 (continuation) MASK=1"),
        "{stdout}"
    );
    assert!(
        stdout.contains("→ frame FIN=1 RSV=000 opcode=0x0 (continuation) MASK=1"),
        "{stdout}"
    );
    assert!(stdout.contains("← abcdefghij"), "{stdout}");
}

#[test]
fn interactive_connect_reads_stdin_and_closes_at_its_end() {
    let server = echo_server(&[]);
    let url = format!("ws://{}/", server.addr);
    let mut child = Command::new(support::netlab_bin())
        .args(["--color", "never", "ws", "connect", &url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"line one\n/ping knock\n/binary AB\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("← line one\n"), "{stdout}");
    assert!(stdout.contains("← pong knock\n"), "{stdout}");
    assert!(stdout.contains("[binary, 2 bytes] 41 42"), "{stdout}");
    assert!(stdout.contains("← close 1000"), "{stdout}");
}

/// Upgrades by hand and returns the socket.
fn raw_upgrade(addr: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").unwrap();
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut b).unwrap();
        head.push(b[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"));
    s
}

fn masked_binary(len: usize) -> Vec<u8> {
    let mut f = vec![0x82, 0x80 | 126];
    f.extend_from_slice(&(len as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0, 0, 0]); // a zero key: the payload goes as is
    f.extend(std::iter::repeat(7u8).take(len));
    f
}

#[test]
fn max_frame_flag_is_enforced_at_the_edge() {
    let server = echo_server(&["--max-frame", "1KiB"]);
    let mut s = raw_upgrade(&server.addr);
    s.write_all(&masked_binary(1024)).unwrap();
    let mut echo = vec![0u8; 4 + 1024];
    s.read_exact(&mut echo).unwrap();
    assert_eq!(&echo[..4], &[0x82, 126, 0x04, 0x00]);
    s.write_all(&masked_binary(1025)).unwrap();
    let mut close = [0u8; 4];
    s.read_exact(&mut close).unwrap();
    assert_eq!(close[0], 0x88);
    assert_eq!(u16::from_be_bytes([close[2], close[3]]), 1009);
}

#[test]
fn handshake_timeout_flag_cuts_off_a_slow_client() {
    let server = echo_server(&["--handshake-timeout", "200ms"]);
    let mut s = TcpStream::connect(&server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET / HTTP/1.1\r\n").unwrap();
    let mut all = String::new();
    s.read_to_string(&mut all).unwrap();
    assert!(all.starts_with("HTTP/1.1 408 "), "{all}");
}

#[test]
fn connect_reports_a_refused_upgrade_clearly() {
    let server = echo_server(&["--origin", "http://allowed.example"]);
    // Our client sends no Origin, so it is allowed; a plain HTTP server refuses instead:
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf);
        let _ = s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\nno socket\n");
    });
    let out = netlab(&["ws", "connect", &format!("ws://{addr}/"), "hi"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("404 Not Found"), "{stderr}");
    let ok = netlab(&["ws", "connect", &format!("ws://{}/", server.addr), "hi"]);
    assert!(ok.status.success());
}

#[test]
fn bad_urls_are_explained() {
    let out = netlab(&["ws", "connect", "wss://example.com/", "hi"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("TLS"));
}

#[test]
fn help_shows_examples() {
    for cmd in [["ws", "echo"], ["ws", "connect"]] {
        let out = netlab(&[cmd[0], cmd[1], "--help"]);
        let help = String::from_utf8(out.stdout).unwrap();
        assert!(help.contains("Examples:"), "{help}");
        assert!(
            help.contains("--max-frame")
                && help.contains("--max-message")
                && help.contains("--handshake-timeout")
        );
    }
}

#[test]
fn bench_ws_measures_an_echo_server_and_reports_json() {
    let server = echo_server(&[]);
    let url = format!("ws://{}/", server.addr);
    let pid = server.child.id().to_string();
    let out = netlab(&[
        "bench",
        "ws",
        &url,
        "--conns",
        "3",
        "--pipeline",
        "4",
        "--size",
        "100",
        "--secs",
        "0.5",
        "--warmup",
        "0.1",
        "--server-pid",
        &pid,
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["conns"], 3);
    assert_eq!(report["size"], 100);
    assert_eq!(report["failed_conns"], 0);
    assert!(report["messages"].as_u64().unwrap() > 0, "{report}");
    assert!(report["p50_us"].as_f64().unwrap() > 0.0);
    assert!(report["server_cpu_us_per_msg"].is_number(), "{report}");
}

#[test]
fn the_tour_shows_the_websocket_steps_working() {
    let out = netlab(&["tour"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
        "{stdout}"
    );
    assert!(
        stdout.contains("server answered Close 1002 (protocol error)"),
        "{stdout}"
    );
    assert!(stdout.contains("Tour complete"), "{stdout}");
}

fn masked_fragment(b0: u8, len: usize) -> Vec<u8> {
    let mut f = masked_binary(len);
    f[0] = b0;
    f
}

#[test]
fn max_message_flag_is_enforced_at_the_edge() {
    let server = echo_server(&["--max-frame", "1KiB", "--max-message", "1536"]);
    let mut s = raw_upgrade(&server.addr);
    // 1024 + 512 = 1536 bytes in two fragments: exactly the limit.
    s.write_all(&masked_fragment(0x02, 1024)).unwrap();
    s.write_all(&masked_fragment(0x80, 512)).unwrap();
    let mut echo = vec![0u8; 4 + 1536];
    s.read_exact(&mut echo).unwrap();
    assert_eq!(&echo[..4], &[0x82, 126, 0x06, 0x00]);
    // 1024 + 513: one byte over.
    s.write_all(&masked_fragment(0x02, 1024)).unwrap();
    s.write_all(&masked_fragment(0x80, 513)).unwrap();
    let mut close = [0u8; 4];
    s.read_exact(&mut close).unwrap();
    assert_eq!(
        (close[0], u16::from_be_bytes([close[2], close[3]])),
        (0x88, 1009)
    );
}

#[test]
fn max_header_flag_is_enforced_at_the_edge() {
    let server = echo_server(&["--max-header", "300"]);
    let head = |total: usize| {
        let base = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
        let pad = total - base.len() - "X-Pad: \r\n\r\n".len();
        format!("{base}X-Pad: {}\r\n\r\n", "p".repeat(pad))
    };
    for (len, status) in [(300, "101"), (301, "431")] {
        let req = head(len);
        assert_eq!(req.len(), len);
        let mut s = TcpStream::connect(&server.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(req.as_bytes()).unwrap();
        let mut first = [0u8; 12];
        s.read_exact(&mut first).unwrap();
        assert_eq!(&first[9..12], status.as_bytes(), "a {len}-byte head");
    }
}

// ---------------------------------------------------------------------------
// Hostile clients against the real binary (issue 16).

/// Generous bound for "this must happen" (a hang fails instead of blocking).
const PATIENCE: Duration = Duration::from_secs(30);

/// A masked frame header with a zero key (so the payload goes as it is).
fn masked_header(b0: u8, len: u64) -> Vec<u8> {
    let mut f = vec![b0];
    match len {
        0..=125 => f.push(0x80 | len as u8),
        126..=0xffff => {
            f.push(0x80 | 126);
            f.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            f.push(0x80 | 127);
            f.extend_from_slice(&len.to_be_bytes());
        }
    }
    f.extend_from_slice(&[0, 0, 0, 0]);
    f
}

/// Reads server frames until a Close and returns its status code (None:
/// the connection ended without one).
fn close_code(s: &mut TcpStream) -> Option<u16> {
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    loop {
        let mut h = [0u8; 2];
        s.read_exact(&mut h).ok()?;
        let len = match h[1] & 0x7f {
            126 => {
                let mut l = [0u8; 2];
                s.read_exact(&mut l).ok()?;
                u16::from_be_bytes(l) as u64
            }
            127 => {
                let mut l = [0u8; 8];
                s.read_exact(&mut l).ok()?;
                u64::from_be_bytes(l)
            }
            n => n as u64,
        };
        let mut payload = vec![0u8; len as usize];
        s.read_exact(&mut payload).ok()?;
        if h[0] & 0x0f == 0x8 {
            return payload.get(..2).map(|c| u16::from_be_bytes([c[0], c[1]]));
        }
    }
}

/// Sends a small text message and reads its echo.
fn ws_echo_once(s: &mut TcpStream, text: &str) -> String {
    let mut f = masked_header(0x81, text.len() as u64);
    f.extend_from_slice(text.as_bytes());
    s.write_all(&f).unwrap();
    let mut h = [0u8; 2];
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s.read_exact(&mut h).unwrap();
    assert_eq!(h[0], 0x81, "a text echo");
    let mut back = vec![0u8; (h[1] & 0x7f) as usize];
    s.read_exact(&mut back).unwrap();
    String::from_utf8(back).unwrap()
}

#[test]
fn a_stalled_trickled_or_unfinished_message_gets_1008_after_the_frame_timeout() {
    let server = echo_server(&["--frame-timeout", "300ms"]);
    // A header and 10 of 100 payload bytes, then silence.
    let mut stalled = raw_upgrade(&server.addr);
    let mut f = masked_header(0x82, 100);
    f.extend_from_slice(&[7; 10]);
    stalled.write_all(&f).unwrap();
    // A fragmented message whose first fragment is whole but which never ends.
    let mut unfinished = raw_upgrade(&server.addr);
    let mut f = masked_header(0x02, 10);
    f.extend_from_slice(&[7; 10]);
    unfinished.write_all(&f).unwrap();
    // One byte every 100 ms of a 1,000-byte frame: would take 100 s.
    let mut trickle = raw_upgrade(&server.addr);
    trickle.write_all(&masked_header(0x82, 1000)).unwrap();
    let mut writer = trickle.try_clone().unwrap();
    std::thread::spawn(move || {
        for _ in 0..1000 {
            std::thread::sleep(Duration::from_millis(100));
            if writer.write_all(b"x").is_err() {
                return;
            }
        }
    });
    assert_eq!(close_code(&mut stalled), Some(1008), "stalled frame");
    assert_eq!(
        close_code(&mut unfinished),
        Some(1008),
        "unfinished message"
    );
    assert_eq!(close_code(&mut trickle), Some(1008), "trickled frame");
    // A message in two halves well within the timeout is echoed, and a pause
    // longer than the timeout between messages is fine.
    let mut prompt = raw_upgrade(&server.addr);
    let mut f = masked_header(0x81, 5);
    f.extend_from_slice(b"hello");
    prompt.write_all(&f[..4]).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    prompt.write_all(&f[4..]).unwrap();
    let mut back = [0u8; 7];
    prompt.read_exact(&mut back).unwrap();
    assert_eq!(&back, b"\x81\x05hello");
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(ws_echo_once(&mut prompt, "still here"), "still here");
}

#[test]
fn an_idle_upgraded_connection_gets_1001_after_the_idle_timeout() {
    // The frame timeout off: a stalled message is then cut off as idle.
    let server = echo_server(&["--idle-timeout", "300ms", "--frame-timeout", "0"]);
    let mut idle = raw_upgrade(&server.addr);
    assert_eq!(ws_echo_once(&mut idle, "hi"), "hi");
    let mut stalled = raw_upgrade(&server.addr);
    let mut f = masked_header(0x82, 100);
    f.extend_from_slice(&[7; 10]);
    stalled.write_all(&f).unwrap();
    let mut talking = raw_upgrade(&server.addr);
    for i in 0..10 {
        let msg = format!("message {i}");
        assert_eq!(ws_echo_once(&mut talking, &msg), msg);
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(close_code(&mut idle), Some(1001));
    assert_eq!(close_code(&mut stalled), Some(1001));
}

/// N clients each send a whole 4 MiB first fragment and half of a 4 MiB
/// second one to a server with a 36 MiB budget: four fit (8 MiB each), the
/// others get Close 1013 at once; the four then finish and get their 8 MiB
/// echoes, a fresh client is served, and the server never held N × 6 MiB.
#[test]
fn the_memory_budget_refuses_unfinished_messages_that_do_not_fit_with_1013() {
    const N: usize = 20;
    const FRAGMENT: usize = 4 * 1024 * 1024;
    let server = echo_server(&["--max-memory", "36MiB", "--frame-timeout", "0"]);
    let pid = server.child.id();
    let payload: Vec<u8> = (0..2 * FRAGMENT).map(|i| (i % 251) as u8).collect();
    let mut first = masked_header(0x02, FRAGMENT as u64);
    first.extend_from_slice(&payload[..FRAGMENT]);
    let mut second = masked_header(0x80, FRAGMENT as u64);
    second.extend_from_slice(&payload[FRAGMENT..]);
    let half = first.len() + second.len() - FRAGMENT / 2;
    let wire: Vec<u8> = [first, second].concat();
    let (tx, rx) = std::sync::mpsc::channel();
    let mut writers = Vec::new();
    for i in 0..N {
        let mut s = raw_upgrade(&server.addr);
        // A refused connection may be reset while we write: that is fine.
        let _ = s.write_all(&wire[..half]);
        let mut reader = s.try_clone().unwrap();
        let tx = tx.clone();
        std::thread::spawn(move || {
            reader.set_read_timeout(None).unwrap();
            let mut h = [0u8; 2];
            if reader.read_exact(&mut h).is_err() {
                let _ = tx.send((i, Err(None)));
                return;
            }
            if h[0] == 0x88 {
                let mut rest = vec![0u8; (h[1] & 0x7f) as usize];
                let _ = reader.read_exact(&mut rest);
                let code = rest.get(..2).map(|c| u16::from_be_bytes([c[0], c[1]]));
                let _ = tx.send((i, Err(code)));
                return;
            }
            // The echo: 0x82, 127, an 8-byte length, then the payload.
            let mut len = [0u8; 8];
            reader.read_exact(&mut len).unwrap();
            let mut back = vec![0u8; u64::from_be_bytes(len) as usize];
            reader.read_exact(&mut back).unwrap();
            let _ = tx.send((i, Ok((h, back))));
        });
        writers.push(s);
    }
    let mut refused = std::collections::BTreeSet::new();
    while refused.len() < N - 4 {
        let (i, got) = rx.recv_timeout(PATIENCE).expect("the refusals arrive");
        assert_eq!(
            got.as_ref().err(),
            Some(&Some(1013)),
            "connection {i}: refused with 1013"
        );
        refused.insert(i);
    }
    let rss = support::rss_bytes(pid);
    assert!(
        rss < 96 * 1024 * 1024,
        "the server holds {} MiB; {N} unfinished messages would be {} MiB",
        rss >> 20,
        (N * half) >> 20
    );
    for (i, s) in writers.iter_mut().enumerate() {
        if !refused.contains(&i) {
            s.write_all(&wire[half..]).unwrap();
        }
    }
    for _ in 0..4 {
        let (i, got) = rx.recv_timeout(PATIENCE).expect("the echoes arrive");
        let (h, back) = got.unwrap_or_else(|e| panic!("connection {i} refused late: {e:?}"));
        assert_eq!(h, [0x82, 127]);
        assert!(back == payload, "connection {i}: the echo differs");
    }
    let mut fresh = raw_upgrade(&server.addr);
    assert_eq!(ws_echo_once(&mut fresh, "small"), "small");
}

#[test]
fn one_address_gets_max_per_ip_upgrades_then_503_and_another_address_gets_in() {
    let server = echo_server(&["--max-per-ip", "2"]);
    let upgrade = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    let status = |s: &mut TcpStream| {
        s.set_read_timeout(Some(PATIENCE)).unwrap();
        s.write_all(upgrade.as_bytes()).unwrap();
        let mut first = [0u8; 12];
        s.read_exact(&mut first).unwrap();
        String::from_utf8_lossy(&first[9..12]).to_string()
    };
    let mut a = support::connect_from_std("127.0.0.1", &server.addr);
    let mut b = support::connect_from_std("127.0.0.1", &server.addr);
    assert_eq!(
        (status(&mut a), status(&mut b)),
        ("101".into(), "101".into())
    );
    let mut c = support::connect_from_std("127.0.0.1", &server.addr);
    assert_eq!(status(&mut c), "503", "one past the cap");
    let mut rest = String::new();
    let _ = c.read_to_string(&mut rest);
    assert!(rest.contains("--max-per-ip"), "the 503 says why: {rest}");
    let mut other = support::connect_from_std("127.0.0.2", &server.addr);
    assert_eq!(status(&mut other), "101", "another address");
}

#[test]
fn accept_failures_are_logged_once_per_episode_not_every_50_ms() {
    support::accept_failures_are_logged_once_per_episode(&[
        "ws",
        "echo",
        "--listen",
        "127.0.0.1:0",
    ]);
}

/// Writes `msg` until the server closes the connection; fails if a write
/// stays blocked for PATIENCE (the server kept the connection open).
fn write_until_closed(s: &mut TcpStream, msg: &[u8]) {
    s.set_write_timeout(Some(PATIENCE)).unwrap();
    for _ in 0..100_000 {
        if let Err(e) = s.write_all(msg) {
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
    panic!("the server took 100,000 messages from a client that reads nothing");
}

#[test]
fn a_client_that_never_reads_its_echoes_is_closed_after_the_idle_timeout() {
    let server = echo_server(&["--idle-timeout", "300ms"]);
    let mut s = raw_upgrade(&server.addr);
    let mut msg = masked_header(0x82, 256 * 1024);
    msg.resize(msg.len() + 256 * 1024, 7);
    write_until_closed(&mut s, &msg);
}

/// `--json`: stopped with Ctrl-C (SIGINT), the server prints one JSON object
/// with what it served and refused and the memory budget's peak. One client
/// is echoed and closes, one holds most of a 1 MiB budget with an unfinished
/// frame, and one more such frame gets Close 1013.
#[test]
fn json_stats_at_sigint_count_the_1013_refusal_and_the_peak_of_the_unfinished_frame() {
    const FRAME: u64 = 600 * 1024;
    let mut server = support::JsonServer::start(&[
        "ws",
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
    let mut talk = raw_upgrade(&server.addr);
    assert_eq!(ws_echo_once(&mut talk, "hello"), "hello");
    let mut close = masked_header(0x88, 2);
    close.extend_from_slice(&1000u16.to_be_bytes());
    talk.write_all(&close).unwrap();
    assert_eq!(close_code(&mut talk), Some(1000), "the closing handshake");
    talk.shutdown(std::net::Shutdown::Both).unwrap(); // the server's drain ends: it is done
                                                      // A header and 1,000 of 600 KiB: held, waiting for the rest.
    let mut partial = masked_header(0x82, FRAME);
    partial.extend_from_slice(&[7; 1000]);
    // Two of them: whichever the server reads second does not fit.
    let (tx, rx) = std::sync::mpsc::channel();
    let mut open = Vec::new();
    for i in 0..2 {
        let mut s = raw_upgrade(&server.addr);
        let _ = s.write_all(&partial); // the refused one may be reset meanwhile
        let mut reader = s.try_clone().unwrap();
        let tx = tx.clone();
        std::thread::spawn(move || {
            let code = close_code(&mut reader);
            // Hang up, as a client does after the closing handshake.
            let _ = reader.shutdown(std::net::Shutdown::Both);
            let _ = tx.send((i, code));
        });
        open.push(s);
    }
    let (_, code) = rx.recv_timeout(PATIENCE).expect("one is refused");
    assert_eq!(code, Some(1013), "over the budget");
    assert!(
        rx.recv_timeout(Duration::from_millis(300)).is_err(),
        "the other unfinished frame is still held"
    );

    let report = server.stop("INT");
    let c = &report["connections"];
    assert_eq!(c["accepted"], 3, "{report}");
    assert_eq!(c["refused"]["memory"], 1, "{report}");
    assert_eq!(c["refused"]["handshake"], 0, "{report}");
    assert_eq!(c["refused"]["per_ip"], 0, "{report}");
    assert_eq!(c["open_at_stop"], 1, "{report}");
    assert_eq!(report["echoed"]["messages"], 1, "{report}");
    assert_eq!(report["echoed"]["bytes"], 5, "{report}");
    let m = &report["memory_budget"];
    assert_eq!(
        (m["limit"].as_u64(), m["refusals"].as_u64()),
        (Some(1 << 20), Some(1)),
        "{report}"
    );
    let peak = m["peak"].as_u64().unwrap();
    assert!(
        (FRAME - 4096..=1 << 20).contains(&peak),
        "the peak is the unfinished frame held: {report}"
    );
}
