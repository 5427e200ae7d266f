//! Tour steps for lesson 10: the chat page over HTTP, and one message seen by a
//! native WebSocket client (`/ws`) and a Socket.IO client (`/socket.io/`) side
//! by side; then how a default Socket.IO client really starts — HTTP
//! long-polling, then the upgrade to WebSocket — shown as packets.

use super::{explain, ok, say, TourError};
use crate::inspect::build::tcp_frame;
use crate::inspect::dissect::{Dissection, Dissector};
use crate::inspect::render::{self, Meta};
use crate::inspect::tcp::{FLG_ACK, FLG_PSH};
use crate::inspect::LinkType;
use crate::layers::Protocol;
use crate::term;
use crate::transport::{ChatServer, ServerConfig};
use crate::web::{self, WebConfig};
use crate::ws::client::{connect, ClientConfig};
use crate::ws::{Message, WebSocket};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How long the tour waits for any one answer.
const WAIT: Duration = Duration::from_secs(5);
/// Largest page the tour reads back (the real one is a few KiB).
const MAX_PAGE: u64 = 1 << 20;

fn fail(e: impl std::fmt::Display) -> TourError {
    TourError::Unexpected(e.to_string())
}

/// The next text message, skipping Socket.IO heartbeat pings.
async fn next_text(ws: &mut WebSocket<TcpStream>) -> Result<String, TourError> {
    loop {
        match tokio::time::timeout(WAIT, ws.recv()).await {
            Err(_) => return Err(fail("an expected message did not arrive")),
            Ok(Ok(Some(Message::Text(t)))) if t.as_str() != "2" => {
                return Ok(t.as_str().to_string())
            }
            Ok(Ok(Some(Message::Text(_)))) => {}
            Ok(Ok(Some(other))) => return Err(fail(format!("unexpected message {other:?}"))),
            Ok(Ok(None)) => return Err(fail("the server closed the connection")),
            Ok(Err(e)) => return Err(fail(e)),
        }
    }
}

/// Reads messages until one starts with `prefix`.
async fn until(ws: &mut WebSocket<TcpStream>, prefix: &str) -> Result<String, TourError> {
    loop {
        let t = next_text(ws).await?;
        if t.starts_with(prefix) {
            return Ok(t);
        }
    }
}

/// `GET /` over a plain TCP connection: the status line and the body.
async fn fetch_page(addr: SocketAddr) -> Result<(String, String), TourError> {
    let mut s = TcpStream::connect(addr).await?;
    s.write_all(format!("GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes())
        .await?;
    let mut raw = Vec::new();
    tokio::time::timeout(WAIT, (&mut s).take(MAX_PAGE).read_to_end(&mut raw))
        .await
        .map_err(|_| fail("the page did not arrive"))??;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.lines().next().unwrap_or("").to_string();
    Ok((status, body.to_string()))
}

/// The page over HTTP, then one chat message as native JSON on `/ws` and as
/// Socket.IO packets on `/socket.io/`; prints the URL to open in a browser.
pub async fn page_and_socketio() -> Result<(), TourError> {
    let server = Arc::new(ChatServer::new(ServerConfig::default()));
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(web::serve(listener, server, WebConfig::default()));
    say(format!(
        "chat server with the page on http://{addr}/ (netlab serve --http)"
    ));

    let (status, body) = fetch_page(addr).await?;
    if !status.starts_with("HTTP/1.1 200") || !body.contains("<title>netlab chat</title>") {
        return Err(fail(format!("GET / answered {status:?}")));
    }
    ok(format!(
        "GET / → {status}: the page, {} bytes of hand-written HTML (its script and style follow)",
        body.len()
    ));

    // A native client on /ws, the way the page connects.
    let (mut native, _) = connect(&format!("ws://{addr}/ws"), &ClientConfig::default())
        .await
        .map_err(fail)?;
    until(&mut native, "{\"event\":\"welcome\"").await?;
    native
        .send(&Message::text(r#"{"event":"join","room":"lobby","ack":1}"#))
        .await
        .map_err(fail)?;
    until(&mut native, "{\"event\":\"ack\"").await?;

    // A Socket.IO client, by hand.
    let (mut sio, _) = connect(
        &format!("ws://{addr}/socket.io/?EIO=4&transport=websocket"),
        &ClientConfig::default(),
    )
    .await
    .map_err(fail)?;
    let open = until(&mut sio, "0{").await?;
    if !open.contains("\"pingInterval\":25000") {
        return Err(fail(format!("unexpected open packet {open}")));
    }
    sio.send(&Message::text("40")).await.map_err(fail)?;
    let connected = until(&mut sio, "40").await?;
    ok(format!(
        "Socket.IO handshake: {} then → 40 ← {}",
        term::dim("← 0{\"sid\":…,\"pingInterval\":25000,\"pingTimeout\":20000,…}"),
        term::dim(&connected)
    ));
    sio.send(&Message::text(r#"421["join","lobby"]"#))
        .await
        .map_err(fail)?;
    let ack = until(&mut sio, "431").await?;
    // The join notice reached two: the native client already in lobby, and this one.
    if ack != r#"431[{"ok":true,"reached":2}]"# {
        return Err(fail(format!("unexpected ACK {ack}")));
    }
    ok(format!(
        "→ 421[\"join\",\"lobby\"] (EVENT, ack id 1) ← {ack} (ACK for id 1)"
    ));

    native
        .send(&Message::text(
            r#"{"event":"message","to":["lobby"],"text":"same words, two framings","ack":2}"#,
        ))
        .await
        .map_err(fail)?;
    let got = until(&mut sio, "42[\"message\"").await?;
    if !got.contains("\"text\":\"same words, two framings\"") {
        return Err(fail(format!("unexpected event {got}")));
    }
    ok("one message, sent as native JSON on /ws, arrives on /socket.io/ as:");
    say(format!("     {}", term::dim(&got)));
    explain("Socket.IO = Engine.IO type 4 (message) + Socket.IO type 2 (EVENT) + [name, data]: framing, not magic");

    say(format!(
        "{} open {} in two tabs: {}",
        term::bold("→"),
        term::bold("http://127.0.0.1:8080/"),
        term::dim("after `netlab serve --http 127.0.0.1:8080` (this tour's own page, http://{addr}/, stops with the tour)")
            .replace("{addr}", &addr.to_string())
    ));
    Ok(())
}

/// The tour's own bytes, one TCP segment per write or read, wrapped in
/// Ethernet/IPv4/TCP headers (the real ports, made-up sequence numbers) and
/// dissected in order by one inspector — so the Engine.IO flow state sees a
/// request before its answer, as in a capture.
struct Wire {
    dissector: Dissector,
    /// Per connection (by the client's port): the next sequence number each way.
    seqs: Vec<(u16, u32, u32)>,
    server: SocketAddr,
    /// The session id, shortened when shown.
    sid: Option<String>,
    count: u64,
    /// The packets, kept for a closer look after.
    kept: Vec<(Vec<u8>, Dissection)>,
}

/// Longest packet line the step prints.
const LINE: usize = 140;

impl Wire {
    fn new(server: SocketAddr) -> Wire {
        Wire {
            dissector: Dissector::new(),
            seqs: Vec::new(),
            server,
            sid: None,
            count: 0,
            kept: Vec::new(),
        }
    }

    /// Records `bytes` sent on the connection from local port `client` (to
    /// the server, or from it) and prints the packet's summary line.
    fn record(&mut self, client: u16, to_server: bool, bytes: &[u8]) {
        let v4 = |a: IpAddr| match a {
            IpAddr::V4(v) => v,
            IpAddr::V6(_) => Ipv4Addr::LOCALHOST,
        };
        let (c, s) = (
            (Ipv4Addr::LOCALHOST, client),
            (v4(self.server.ip()), self.server.port()),
        );
        let i = match self.seqs.iter().position(|x| x.0 == client) {
            Some(i) => i,
            None => {
                self.seqs.push((client, 1_000, 500_000));
                self.seqs.len() - 1
            }
        };
        let (_, cs, ss) = self.seqs[i];
        let frame = if to_server {
            tcp_frame(c, s, cs, ss, FLG_PSH | FLG_ACK, bytes)
        } else {
            tcp_frame(s, c, ss, cs, FLG_PSH | FLG_ACK, bytes)
        };
        let n = bytes.len() as u32;
        self.seqs[i] = if to_server {
            (client, cs.wrapping_add(n), ss)
        } else {
            (client, cs, ss.wrapping_add(n))
        };
        let mut d = Dissection::default();
        self.dissector.dissect(LinkType::Ethernet, &frame, &mut d);
        self.count += 1;
        // The layers, as `netlab inspect --summary` names them, then what the
        // highest one says (the addresses and TCP details are left out here).
        let mut layers = String::new();
        for name in d.protocols().map(|n| n.protocol.name()) {
            if !layers.split('/').any(|l| l == name) {
                if !layers.is_empty() {
                    layers.push('/');
                }
                layers.push_str(name);
            }
        }
        let info = match (d.info.find(" WebSocket "), d.info.find(" HTTP ")) {
            (Some(i), _) => &d.info[i + 1..],
            (None, Some(i)) => &d.info[i + 6..],
            (None, None) => d.info.as_str(),
        };
        let mut line = format!(
            "{:>3} {} {layers:<38} {info}",
            self.count,
            if to_server { "→" } else { "←" }
        );
        if let Some(sid) = self.sid.as_deref().filter(|s| s.len() > 4) {
            line = line.replace(sid, &format!("{}…", &sid[..4]));
        }
        let line: String = if line.chars().count() > LINE {
            line.chars().take(LINE - 1).chain(['…']).collect()
        } else {
            line
        };
        say(line);
        self.kept.push((frame, d));
    }
}

/// Sends one HTTP request on `s` and reads the whole answer (head and a
/// `Content-Length` body), recording both.
async fn http(
    s: &mut TcpStream,
    wire: &mut Wire,
    request: &[u8],
) -> Result<(String, String), TourError> {
    let port = s.local_addr()?.port();
    s.write_all(request).await?;
    wire.record(port, true, request);
    let answer = read_answer(s).await?;
    wire.record(port, false, &answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    Ok((
        head.lines().next().unwrap_or("").to_string(),
        body.to_string(),
    ))
}

/// Reads one HTTP answer: the head, then as many bytes as `Content-Length` says.
async fn read_answer(s: &mut TcpStream) -> Result<Vec<u8>, TourError> {
    let read = async {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                if buf.len() >= end + 4 + len {
                    buf.truncate(end + 4 + len);
                    return Ok(buf);
                }
            }
            if buf.len() as u64 > MAX_PAGE {
                return Err(fail("an answer larger than the tour reads"));
            }
            match s.read(&mut chunk).await? {
                0 => return Err(fail("the server closed the connection")),
                n => buf.extend_from_slice(&chunk[..n]),
            }
        }
    };
    tokio::time::timeout(WAIT, read)
        .await
        .map_err(|_| fail("no HTTP answer"))?
}

/// A masked client text frame (RFC 6455 §5.3), for payloads under 126 bytes.
fn client_text(text: &str) -> Vec<u8> {
    let key = [0x37, 0xfa, 0x21, 0x3d];
    let mut f = vec![0x81, 0x80 | text.len() as u8];
    f.extend_from_slice(&key);
    f.extend(text.bytes().enumerate().map(|(i, b)| b ^ key[i % 4]));
    f
}

/// Reads from a WebSocket (raw bytes, recorded as they come) until the
/// server's frames so far contain `want`.
async fn ws_until(s: &mut TcpStream, wire: &mut Wire, want: &str) -> Result<(), TourError> {
    let port = s.local_addr()?.port();
    let read = async {
        let mut seen = Vec::new();
        let mut chunk = [0u8; 4096];
        while !seen.windows(want.len()).any(|w| w == want.as_bytes()) {
            let n = s.read(&mut chunk).await?;
            if n == 0 {
                return Err(fail("the server closed the WebSocket"));
            }
            wire.record(port, false, &chunk[..n]);
            seen.extend_from_slice(&chunk[..n]);
        }
        Ok(())
    };
    tokio::time::timeout(WAIT, read)
        .await
        .map_err(|_| fail(format!("{want} did not arrive")))?
}

/// A default Socket.IO client's start, by hand and shown as packets: the
/// polling open, `40` POSTed, a long-poll answered with two packets joined by
/// `\x1e`; then the upgrade — `2probe`/`3probe` on a WebSocket, the waiting
/// poll released with `6`, `5` — after which polling is refused.
pub async fn polling_then_upgrade() -> Result<(), TourError> {
    let server = Arc::new(ChatServer::new(ServerConfig::default()));
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(web::serve(listener, server, WebConfig::default()));
    say(format!(
        "chat server on http://{addr}/ ; the client below does by hand what io(url) does, and every write and read is printed as a packet:"
    ));
    let mut wire = Wire::new(addr);
    let path = "/socket.io/?EIO=4&transport=polling";
    let get = |q: &str| format!("GET {path}{q} HTTP/1.1\r\nHost: {addr}\r\n\r\n").into_bytes();

    // The handshake: a plain GET opens the Engine.IO session.
    let mut poll = TcpStream::connect(addr).await?;
    let (status, open) = http(&mut poll, &mut wire, &get("")).await?;
    let sid = open
        .split("\"sid\":\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .filter(|s| !s.is_empty() && s.len() <= 64)
        .ok_or_else(|| fail(format!("no sid in the open packet {open:?} ({status})")))?
        .to_string();
    if !open.starts_with("0{") || !open.contains(r#""upgrades":["websocket"]"#) {
        return Err(fail(format!("unexpected open packet {open}")));
    }
    wire.sid = Some(sid.clone());
    let q = format!("&sid={sid}");
    // Socket.IO's CONNECT, sent in a POST body.
    let post = format!(
        "POST {path}{q} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: 2\r\n\r\n40"
    );
    let (_, ok_body) = http(&mut poll, &mut wire, post.as_bytes()).await?;
    if ok_body != "ok" {
        return Err(fail(format!("the POST was answered {ok_body:?}")));
    }
    // The long-poll: what the server queued meanwhile, several packets in one body.
    tokio::time::sleep(Duration::from_millis(30)).await;
    let (_, body) = http(&mut poll, &mut wire, &get(&q)).await?;
    if !body.starts_with("40{") {
        return Err(fail(format!("the poll brought {body:?}")));
    }
    if !body.contains('\u{1e}') {
        // The welcome came a moment later: one more poll.
        http(&mut poll, &mut wire, &get(&q)).await?;
    }

    // The upgrade: a poll waits while a WebSocket with the same sid probes.
    let waiting = get(&q);
    poll.write_all(&waiting).await?;
    let poll_port = poll.local_addr()?.port();
    wire.record(poll_port, true, &waiting);
    let mut ws = TcpStream::connect(addr).await?;
    let ws_port = ws.local_addr()?.port();
    let upgrade = format!(
        "GET /socket.io/?EIO=4&transport=websocket{q} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    ws.write_all(upgrade.as_bytes()).await?;
    wire.record(ws_port, true, upgrade.as_bytes());
    let switched = read_answer(&mut ws).await?;
    wire.record(ws_port, false, &switched);
    if !switched.starts_with(b"HTTP/1.1 101") {
        return Err(fail("the upgrade was refused"));
    }
    for (text, want) in [("2probe", Some("3probe")), ("5", None)] {
        let f = client_text(text);
        ws.write_all(&f).await?;
        wire.record(ws_port, true, &f);
        if let Some(want) = want {
            ws_until(&mut ws, &mut wire, want).await?;
            // The poll that was waiting is released with a noop.
            let noop = read_answer(&mut poll).await?;
            wire.record(poll_port, false, &noop);
            if !noop.ends_with(b"\r\n\r\n6") {
                return Err(fail("the waiting poll was not answered 6 (noop)"));
            }
        }
    }
    // From now on only the WebSocket: a poll is refused, an event goes over the WebSocket.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (refused, why) = http(&mut poll, &mut wire, &get(&q)).await?;
    if !refused.starts_with("HTTP/1.1 400") || !why.contains(r#""code":3"#) {
        return Err(fail(format!(
            "a poll after the upgrade was answered {refused} {why}"
        )));
    }
    let join = client_text(r#"421["join","lobby"]"#);
    ws.write_all(&join).await?;
    wire.record(ws_port, true, &join);
    ws_until(&mut ws, &mut wire, "431[").await?;

    ok(format!(
        "{} packets: HTTP long-polling first (open, POST 40, a long-poll), then the upgrade (2probe/3probe, the poll released with 6, then 5)",
        wire.count
    ));
    explain(format!(
        "after the upgrade a poll gets 400 {why} (Engine.IO's error code 3): the session lives on the WebSocket now"
    ));
    // A closer look at the long-poll's answer: two Engine.IO packets in one HTTP body.
    let joined = wire.kept.iter().enumerate().find(|(_, (_, d))| {
        d.nodes
            .iter()
            .any(|n| n.protocol == Protocol::SocketIo && n.name.starts_with("separator"))
    });
    if let Some((i, (frame, d))) = joined {
        say(format!(
            "packet {}, from HTTP up, as `netlab inspect` shows it (Ethernet, IPv4 and TCP left out):",
            i + 1
        ));
        let mut top = d.clone();
        top.nodes
            .retain(|n| matches!(n.protocol, Protocol::Http | Protocol::SocketIo));
        let meta = Meta {
            number: i as u64 + 1,
            orig_len: frame.len() as u32,
            ..Meta::default()
        };
        for line in render::tree(&top, frame, &meta).lines().skip(1) {
            anstream::println!("  {line}");
        }
    }
    explain("so Socket.IO does use HTTP: every client starts with GET/POST long-polling, payloads joined by the byte 0x1e, and moves to a WebSocket only after the probe succeeds");
    explain("see a real client's first second: netlab inspect lessons/10-browser-socketio/socketio.pcap --summary");
    Ok(())
}
