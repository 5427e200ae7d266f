//! Engine.IO v4 over HTTP long-polling on `netlab serve --http`'s `/socket.io/`,
//! from outside: hand-written HTTP/1.1 requests on plain TCP sockets (no HTTP
//! client library between the test and the wire), each answer read by its
//! `Content-Length`. Every rule here is one the Engine.IO server itself keeps
//! (packages/engine.io/lib/server.ts and transports/polling.ts in
//! socketio/socket.io): the open packet, the `\x1e`-joined payloads, the error
//! codes and their JSON bodies, the concurrent GET, the heartbeat on polling,
//! `maxPayload`, CORS, and the upgrade to WebSocket (probe, noop, upgrade) with
//! the refusals after it. Then hostile input: what a careless or malicious
//! client sends must cost it a 4xx, and nobody else anything.

mod support;

use netlab::chat::protocol::ServerEvent;
use netlab::client::tcp::{AckOutcome, ChatClient};
use netlab::ws::client::{connect, ClientConfig};
use netlab::ws::{Message, WebSocket};
use serde_json::{json, Value};
use std::time::Duration;
use support::{say, serve, tcp_member, PATIENCE};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What joins the packets of one polling payload (Engine.IO v4).
const RS: char = '\x1e';

/// A long-poll with nothing to say waits for the next ping (25 s by default).
const POLL_PATIENCE: Duration = Duration::from_secs(40);

/// Where Engine.IO opens a polling session (`t` is the cache buster every
/// real client adds; the server must ignore query parameters it doesn't use).
const HANDSHAKE: &str = "/socket.io/?EIO=4&transport=polling&t=PZx9q1a";

// ---- HTTP by hand --------------------------------------------------------

/// One HTTP response, read whole.
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let body = self.text();
        let shown: String = body.chars().take(300).collect();
        write!(
            f,
            "{} {:?} body ({} bytes) {shown:?}",
            self.status,
            self.headers,
            self.body.len()
        )
    }
}

impl Response {
    /// The value of header `name` (case-insensitive), if sent.
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON (an Engine.IO error body).
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text()))
    }

    /// A polling payload split into its packets.
    fn packets(&self) -> Vec<String> {
        self.text().split(RS).map(str::to_string).collect()
    }

    /// Asserts this is an Engine.IO error: `status`, JSON, `{"code":…,"message":…}`.
    fn assert_engineio_error(&self, status: u16, code: u64, message: &str, what: &str) {
        assert_eq!(self.status, status, "{what}: {self:?}");
        assert_eq!(
            self.header("Content-Type")
                .map(|t| t.to_ascii_lowercase().starts_with("application/json")),
            Some(true),
            "{what}: the error body is JSON: {self:?}"
        );
        assert_eq!(
            self.json(),
            json!({"code": code, "message": message}),
            "{what}"
        );
    }
}

/// Where the head ends (just past the empty line).
fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

/// Reads one response from `r`: the head, then the body by Content-Length
/// (or chunked, or to EOF when neither is given). A 101 has no body.
async fn read_response<R: AsyncRead + Unpin>(r: &mut R) -> Response {
    let mut buf = Vec::new();
    let end = loop {
        if let Some(end) = head_end(&buf) {
            break end;
        }
        let mut chunk = [0u8; 4096];
        match r.read(&mut chunk).await {
            Ok(0) => panic!(
                "the server closed the connection before a whole response head: {:?}",
                String::from_utf8_lossy(&buf)
            ),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) => panic!(
                "reading the response failed ({e}) after {:?}",
                String::from_utf8_lossy(&buf)
            ),
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP status line: {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut rest = buf.split_off(end);
    let mut response = Response {
        status,
        headers,
        body: Vec::new(),
    };
    if status == 101 || status == 204 || status == 304 {
        return response;
    }
    if let Some(len) = response
        .header("Content-Length")
        .map(|v| v.parse::<usize>().expect("a numeric Content-Length"))
    {
        while rest.len() < len {
            assert!(
                read_more(r, &mut rest).await,
                "the body ended after {} of {len} bytes",
                rest.len()
            );
        }
        rest.truncate(len);
        response.body = rest;
    } else if response
        .header("Transfer-Encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(p) = rest.windows(2).position(|w| w == b"\r\n") {
                    break p;
                }
                assert!(read_more(r, &mut rest).await, "a chunk size line was cut");
            };
            let size = usize::from_str_radix(
                String::from_utf8_lossy(&rest[..line_end])
                    .split(';')
                    .next()
                    .unwrap()
                    .trim(),
                16,
            )
            .expect("a hex chunk size");
            while rest.len() < line_end + 2 + size + 2 {
                assert!(read_more(r, &mut rest).await, "a chunk was cut");
            }
            body.extend_from_slice(&rest[line_end + 2..line_end + 2 + size]);
            rest.drain(..line_end + 2 + size + 2);
            if size == 0 {
                break;
            }
        }
        response.body = body;
    } else {
        while read_more(r, &mut rest).await {}
        response.body = rest;
    }
    response
}

/// Reads some more bytes onto `rest`; false at EOF (or a failed read).
async fn read_more<R: AsyncRead + Unpin>(r: &mut R, rest: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 16384];
    match r.read(&mut chunk).await {
        Ok(0) | Err(_) => false,
        Ok(n) => {
            rest.extend_from_slice(&chunk[..n]);
            true
        }
    }
}

/// One request on a fresh connection to `http` (from the loopback address
/// `from` when given), its answer read whole. The body is written while the
/// answer is read, so a server that answers before reading it all (a 413) is
/// heard.
async fn request(
    http: &str,
    from: Option<&str>,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let stream = match from {
        Some(ip) => support::connect_from(ip, http).await,
        None => TcpStream::connect(http).await.expect("connect"),
    };
    let mut req = format!("{method} {target} HTTP/1.1\r\nHost: {http}\r\n");
    for (n, v) in headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    if method == "POST" || !body.is_empty() {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    let (mut r, mut w) = stream.into_split();
    let writer = tokio::spawn(async move {
        let _ = w.write_all(&bytes).await;
        w
    });
    let response = tokio::time::timeout(POLL_PATIENCE, read_response(&mut r))
        .await
        .unwrap_or_else(|_| panic!("no answer to {method} {target} in time"));
    writer.abort();
    response
}

async fn get(http: &str, target: &str) -> Response {
    request(http, None, "GET", target, &[], b"").await
}

/// A POST with the Content-Type socket.io-client's XHR sends.
async fn post(http: &str, target: &str, body: &[u8]) -> Response {
    request(
        http,
        None,
        "POST",
        target,
        &[("Content-Type", "text/plain;charset=UTF-8")],
        body,
    )
    .await
}

/// A WebSocket upgrade request for `target`, by hand: the answer's head (and
/// body, unless it is a 101).
async fn upgrade(http: &str, from: Option<&str>, target: &str) -> Response {
    request(
        http,
        from,
        "GET",
        target,
        &[
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("Sec-WebSocket-Version", "13"),
        ],
        b"",
    )
    .await
}

// ---- An Engine.IO polling session, packet by packet ----------------------

/// An Engine.IO session on the polling transport.
struct Polling {
    http: String,
    /// The loopback address its requests come from (`None`: 127.0.0.1).
    from: Option<String>,
    sid: String,
    /// The open packet's JSON.
    open: Value,
}

impl Polling {
    /// Opens a session: `GET /socket.io/?EIO=4&transport=polling`.
    async fn open(http: &str) -> Polling {
        Self::open_from(http, None).await
    }

    async fn open_from(http: &str, from: Option<&str>) -> Polling {
        let r = request(http, from, "GET", HANDSHAKE, &[], b"").await;
        assert_eq!(r.status, 200, "the handshake: {r:?}");
        let body = r.text();
        let open: Value = serde_json::from_str(
            body.strip_prefix('0')
                .unwrap_or_else(|| panic!("an open packet starts with 0: {body:?}")),
        )
        .unwrap_or_else(|e| panic!("the open packet's JSON ({e}): {body:?}"));
        let sid = open["sid"]
            .as_str()
            .unwrap_or_else(|| panic!("no sid: {body}"))
            .to_string();
        Polling {
            http: http.to_string(),
            from: from.map(str::to_string),
            sid,
            open,
        }
    }

    fn target(&self) -> String {
        format!("/socket.io/?EIO=4&transport=polling&t=Q1&sid={}", self.sid)
    }

    /// One long-poll, whatever its answer.
    async fn get(&self) -> Response {
        request(
            &self.http,
            self.from.as_deref(),
            "GET",
            &self.target(),
            &[],
            b"",
        )
        .await
    }

    /// One POST of `payload`, whatever its answer.
    async fn post(&self, payload: &[u8]) -> Response {
        request(
            &self.http,
            self.from.as_deref(),
            "POST",
            &self.target(),
            &[("Content-Type", "text/plain;charset=UTF-8")],
            payload,
        )
        .await
    }

    /// Sends `payload` (packets joined by `\x1e`); the server must answer `200 ok`.
    async fn send(&self, payload: &str) {
        let r = self.post(payload.as_bytes()).await;
        assert_eq!(
            (r.status, r.text()),
            (200, "ok".to_string()),
            "POST {payload:?}"
        );
    }

    /// One long-poll that must succeed: its packets. An answer is never empty
    /// (a poll with nothing to say waits), and is the text type Engine.IO uses.
    async fn poll(&self) -> Vec<String> {
        let r = self.get().await;
        assert_eq!(r.status, 200, "a poll on {}: {r:?}", self.sid);
        assert_eq!(
            r.header("Content-Type").map(str::to_ascii_lowercase),
            Some("text/plain; charset=utf-8".to_string()),
            "{r:?}"
        );
        assert!(!r.body.is_empty(), "an empty poll answer: {r:?}");
        r.packets()
    }

    /// Polls until a packet satisfies `want`, answering pings on the way;
    /// returns it and every packet before it.
    async fn poll_until(&self, want: impl Fn(&str) -> bool) -> (String, Vec<String>) {
        let mut before = Vec::new();
        let deadline = tokio::time::Instant::now() + POLL_PATIENCE;
        loop {
            assert!(
                tokio::time::Instant::now() < deadline,
                "never came; saw {before:?}"
            );
            for p in self.poll().await {
                if want(&p) {
                    return (p, before);
                }
                if p == "2" {
                    self.send("3").await;
                }
                before.push(p);
            }
        }
    }

    /// Socket.IO's CONNECT to `/` over this session: `40` out, `40{…}` back.
    async fn connect(&self) -> Value {
        self.send("40").await;
        let (p, _) = self.poll_until(|p| p.starts_with("40")).await;
        serde_json::from_str(&p[2..]).unwrap_or_else(|e| panic!("CONNECT answer {p:?}: {e}"))
    }

    /// CONNECT, set `nick` and join `room`, each acked.
    async fn member(http: &str, nick: &str, room: &str) -> Polling {
        let s = Polling::open(http).await;
        s.connect().await;
        s.send(&format!(
            "421[\"nick\",\"{nick}\"]{RS}422[\"join\",\"{room}\"]"
        ))
        .await;
        let (ack, before) = s.poll_until(|p| p.starts_with("432")).await;
        assert_eq!(ack_args(&ack)[0]["ok"], true, "{ack}");
        let nick_ack = before.iter().find(|p| p.starts_with("431"));
        assert!(
            nick_ack.is_some_and(|a| ack_args(a)[0]["ok"] == true),
            "the nick was acked first: {before:?}"
        );
        s
    }
}

/// Asserts session `s` is over: its sid is unknown (`400`, code 1) to a GET
/// and then to a POST of `payload`. The server may keep a closed session a
/// moment for a last poll to collect its last packet (`CLOSE_GRACE`), so
/// until the sid is unknown a poll may get that `1` or `6` — and nothing else.
async fn assert_gone(s: &Polling, payload: &[u8], what: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    loop {
        let r = s.get().await;
        if r.status == 400 {
            r.assert_engineio_error(400, 1, "Session ID unknown", what);
            break;
        }
        // A session the server ended owes a last poll its close packet `1`;
        // one the client ended with its own `1` owes a noop `6` (engine.io's
        // answer to the poll its close released). Nothing else.
        assert!(
            r.status == 200 && (r.text() == "1" || r.text() == "6"),
            "{what}: a closed session answers a poll with 1 or 6 only, got {} {:?}",
            r.status,
            r.text()
        );
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: the sid is still known 3 s after the close"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    s.post(payload)
        .await
        .assert_engineio_error(400, 1, "Session ID unknown", what);
}

/// The arguments of a Socket.IO ACK packet `43<id>[…]`.
fn ack_args(p: &str) -> Vec<Value> {
    let rest = p.strip_prefix("43").expect("an ACK packet");
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    serde_json::from_str(rest).unwrap_or_else(|e| panic!("ACK {p:?}: {e}"))
}

/// A Socket.IO EVENT `42[id][name, args…]` on `/`, as (name, args).
fn event(p: &str) -> Option<(String, Vec<Value>)> {
    let rest = p.strip_prefix("42")?;
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    let mut v: Vec<Value> = serde_json::from_str(rest).ok()?;
    if v.is_empty() {
        return None;
    }
    let name = v.remove(0).as_str()?.to_string();
    Some((name, v))
}

/// The text of a `message` EVENT.
fn message_text(p: &str) -> Option<String> {
    let (name, args) = event(p)?;
    (name == "message").then(|| args[0]["text"].as_str().unwrap_or_default().to_string())
}

/// The next `left` a TCP member sees: (room, nick).
async fn tcp_sees_leave(tcp: &mut ChatClient, patience: Duration) -> (String, String) {
    loop {
        match tokio::time::timeout(patience, tcp.next_event())
            .await
            .expect("a `left` in time")
            .unwrap()
        {
            ServerEvent::Left { room, nick, .. } => return (room, nick),
            _ => continue,
        }
    }
}

/// The next text packet on a WebSocket (heartbeat pings answered).
async fn ws_text(ws: &mut WebSocket<TcpStream>) -> String {
    loop {
        match tokio::time::timeout(PATIENCE, ws.recv())
            .await
            .expect("a packet in time")
            .expect("the WebSocket works")
        {
            Some(Message::Text(t)) if t.as_str() == "2" => {
                ws.send(&Message::text("3")).await.unwrap();
            }
            Some(Message::Text(t)) => return t.as_str().to_string(),
            Some(Message::Ping(_) | Message::Pong(_)) => {}
            other => panic!("expected a text packet, got {other:?}"),
        }
    }
}

/// Opens the WebSocket that upgrades session `sid`.
async fn ws_for(http: &str, sid: &str) -> WebSocket<TcpStream> {
    let url = format!("ws://{http}/socket.io/?EIO=4&transport=websocket&sid={sid}");
    connect(&url, &ClientConfig::default())
        .await
        .unwrap_or_else(|e| panic!("the upgrade's WebSocket for {sid}: {e}"))
        .0
}

// ---- The transport -------------------------------------------------------

/// The handshake: `200`, `text/plain; charset=UTF-8`, and the open packet a
/// default socket.io-client needs to go on (sid, `upgrades: ["websocket"]` —
/// without it the client never upgrades — the heartbeat it will expect, and
/// maxPayload). A second handshake is a second session. CONNECT then travels
/// as a POST and its answer comes back on a poll.
#[tokio::test]
async fn the_polling_handshake_opens_a_session_with_the_open_packet() {
    let s = serve(&[]);
    let r = get(&s.http, HANDSHAKE).await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(
        r.header("Content-Type").map(str::to_ascii_lowercase),
        Some("text/plain; charset=utf-8".to_string())
    );
    let body = r.text();
    assert!(body.starts_with("0{"), "{body:?}");
    assert!(!body.contains(RS), "the open packet alone: {body:?}");
    let open: Value = serde_json::from_str(&body[1..]).unwrap();
    assert_eq!(
        (
            open["upgrades"].clone(),
            open["pingInterval"].as_u64(),
            open["pingTimeout"].as_u64()
        ),
        (json!(["websocket"]), Some(25_000), Some(20_000)),
        "{open}"
    );
    assert!(open["maxPayload"].as_u64().is_some_and(|n| n > 0), "{open}");
    let sid = open["sid"].as_str().expect("a sid").to_string();
    assert!(!sid.is_empty());
    let other = Polling::open(&s.http).await;
    assert_ne!(other.sid, sid, "each handshake is a new session");

    let session = Polling {
        http: s.http.clone(),
        from: None,
        sid: sid.clone(),
        open,
    };
    let connected = session.connect().await;
    assert!(
        connected["sid"].as_str().is_some_and(|s| !s.is_empty()),
        "{connected}"
    );
}

/// The chat over polling both ways, with several packets in one POST (split
/// on `\x1e`) and answers that may come several to a poll: a polling client
/// sets its nick and joins `lobby` in one request, hears a TCP client and is
/// heard by it.
#[tokio::test]
async fn a_polling_client_chats_with_a_tcp_client() {
    let s = serve(&[]);
    let mut tcp = tcp_member(&s.tcp, Some("tina"), "lobby").await;
    let pat = Polling::member(&s.http, "pat", "lobby").await;
    // The TCP side saw pat arrive under its nick.
    loop {
        match tokio::time::timeout(PATIENCE, tcp.next_event())
            .await
            .unwrap()
            .unwrap()
        {
            ServerEvent::Joined { nick, room, .. } if nick == "pat" => {
                assert_eq!(room, "lobby");
                break;
            }
            _ => {}
        }
    }
    // TCP → polling.
    assert_eq!(
        tcp.call(say("hello polling")).await.unwrap(),
        AckOutcome::Reached(1)
    );
    let (p, _) = pat
        .poll_until(|p| message_text(p).as_deref() == Some("hello polling"))
        .await;
    let (_, args) = event(&p).unwrap();
    assert_eq!(args[0]["nick"], "tina", "{p}");
    assert_eq!(args[0]["to"], json!(["lobby"]), "{p}");
    // Polling → TCP, acked with how many it reached.
    pat.send(r#"423["message",{"to":["lobby"],"text":"hello tcp"}]"#)
        .await;
    assert_eq!(support::tcp_sees(&mut tcp, "hello tcp").await, "pat");
    let (ack, _) = pat.poll_until(|p| p.starts_with("433")).await;
    assert_eq!(ack_args(&ack)[0], json!({"ok": true, "reached": 1}));
}

/// Every refusal Engine.IO's `verify` and `handshake` make, with its status
/// and exact JSON body (server.ts `Server.errors` / `errorMessages`,
/// `abortRequest`): unknown transport (0), unknown sid (1), a handshake that
/// is not a GET (2), `transport=websocket` without an upgrade (3), and an
/// `EIO` other than 4 (5).
#[tokio::test]
async fn bad_requests_get_400_with_the_json_body_engineio_uses() {
    let s = serve(&[]);
    let h = &s.http;
    get(h, "/socket.io/?EIO=4&transport=carrier-pigeon")
        .await
        .assert_engineio_error(400, 0, "Transport unknown", "an unknown transport");
    get(h, "/socket.io/?EIO=4").await.assert_engineio_error(
        400,
        0,
        "Transport unknown",
        "no transport",
    );
    get(h, "/socket.io/?EIO=4&transport=polling&sid=nosuchsession")
        .await
        .assert_engineio_error(400, 1, "Session ID unknown", "GET, unknown sid");
    post(
        h,
        "/socket.io/?EIO=4&transport=polling&sid=nosuchsession",
        b"40",
    )
    .await
    .assert_engineio_error(400, 1, "Session ID unknown", "POST, unknown sid");
    post(h, "/socket.io/?EIO=4&transport=polling", b"40")
        .await
        .assert_engineio_error(400, 2, "Bad handshake method", "a POST handshake");
    request(
        h,
        None,
        "PUT",
        "/socket.io/?EIO=4&transport=polling",
        &[],
        b"40",
    )
    .await
    .assert_engineio_error(400, 2, "Bad handshake method", "a PUT handshake");
    get(h, "/socket.io/?EIO=4&transport=websocket")
        .await
        .assert_engineio_error(400, 3, "Bad request", "websocket without Upgrade");
    for target in [
        "/socket.io/?EIO=3&transport=polling",
        "/socket.io/?EIO=5&transport=polling",
        "/socket.io/?transport=polling",
    ] {
        get(h, target)
            .await
            .assert_engineio_error(400, 5, "Unsupported protocol version", target);
    }
    // None of that hurt the server.
    Polling::open(h).await.connect().await;
}

/// A second GET while one is pending breaks the protocol, and Engine.IO
/// (polling.ts `onPollRequest`: "request overlap") answers it 400 and closes
/// the session: the pending poll is answered with the close packet `1`, and
/// the sid is unknown from then on.
#[tokio::test]
async fn a_second_concurrent_get_closes_the_session() {
    let s = serve(&[]);
    let session = Polling::open(&s.http).await;
    let (http, target) = (s.http.clone(), session.target());
    let pending = tokio::spawn(async move { get(&http, &target).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!pending.is_finished(), "a poll with nothing to say waits");
    let second = session.get().await;
    assert_eq!(second.status, 400, "the overlapping GET: {second:?}");
    let first = tokio::time::timeout(PATIENCE, pending)
        .await
        .expect("the pending poll is answered when the session closes")
        .unwrap();
    assert_eq!(first.status, 200, "{first:?}");
    assert_eq!(
        first.packets().last().map(String::as_str),
        Some("1"),
        "the pending poll ends with the close packet: {:?}",
        first.text()
    );
    assert_gone(&session, b"40", "after the overlap").await;
}

/// A `1` (close) POSTed by the client ends the session at once: its sid is
/// unknown to both methods afterwards, and its rooms see it leave.
#[tokio::test]
async fn a_close_packet_from_the_client_ends_the_session() {
    let s = serve(&[]);
    let mut tcp = tcp_member(&s.tcp, Some("tina"), "lobby").await;
    let pat = Polling::member(&s.http, "pat", "lobby").await;
    pat.send("1").await;
    assert_gone(
        &pat,
        b"42[\"message\",{\"to\":[\"lobby\"],\"text\":\"ghost\"}]",
        "after the close packet",
    )
    .await;
    assert_eq!(
        tcp_sees_leave(&mut tcp, PATIENCE).await,
        ("lobby".to_string(), "pat".to_string())
    );
}

/// The heartbeat on polling (`--ping-interval 200ms --ping-timeout 200ms`):
/// the server's ping `2` is what a waiting poll gets; a client that POSTs `3`
/// each time stays; one that never polls, or polls but never answers, is
/// dropped after pingInterval + pingTimeout — its sid becomes unknown and its
/// rooms see it leave.
#[tokio::test]
async fn the_server_pings_on_the_poll_and_drops_who_does_not_answer() {
    let s = serve(&["--ping-interval", "200ms", "--ping-timeout", "200ms"]);
    let mut tcp = tcp_member(&s.tcp, Some("tina"), "lobby").await;
    // Joins lobby by POSTs alone, then never polls.
    let silent = Polling::open(&s.http).await;
    silent.send("40").await;
    silent.send(r#"421["nick","mute"]"#).await;
    silent.send(r#"422["join","lobby"]"#).await;
    // Polls, gets a ping, never answers.
    let deaf = Polling::open(&s.http).await;
    deaf.poll_until(|p| p == "2").await;
    let good = Polling::open(&s.http).await;
    assert_eq!(
        (
            good.open["pingInterval"].as_u64(),
            good.open["pingTimeout"].as_u64()
        ),
        (Some(200), Some(200)),
        "the open packet announces the flags"
    );
    // The good client answers five pings in a row over ~1 s.
    good.connect().await;
    for _ in 0..5 {
        good.poll_until(|p| p == "2").await;
        good.send("3").await;
    }
    // Both others are gone by now (400 ms each); the good one is still here.
    assert_gone(&silent, b"3", "the silent client").await;
    assert_gone(&deaf, b"3", "the deaf client").await;
    good.poll_until(|p| p == "2").await;
    good.send("3").await;
    assert_eq!(
        tcp_sees_leave(&mut tcp, PATIENCE).await,
        ("lobby".to_string(), "mute".to_string())
    );
}

/// `maxPayload` (announced in the open packet) bounds a POST body: one byte
/// more gets `413` (polling.ts `onDataRequest`), exactly that many does not;
/// the server goes on serving.
#[tokio::test]
async fn a_post_body_over_max_payload_gets_413() {
    let s = serve(&[]);
    let session = Polling::open(&s.http).await;
    session.connect().await;
    let max = session.open["maxPayload"].as_u64().expect("maxPayload") as usize;
    let message = |len: usize| {
        let shell = r#"42["message",{"to":["lobby"],"text":""}]"#;
        let text = "x".repeat(len - shell.len());
        format!(r#"42["message",{{"to":["lobby"],"text":"{text}"}}]"#)
    };
    let over = message(max + 1);
    assert_eq!(over.len(), max + 1);
    let r = session.post(over.as_bytes()).await;
    assert_eq!(r.status, 413, "{} bytes: {r:?}", over.len());
    let at = message(max);
    let r = Polling::open(&s.http).await.post(at.as_bytes()).await;
    assert_ne!(r.status, 413, "exactly maxPayload ({max}) is allowed");
    Polling::open(&s.http).await.connect().await;
}

/// CORS for pages elsewhere (`--allow-origin http://example.test`): every
/// polling answer to that origin carries `Access-Control-Allow-Origin` with
/// it and `Access-Control-Allow-Credentials: true` (what XHR needs to read
/// it), and the preflight `OPTIONS` gets `204` with the methods allowed.
#[tokio::test]
async fn an_allowed_origin_gets_the_cors_headers_and_its_preflight() {
    let s = serve(&["--allow-origin", "http://example.test"]);
    let origin = [("Origin", "http://example.test")];
    let cors = |r: &Response, what: &str| {
        assert_eq!(
            (
                r.header("Access-Control-Allow-Origin"),
                r.header("Access-Control-Allow-Credentials")
            ),
            (Some("http://example.test"), Some("true")),
            "{what}: {r:?}"
        );
    };
    let open = request(&s.http, None, "GET", HANDSHAKE, &origin, b"").await;
    assert_eq!(open.status, 200, "{open:?}");
    cors(&open, "the handshake");
    let sid = serde_json::from_str::<Value>(&open.text()[1..]).unwrap()["sid"]
        .as_str()
        .unwrap()
        .to_string();
    let target = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let posted = request(
        &s.http,
        None,
        "POST",
        &target,
        &[
            ("Origin", "http://example.test"),
            ("Content-Type", "text/plain;charset=UTF-8"),
        ],
        b"40",
    )
    .await;
    assert_eq!((posted.status, posted.text()), (200, "ok".to_string()));
    cors(&posted, "a POST");
    let polled = request(&s.http, None, "GET", &target, &origin, b"").await;
    assert_eq!(polled.status, 200, "{polled:?}");
    assert!(polled.text().starts_with("40"), "{}", polled.text());
    cors(&polled, "a poll");
    let preflight = request(
        &s.http,
        None,
        "OPTIONS",
        &target,
        &[
            ("Origin", "http://example.test"),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type"),
        ],
        b"",
    )
    .await;
    assert_eq!(preflight.status, 204, "{preflight:?}");
    assert_eq!(
        preflight.header("Access-Control-Allow-Origin"),
        Some("http://example.test"),
        "{preflight:?}"
    );
    let methods = preflight
        .header("Access-Control-Allow-Methods")
        .unwrap_or_default()
        .to_ascii_uppercase();
    assert!(
        methods.contains("GET") && methods.contains("POST"),
        "the preflight allows GET and POST: {preflight:?}"
    );
}

/// A page from an origin nobody allowed gets `403` on polling as it does on
/// the WebSocket (no CORS header granting it anything); the server's own
/// origin needs no flag.
#[tokio::test]
async fn an_origin_not_allowed_gets_403() {
    let s = serve(&["--allow-origin", "http://example.test"]);
    let evil = [("Origin", "http://evil.test")];
    let r = request(&s.http, None, "GET", HANDSHAKE, &evil, b"").await;
    assert_eq!(r.status, 403, "{r:?}");
    assert_ne!(
        r.header("Access-Control-Allow-Origin"),
        Some("http://evil.test"),
        "a refused origin is granted nothing, not even reading the refusal: {r:?}"
    );
    let session = Polling::open(&s.http).await;
    let r = request(
        &s.http,
        None,
        "POST",
        &session.target(),
        &[
            ("Origin", "http://evil.test"),
            ("Content-Type", "text/plain;charset=UTF-8"),
        ],
        b"40",
    )
    .await;
    assert_eq!(r.status, 403, "a POST into a session from elsewhere: {r:?}");
    let own = format!("http://{}", s.http);
    let r = request(&s.http, None, "GET", HANDSHAKE, &[("Origin", &own)], b"").await;
    assert_eq!(r.status, 200, "the server's own page: {r:?}");
}

// ---- The upgrade ---------------------------------------------------------

/// The upgrade as a default socket.io-client does it: a polling session,
/// connected and in `lobby`; a WebSocket carrying its sid; `2probe` gets
/// `3probe` (and nothing else comes on the WebSocket before the switch); the
/// pending poll is answered with a noop `6`; `5` completes the switch. Then
/// the WebSocket carries the session (same rooms: an ack for a message to
/// lobby reaches the TCP member), polling with that sid is refused as a
/// transport mismatch (400, code 3), and so is a second WebSocket.
#[tokio::test]
async fn the_upgrade_probe_noop_upgrade_then_websocket_only() {
    let s = serve(&[]);
    let mut tcp = tcp_member(&s.tcp, Some("tina"), "lobby").await;
    let pat = Polling::member(&s.http, "pat", "lobby").await;
    let (http, target) = (s.http.clone(), pat.target());
    let pending = tokio::spawn(async move { get(&http, &target).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut ws = ws_for(&s.http, &pat.sid).await;
    ws.send(&Message::text("2probe")).await.unwrap();
    assert_eq!(ws_text(&mut ws).await, "3probe");
    let noop = tokio::time::timeout(PATIENCE, pending)
        .await
        .expect("the pending poll is released")
        .unwrap();
    assert_eq!(noop.status, 200, "{noop:?}");
    assert_eq!(noop.packets(), vec!["6"], "the pending poll gets a noop");
    ws.send(&Message::text("5")).await.unwrap();
    // The session goes on over the WebSocket: both directions.
    ws.send(&Message::text(
        r#"427["message",{"to":["lobby"],"text":"over the websocket"}]"#,
    ))
    .await
    .unwrap();
    assert_eq!(
        support::tcp_sees(&mut tcp, "over the websocket").await,
        "pat"
    );
    let ack = loop {
        let p = ws_text(&mut ws).await;
        if p.starts_with("437") {
            break p;
        }
    };
    assert_eq!(ack_args(&ack)[0], json!({"ok": true, "reached": 1}));
    tcp.call(say("to the upgraded")).await.unwrap();
    loop {
        if message_text(&ws_text(&mut ws).await).as_deref() == Some("to the upgraded") {
            break;
        }
    }
    // Polling is over for this sid.
    pat.get()
        .await
        .assert_engineio_error(400, 3, "Bad request", "GET after the upgrade");
    pat.post(b"42[\"message\",{\"to\":[\"lobby\"],\"text\":\"late\"}]")
        .await
        .assert_engineio_error(400, 3, "Bad request", "POST after the upgrade");
    // A second WebSocket for the same sid is refused, as engine.io does it:
    // the handshake completes and the server closes it at once (1008),
    // before any packet; the first one stays.
    let mut again = ws_for(&s.http, &pat.sid).await;
    match tokio::time::timeout(PATIENCE, again.recv())
        .await
        .expect("closed in time")
    {
        Ok(Some(Message::Close(f))) => {
            assert_eq!(f.map(|f| f.code.as_u16()), Some(1008), "a second WebSocket")
        }
        other => panic!("a second WebSocket must be closed at once, got {other:?}"),
    }
    tcp.call(say("still the first")).await.unwrap();
    loop {
        if message_text(&ws_text(&mut ws).await).as_deref() == Some("still the first") {
            break;
        }
    }
}

/// With no poll pending when the probe arrives, the next poll is the one
/// answered with the noop (engine.io checks every 100 ms while upgrading).
#[tokio::test]
async fn without_a_pending_poll_the_next_poll_gets_the_noop() {
    let s = serve(&[]);
    let session = Polling::open(&s.http).await;
    session.connect().await;
    let mut ws = ws_for(&s.http, &session.sid).await;
    ws.send(&Message::text("2probe")).await.unwrap();
    assert_eq!(ws_text(&mut ws).await, "3probe");
    let (_, before) = session.poll_until(|p| p == "6").await;
    assert!(before.is_empty(), "only the noop: {before:?}");
    ws.send(&Message::text("5")).await.unwrap();
    ws.send(&Message::text(r#"421["join","lobby"]"#))
        .await
        .unwrap();
    let ack = loop {
        let p = ws_text(&mut ws).await;
        if p.starts_with("431") {
            break p;
        }
    };
    assert_eq!(ack_args(&ack)[0]["ok"], true, "{ack}");
}

/// An upgrade naming a sid that does not exist is refused before the switch.
#[tokio::test]
async fn a_websocket_for_an_unknown_sid_is_refused() {
    let s = serve(&[]);
    let r = upgrade(
        &s.http,
        None,
        "/socket.io/?EIO=4&transport=websocket&sid=nosuchsession",
    )
    .await;
    assert_eq!(r.status, 400, "{r:?}");
}

/// Nothing queued during the switch is lost or sent twice: a TCP client
/// says 200 numbered lines into lobby while a polling member upgrades (and
/// waits 100 ms between the noop and `5`, so lines pile up mid-switch);
/// what came by polling followed by what came by WebSocket is every line,
/// once, in order.
#[tokio::test]
async fn nothing_queued_during_the_upgrade_is_lost_or_sent_twice() {
    const N: usize = 200;
    let s = serve(&[]);
    let pat = Polling::member(&s.http, "pat", "lobby").await;
    let mut tcp = tcp_member(&s.tcp, Some("tina"), "lobby").await;
    let (started_tx, started) = tokio::sync::oneshot::channel();
    let sender = tokio::spawn(async move {
        let mut started_tx = Some(started_tx);
        for i in 0..N {
            assert_eq!(
                tcp.call(say(&format!("m{i}"))).await.unwrap(),
                AckOutcome::Reached(1)
            );
            if i == 20 {
                let _ = started_tx.take().unwrap().send(());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tcp
    });
    // Poll continuously until the noop, keeping every message.
    let poller = {
        let (http, target) = (s.http.clone(), pat.target());
        tokio::spawn(async move {
            let mut texts = Vec::new();
            loop {
                let r = get(&http, &target).await;
                assert_eq!(r.status, 200, "a poll before the switch: {r:?}");
                let packets = r.packets();
                for p in &packets {
                    if let Some(t) = message_text(p) {
                        texts.push(t);
                    }
                }
                if packets.iter().any(|p| p == "6") {
                    assert_eq!(
                        packets.last().map(String::as_str),
                        Some("6"),
                        "nothing after the noop: {packets:?}"
                    );
                    return texts;
                }
            }
        })
    };
    started.await.unwrap();
    let mut ws = ws_for(&s.http, &pat.sid).await;
    ws.send(&Message::text("2probe")).await.unwrap();
    assert_eq!(
        ws_text(&mut ws).await,
        "3probe",
        "nothing but the probe's answer comes on the WebSocket before `5`"
    );
    let by_polling = tokio::time::timeout(PATIENCE, poller)
        .await
        .expect("the poll gets the noop")
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    ws.send(&Message::text("5")).await.unwrap();
    let mut by_ws = Vec::new();
    let last = format!("m{}", N - 1);
    while by_ws.last() != Some(&last) {
        if let Some(t) = message_text(&ws_text(&mut ws).await) {
            by_ws.push(t);
        }
    }
    sender.await.unwrap();
    assert!(!by_ws.is_empty());
    let all: Vec<String> = by_polling.iter().chain(&by_ws).cloned().collect();
    let expected: Vec<String> = (0..N).map(|i| format!("m{i}")).collect();
    assert_eq!(
        all,
        expected,
        "{} by polling, {} by WebSocket",
        by_polling.len(),
        by_ws.len()
    );
}

/// Binary attachments on polling are `b` + base64 packets in the payload:
/// a polling client POSTs a BINARY_EVENT (the chat's `file` event) with one
/// attachment (the bytes 1 2 3 255); a polling member of lobby gets the
/// placeholder packet and `bAQID/w==` after it, and a WebSocket member gets
/// the same event with the bytes as a binary frame.
#[tokio::test]
async fn binary_attachments_are_base64_on_polling_and_binary_frames_on_websocket() {
    let s = serve(&[]);
    let sender = Polling::member(&s.http, "sender", "lobby").await;
    let reader = Polling::member(&s.http, "reader", "lobby").await;
    let upgraded = Polling::member(&s.http, "upgraded", "lobby").await;
    let mut ws = ws_for(&s.http, &upgraded.sid).await;
    ws.send(&Message::text("2probe")).await.unwrap();
    assert_eq!(ws_text(&mut ws).await, "3probe");
    upgraded.poll_until(|p| p == "6").await;
    ws.send(&Message::text("5")).await.unwrap();
    sender
        .send(&format!(
            r#"451-["file",{{"to":["lobby"],"name":"b.bin","data":{{"_placeholder":true,"num":0}}}}]{RS}bAQID/w=="#
        ))
        .await;
    let is_file = |p: &str| {
        p.strip_prefix("451-")
            .and_then(|rest| serde_json::from_str::<Vec<Value>>(rest).ok())
            .is_some_and(|v| v[0] == "file" && v[1]["name"] == "b.bin")
    };
    let placeholder = |p: &str| {
        let v: Vec<Value> = serde_json::from_str(&p[4..]).unwrap();
        v[1]["data"].clone()
    };
    // Polling: the placeholder, then the attachment, base64.
    let mut packets: Vec<String> = Vec::new();
    loop {
        for p in reader.poll().await {
            if p == "2" {
                reader.send("3").await;
                continue;
            }
            if let Some((name, args)) = event(&p) {
                assert!(
                    !(name == "left" && args[0]["nick"] == "sender"),
                    "the server dropped the sender of the attachment: {p}"
                );
            }
            packets.push(p);
        }
        let at = packets.iter().position(|p| is_file(p));
        if at.is_some_and(|at| packets.len() > at + 1) {
            break;
        }
    }
    let at = packets.iter().position(|p| is_file(p)).unwrap();
    assert_eq!(
        placeholder(&packets[at]),
        json!({"_placeholder": true, "num": 0})
    );
    assert_eq!(packets[at + 1], "bAQID/w==", "{packets:?}");
    // WebSocket: the same event, the attachment as a binary frame.
    let text = loop {
        let p = ws_text(&mut ws).await;
        if is_file(&p) {
            break p;
        }
    };
    assert_eq!(placeholder(&text), json!({"_placeholder": true, "num": 0}));
    let bytes = loop {
        match tokio::time::timeout(PATIENCE, ws.recv())
            .await
            .unwrap()
            .unwrap()
        {
            Some(Message::Binary(b)) => break b,
            Some(Message::Ping(_) | Message::Pong(_)) => {}
            other => panic!("expected the attachment as a binary frame, got {other:?}"),
        }
    };
    assert_eq!(&bytes[..], &[1, 2, 3, 255]);
}

// ---- Hostile input -------------------------------------------------------

/// A thousand polling sessions opened and abandoned (three rounds, with
/// `--ping-interval 1s --ping-timeout 1s`) all expire — every sid is unknown
/// afterwards — and the server's memory stays bounded: after three rounds it
/// holds no more than after one (plus a generous margin), so abandoned
/// sessions leave nothing behind. Meanwhile a real client still gets in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_abandoned_sessions_expire_and_memory_stays_bounded() {
    const SESSIONS: usize = 1000;
    let s = serve(&[
        "--ping-interval",
        "1s",
        "--ping-timeout",
        "1s",
        "--max-per-ip",
        "0",
    ]);
    let pid = s.child.id();
    let mut after_round = Vec::new();
    for round in 0..3 {
        let mut sids = Vec::with_capacity(SESSIONS);
        for batch in 0..SESSIONS / 50 {
            let mut set = tokio::task::JoinSet::new();
            for _ in 0..50 {
                let http = s.http.clone();
                set.spawn(async move { Polling::open(&http).await.sid });
            }
            while let Some(sid) = set.join_next().await {
                sids.push(sid.unwrap_or_else(|e| panic!("round {round} batch {batch}: {e}")));
            }
        }
        // Past pingInterval + pingTimeout, with room to spare.
        tokio::time::sleep(Duration::from_secs(4)).await;
        let mut alive = 0;
        for chunk in sids.chunks(50) {
            let mut set = tokio::task::JoinSet::new();
            for sid in chunk {
                let (http, sid) = (s.http.clone(), sid.clone());
                set.spawn(async move {
                    get(
                        &http,
                        &format!("/socket.io/?EIO=4&transport=polling&sid={sid}"),
                    )
                    .await
                });
            }
            while let Some(r) = set.join_next().await {
                let r = r.unwrap();
                if r.status != 400 || r.json()["code"] != 1 {
                    alive += 1;
                }
            }
        }
        assert_eq!(alive, 0, "round {round}: sessions still alive after expiry");
        after_round.push(support::rss_bytes(pid));
    }
    Polling::member(&s.http, "real", "lobby").await;
    let grown = after_round[2].saturating_sub(after_round[0]);
    assert!(
        grown < 32 << 20,
        "RSS after each round: {after_round:?} (grew {grown} bytes from round 1 to 3)"
    );
}

/// A payload of 100,000 record separators (100,001 empty packets) is a bad
/// request, refused with 400 — and the server goes on serving others. (The
/// limit is raised to 1 MiB so that the body is within maxPayload and it is
/// the payload itself that is refused, not its size.)
#[tokio::test]
async fn a_payload_of_100k_record_separators_is_400_and_others_go_on() {
    let s = serve(&["--max-frame", "1048576"]);
    let mut tcp = tcp_member(&s.tcp, Some("tina"), "lobby").await;
    let other = Polling::member(&s.http, "other", "lobby").await;
    let hostile = Polling::open(&s.http).await;
    let body = RS.to_string().repeat(100_000);
    assert!(hostile.open["maxPayload"].as_u64() >= Some(body.len() as u64));
    let r = hostile.post(body.as_bytes()).await;
    assert_eq!(r.status, 400, "{r:?}");
    tcp.call(say("still here")).await.unwrap();
    other
        .poll_until(|p| message_text(p).as_deref() == Some("still here"))
        .await;
    Polling::open(&s.http).await.connect().await;
}

/// `b` announces a base64 binary packet; a body that isn't base64 is a bad
/// request (400), not a panic or a silently empty attachment.
#[tokio::test]
async fn a_binary_packet_that_is_not_base64_is_400() {
    let s = serve(&[]);
    let session = Polling::open(&s.http).await;
    session.connect().await;
    let r = session.post(b"b!!!notbase64").await;
    assert_eq!(r.status, 400, "{r:?}");
    Polling::open(&s.http).await.connect().await;
}

/// A session belongs to the address that opened it (netlab's rule, as
/// lesson 10 explains: a sid seen on the wire must not let another machine
/// read or write the session). From 127.0.0.2 — another machine as far as
/// the server can tell — a poll, a POST and an upgrade with 127.0.0.1's sid
/// are refused (`403 {"code":4,"message":"Forbidden"}` for HTTP), and the
/// owner's session is untouched.
#[tokio::test]
async fn a_sid_used_from_another_address_is_forbidden() {
    let s = serve(&[]);
    let owner = Polling::open(&s.http).await;
    let thief = Polling {
        http: s.http.clone(),
        from: Some("127.0.0.2".into()),
        sid: owner.sid.clone(),
        open: Value::Null,
    };
    thief
        .get()
        .await
        .assert_engineio_error(403, 4, "Forbidden", "a poll from elsewhere");
    thief
        .post(b"40")
        .await
        .assert_engineio_error(403, 4, "Forbidden", "a POST from elsewhere");
    let ws = upgrade(
        &s.http,
        Some("127.0.0.2"),
        &format!("/socket.io/?EIO=4&transport=websocket&sid={}", owner.sid),
    )
    .await;
    assert_ne!(ws.status, 101, "an upgrade from elsewhere: {ws:?}");
    // The owner goes on as if nothing happened: CONNECT is answered.
    owner.connect().await;
    // A session opened from 127.0.0.2 works from there.
    Polling::open_from(&s.http, Some("127.0.0.2"))
        .await
        .connect()
        .await;
}

/// What sessions buffer — packets waiting for a poll, messages the
/// application has not read — is charged to the server's `--max-memory`
/// (here `netlab socketio echo`, whose `message-back` waits in the outbox
/// until polled). A message the budget cannot hold ends only its own
/// session; the session already holding its share keeps it and delivers it.
#[tokio::test]
async fn sessions_share_the_memory_budget_and_one_over_it_ends_alone() {
    let echo = support::listen(&[
        "socketio",
        "echo",
        "--listen",
        "127.0.0.1:0",
        "--max-memory",
        "1MiB",
        "--max-payload",
        "900KB",
    ]);
    let big = "x".repeat(600_000);
    let message = format!("42[\"message\",\"{big}\"]");
    let holder = Polling::open(&echo.addr).await;
    holder.send("40").await;
    holder.send(&message).await;
    // Its echo (600 kB) now waits in its outbox, charged to the budget.
    let late = Polling::open(&echo.addr).await;
    late.send("40").await;
    assert_eq!(late.post(message.as_bytes()).await.status, 200);
    // The second 600 kB message does not fit: that session is over...
    let r = late.get().await;
    assert!(
        r.status == 400 || r.packets().last().map(String::as_str) == Some("1"),
        "the session over the budget is closed: {r:?}"
    );
    // ...and the first still gets everything it was owed.
    let mut got = Vec::new();
    while !got
        .iter()
        .any(|p: &String| p.starts_with("42[\"message-back\""))
    {
        let r = holder.get().await;
        assert_eq!(r.status, 200, "{r:?}");
        got.extend(r.packets());
    }
    let back = got
        .iter()
        .find(|p| p.starts_with("42[\"message-back\""))
        .unwrap();
    assert_eq!(back.len(), message.len() + 5, "the whole echo");
}

/// The first WebSocket carrying a sid claims the upgrade as it arrives, as
/// engine.io does: a second one, even before the first has sent `2probe`,
/// is closed at once (1008), and the first then upgrades as usual.
#[tokio::test]
async fn the_first_websocket_claims_the_upgrade_before_its_probe() {
    let s = serve(&[]);
    let pat = Polling::member(&s.http, "pat", "lobby").await;
    let mut first = ws_for(&s.http, &pat.sid).await;
    let mut second = ws_for(&s.http, &pat.sid).await;
    match tokio::time::timeout(PATIENCE, second.recv())
        .await
        .expect("closed in time")
    {
        Ok(Some(Message::Close(Some(f)))) => {
            // Refused for the claim, not dropped later for a probe it never sent.
            assert_eq!(
                (f.code.as_u16(), f.reason.as_str()),
                (1008, "this session already has its WebSocket"),
                "the second WebSocket"
            )
        }
        other => panic!("the second WebSocket must be closed at once, got {other:?}"),
    }
    first.send(&Message::text("2probe")).await.unwrap();
    assert_eq!(ws_text(&mut first).await, "3probe");
    first.send(&Message::text("5")).await.unwrap();
    first
        .send(&Message::text(r#"421["join","lobby"]"#))
        .await
        .unwrap();
    loop {
        if ws_text(&mut first).await.starts_with("431[") {
            break;
        }
    }
}
