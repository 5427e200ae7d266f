// Lesson 08 — the grader. Included by tests/lessons.rs (against the library)
// and exercises/tests/lesson_08.rs (against your lessons/08-websocket-handshake/exercise.rs),
// inside a module where `subject` is the code under test.

use self::subject::{accept_key, token_list_contains};
use pretty_assertions::assert_eq;

#[test]
fn accept_key_matches_the_rfc_example() {
    // RFC 6455 §1.3: this key must give this accept value.
    assert_eq!(
        accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
        "RFC 6455 §1.3's example: base64(SHA-1(the key's text + the GUID)); a browser refuses any other answer"
    );
}

#[test]
fn accept_key_for_other_keys() {
    // Computed independently (Python: base64(sha1(key + GUID))).
    assert_eq!(
        accept_key("AQIDBAUGBwgJCgsMDQ4PEA=="),
        "C/0nmHhBztSRGR1CwL6Tf4ZjwpY=",
        "base64(SHA-1(\"AQIDBAUGBwgJCgsMDQ4PEA==\" + GUID)), computed with Python"
    );
    assert_eq!(
        accept_key("x3JJHMbDL1EzLkh9GBhXDw=="),
        "HSmrc0sMlYUkAGmm5OPpG2HaGWk=",
        "base64(SHA-1(\"x3JJHMbDL1EzLkh9GBhXDw==\" + GUID)), computed with Python"
    );
}

#[test]
fn accept_key_uses_the_key_as_text_and_ignores_surrounding_spaces() {
    assert_eq!(
        accept_key("  dGhlIHNhbXBsZSBub25jZQ== "),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
        "spaces around the header value are not part of the key: trim them before hashing"
    );
    let a = accept_key("AQIDBAUGBwgJCgsMDQ4PEA==");
    assert_eq!(a.len(), 28, "base64 of a 20-byte SHA-1 digest is 28 characters");
    assert!(a.ends_with('='), "base64 of 20 bytes ends with one `=` of padding (standard base64, padded)");
}

#[test]
fn tokens_are_found_in_lists_in_any_case() {
    assert!(token_list_contains("Upgrade", "upgrade"), "tokens compare without regard to case: `Upgrade` is `upgrade`");
    assert!(
        token_list_contains("keep-alive, Upgrade", "upgrade"),
        "a browser sends `Connection: keep-alive, Upgrade`: the second token, after a comma and a space, is `upgrade`"
    );
    assert!(
        token_list_contains("keep-alive,UPGRADE", "Upgrade"),
        "tokens compare without regard to case, and need no space after the comma"
    );
    assert!(token_list_contains("websocket", "websocket"), "a list of one token contains it");
    assert!(
        token_list_contains("WebSocket ,  h2c", "websocket"),
        "spaces around a token are not part of it, and case does not matter"
    );
}

#[test]
fn tokens_must_match_whole() {
    assert!(!token_list_contains("keep-alive", "upgrade"), "`keep-alive` alone does not list `upgrade`");
    assert!(
        !token_list_contains("upgrades", "upgrade"),
        "`upgrades` is another token: a token must match whole, not as a substring"
    );
    assert!(
        !token_list_contains("websocket2, x-websocket", "websocket"),
        "`websocket2` and `x-websocket` only contain `websocket`: a token must match whole, not as a substring"
    );
    assert!(!token_list_contains("", "upgrade"), "an empty header value lists no token");
}

// ---- Part 2: the handshake on a real socket; the grader plays the client. ----
//
// The server side runs on a thread of its own with a read timeout, and the
// client waits for it with a deadline, so a handshake that never ends fails
// its test instead of hanging it.

use self::subject::accept_handshake;
use base64::Engine as _;
use netlab::ws::blocking::HandshakeOutcome;
use sha1::Digest as _;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

/// The request head limit the exercise states (8 KiB).
const HEAD_LIMIT: usize = 8 * 1024;

/// How long the server side may wait for the client's next bytes.
const SERVER_READ_TIMEOUT: Duration = Duration::from_secs(3);

/// How long the client waits for the server to finish the handshake.
const HANDSHAKE_WAIT: Duration = Duration::from_secs(6);

/// RFC 6455's sample key (§1.3) and its accept value.
const RFC_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const RFC_ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// `Sec-WebSocket-Accept`, computed here with sha1 and base64 directly (§4.2.2).
fn expected_accept(key: &str) -> String {
    let mut sha = sha1::Sha1::new();
    sha.update(key.as_bytes());
    sha.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
}

/// A valid upgrade request for `key`, as a browser might send it.
fn upgrade_request(key: &str) -> String {
    format!(
        "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
}

/// The answer the client read: status code and headers.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    head: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn lists(&self, name: &str, token: &str) -> bool {
        self.header(name)
            .is_some_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    }
}

/// What happened on both ends of one handshake.
struct Handshake {
    outcome: HandshakeOutcome,
    answer: Answer,
    /// The server's end, still open: what `accept_handshake` did not read is in it.
    server: TcpStream,
    /// The client's end, still open.
    client: TcpStream,
}

/// Sends `pieces` to `accept_handshake` over loopback, pausing `pause`
/// between them, and returns what the server decided and what it answered.
/// The client keeps its side open (it neither closes nor half-closes).
fn handshake(pieces: &[&[u8]], pause: Duration) -> Handshake {
    let (server, client, result) = run_server(pieces, pause, false);
    let outcome = match result {
        Ok(outcome) => outcome,
        Err(e) => panic!(
            "accept_handshake returned an error ({e}; kind {:?}) instead of answering a client \
             that is waiting: a complete head gets 101 or an HTTP error, and a head still open \
             after 8 KiB gets 431 or 400 at once, without waiting for more bytes",
            e.kind()
        ),
    };
    let mut client = client;
    let answer = read_answer(&mut client);
    Handshake { outcome, answer, server, client }
}

/// Runs `accept_handshake` on the server end of a fresh loopback connection
/// while the client sends `pieces` (then half-closes if `hang_up`).
fn run_server(
    pieces: &[&[u8]],
    pause: Duration,
    hang_up: bool,
) -> (TcpStream, TcpStream, std::io::Result<HandshakeOutcome>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    server.set_read_timeout(Some(SERVER_READ_TIMEOUT)).unwrap();
    server.set_write_timeout(Some(SERVER_READ_TIMEOUT)).unwrap();
    client.set_read_timeout(Some(HANDSHAKE_WAIT)).unwrap();
    client.set_nodelay(true).unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let result = accept_handshake(&mut server);
        let _ = tx.send((result, server));
    });
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 {
            std::thread::sleep(pause);
        }
        client.write_all(piece).expect("the client could not send its request");
    }
    if hang_up {
        client.shutdown(Shutdown::Write).unwrap();
    }
    match rx.recv_timeout(HANDSHAKE_WAIT) {
        Ok((result, server)) => (server, client, result),
        Err(mpsc::RecvTimeoutError::Timeout) => panic!(
            "accept_handshake did not return within {HANDSHAKE_WAIT:?} of the client's last \
             bytes (the server's socket had a {SERVER_READ_TIMEOUT:?} read timeout)"
        ),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            panic!("accept_handshake panicked (its message is above)")
        }
    }
}

/// Reads the server's answer up to its empty line and parses its head.
fn read_answer(client: &mut TcpStream) -> Answer {
    let mut got = Vec::new();
    let mut byte = [0u8; 1];
    // One byte at a time, so nothing after the head is taken from the stream.
    while !got.ends_with(b"\r\n\r\n") {
        match client.read(&mut byte) {
            Ok(1) => got.push(byte[0]),
            Ok(_) => panic!(
                "the server closed the connection after {:?}, before its answer's head ended \
                 with an empty line",
                String::from_utf8_lossy(&got)
            ),
            Err(e) => panic!(
                "no complete answer within {HANDSHAKE_WAIT:?} ({e}); got {:?}: the answer is a \
                 status line, headers, and an empty line (\\r\\n\\r\\n)",
                String::from_utf8_lossy(&got)
            ),
        }
        assert!(got.len() <= 16 * 1024, "the answer's head goes on past 16 KiB");
    }
    let head = String::from_utf8(got).expect("the answer's head must be text");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| {
            panic!("the answer must start with `HTTP/1.1 <3-digit status>`, got {status_line:?}")
        });
    let headers = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (name, value) = l
                .split_once(':')
                .unwrap_or_else(|| panic!("header line {l:?} in the answer has no `:`"));
            (name.trim().to_string(), value.trim().to_string())
        })
        .collect();
    Answer { status, headers, head }
}

/// Checks a valid 101 answer for `key`, and returns the outcome's path and leftover.
fn expect_accepted(h: &Handshake, key: &str) -> (String, Vec<u8>) {
    let a = &h.answer;
    assert_eq!(
        a.status, 101,
        "a valid upgrade request gets `101 Switching Protocols`:\n{}",
        a.head
    );
    assert!(a.lists("Upgrade", "websocket"), "a 101 carries `Upgrade: websocket`:\n{}", a.head);
    assert!(a.lists("Connection", "upgrade"), "a 101 carries `Connection: Upgrade`:\n{}", a.head);
    assert_eq!(
        a.header("Sec-WebSocket-Accept"),
        Some(expected_accept(key).as_str()),
        "Sec-WebSocket-Accept must be base64(SHA-1(key + GUID)) for the key {key:?} (RFC 6455 \
         §4.2.2):\n{}",
        a.head
    );
    match &h.outcome {
        HandshakeOutcome::Accepted { path, leftover } => (path.clone(), leftover.clone()),
        other => panic!(
            "the server answered 101, so accept_handshake must return Accepted, not {other:?}"
        ),
    }
}

/// Checks a refusal: one of the `allowed` statuses, no accept value, and
/// `Refused` with the same status.
fn expect_refused(h: &Handshake, allowed: &[u16], why: &str) {
    let a = &h.answer;
    assert!(
        allowed.contains(&a.status),
        "{why}: the answer must be one of {allowed:?}, got:\n{}",
        a.head
    );
    assert_eq!(
        a.header("Sec-WebSocket-Accept"),
        None,
        "{why}: a refusal carries no Sec-WebSocket-Accept (it would tell the client the upgrade worked)"
    );
    assert_eq!(
        h.outcome,
        HandshakeOutcome::Refused { status: a.status },
        "{why}: accept_handshake must return Refused with the status it sent"
    );
}

#[test]
fn handshake_answers_the_rfc_request_with_101_and_its_accept_value() {
    assert_eq!(expected_accept(RFC_KEY), RFC_ACCEPT, "(the grader's own check of RFC 6455 §1.3)");
    let h = handshake(&[upgrade_request(RFC_KEY).as_bytes()], Duration::ZERO);
    let (path, leftover) = expect_accepted(&h, RFC_KEY);
    assert_eq!(path, "/chat", "Accepted carries the request's path");
    assert_eq!(leftover, Vec::<u8>::new(), "nothing was sent after the request head");
}

#[test]
fn handshake_waits_for_a_request_split_over_paused_writes() {
    // Another key, odd header case, token lists, and the request cut into
    // 7-byte pieces (one cut falls inside the final \r\n\r\n).
    let key = base64::engine::general_purpose::STANDARD.encode([7u8; 16]);
    let request = format!(
        "GET /room/7?x=1 HTTP/1.1\r\nhost: 127.0.0.1\r\nUPGRADE: WebSocket\r\n\
         connection: keep-alive, Upgrade\r\nsec-websocket-version: 13\r\n\
         Sec-Websocket-Key: {key}\r\nUser-Agent: grader\r\n\r\n"
    );
    let pieces: Vec<&[u8]> = request.as_bytes().chunks(7).collect();
    let h = handshake(&pieces, Duration::from_millis(5));
    let (path, _) = expect_accepted(&h, &key);
    assert_eq!(path, "/room/7?x=1", "Accepted carries the request's path, query included");
}

#[test]
fn handshake_keeps_the_bytes_sent_right_behind_the_request() {
    // RFC 6455 §4.1: a client MUST wait for the 101 before sending frames, but a
    // server cannot know what a careless client (or a pipelining proxy) sent behind
    // its request: bytes read past the head must be kept. Here, a masked Ping with
    // a 4-byte payload, in the same write as the request.
    let frame: &[u8] = b"\x89\x84\x01\x02\x03\x04pqrs";
    let sent = [upgrade_request(RFC_KEY).as_bytes(), frame].concat();
    let mut h = handshake(&[&sent], Duration::ZERO);
    let (_, leftover) = expect_accepted(&h, RFC_KEY);
    assert!(
        frame.starts_with(&leftover),
        "leftover must be the bytes right after the head: {leftover:?} is not a start of {frame:?}"
    );
    let mut rest = vec![0u8; frame.len() - leftover.len()];
    h.server.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    if let Err(e) = h.server.read_exact(&mut rest) {
        panic!(
            "after the head, {} bytes came back as leftover and the stream did not hold the other \
             {} ({e}): bytes read past the head must be returned in leftover, not dropped",
            leftover.len(),
            rest.len()
        );
    }
    assert_eq!([leftover, rest].concat(), frame.to_vec(), "leftover + the rest of the stream");
    drop(h.client);
}

#[test]
fn handshake_refuses_a_key_that_is_not_16_bytes_of_base64() {
    for (bad, why) in [
        ("dGhlIHNhbXBsZQ==", "a key of 10 bytes (\"the sample\")"),
        ("AAECAwQFBgcICQoLDA0ODxA=", "a key of 17 bytes"),
        ("not base64 at all!", "a key that is not base64"),
    ] {
        let h = handshake(&[upgrade_request(bad).as_bytes()], Duration::ZERO);
        expect_refused(&h, &[400], why);
    }
    let missing =
        upgrade_request(RFC_KEY).replace(&format!("Sec-WebSocket-Key: {RFC_KEY}\r\n"), "");
    expect_refused(&handshake(&[missing.as_bytes()], Duration::ZERO), &[400], "no key at all");
}

#[test]
fn handshake_refuses_a_request_that_does_not_ask_to_upgrade() {
    let good = upgrade_request(RFC_KEY);
    for (request, allowed, why) in [
        (good.replace("Upgrade: websocket\r\n", ""), &[400, 426][..], "no Upgrade header"),
        (good.replace("Upgrade: websocket", "Upgrade: h2c"), &[400, 426], "Upgrade: h2c"),
        (
            good.replace("Connection: Upgrade", "Connection: keep-alive"),
            &[400],
            "a Connection header without the token upgrade",
        ),
    ] {
        expect_refused(&handshake(&[request.as_bytes()], Duration::ZERO), allowed, why);
    }
}

#[test]
fn handshake_refuses_a_wrong_version_and_names_13() {
    let request = upgrade_request(RFC_KEY).replace("Version: 13", "Version: 8");
    let h = handshake(&[request.as_bytes()], Duration::ZERO);
    expect_refused(&h, &[400, 426], "Sec-WebSocket-Version: 8");
    assert_eq!(
        h.answer.header("Sec-WebSocket-Version"),
        Some("13"),
        "a server refusing a version says which one it speaks: `Sec-WebSocket-Version: 13` \
         (RFC 6455 §4.4):\n{}",
        h.answer.head
    );
}

#[test]
fn handshake_refuses_other_methods_old_http_and_a_missing_host() {
    let good = upgrade_request(RFC_KEY);
    for (request, allowed, why) in [
        (good.replacen("GET", "POST", 1), &[400, 405][..], "a POST"),
        (good.replace("HTTP/1.1", "HTTP/1.0"), &[400, 505], "HTTP/1.0"),
        (good.replace("Host: server.example.com\r\n", ""), &[400], "no Host header"),
    ] {
        expect_refused(&handshake(&[request.as_bytes()], Duration::ZERO), allowed, why);
    }
}

/// A valid request padded with an `X-Pad` header to exactly `len` bytes.
fn padded_request(len: usize) -> String {
    let base = upgrade_request(RFC_KEY);
    let bare = base.len() + "X-Pad: \r\n".len();
    let pad = "a".repeat(len - bare);
    let padded = base.replacen("\r\n\r\n", &format!("\r\nX-Pad: {pad}\r\n\r\n"), 1);
    assert_eq!(padded.len(), len, "(the grader's own padding)");
    padded
}

#[test]
fn handshake_accepts_a_head_of_exactly_8_kib_and_refuses_one_byte_more() {
    let h = handshake(&[padded_request(HEAD_LIMIT).as_bytes()], Duration::ZERO);
    expect_accepted(&h, RFC_KEY);
    let h = handshake(&[padded_request(HEAD_LIMIT + 1).as_bytes()], Duration::ZERO);
    expect_refused(
        &h,
        &[431, 400],
        "a head of 8193 bytes, one over the 8 KiB limit (431 Request Header Fields Too Large)",
    );
}

#[test]
fn handshake_refuses_a_head_that_never_ends_without_waiting_for_more() {
    // 12 KiB of one header line, no empty line, and the client stays connected:
    // a server that waits for the end of the head waits for ever (here, until
    // its read timeout, which is an error).
    let endless = format!("GET /chat HTTP/1.1\r\nHost: x\r\nX-Pad: {}", "a".repeat(12 * 1024));
    let h = handshake(&[endless.as_bytes()], Duration::ZERO);
    expect_refused(
        &h,
        &[431, 400],
        "a head still open after 8 KiB must be refused then, without reading further",
    );
}

#[test]
fn handshake_reports_a_client_that_hangs_up_mid_request() {
    let request = upgrade_request(RFC_KEY);
    let half = &request.as_bytes()[..request.len() / 2];
    let (_server, mut client, result) = run_server(&[half], Duration::ZERO, true);
    match result {
        Err(e) => assert_eq!(
            e.kind(),
            ErrorKind::UnexpectedEof,
            "a client gone before its head ended is an UnexpectedEof error ({e})"
        ),
        Ok(outcome) => panic!(
            "the client hung up halfway through its request, yet accept_handshake returned \
             {outcome:?}: it must return an error of kind UnexpectedEof"
        ),
    }
    let mut any = [0u8; 1];
    client.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    assert!(
        !matches!(client.read(&mut any), Ok(1)),
        "nothing is written to a client that hung up before its request ended"
    );
}
