//! `netlab socketio echo` from the outside: the real binary, a real
//! WebSocket speaking the packets by hand (what the protocol documents'
//! test suites check), and an unmodified socket.io-client with default
//! options (polling first, then the upgrade) sending bytes both ways.

mod support;

use netlab::ws::client::{connect, ClientConfig};
use netlab::ws::{Message, WebSocket};
use std::process::Command;
use std::time::Duration;
use support::{listen, node_module_available, Listening};
use tokio::net::TcpStream;

/// Bound for "this must arrive": a hang fails instead of blocking.
const PATIENCE: Duration = Duration::from_secs(10);

/// The echo server with the protocol test suites' settings.
fn echo() -> Listening {
    listen(&[
        "socketio",
        "echo",
        "--listen",
        "127.0.0.1:0",
        "--ping-interval",
        "300ms",
        "--ping-timeout",
        "200ms",
        "--connect-timeout",
        "1s",
        "--namespace",
        "/custom",
    ])
}

/// A WebSocket on `path` that has read its Engine.IO open packet.
async fn open(addr: &str, path: &str) -> WebSocket<TcpStream> {
    let url = format!("ws://{addr}{path}?EIO=4&transport=websocket");
    let (mut ws, _) = connect(&url, &ClientConfig::default()).await.unwrap();
    let first = next(&mut ws).await;
    assert!(
        matches!(&first, Message::Text(t) if t.as_str().starts_with("0{\"")),
        "{first:?}"
    );
    ws
}

/// The next message that is not an Engine.IO ping (answered).
async fn next(ws: &mut WebSocket<TcpStream>) -> Message {
    loop {
        let m = tokio::time::timeout(PATIENCE, ws.recv())
            .await
            .expect("a message in time")
            .expect("no error")
            .expect("not closed");
        match &m {
            Message::Text(t) if t.as_str() == "2" => ws.send(&Message::text("3")).await.unwrap(),
            _ => return m,
        }
    }
}

/// The next text message.
async fn text(ws: &mut WebSocket<TcpStream>) -> String {
    match next(ws).await {
        Message::Text(t) => t.as_str().to_string(),
        other => panic!("expected text, got {other:?}"),
    }
}

/// Waits for the server's Close and returns its code.
async fn closed(ws: &mut WebSocket<TcpStream>) -> Option<u16> {
    loop {
        match tokio::time::timeout(PATIENCE, ws.recv())
            .await
            .expect("closed in time")
        {
            Ok(Some(Message::Close(f))) => return f.map(|f| f.code.as_u16()),
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => return None,
        }
    }
}

/// CONNECT to the main and a custom namespace, with and without auth: the
/// answer, then `auth` echoing the handshake data; an unknown namespace is
/// refused by name, and the session survives it.
#[tokio::test]
async fn connect_emits_auth_in_each_namespace() {
    let s = echo();
    let mut ws = open(&s.addr, "/socket.io/").await;
    ws.send(&Message::text("40{\"token\":\"123\"}"))
        .await
        .unwrap();
    let answer = text(&mut ws).await;
    let v: serde_json::Value = serde_json::from_str(answer.strip_prefix("40").unwrap()).unwrap();
    assert_eq!(v.as_object().unwrap().keys().collect::<Vec<_>>(), ["sid"]);
    assert_eq!(text(&mut ws).await, r#"42["auth",{"token":"123"}]"#);
    ws.send(&Message::text("40/random")).await.unwrap();
    assert_eq!(
        text(&mut ws).await,
        r#"44/random,{"message":"Invalid namespace"}"#
    );
    ws.send(&Message::text("40/custom,")).await.unwrap();
    assert!(text(&mut ws).await.starts_with("40/custom,{\"sid\":"));
    assert_eq!(text(&mut ws).await, r#"42/custom,["auth",{}]"#);
    // Leaving /custom leaves / connected.
    ws.send(&Message::text("41/custom,")).await.unwrap();
    ws.send(&Message::text(r#"42["message","still here"]"#))
        .await
        .unwrap();
    assert_eq!(text(&mut ws).await, r#"42["message-back","still here"]"#);
}

/// `message` comes back as `message-back`, `message-with-ack` as its ACK,
/// and binary attachments ride along in order, as binary frames.
#[tokio::test]
async fn messages_acks_and_attachments_come_back() {
    let s = echo();
    let mut ws = open(&s.addr, "/socket.io/").await;
    ws.send(&Message::text("40")).await.unwrap();
    text(&mut ws).await;
    text(&mut ws).await;
    ws.send(&Message::text(r#"42["message",1,"2",{"3":[true]}]"#))
        .await
        .unwrap();
    assert_eq!(
        text(&mut ws).await,
        r#"42["message-back",1,"2",{"3":[true]}]"#
    );
    ws.send(&Message::text(
        r#"42456["message-with-ack",1,"2",{"3":[false]}]"#,
    ))
    .await
    .unwrap();
    assert_eq!(text(&mut ws).await, r#"43456[1,"2",{"3":[false]}]"#);
    let ph = r#"{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}"#;
    ws.send(&Message::text(format!(
        "452-789[\"message-with-ack\",{ph}]"
    )))
    .await
    .unwrap();
    ws.send(&Message::binary(vec![1u8, 2, 3])).await.unwrap();
    ws.send(&Message::binary(vec![4u8, 5, 6])).await.unwrap();
    assert_eq!(text(&mut ws).await, format!("462-789[{ph}]"));
    assert_eq!(next(&mut ws).await, Message::binary(vec![1u8, 2, 3]));
    assert_eq!(next(&mut ws).await, Message::binary(vec![4u8, 5, 6]));
}

/// Broken packets close only their own session (1008); a session that never
/// sends CONNECT is closed after the connect timeout.
#[tokio::test]
async fn broken_packets_and_silence_end_the_session() {
    let s = echo();
    for bad in ["4abc", "42{}", r#"42abc["message-with-ack",1]"#] {
        let mut ws = open(&s.addr, "/socket.io/").await;
        ws.send(&Message::text("40")).await.unwrap();
        text(&mut ws).await;
        text(&mut ws).await;
        ws.send(&Message::text(bad)).await.unwrap();
        assert_eq!(closed(&mut ws).await, Some(1008), "{bad}");
    }
    // A binary message nobody announced is a broken packet too.
    let mut ws = open(&s.addr, "/socket.io/").await;
    ws.send(&Message::binary(vec![1u8])).await.unwrap();
    assert_eq!(closed(&mut ws).await, Some(1008));
    // No CONNECT within --connect-timeout 1s: closed (pings answered meanwhile).
    let mut silent = open(&s.addr, "/socket.io/").await;
    assert!(closed(&mut silent).await.is_some());
}

/// `/engine.io/` is Engine.IO alone: text and binary messages come back as sent.
#[tokio::test]
async fn the_engine_io_echo_returns_every_message() {
    let s = echo();
    let mut ws = open(&s.addr, "/engine.io/").await;
    ws.send(&Message::text("4hello")).await.unwrap();
    assert_eq!(text(&mut ws).await, "4hello");
    ws.send(&Message::binary(vec![0u8, 255])).await.unwrap();
    assert_eq!(next(&mut ws).await, Message::binary(vec![0u8, 255]));
}

/// Interop: socket.io-client v4 with default options (polling, then the
/// upgrade) and with polling only: auth, `message-back` with a Buffer, an
/// ack carrying a Buffer, and the `/custom` namespace.
#[test]
fn socketio_client_round_trips_bytes_on_both_transports() {
    if !node_module_available("socket.io-client") {
        return;
    }
    let s = echo();
    for transports in ["default", "polling"] {
        let out = Command::new("node")
            .current_dir(support::interop_dir())
            .args(["sio_echo.js", &s.addr, transports])
            .output()
            .expect("node runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{transports}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let want = if transports == "polling" {
            "polling"
        } else {
            "websocket"
        };
        assert_eq!(stdout.trim(), format!("ok {want}"), "{transports}");
    }
}
