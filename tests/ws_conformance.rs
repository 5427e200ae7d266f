//! RFC 6455 conformance over real loopback sockets.
//!
//! Each test starts netlab's WebSocket echo server on port 0 and talks to it
//! with bytes written out by hand here (not with netlab's encoder), then reads
//! the server's answer byte by byte: the close code the RFC requires, the TCP
//! connection closed, never a hang. Expected values come from the RFC
//! (§1.3's key/accept pair, §5.7's example frames, §7.4's code table).

use netlab::ws::client::{self, ClientConfig};
use netlab::ws::handshake::Policy;
use netlab::ws::server::{self, EchoConfig, ServerConfig};
use netlab::ws::{CloseCode, Limits, Message, WsError};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// §1.3: the example key and the accept value every server must compute from it.
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
/// §5.7's masking key.
const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
/// Longest any single step may take before the test calls it a hang.
const PATIENCE: Duration = Duration::from_secs(5);

fn request(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n")
}

async fn start(config: EchoConfig) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(server::serve_echo(listener, config, |_| {}));
    addr
}

async fn start_default() -> SocketAddr {
    start(EchoConfig::default()).await
}

fn with_limits(max_frame: usize, max_message: usize) -> EchoConfig {
    EchoConfig {
        server: ServerConfig {
            limits: Limits {
                max_frame,
                max_message,
            },
            ..ServerConfig::default()
        },
        ..EchoConfig::default()
    }
}

/// Reads until the end of an HTTP head; returns it as text.
async fn read_head(s: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(PATIENCE, s.read(&mut byte))
            .await
            .expect("server hung")
            .unwrap();
        if n == 0 {
            break;
        }
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

/// Connects and upgrades by hand; checks the 101 answer against §1.3.
async fn upgraded(addr: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(request("/").as_bytes()).await.unwrap();
    let head = read_head(&mut s).await;
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert!(
        head.contains(&format!("\r\nSec-WebSocket-Accept: {ACCEPT}\r\n")),
        "{head}"
    );
    s
}

/// A client frame written out by hand: FIN/RSV/opcode byte, MASK + length, key, masked payload.
fn frame(b0: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![b0];
    let n = payload.len();
    if n < 126 {
        v.push(0x80 | n as u8);
    } else if n < 65536 {
        v.push(0x80 | 126);
        v.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        v.push(0x80 | 127);
        v.extend_from_slice(&(n as u64).to_be_bytes());
    }
    v.extend_from_slice(&MASK);
    v.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    v
}

fn unmasked(b0: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 126);
    let mut v = vec![b0, payload.len() as u8];
    v.extend_from_slice(payload);
    v
}

/// One frame from the server, decoded by hand.
#[derive(Debug, PartialEq)]
struct ServerFrame {
    b0: u8,
    header: Vec<u8>,
    payload: Vec<u8>,
}

async fn read_frame(s: &mut TcpStream) -> Option<ServerFrame> {
    let mut two = [0u8; 2];
    match tokio::time::timeout(PATIENCE, s.read_exact(&mut two))
        .await
        .expect("server hung")
    {
        Ok(_) => {}
        Err(_) => return None,
    }
    assert_eq!(two[1] & 0x80, 0, "servers must not mask (§5.1)");
    let mut header = two.to_vec();
    let len = match two[1] & 0x7f {
        126 => {
            let mut b = [0u8; 2];
            s.read_exact(&mut b).await.unwrap();
            header.extend_from_slice(&b);
            u16::from_be_bytes(b) as usize
        }
        127 => {
            let mut b = [0u8; 8];
            s.read_exact(&mut b).await.unwrap();
            header.extend_from_slice(&b);
            u64::from_be_bytes(b) as usize
        }
        n => n as usize,
    };
    let mut payload = vec![0u8; len];
    tokio::time::timeout(PATIENCE, s.read_exact(&mut payload))
        .await
        .expect("server hung")
        .unwrap();
    Some(ServerFrame {
        b0: two[0],
        header,
        payload,
    })
}

/// Reads frames until a Close; returns its status code (None: empty payload)
/// after checking that the server then closes the TCP connection.
async fn expect_close(s: &mut TcpStream) -> Option<u16> {
    loop {
        let f = read_frame(s)
            .await
            .expect("the server closed TCP without a Close frame");
        if f.b0 == 0x88 {
            let code =
                (f.payload.len() >= 2).then(|| u16::from_be_bytes([f.payload[0], f.payload[1]]));
            // The server closes TCP after the Close frame (§7.1.1).
            let mut rest = Vec::new();
            tokio::time::timeout(PATIENCE, s.read_to_end(&mut rest))
                .await
                .expect("the server kept the TCP connection open after Close")
                .ok();
            return code;
        }
    }
}

/// Sends `bytes` after the handshake and expects the connection failed with `code`.
async fn failed_with(bytes: &[u8], code: u16) {
    let addr = start_default().await;
    let mut s = upgraded(addr).await;
    s.write_all(bytes).await.unwrap();
    assert_eq!(
        expect_close(&mut s).await,
        Some(code),
        "after sending {:02x?}",
        &bytes[..bytes.len().min(16)]
    );
}

// ---- §4: the opening handshake ----

#[tokio::test]
async fn handshake_answers_the_rfc_accept_value() {
    let addr = start_default().await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(request("/chat").as_bytes()).await.unwrap();
    let head = read_head(&mut s).await;
    assert!(
        head.starts_with("HTTP/1.1 101 Switching Protocols\r\n"),
        "{head}"
    );
    let lower = head.to_ascii_lowercase();
    assert!(lower.contains("\r\nupgrade: websocket\r\n"), "{head}");
    assert!(lower.contains("\r\nconnection: upgrade\r\n"), "{head}");
    assert!(
        head.contains("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
        "{head}"
    );
}

async fn refused(req: &str, config: EchoConfig) -> String {
    let addr = start(config).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(req.as_bytes()).await.unwrap();
    let head = read_head(&mut s).await;
    if head.starts_with("HTTP/1.1 101 ") {
        return head; // upgraded: the connection stays open
    }
    // A refusal: the body follows, then the server closes the connection.
    let mut rest = Vec::new();
    tokio::time::timeout(PATIENCE, s.read_to_end(&mut rest))
        .await
        .expect("server hung")
        .ok();
    head + &String::from_utf8_lossy(&rest)
}

#[tokio::test]
async fn each_broken_handshake_rule_gets_its_http_status() {
    let good = request("/");
    let cases = [
        (good.replace("GET", "POST"), "405"),
        (good.replace("HTTP/1.1", "HTTP/1.0"), "505"),
        (good.replace("Host: 127.0.0.1\r\n", ""), "400"),
        (good.replace("Upgrade: websocket\r\n", ""), "426"),
        (
            good.replace("Connection: Upgrade", "Connection: close"),
            "400",
        ),
        (good.replace("Version: 13", "Version: 12"), "426"),
        (
            good.replace(&format!("Sec-WebSocket-Key: {KEY}\r\n"), ""),
            "400",
        ),
        (good.replace(KEY, "c2hvcnQ="), "400"),
        // A TLS ClientHello sent to a plain ws:// port.
        (
            "\x16\x03\x01\x00\x05\x01\x00\x00\x01\x03\x03\r\n\r\n".to_string(),
            "400",
        ),
    ];
    for (req, status) in cases {
        let resp = refused(&req, EchoConfig::default()).await;
        assert!(
            resp.starts_with(&format!("HTTP/1.1 {status} ")),
            "{req:?} got {resp:?}"
        );
        assert!(
            resp.contains("Content-Length: "),
            "refusals are proper HTTP responses: {resp}"
        );
    }
    let resp = refused(
        &good.replace("Version: 13", "Version: 12"),
        EchoConfig::default(),
    )
    .await;
    assert!(
        resp.contains("\r\nSec-WebSocket-Version: 13\r\n"),
        "426 must name the version we speak (§4.4): {resp}"
    );
}

#[tokio::test]
async fn origin_allow_list_refuses_with_403() {
    let config = EchoConfig {
        server: ServerConfig {
            policy: Policy {
                allowed_origins: Some(vec!["http://good.example".into()]),
                ..Policy::default()
            },
            ..ServerConfig::default()
        },
        ..EchoConfig::default()
    };
    let with_origin =
        |o: &str| request("/").replace("\r\n\r\n", &format!("\r\nOrigin: {o}\r\n\r\n"));
    assert!(refused(&with_origin("http://evil.example"), config.clone())
        .await
        .starts_with("HTTP/1.1 403 "));
    assert!(refused(&with_origin("http://good.example"), config)
        .await
        .starts_with("HTTP/1.1 101 "));
}

#[tokio::test]
async fn header_limit_at_max_and_max_plus_one() {
    let base = request("/");
    let pad = |total: usize| {
        let filler = total - base.len() - "X-Pad: \r\n".len();
        base.replace(
            "\r\n\r\n",
            &format!("\r\nX-Pad: {}\r\n\r\n", "a".repeat(filler)),
        )
    };
    let config = |max| EchoConfig {
        server: ServerConfig {
            max_header: max,
            ..ServerConfig::default()
        },
        ..EchoConfig::default()
    };
    let at = pad(8 * 1024);
    assert_eq!(at.len(), 8192);
    assert!(refused(&at, config(8192))
        .await
        .starts_with("HTTP/1.1 101 "));
    let over = pad(8 * 1024 + 1);
    assert!(refused(&over, config(8192))
        .await
        .starts_with("HTTP/1.1 431 "));
    // A head that never ends is refused once it passes the limit, not buffered forever.
    let endless = format!("GET / HTTP/1.1\r\nX-Pad: {}", "a".repeat(20_000));
    assert!(refused(&endless, config(8192))
        .await
        .starts_with("HTTP/1.1 431 "));
}

#[tokio::test]
async fn request_arriving_one_byte_at_a_time_is_accepted() {
    let addr = start_default().await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.set_nodelay(true).unwrap();
    for b in request("/slow").bytes() {
        s.write_all(&[b]).await.unwrap();
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
    assert!(read_head(&mut s).await.starts_with("HTTP/1.1 101 "));
}

#[tokio::test]
async fn slow_loris_is_cut_off_at_the_handshake_timeout() {
    let config = EchoConfig {
        server: ServerConfig {
            handshake_timeout: Duration::from_millis(300),
            ..ServerConfig::default()
        },
        ..EchoConfig::default()
    };
    let addr = start(config).await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let started = std::time::Instant::now();
    let mut all = Vec::new();
    tokio::time::timeout(PATIENCE, s.read_to_end(&mut all))
        .await
        .expect("never cut off")
        .ok();
    assert!(String::from_utf8_lossy(&all).starts_with("HTTP/1.1 408 "));
    assert!(started.elapsed() >= Duration::from_millis(250));
}

#[tokio::test]
async fn frames_in_the_same_packet_as_the_request_are_not_lost() {
    let addr = start_default().await;
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut bytes = request("/").into_bytes();
    bytes.extend(frame(0x81, b"right behind"));
    s.write_all(&bytes).await.unwrap();
    assert!(read_head(&mut s).await.starts_with("HTTP/1.1 101 "));
    let f = read_frame(&mut s).await.unwrap();
    assert_eq!((f.b0, f.payload.as_slice()), (0x81, &b"right behind"[..]));
}

// ---- §5: frames ----

#[tokio::test]
async fn echoes_with_the_shortest_length_form() {
    let addr = start_default().await;
    let mut s = upgraded(addr).await;
    // (payload length, the header the server must send back: §5.2 minimal encoding)
    let cases: [(usize, Vec<u8>); 6] = [
        (0, vec![0x82, 0]),
        (125, vec![0x82, 125]),
        (126, vec![0x82, 126, 0, 126]),
        (65535, vec![0x82, 126, 0xff, 0xff]),
        (65536, vec![0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]),
        (100_000, vec![0x82, 127, 0, 0, 0, 0, 0, 1, 0x86, 0xa0]),
    ];
    for (len, header) in cases {
        let payload: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
        s.write_all(&frame(0x82, &payload)).await.unwrap();
        let f = read_frame(&mut s).await.unwrap();
        assert_eq!(f.header, header, "header for {len} bytes");
        assert!(f.payload == payload, "payload of {len} bytes changed");
    }
    // §5.7's "Hello" as a client sends it.
    s.write_all(&[
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ])
    .await
    .unwrap();
    assert_eq!(read_frame(&mut s).await.unwrap().payload, b"Hello");
}

#[tokio::test]
async fn pipelined_messages_come_back_in_order() {
    let addr = start_default().await;
    let mut s = upgraded(addr).await;
    let mut burst = Vec::new();
    for i in 0..200 {
        burst.extend(frame(0x81, format!("msg {i}").as_bytes()));
    }
    s.write_all(&burst).await.unwrap();
    for i in 0..200 {
        assert_eq!(
            read_frame(&mut s).await.unwrap().payload,
            format!("msg {i}").as_bytes()
        );
    }
}

#[tokio::test]
async fn unmasked_client_frame_fails_with_1002() {
    failed_with(&unmasked(0x81, b"hi"), 1002).await;
}

#[tokio::test]
async fn reserved_bits_fail_with_1002() {
    for rsv in [0x40, 0x20, 0x10] {
        failed_with(&frame(0x81 | rsv, b"hi"), 1002).await;
    }
}

#[tokio::test]
async fn reserved_opcodes_fail_with_1002() {
    for op in [3u8, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf] {
        failed_with(&frame(0x80 | op, b""), 1002).await;
    }
}

#[tokio::test]
async fn control_frame_rules_fail_with_1002() {
    failed_with(&frame(0x89, &[0; 126]), 1002).await; // ping over 125 bytes
    failed_with(&frame(0x09, b"x"), 1002).await; // fragmented ping
    failed_with(&frame(0x08, &[0x03, 0xe8]), 1002).await; // fragmented close
}

#[tokio::test]
async fn a_64_bit_length_with_the_top_bit_set_fails_with_1002() {
    let mut f = vec![0x82, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 0];
    f.extend_from_slice(&MASK);
    failed_with(&f, 1002).await;
}

#[tokio::test]
async fn a_huge_announced_frame_is_refused_from_its_header_with_1009() {
    // 2^62 bytes announced; nothing of it follows.
    let mut f = vec![0x82, 0x80 | 127, 0x40, 0, 0, 0, 0, 0, 0, 0];
    f.extend_from_slice(&MASK);
    failed_with(&f, 1009).await;
}

#[tokio::test]
async fn max_frame_at_the_edge() {
    let addr = start(with_limits(1000, 10_000)).await;
    let mut s = upgraded(addr).await;
    s.write_all(&frame(0x82, &[1; 1000])).await.unwrap();
    assert_eq!(read_frame(&mut s).await.unwrap().payload.len(), 1000);
    s.write_all(&frame(0x82, &[1; 1001])).await.unwrap();
    assert_eq!(expect_close(&mut s).await, Some(1009));
}

#[tokio::test]
async fn max_message_at_the_edge_counts_fragments() {
    let addr = start(with_limits(1000, 1500)).await;
    let mut s = upgraded(addr).await;
    s.write_all(&frame(0x02, &[1; 1000])).await.unwrap();
    s.write_all(&frame(0x80, &[2; 500])).await.unwrap();
    assert_eq!(read_frame(&mut s).await.unwrap().payload.len(), 1500);
    s.write_all(&frame(0x02, &[1; 1000])).await.unwrap();
    s.write_all(&frame(0x80, &[2; 501])).await.unwrap();
    assert_eq!(expect_close(&mut s).await, Some(1009));
}

// ---- §5.4: fragmentation ----

#[tokio::test]
async fn fragments_are_joined_and_a_ping_between_them_is_answered_first() {
    let addr = start_default().await;
    let mut s = upgraded(addr).await;
    let mut bytes = frame(0x01, b"frag");
    bytes.extend(frame(0x89, b"are you there"));
    bytes.extend(frame(0x00, b"men"));
    bytes.extend(frame(0x80, b"ted"));
    s.write_all(&bytes).await.unwrap();
    let pong = read_frame(&mut s).await.unwrap();
    assert_eq!(
        (pong.b0, pong.payload.as_slice()),
        (0x8a, &b"are you there"[..])
    );
    let msg = read_frame(&mut s).await.unwrap();
    assert_eq!((msg.b0, msg.payload.as_slice()), (0x81, &b"fragmented"[..]));
}

#[tokio::test]
async fn continuation_without_a_start_fails_with_1002() {
    failed_with(&frame(0x80, b"orphan"), 1002).await;
}

#[tokio::test]
async fn a_new_message_inside_a_fragmented_one_fails_with_1002() {
    let mut bytes = frame(0x01, b"start");
    bytes.extend(frame(0x81, b"interloper"));
    failed_with(&bytes, 1002).await;
}

// ---- §8.1: UTF-8 ----

#[tokio::test]
async fn invalid_utf8_fails_with_1007() {
    failed_with(
        &frame(
            0x81,
            &[
                0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80,
                0x65, 0x64,
            ],
        ),
        1007,
    )
    .await;
}

#[tokio::test]
async fn utf8_split_across_fragments_is_fine() {
    let addr = start_default().await;
    let mut s = upgraded(addr).await;
    let text = "κόσμε 🦀".as_bytes();
    let mut bytes = frame(0x01, &text[..1]);
    bytes.extend(frame(0x00, &text[1..9]));
    bytes.extend(frame(0x80, &text[9..]));
    s.write_all(&bytes).await.unwrap();
    assert_eq!(read_frame(&mut s).await.unwrap().payload, text);
}

#[tokio::test]
async fn invalid_utf8_fails_fast_before_the_message_ends() {
    // A first fragment with a byte that can never be UTF-8; the message never finishes.
    failed_with(&frame(0x01, &[b'o', b'k', 0xff]), 1007).await;
    // Inside one frame: 1000 bytes announced, only 10 sent, the 3rd is invalid.
    let whole = frame(0x81, &[&[b'a', b'b', 0xc0][..], &[b'x'; 997][..]].concat());
    failed_with(&whole[..8 + 10], 1007).await;
}

// ---- §5.5 ping/pong, §7 closing ----

#[tokio::test]
async fn ping_is_answered_with_an_identical_pong() {
    let addr = start_default().await;
    let mut s = upgraded(addr).await;
    s.write_all(&frame(0x89, &[0x55; 125])).await.unwrap();
    let pong = read_frame(&mut s).await.unwrap();
    assert_eq!((pong.b0, pong.payload), (0x8a, vec![0x55; 125]));
    // An unsolicited pong is allowed and ignored (§5.5.3).
    s.write_all(&frame(0x8a, b"unsolicited")).await.unwrap();
    s.write_all(&frame(0x81, b"still open")).await.unwrap();
    assert_eq!(read_frame(&mut s).await.unwrap().payload, b"still open");
}

#[tokio::test]
async fn client_close_is_echoed_and_the_server_closes_tcp() {
    let addr = start_default().await;
    let mut s = upgraded(addr).await;
    s.write_all(&frame(0x88, &[0x03, 0xe8, b'b', b'y', b'e']))
        .await
        .unwrap();
    assert_eq!(expect_close(&mut s).await, Some(1000));
    let mut s = upgraded(addr).await;
    s.write_all(&frame(0x88, &[])).await.unwrap();
    assert_eq!(
        expect_close(&mut s).await,
        None,
        "an empty Close is answered without a code"
    );
}

#[tokio::test]
async fn valid_close_codes_are_echoed() {
    for code in [
        1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999,
    ] {
        let addr = start_default().await;
        let mut s = upgraded(addr).await;
        s.write_all(&frame(0x88, &code.to_be_bytes()))
            .await
            .unwrap();
        assert_eq!(expect_close(&mut s).await, Some(code));
    }
}

#[tokio::test]
async fn invalid_close_payloads_fail_with_1002_or_1007() {
    failed_with(&frame(0x88, &[0x03]), 1002).await; // 1-byte payload
    for code in [
        0u16, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
    ] {
        failed_with(&frame(0x88, &code.to_be_bytes()), 1002).await;
    }
    failed_with(&frame(0x88, &[0x03, 0xe8, 0xff, 0xfe]), 1007).await; // reason not UTF-8
}

#[tokio::test]
async fn server_initiated_close_completes_both_ways() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let (mut ws, up) = server::accept(tcp, &ServerConfig::default()).await.unwrap();
        assert_eq!(up.request.path, "/");
        ws.close(CloseCode::GoingAway, "shutting down")
            .await
            .unwrap();
        // Messages already in flight still arrive; then the client's Close.
        let mut seen = Vec::new();
        while let Some(m) = ws.recv().await.unwrap() {
            seen.push(m);
        }
        seen
    });
    let mut s = upgraded(addr).await;
    let close = read_frame(&mut s).await.unwrap();
    assert_eq!(close.b0, 0x88);
    assert_eq!(&close.payload[..2], &1001u16.to_be_bytes());
    assert_eq!(&close.payload[2..], b"shutting down");
    s.write_all(&frame(0x88, &1001u16.to_be_bytes()))
        .await
        .unwrap();
    let mut rest = Vec::new();
    tokio::time::timeout(PATIENCE, s.read_to_end(&mut rest))
        .await
        .expect("server did not close TCP")
        .ok();
    let seen = server.await.unwrap();
    assert!(
        matches!(seen.as_slice(), [Message::Close(Some(c))] if c.code == CloseCode::GoingAway),
        "{seen:?}"
    );
}

#[tokio::test]
async fn tcp_closed_mid_frame_is_an_error_and_other_clients_go_on() {
    let addr = start_default().await;
    let mut good = upgraded(addr).await;
    let mut bad = upgraded(addr).await;
    bad.write_all(&frame(0x82, &[0; 100])[..50]).await.unwrap();
    drop(bad);
    good.write_all(&frame(0x81, b"unharmed")).await.unwrap();
    assert_eq!(read_frame(&mut good).await.unwrap().payload, b"unharmed");
}

#[tokio::test]
async fn random_garbage_never_panics_or_hangs_and_others_go_on() {
    let addr = start_default().await;
    let mut good = upgraded(addr).await;
    // A seeded linear congruential generator: the same garbage on every run.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for round in 0..20 {
        let mut s = upgraded(addr).await;
        let garbage: Vec<u8> = (0..4096)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (x >> 33) as u8
            })
            .collect();
        let _ = s.write_all(&garbage).await;
        let mut rest = Vec::new();
        // Either a Close frame and EOF, or EOF: but the server must end it.
        let r = tokio::time::timeout(PATIENCE, s.read_to_end(&mut rest)).await;
        assert!(
            r.is_ok(),
            "round {round}: the server neither answered nor closed"
        );
        good.write_all(&frame(0x81, format!("round {round}").as_bytes()))
            .await
            .unwrap();
        assert_eq!(
            read_frame(&mut good).await.unwrap().payload,
            format!("round {round}").as_bytes()
        );
    }
}

// ---- the client side (§4.1, §5.1) against hand-written servers ----

/// A fake server: reads the request, answers with `respond(key)`, then sends `then`.
async fn fake_server(
    respond: fn(&str) -> String,
    then: Vec<u8>,
) -> (SocketAddr, tokio::task::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let head = read_head(&mut s).await;
        assert!(head.starts_with("GET /path HTTP/1.1\r\n"), "{head}");
        let key = head
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .expect("the client sends a key")
            .to_string();
        s.write_all(respond(&key).as_bytes()).await.unwrap();
        s.write_all(&then).await.unwrap();
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(PATIENCE, s.read_to_end(&mut rest)).await;
        rest
    });
    (addr, task)
}

/// The accept value for `key`, computed here with the sha1 and base64 crates directly.
fn accept_for(key: &str) -> String {
    use base64::Engine as _;
    use sha1::Digest as _;
    let digest =
        sha1::Sha1::digest(format!("{key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(digest)
}

fn good_101(key: &str) -> String {
    format!("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n", accept_for(key))
}

#[tokio::test]
async fn client_rejects_a_wrong_accept_value() {
    let (addr, _) = fake_server(
        |_| "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n".into(),
        vec![],
    )
    .await;
    let err = client::connect(&format!("ws://{addr}/path"), &ClientConfig::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            WsError::Handshake(netlab::ws::handshake::HandshakeError::AcceptMismatch { .. })
        ),
        "{err}"
    );
}

#[tokio::test]
async fn client_rejects_a_status_other_than_101() {
    let (addr, _) = fake_server(
        |_| "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".into(),
        vec![],
    )
    .await;
    let err = client::connect(&format!("ws://{addr}/path"), &ClientConfig::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("404"), "{err}");
}

#[tokio::test]
async fn client_masks_its_frames_and_fails_a_masked_server_frame_with_1002() {
    let masked_from_server = vec![0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2];
    let (addr, task) = fake_server(good_101, masked_from_server).await;
    let (mut ws, _) = client::connect(&format!("ws://{addr}/path"), &ClientConfig::default())
        .await
        .unwrap();
    let err = ws.recv().await.unwrap_err();
    assert!(
        err.to_string().contains("masked frame from a server"),
        "{err}"
    );
    let sent = task.await.unwrap();
    // The client's Close frame: FIN+close, MASK bit set, 2-byte code (+ reason), masked with its key.
    assert_eq!(sent[0], 0x88);
    assert_eq!(sent[1] & 0x80, 0x80, "client frames are masked (§5.1)");
    let key = [sent[2], sent[3], sent[4], sent[5]];
    let code = u16::from_be_bytes([sent[6] ^ key[0], sent[7] ^ key[1]]);
    assert_eq!(code, 1002);
}

#[tokio::test]
async fn our_client_and_server_round_trip_and_close() {
    let addr = start_default().await;
    let (mut ws, _) = client::connect(&format!("ws://{addr}/"), &ClientConfig::default())
        .await
        .unwrap();
    for m in [
        Message::text("hello"),
        Message::binary(vec![0u8; 70_000]),
        Message::text(""),
    ] {
        ws.send(&m).await.unwrap();
        assert_eq!(ws.recv().await.unwrap(), Some(m));
    }
    ws.feed_fragmented(&Message::text("in three parts"), 5)
        .unwrap();
    ws.flush().await.unwrap();
    assert_eq!(
        ws.recv().await.unwrap(),
        Some(Message::text("in three parts"))
    );
    ws.close(CloseCode::Normal, "done").await.unwrap();
    match ws.recv().await.unwrap() {
        Some(Message::Close(Some(c))) => assert_eq!(c.code, CloseCode::Normal),
        other => panic!("expected the server's Close, got {other:?}"),
    }
    assert_eq!(ws.recv().await.unwrap(), None);
    assert!(matches!(
        ws.send(&Message::text("late")).await,
        Err(WsError::AlreadyClosed)
    ));
}

#[tokio::test]
async fn a_peer_that_never_answers_our_close_is_dropped_after_the_close_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let (mut ws, _) = server::accept(tcp, &ServerConfig::default()).await.unwrap();
        ws.close(CloseCode::GoingAway, "").await.unwrap();
        let started = std::time::Instant::now();
        let end = ws.recv().await.unwrap();
        (end, started.elapsed())
    });
    let mut s = upgraded(addr).await;
    assert_eq!(read_frame(&mut s).await.unwrap().b0, 0x88);
    // We never answer; the server gives up after CLOSE_TIMEOUT and closes TCP.
    let (end, waited) = tokio::time::timeout(PATIENCE, server)
        .await
        .expect("the server waited forever")
        .unwrap();
    assert_eq!(end, None);
    assert!(waited >= netlab::ws::connection::CLOSE_TIMEOUT - Duration::from_millis(100));
    let mut rest = Vec::new();
    tokio::time::timeout(PATIENCE, s.read_to_end(&mut rest))
        .await
        .expect("TCP still open")
        .ok();
}

#[tokio::test]
async fn subprotocol_is_chosen_from_the_clients_offer() {
    let config = EchoConfig {
        server: ServerConfig {
            policy: Policy {
                protocols: vec!["chat".into(), "superchat".into()],
                ..Policy::default()
            },
            ..ServerConfig::default()
        },
        ..EchoConfig::default()
    };
    let addr = start(config).await;
    let offer = |protocols: &[&str]| ClientConfig {
        protocols: protocols.iter().map(|p| p.to_string()).collect(),
        ..ClientConfig::default()
    };
    let url = format!("ws://{addr}/");
    let (_, resp) = client::connect(&url, &offer(&["superchat", "chat"]))
        .await
        .unwrap();
    assert_eq!(
        resp.protocol.as_deref(),
        Some("chat"),
        "the server's preference wins"
    );
    let (_, resp) = client::connect(&url, &offer(&["mqtt"])).await.unwrap();
    assert_eq!(
        resp.protocol, None,
        "no common subprotocol: none is named (§4.2.2)"
    );
}

#[tokio::test]
async fn big_and_small_pipelined_messages_keep_their_order() {
    let addr = start_default().await;
    let mut s = upgraded(addr).await;
    let payloads: Vec<Vec<u8>> = vec![
        b"small one".to_vec(),
        (0..100_000).map(|i| (i % 253) as u8).collect(),
        b"small two".to_vec(),
        vec![0x5a; 70_000],
        Vec::new(),
    ];
    let mut burst = Vec::new();
    for p in &payloads {
        burst.extend(frame(0x82, p));
    }
    s.write_all(&burst).await.unwrap();
    for p in &payloads {
        let f = read_frame(&mut s).await.unwrap();
        assert!(
            f.payload == *p,
            "echo of {} bytes out of order or changed",
            p.len()
        );
    }
}
