//! Tour step for lesson 10: the chat page over HTTP, and one message seen by a
//! native WebSocket client (`/ws`) and a Socket.IO client (`/socket.io/`) side by side.

use super::{explain, ok, say, TourError};
use crate::term;
use crate::transport::{ChatServer, ServerConfig};
use crate::web::{self, WebConfig};
use crate::ws::client::{connect, ClientConfig};
use crate::ws::{Message, WebSocket};
use std::net::SocketAddr;
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
