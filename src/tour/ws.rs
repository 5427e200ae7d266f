//! Tour steps for lessons 08 and 09: the WebSocket upgrade and frames.

use super::{explain, ok, say, TourError};
use crate::term;
use crate::ws::client::{self, ClientConfig};
use crate::ws::handshake::accept_key;
use crate::ws::server::{self, EchoConfig};
use crate::ws::{CloseCode, Message};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn unexpected(e: impl std::fmt::Display) -> TourError {
    TourError::Unexpected(e.to_string())
}

async fn start_echo() -> Result<SocketAddr, TourError> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(server::serve_echo(listener, EchoConfig::default(), |_| {}));
    Ok(addr)
}

/// Reads an HTTP head (up to the empty line), at most 5 s.
async fn read_head(s: &mut TcpStream) -> Result<String, TourError> {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    let read = async {
        while !head.ends_with(b"\r\n\r\n") && s.read(&mut b).await? == 1 {
            head.push(b[0]);
        }
        Ok::<_, std::io::Error>(())
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .map_err(|_| unexpected("the server did not answer the upgrade"))??;
    Ok(String::from_utf8_lossy(&head).into_owned())
}

/// The HTTP upgrade, byte by byte, then a frame on the same connection.
pub async fn upgrade() -> Result<(), TourError> {
    let addr = start_echo().await?;
    say(format!("WebSocket echo server on {addr} (netlab ws echo)"));
    let key = "dGhlIHNhbXBsZSBub25jZQ==";
    let mut s = TcpStream::connect(addr).await?;
    s.write_all(
        format!("GET /chat HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
            .as_bytes(),
    )
    .await?;
    say(format!(
        "client: {}",
        term::dim("GET /chat HTTP/1.1 · Upgrade: websocket · Connection: Upgrade · Sec-WebSocket-Key: dGhl…")
    ));
    let head = read_head(&mut s).await?;
    let status = head.lines().next().unwrap_or("").to_string();
    let expected = accept_key(key);
    if !status.starts_with("HTTP/1.1 101") || !head.contains(&expected) {
        return Err(unexpected(format!(
            "expected 101 with {expected}, got {head:?}"
        )));
    }
    ok(format!(
        "server: {status} · Sec-WebSocket-Accept: {expected}"
    ));
    explain("accept = base64(SHA-1(key + 258EAFA5-E914-47DA-95CA-C5AB0DC85B11)), RFC 6455 §1.3's vector");
    let frame = [0x81, 0x82, 1, 2, 3, 4, b'h' ^ 1, b'i' ^ 2];
    s.write_all(&frame).await?;
    let mut echo = [0u8; 4];
    tokio::time::timeout(Duration::from_secs(5), s.read_exact(&mut echo))
        .await
        .map_err(|_| unexpected("no echo"))??;
    if echo != [0x81, 0x02, b'h', b'i'] {
        return Err(unexpected(format!("unexpected echo {echo:02x?}")));
    }
    ok(format!(
        "same TCP connection, now frames: sent {} ← got {}",
        term::hex(&frame, 8),
        term::hex(&echo, 4)
    ));
    explain(
        "HTTP was only the first request; Socket.IO and browsers start every WebSocket this way",
    );
    Ok(())
}

/// Fragments, a ping, and a client that breaks the masking rule.
pub async fn frames() -> Result<(), TourError> {
    let addr = start_echo().await?;
    let url = format!("ws://{addr}/");
    let (mut ws, _) = client::connect(&url, &ClientConfig::default())
        .await
        .map_err(unexpected)?;
    ws.feed_fragmented(&Message::text("sent in 4-byte fragments"), 4)
        .map_err(unexpected)?;
    ws.feed(&Message::Ping(bytes::Bytes::from_static(b"still there?")))
        .map_err(unexpected)?;
    ws.flush().await.map_err(unexpected)?;
    let mut got = Vec::new();
    while got.len() < 2 {
        match ws.recv().await.map_err(unexpected)? {
            Some(m) => got.push(m),
            None => return Err(unexpected("the server closed early")),
        }
    }
    match (&got[0], &got[1]) {
        (Message::Text(t), Message::Pong(p))
            if t.as_str() == "sent in 4-byte fragments" && &p[..] == b"still there?" => {}
        other => return Err(unexpected(format!("unexpected replies {other:?}"))),
    }
    ok("6 masked fragments + a ping → one joined text message and a pong with the ping's data");

    say("a client sends an unmasked frame 81 02 68 69");
    let mut rogue = TcpStream::connect(addr).await?;
    rogue
        .write_all(format!("GET / HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").as_bytes())
        .await?;
    read_head(&mut rogue).await?;
    rogue.write_all(&[0x81, 0x02, b'h', b'i']).await?; // MASK bit clear
    let mut close = [0u8; 4];
    tokio::time::timeout(Duration::from_secs(5), rogue.read_exact(&mut close))
        .await
        .map_err(|_| unexpected("no Close frame"))??;
    let code = u16::from_be_bytes([close[2], close[3]]);
    if close[0] != 0x88 || code != 1002 {
        return Err(unexpected(format!("expected Close 1002, got {close:02x?}")));
    }
    ok(format!(
        "server answered Close {} and hung up",
        CloseCode::from_u16(code)
    ));
    ws.send(&Message::text("unharmed"))
        .await
        .map_err(unexpected)?;
    match ws.recv().await.map_err(unexpected)? {
        Some(Message::Text(t)) if t.as_str() == "unharmed" => {
            ok("the other client still gets its echo")
        }
        other => return Err(unexpected(format!("the good client got {other:?}"))),
    }
    ws.close(CloseCode::Normal, "tour done")
        .await
        .map_err(unexpected)?;
    while ws.recv().await.map_err(unexpected)?.is_some() {}
    explain("every broken rule has its close code: 1002 protocol, 1007 bad UTF-8, 1009 too big");
    Ok(())
}
