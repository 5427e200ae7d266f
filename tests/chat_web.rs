//! The chat hub over WebSocket, from outside: the real `netlab serve --tcp
//! --http`, a WebSocket client and a TCP client in one room, the real
//! `netlab chat ws://`, raw sockets playing a cross-site page and a hostile client.

mod support;

use support::{
    chromium_available, node_module_available, page_script_steps, serve, serve_on, tcp_member,
    tcp_sees, KillOnDrop, PATIENCE,
};

use netlab::chat::protocol::{ClientEvent, ServerEvent};
use netlab::client::tcp::AckOutcome;
use netlab::ws::client::{connect, ClientConfig};
use netlab::ws::{Message, WebSocket};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;
use tokio::net::TcpStream;

/// The next JSON text message (pings answered underneath); panics on anything else.
async fn next_json(ws: &mut WebSocket<TcpStream>) -> Value {
    loop {
        let m = tokio::time::timeout(PATIENCE, ws.recv())
            .await
            .expect("a message in time")
            .expect("the connection works")
            .expect("the connection is open");
        match m {
            Message::Text(t) => return serde_json::from_str(t.as_str()).expect("JSON text"),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

/// Skips messages until one whose `event` is `name`.
async fn until(ws: &mut WebSocket<TcpStream>, name: &str) -> Value {
    loop {
        let v = next_json(ws).await;
        if v["event"] == name {
            return v;
        }
    }
}

async fn send(ws: &mut WebSocket<TcpStream>, v: Value) {
    ws.send(&Message::text(v.to_string())).await.unwrap();
}

/// A WebSocket chat client that has set its nick and joined `room`.
async fn ws_member(http: &str, nick: &str, room: &str) -> (WebSocket<TcpStream>, String) {
    let (mut ws, _) = connect(&format!("ws://{http}/ws"), &ClientConfig::default())
        .await
        .unwrap();
    let welcome = next_json(&mut ws).await;
    assert_eq!(welcome["event"], "welcome", "{welcome}");
    let id = welcome["id"].as_str().unwrap().to_string();
    send(&mut ws, json!({"event":"nick","nick":nick,"ack":1})).await;
    let ack = until(&mut ws, "ack").await;
    assert_eq!(
        (ack["ack"].as_u64(), ack["ok"].as_bool()),
        (Some(1), Some(true)),
        "{ack}"
    );
    send(&mut ws, json!({"event":"join","room":room,"ack":2})).await;
    let ack = until(&mut ws, "ack").await;
    assert_eq!(
        (ack["ack"].as_u64(), ack["ok"].as_bool()),
        (Some(2), Some(true)),
        "{ack}"
    );
    (ws, id)
}

#[tokio::test]
async fn a_websocket_client_and_a_tcp_client_share_a_room() {
    let s = serve(&[]);
    let (mut ws, ws_id) = ws_member(&s.http, "wes", "lobby").await;
    let mut tcp = tcp_member(&s.tcp, Some("tina"), "lobby").await;
    let tina = tcp.id().to_hex();
    // The browser side sees the TCP client arrive, as the table in chat::protocol spells it.
    assert_eq!(
        until(&mut ws, "joined").await,
        json!({"event":"joined","room":"lobby","id":tina,"nick":"tina"})
    );
    // TCP → WebSocket.
    tcp.call(ClientEvent::Message {
        to: vec!["lobby".into()],
        except: vec![],
        text: "hi from tcp".into(),
        include_self: false,
    })
    .await
    .unwrap();
    assert_eq!(
        until(&mut ws, "message").await,
        json!({"event":"message","from":tina,"nick":"tina","to":["lobby"],"text":"hi from tcp"})
    );
    // WebSocket → TCP, with an ack saying it reached one connection.
    send(
        &mut ws,
        json!({"event":"message","to":["lobby"],"text":"hi from the browser side","ack":7}),
    )
    .await;
    assert_eq!(
        until(&mut ws, "ack").await,
        json!({"event":"ack","ack":7,"ok":true,"reached":1})
    );
    let got = loop {
        match tokio::time::timeout(PATIENCE, tcp.next_event())
            .await
            .unwrap()
            .unwrap()
        {
            ServerEvent::Message {
                text, nick, from, ..
            } => break (text, nick, from.to_hex()),
            _ => continue,
        }
    };
    assert_eq!(
        got,
        (
            "hi from the browser side".into(),
            "wes".into(),
            ws_id.clone()
        )
    );
    // The WebSocket client closes: the TCP client sees it leave.
    ws.close(netlab::ws::CloseCode::Normal, "bye")
        .await
        .unwrap();
    let left = loop {
        match tokio::time::timeout(PATIENCE, tcp.next_event())
            .await
            .unwrap()
            .unwrap()
        {
            ServerEvent::Left { id, room, .. } => break (id.to_hex(), room),
            _ => continue,
        }
    };
    assert_eq!(left, (ws_id, "lobby".to_string()));
}

#[test]
fn the_terminal_chat_speaks_ws_urls() {
    let s = serve(&[]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut tcp = rt.block_on(tcp_member(&s.tcp, None, "lobby"));
    let mut cli = Command::new(support::netlab_bin())
        .args([
            "--color",
            "never",
            "chat",
            &format!("ws://{}/ws", s.http),
            "--nick",
            "cy",
            "--room",
            "lobby",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = cli.stdin.take().unwrap();
    writeln!(stdin, "typed in a terminal").unwrap();
    let got = rt.block_on(async {
        loop {
            match tokio::time::timeout(PATIENCE, tcp.next_event())
                .await
                .unwrap()
                .unwrap()
            {
                ServerEvent::Message { text, nick, to, .. } => break (text, nick, to),
                _ => continue,
            }
        }
    });
    assert_eq!(
        got,
        (
            "typed in a terminal".into(),
            "cy".into(),
            vec!["lobby".to_string()]
        )
    );
    drop(stdin);
    let out = cli.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("cy (you) joined"), "{stdout}");
}

/// Sends a hand-written upgrade request with `origin` to `/ws`; returns the status line.
fn upgrade_status(http: &str, origin: Option<&str>) -> String {
    upgrade_status_as(http, http, origin)
}

/// The same, with the `Host` header the client chose (a browser sends the
/// name it resolved, whatever address that name led to).
fn upgrade_status_as(http: &str, host: &str, origin: Option<&str>) -> String {
    let mut s = std::net::TcpStream::connect(http).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    let origin = origin
        .map(|o| format!("Origin: {o}\r\n"))
        .unwrap_or_default();
    write!(s, "GET /ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{origin}\r\n").unwrap();
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line).unwrap();
    line.trim_end().to_string()
}

#[test]
fn cross_site_pages_are_refused_unless_allowed() {
    let s = serve(&[]);
    let same = format!("http://{}", s.http);
    assert_eq!(
        upgrade_status(&s.http, Some(&same)),
        "HTTP/1.1 101 Switching Protocols"
    );
    assert_eq!(
        upgrade_status(&s.http, None),
        "HTTP/1.1 101 Switching Protocols"
    );
    assert_eq!(
        upgrade_status(&s.http, Some("https://evil.example")),
        "HTTP/1.1 403 Forbidden"
    );
    // Same address, another port: another origin.
    let (host, port) = s.http.rsplit_once(':').unwrap();
    let other = format!("http://{host}:{}", port.parse::<u16>().unwrap() ^ 1);
    assert_eq!(
        upgrade_status(&s.http, Some(&other)),
        "HTTP/1.1 403 Forbidden"
    );
    // DNS rebinding: evil.example resolves to 127.0.0.1, so the attacker's
    // page sends a Host and an Origin that agree — but they are not ours.
    let evil = format!("evil.example:{port}");
    assert_eq!(
        upgrade_status_as(&s.http, &evil, Some(&format!("http://{evil}"))),
        "HTTP/1.1 403 Forbidden"
    );
    // The loopback address's own name is this server's page too.
    assert_eq!(
        upgrade_status_as(
            &s.http,
            &format!("localhost:{port}"),
            Some(&format!("http://localhost:{port}"))
        ),
        "HTTP/1.1 101 Switching Protocols"
    );
    let open = serve(&["--allow-origin", "https://ok.example"]);
    assert_eq!(
        upgrade_status(&open.http, Some("https://ok.example")),
        "HTTP/1.1 101 Switching Protocols"
    );
    assert_eq!(
        upgrade_status(&open.http, Some("https://evil.example")),
        "HTTP/1.1 403 Forbidden"
    );
}

/// One HTTP GET; returns (status line, body).
fn get(http: &str, path: &str) -> (String, String) {
    let mut s = std::net::TcpStream::connect(http).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {http}\r\n\r\n").unwrap();
    let mut all = String::new();
    s.read_to_string(&mut all).unwrap();
    let (head, body) = all.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_string(), body.to_string())
}

#[test]
fn the_page_is_served_and_nothing_else() {
    let s = serve(&[]);
    let (status, body) = get(&s.http, "/");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(body.contains("<script src=\"/app.js\">"), "{body}");
    let (status, body) = get(&s.http, "/app.js");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(body.contains("new WebSocket("));
    assert_eq!(get(&s.http, "/style.css").0, "HTTP/1.1 200 OK");
    assert_eq!(get(&s.http, "/../Cargo.toml").0, "HTTP/1.1 404 Not Found");
    assert_eq!(get(&s.http, "/ws").0, "HTTP/1.1 426 Upgrade Required");
}

#[tokio::test]
async fn hostile_json_closes_only_that_connection() {
    let s = serve(&["--max-strikes", "3", "--max-frame", "1024"]);
    let (mut good, _) = ws_member(&s.http, "good", "lobby").await;
    let (mut bad, _) = ws_member(&s.http, "bad", "lobby").await;
    let _ = until(&mut good, "joined").await; // bad arrived
                                              // Each broken frame gets an error naming the rule; the third ends it.
    for (payload, code) in [
        ("{not json", "invalid_json"),
        ("[1,2]", "not_an_object"),
        ("{\"event\":\"explode\"}", "unknown_event"),
    ] {
        bad.send(&Message::text(payload)).await.unwrap();
        let v = next_json(&mut bad).await;
        assert_eq!(v["code"], code, "{v}");
    }
    // After the bye the server closes with 1008 (policy violation).
    let closed = loop {
        match tokio::time::timeout(PATIENCE, bad.recv()).await.unwrap() {
            Ok(Some(Message::Close(f))) => break f.map(|f| f.code.as_u16()),
            Ok(Some(Message::Text(t))) => assert!(
                t.as_str().contains("bye") || t.as_str().contains("error"),
                "{}",
                t.as_str()
            ),
            other => panic!("expected a Close frame, got {other:?}"),
        }
    };
    assert_eq!(closed, Some(1008));
    // The other client lost nothing: it saw bad leave, and the room still works.
    let left = until(&mut good, "left").await;
    assert_eq!(left["nick"], "bad");
    send(
        &mut good,
        json!({"event":"message","to":["lobby"],"text":"still here","self":true}),
    )
    .await;
    assert_eq!(until(&mut good, "message").await["text"], "still here");
}

#[tokio::test]
async fn the_message_limit_is_the_max_frame_at_the_edge() {
    let s = serve(&["--max-frame", "1024"]);
    let (mut ws, _) = ws_member(&s.http, "edge", "lobby").await;
    // Exactly 1024 bytes of valid JSON: read and answered (the text itself is checked by the hub).
    let shell = json!({"event":"message","to":["lobby"],"text":"","ack":9}).to_string();
    let text = "x".repeat(1024 - shell.len());
    let at_max = json!({"event":"message","to":["lobby"],"text":text,"ack":9}).to_string();
    assert_eq!(at_max.len(), 1024);
    send(&mut ws, serde_json::from_str(&at_max).unwrap()).await;
    let ack = until(&mut ws, "ack").await;
    assert_eq!(ack["ack"], 9, "{ack}");
    // One byte more: the connection is failed with 1009 "message too big" (RFC 6455 §7.4.1).
    let over =
        json!({"event":"message","to":["lobby"],"text":format!("{text}x"),"ack":9}).to_string();
    assert_eq!(over.len(), 1025);
    ws.send(&Message::text(over)).await.unwrap();
    let code = loop {
        match tokio::time::timeout(PATIENCE, ws.recv()).await.unwrap() {
            Ok(Some(Message::Close(f))) => break f.map(|f| f.code.as_u16()),
            Ok(Some(_)) => continue,
            other => panic!("expected a Close frame, got {other:?}"),
        }
    };
    assert_eq!(code, Some(1009));
}

#[test]
fn a_stalled_ws_message_gets_1008_after_the_frame_timeout() {
    let s = serve(&["--frame-timeout", "300ms", "--heartbeat", "0"]);
    let mut c = std::net::TcpStream::connect(&s.http).unwrap();
    c.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(c, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").unwrap();
    // A masked text frame announcing 100 bytes (zero key), and 2 of them.
    c.write_all(&[0x81, 0x80 | 100, 0, 0, 0, 0, b'{', b'"'])
        .unwrap();
    // Everything the server says: the 101, the welcome, then a Close 1008.
    let mut all = Vec::new();
    let _ = c.read_to_end(&mut all);
    let close = all
        .windows(4)
        .rposition(|w| w[0] == 0x88)
        .map(|at| u16::from_be_bytes([all[at + 2], all[at + 3]]));
    assert_eq!(close, Some(1008), "{}", String::from_utf8_lossy(&all));
}

/// Interop: headless Chromium loads the page from `netlab serve`; two pages
/// chat with each other and with a TCP client; a server restart shows the
/// disconnected state and both pages reconnect and rejoin by themselves.
/// The screenshot is kept at target/test-output/web-chat.png.
#[test]
fn chromium_pages_chat_with_each_other_and_a_tcp_client() {
    if !chromium_available() {
        return;
    }
    let out_dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("test-output");
    std::fs::create_dir_all(&out_dir).unwrap();
    let shot = out_dir.join("web-chat.png");
    let _ = std::fs::remove_file(&shot);
    let server = serve(&[]);
    let http = server.http.clone();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut tcp = rt.block_on(tcp_member(&server.tcp, Some("tina"), "lobby"));
    let user_data = std::env::temp_dir().join(format!("netlab-chromium-{}", std::process::id()));
    let mut node = Command::new("node")
        .current_dir(support::interop_dir())
        .args(["web_page.js", &http, shot.to_str().unwrap()])
        .env("XDG_CONFIG_HOME", &user_data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node runs");
    let expect = page_script_steps(&mut node);
    expect("pages-ready");
    rt.block_on(async {
        assert_eq!(tcp_sees(&mut tcp, "hello from alice").await, "alice");
        tcp.call(ClientEvent::Message {
            to: vec!["lobby".into()],
            except: vec![],
            text: "hello from tcp".into(),
            include_self: false,
        })
        .await
        .unwrap();
        assert_eq!(tcp_sees(&mut tcp, "hello from bob").await, "bob");
    });
    expect("restart-now");
    drop(tcp);
    drop(server);
    std::thread::sleep(Duration::from_millis(300));
    let again = serve_on(&http, &[]);
    writeln!(node.stdin.as_mut().unwrap(), "back").unwrap();
    expect("done");
    assert!(node.wait().unwrap().success());
    let png = std::fs::read(&shot).expect("the screenshot was saved");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG file");
    drop(again);
    let _ = std::fs::remove_dir_all(&user_data);
}

/// Interop: an unmodified Node `socket.io-client` v4 (`transports: ["websocket"]`)
/// connects to `/socket.io/`, sets its nick and joins a room with acked events,
/// gets an ack refusing a bad argument, receives a TCP client's broadcast and
/// sends one back with an ack that says it reached one connection.
#[test]
fn socketio_client_chats_with_a_tcp_client() {
    if !node_module_available("socket.io-client") {
        return;
    }
    let server = serve(&[]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut tcp = rt.block_on(tcp_member(&server.tcp, Some("tina"), "lobby"));
    let mut node = Command::new("node")
        .current_dir(support::interop_dir())
        .args(["sio_client.js", &server.http])
        .stdout(Stdio::piped())
        .spawn()
        .expect("node runs");
    let mut out = BufReader::new(node.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(
        line.trim(),
        "joined",
        "the client script failed (its error is above)"
    );
    rt.block_on(async {
        tcp.call(ClientEvent::Message {
            to: vec!["lobby".into()],
            except: vec![],
            text: "hello from tcp".into(),
            include_self: false,
        })
        .await
        .unwrap();
        assert_eq!(tcp_sees(&mut tcp, "hello from socket.io").await, "sio");
    });
    line.clear();
    out.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "done");
    assert!(node.wait().unwrap().success());
}

/// What a Socket.IO client sees on the wire, hand-decoded: the Engine.IO open
/// packet, CONNECT, an EVENT with an ack id and its ACK; and a malformed packet
/// gets CONNECT_ERROR and a close, and no one else is hurt.
#[tokio::test]
async fn socketio_packets_on_the_wire() {
    let s = serve(&[]);
    let url = format!("ws://{}/socket.io/?EIO=4&transport=websocket", s.http);
    let (mut sio, _) = connect(&url, &ClientConfig::default()).await.unwrap();
    let text = |m: Message| match m {
        Message::Text(t) => t.as_str().to_string(),
        other => panic!("expected text, got {other:?}"),
    };
    let open = text(sio.recv().await.unwrap().unwrap());
    let v: Value = serde_json::from_str(
        open.strip_prefix('0')
            .expect("an open packet starts with 0"),
    )
    .unwrap();
    assert_eq!(
        (
            v["pingInterval"].as_u64(),
            v["pingTimeout"].as_u64(),
            v["upgrades"].clone()
        ),
        (Some(25_000), Some(20_000), json!([]))
    );
    // The Engine.IO session id and the Socket.IO socket id are two ids, as
    // in Socket.IO: the CONNECT answer carries the socket's (the hub's id).
    let engine_sid = v["sid"].as_str().unwrap().to_string();
    sio.send(&Message::text("40")).await.unwrap();
    let connected = text(sio.recv().await.unwrap().unwrap());
    let answer: Value = serde_json::from_str(connected.strip_prefix("40").unwrap()).unwrap();
    let sid = answer["sid"].as_str().unwrap().to_string();
    assert_eq!(sid.len(), 32, "a hub id: {connected}");
    assert_ne!(sid, engine_sid);
    sio.send(&Message::text("427[\"join\",\"lobby\"]"))
        .await
        .unwrap();
    let mut seen = Vec::new();
    let ack = loop {
        let t = text(sio.recv().await.unwrap().unwrap());
        if t.starts_with("437") {
            break t;
        }
        seen.push(t);
    };
    assert_eq!(
        ack, "437[{\"ok\":true,\"reached\":1}]",
        "before it: {seen:?}"
    );
    // A native client in the room, then a binary packet whose placeholder
    // names an attachment it did not announce: refused, closed.
    let (mut native, _) = ws_member(&s.http, "nat", "lobby").await;
    sio.send(&Message::text(
        "451-[\"x\",{\"_placeholder\":true,\"num\":1}]",
    ))
    .await
    .unwrap();
    let mut last = String::new();
    let close = loop {
        match sio.recv().await.unwrap() {
            Some(Message::Text(t)) => last = t.as_str().to_string(),
            Some(Message::Close(f)) => break f.map(|f| f.code.as_u16()),
            other => panic!("expected CONNECT_ERROR then Close, got {other:?}"),
        }
    };
    assert!(
        last.starts_with("44{\"message\":\"a malformed placeholder"),
        "{last}"
    );
    assert_eq!(close, Some(1008));
    assert_eq!(until(&mut native, "left").await["id"], sid);
    send(
        &mut native,
        json!({"event":"message","to":["lobby"],"text":"fine","self":true}),
    )
    .await;
    assert_eq!(until(&mut native, "message").await["text"], "fine");
}

/// The server drops a Socket.IO client that does not answer its pings, and
/// keeps one that does (`--ping-interval 200ms --ping-timeout 300ms`).
#[tokio::test]
async fn socketio_heartbeat_drops_a_silent_client() {
    let s = serve(&["--ping-interval", "200ms", "--ping-timeout", "300ms"]);
    let url = format!("ws://{}/socket.io/?EIO=4&transport=websocket", s.http);
    let (mut good, _) = connect(&url, &ClientConfig::default()).await.unwrap();
    let (mut silent, _) = connect(&url, &ClientConfig::default()).await.unwrap();
    for c in [&mut good, &mut silent] {
        c.send(&Message::text("40")).await.unwrap();
    }
    // The good client answers five pings in a row and is still connected.
    let mut pings = 0;
    while pings < 5 {
        match tokio::time::timeout(PATIENCE, good.recv())
            .await
            .unwrap()
            .unwrap()
        {
            Some(Message::Text(t)) if t.as_str() == "2" => {
                pings += 1;
                good.send(&Message::text("3")).await.unwrap();
            }
            Some(Message::Text(_)) => {}
            other => panic!("the answering client was dropped: {other:?}"),
        }
    }
    // The silent one got pings and then a Close (policy violation).
    let mut got_ping = false;
    let code = loop {
        match tokio::time::timeout(PATIENCE, silent.recv())
            .await
            .unwrap()
            .unwrap()
        {
            Some(Message::Text(t)) => got_ping |= t.as_str() == "2",
            Some(Message::Close(f)) => break f.map(|f| f.code.as_u16()),
            other => panic!("expected pings then Close, got {other:?}"),
        }
    };
    assert!(got_ping);
    assert_eq!(code, Some(1008));
}

/// Interop: socket.io-client v4 detects the heartbeat timeout when the server
/// stops answering (frozen with SIGSTOP after the client saw it ping).
#[test]
fn socketio_client_detects_a_silent_server() {
    if !node_module_available("socket.io-client") {
        return;
    }
    let server = serve(&["--ping-interval", "300ms", "--ping-timeout", "300ms"]);
    let mut node = Command::new("node")
        .current_dir(support::interop_dir())
        .args(["sio_heartbeat.js", &server.http])
        .stdout(Stdio::piped())
        .spawn()
        .expect("node runs");
    let mut out = BufReader::new(node.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "connected");
    // Several heartbeats go by with the client still connected.
    std::thread::sleep(Duration::from_millis(1200));
    let pid = server.child.id().to_string();
    assert!(Command::new("kill")
        .args(["-STOP", &pid])
        .status()
        .unwrap()
        .success());
    line.clear();
    out.read_line(&mut line).unwrap();
    let _ = Command::new("kill").args(["-CONT", &pid]).status();
    assert_eq!(line.trim(), "disconnect: ping timeout");
    assert!(node.wait().unwrap().success());
}

/// `netlab tour`'s lesson-10 step: the page over HTTP, a Socket.IO handshake
/// and a join with an ack, one native message arriving as a Socket.IO EVENT,
/// and the URL to open in a browser.
#[test]
fn the_tour_serves_the_page_and_speaks_socketio() {
    let out = Command::new(support::netlab_bin())
        .arg("tour")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "GET / → HTTP/1.1 200 OK: the page",
        "→ 40 ← 40{\"sid\":\"",
        "→ 421[\"join\",\"lobby\"] (EVENT, ack id 1) ← 431[{\"ok\":true,\"reached\":2}]",
        "\"to\":[\"lobby\"],\"text\":\"same words, two framings\"}]",
        "open http://127.0.0.1:8080/ in two tabs",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
}

/// The next Socket.IO text packet (heartbeat pings skipped); panics on anything else.
async fn sio_text(ws: &mut WebSocket<TcpStream>) -> String {
    loop {
        match tokio::time::timeout(PATIENCE, ws.recv())
            .await
            .expect("a packet in time")
            .unwrap()
        {
            Some(Message::Text(t)) if t.as_str() == "2" => continue,
            Some(Message::Text(t)) => return t.as_str().to_string(),
            other => panic!("expected text, got {other:?}"),
        }
    }
}

/// Server-emitted ack requests on the wire: with `--confirm-timeout`, a
/// recorded event reaches a Socket.IO client as `42<n>["message",{…,"seq":…}]`;
/// unanswered, the same event (same seq) comes again under a new id; once the
/// client answers `43<n>[]`, nothing more is resent.
#[tokio::test]
async fn socketio_server_asks_for_acks_and_resends_what_is_unanswered() {
    let s = serve(&["--history", "100", "--confirm-timeout", "1s"]);
    let url = format!("ws://{}/socket.io/?EIO=4&transport=websocket", s.http);
    let (mut sio, _) = connect(&url, &ClientConfig::default()).await.unwrap();
    let _open = sio_text(&mut sio).await;
    sio.send(&Message::text("40")).await.unwrap();
    sio.send(&Message::text("421[\"join\",\"lobby\"]"))
        .await
        .unwrap();
    // The ACK for the join arrives; answer whatever the server asks until then
    // (its own join notice is recorded too).
    let ack_id = |p: &str| -> Option<u64> {
        let rest = p.strip_prefix("42")?;
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    };
    loop {
        let p = sio_text(&mut sio).await;
        if p == "431[{\"ok\":true,\"reached\":1}]" {
            break;
        }
        if let Some(n) = ack_id(&p) {
            sio.send(&Message::text(format!("43{n}[]"))).await.unwrap();
        }
    }
    // A TCP client says something in lobby.
    let mut tcp = tcp_member(&s.tcp, None, "lobby").await;
    tcp.send(ClientEvent::Message {
        to: vec!["lobby".into()],
        except: vec![],
        text: "confirm me".into(),
        include_self: false,
    })
    .await
    .unwrap();
    // The message arrives as an ack request; unanswered, it comes again, same seq.
    let mut copies: Vec<(u64, Value)> = Vec::new();
    while copies.len() < 2 {
        let p = sio_text(&mut sio).await;
        if !p.contains("\"confirm me\"") {
            if let Some(n) = ack_id(&p) {
                sio.send(&Message::text(format!("43{n}[]"))).await.unwrap();
            }
            continue;
        }
        let n = ack_id(&p).unwrap_or_else(|| panic!("not an ack request: {p}"));
        let start = p.find('[').unwrap();
        let args: Value = serde_json::from_str(&p[start..]).unwrap();
        assert_eq!(args[0], "message", "{p}");
        copies.push((n, args[1]["seq"].clone()));
    }
    assert_ne!(copies[0].0, copies[1].0, "a resend is a new ack request");
    assert_eq!(copies[0].1, copies[1].1, "a resend carries the same seq");
    assert!(copies[0].1["lobby"].as_u64().is_some(), "{:?}", copies[0].1);
    // Answer the latest request: the server stops resending.
    sio.send(&Message::text(format!("43{}[]", copies[1].0)))
        .await
        .unwrap();
    let quiet = tokio::time::timeout(Duration::from_millis(2500), async {
        loop {
            let p = sio_text(&mut sio).await;
            if p.contains("\"confirm me\"") {
                return p;
            }
        }
    })
    .await;
    assert!(quiet.is_err(), "resent after it was confirmed: {quiet:?}");
}

/// Interop: server-emitted ack requests answered by an unmodified
/// socket.io-client v4. With `--confirm-timeout`, a client whose listeners call
/// their ack callbacks gets each message once; one that never answers gets the
/// same message (same seq) again — the server asked, and acted on the answers.
#[test]
fn socketio_clients_answer_server_ack_requests() {
    if !node_module_available("socket.io-client") {
        return;
    }
    let server = serve(&[
        "--history",
        "100",
        "--confirm-timeout",
        "1s",
        "--confirm-retries",
        "3",
    ]);
    let start = |mode: &str| {
        let mut node = Command::new("node")
            .current_dir(support::interop_dir())
            .args(["sio_confirm.js", &server.http, mode])
            .stdout(Stdio::piped())
            .spawn()
            .expect("node runs");
        let mut out = BufReader::new(node.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert_eq!(
            line.trim(),
            "ready",
            "the {mode} client failed (its error is above)"
        );
        let (tx, rx) = std::sync::mpsc::channel::<Value>();
        std::thread::spawn(move || {
            for l in out.lines() {
                let Ok(l) = l else { break };
                if let Ok(v) = serde_json::from_str(&l) {
                    let _ = tx.send(v);
                }
            }
        });
        (node, rx)
    };
    let (mut answering, answers) = start("answer");
    let (mut silent, silences) = start("silent");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut tcp = tcp_member(&server.tcp, None, "lobby").await;
        for text in ["one", "two", "three"] {
            let outcome = tcp
                .call(ClientEvent::Message {
                    to: vec!["lobby".into()],
                    except: vec![],
                    text: text.into(),
                    include_self: false,
                })
                .await
                .unwrap();
            assert_eq!(outcome, AckOutcome::Reached(2));
        }
    });
    // Several confirm timeouts pass: the silent client sees resends, then is dropped.
    std::thread::sleep(Duration::from_millis(3000));
    let got_answering: Vec<Value> = answers.try_iter().collect();
    let got_silent: Vec<Value> = silences.try_iter().collect();
    let texts = |got: &[Value]| -> Vec<String> {
        got.iter()
            .filter_map(|v| v["text"].as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(
        texts(&got_answering),
        vec!["one", "two", "three"],
        "the answering client gets each message once: {got_answering:?}"
    );
    assert!(
        got_answering
            .iter()
            .filter(|v| v.get("text").is_some())
            .all(|v| v["asked"] == true && v["seq"]["lobby"].is_u64()),
        "every message came as an ack request with a seq: {got_answering:?}"
    );
    let ones: Vec<&Value> = got_silent.iter().filter(|v| v["text"] == "one").collect();
    assert!(
        ones.len() >= 2,
        "the silent client gets \"one\" again after the timeout: {got_silent:?}"
    );
    assert!(
        ones.iter()
            .all(|v| v["seq"] == ones[0]["seq"] && v["asked"] == true),
        "every copy is the same event (same seq), asked again: {got_silent:?}"
    );
    let _ = answering.kill();
    let _ = silent.kill();
    let _ = answering.wait();
    let _ = silent.wait();
}

/// Interop: the page in headless Chromium against `--history --confirm-timeout`:
/// it confirms what it shows (`seen`), so it is not dropped as dead; after its
/// WebSocket drops it resumes its session (same id, rooms) and shows the
/// message it missed exactly once.
#[test]
fn chromium_page_confirms_and_resumes_its_session() {
    if !chromium_available() {
        return;
    }
    let server = serve(&[
        "--history",
        "100",
        "--confirm-timeout",
        "1s",
        "--confirm-retries",
        "2",
        "--session-ttl",
        "60s",
    ]);
    let user_data =
        std::env::temp_dir().join(format!("netlab-chromium-resume-{}", std::process::id()));
    let mut node = KillOnDrop(
        Command::new("node")
            .current_dir(support::interop_dir())
            .args(["web_resume.js", &server.http])
            .env("XDG_CONFIG_HOME", &user_data)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("node runs"),
    );
    let expect = page_script_steps(&mut node);
    expect("ready");
    // A TCP client that says one thing in lobby and goes (it confirms nothing,
    // so it must not stay past the confirm deadline).
    let rt = tokio::runtime::Runtime::new().unwrap();
    let say = |text: &str| {
        rt.block_on(async {
            let mut c = tcp_member(&server.tcp, None, "lobby").await;
            c.call(ClientEvent::Message {
                to: vec!["lobby".into()],
                except: vec![],
                text: text.into(),
                include_self: false,
            })
            .await
            .unwrap();
        })
    };
    say("before");
    writeln!(node.stdin.as_mut().unwrap(), "sent").unwrap();
    expect("away");
    say("while away");
    writeln!(node.stdin.as_mut().unwrap(), "sent").unwrap();
    expect("done");
    assert!(node.wait().unwrap().success());
    let _ = std::fs::remove_dir_all(&user_data);
}
