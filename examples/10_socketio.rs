//! Lesson 10: what Socket.IO puts on the wire, packet by packet.
//!
//! Run: `cargo run --example 10_socketio`
//!
//! Notice: a chat server starts in this process (TCP and HTTP on loopback);
//! netlab's own WebSocket client opens `/socket.io/` and speaks Socket.IO by
//! hand, so every packet is printed as it crosses the wire — `→` sent, `←`
//! received — with what it means and the native netlab event it stands for.
//! A TCP client sits in the same room: its message arrives as
//! `42["message",…]`, and a file sent as a BINARY_EVENT with its attachment
//! reaches it as bytes. Last, a server that keeps history asks for acks itself:
//! `42<n>[…]` until the client answers `43<n>[]`. Every claim printed is
//! checked; a wrong one stops the example with an error.

use netlab::chat::history::HistoryConfig;
use netlab::chat::protocol::{ClientEvent, ServerEvent};
use netlab::client::tcp::{AckOutcome, ChatClient};
use netlab::transport::{tcp, ChatServer, ServerConfig};
use netlab::web::socketio::{self, Heartbeat};
use netlab::web::{self, WebConfig};
use netlab::ws::client::{connect, ClientConfig};
use netlab::ws::{Message, WebSocket};
use serde_json::{json, Value};
use std::error::Error;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};

/// How long to wait for any one packet before calling the example broken.
const WAIT: Duration = Duration::from_secs(5);
/// The heartbeat, short so that a ping shows up within a second.
const PING_INTERVAL: Duration = Duration::from_millis(400);
const PING_TIMEOUT: Duration = Duration::from_millis(2_000);
/// How long the second server waits for a confirmation before resending.
const CONFIRM_TIMEOUT: Duration = Duration::from_millis(600);

type Res<T> = Result<T, Box<dyn Error>>;

/// One Socket.IO connection driven by hand, printing every packet.
struct Wire {
    ws: WebSocket<TcpStream>,
}

impl Wire {
    async fn open(url: &str) -> Res<Wire> {
        let (ws, _) = connect(url, &ClientConfig::default()).await?;
        Ok(Wire { ws })
    }

    /// Sends one packet and explains it.
    async fn send(&mut self, packet: &str, meaning: &str) -> Res<()> {
        println!("  → {packet}");
        println!("      {meaning}");
        if let Some(native) = native_of_client_packet(packet) {
            println!("      native /ws: {native}");
        }
        self.ws.send(&Message::text(packet)).await?;
        Ok(())
    }

    /// The next text packet, or an error after [`WAIT`].
    async fn recv(&mut self) -> Res<String> {
        match tokio::time::timeout(WAIT, self.ws.recv()).await {
            Err(_) => Err("no packet within 5 s".into()),
            Ok(Ok(Some(Message::Text(t)))) => Ok(t.as_str().to_string()),
            Ok(Ok(Some(Message::Close(f)))) => Err(format!("closed: {f:?}").into()),
            Ok(Ok(Some(other))) => Err(format!("expected a text message, got {other:?}").into()),
            Ok(Ok(None)) => Err("the connection ended".into()),
            Ok(Err(e)) => Err(e.into()),
        }
    }

    /// Receives packets until one satisfies `want`, printing it with `meaning`.
    /// Heartbeat pings that arrive in between are answered (and shown).
    async fn expect(&mut self, want: impl Fn(&str) -> bool, meaning: &str) -> Res<String> {
        loop {
            let p = self.recv().await?;
            if want(&p) {
                show_received(&p, meaning);
                return Ok(p);
            }
            if p == "2" {
                show_received(&p, "a heartbeat ping arrived meanwhile");
                self.ws.send(&Message::text("3")).await?;
                println!("  → 3");
                continue;
            }
            return Err(format!("unexpected packet {p}").into());
        }
    }
}

fn show_received(packet: &str, meaning: &str) {
    println!("  ← {packet}");
    println!("      {meaning}");
    if let Some(native) = native_of_server_packet(packet) {
        println!("      native /ws: {native}");
    }
}

/// The native event a client packet stands for (what `/ws` would carry).
fn native_of_client_packet(packet: &str) -> Option<String> {
    match socketio::parse(packet).ok()? {
        socketio::Incoming::Event { ack, name, args } => socketio::to_native(&name, &args, ack)
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned()),
        _ => None,
    }
}

/// The native event a server packet stands for: `42["name",{…}]` (or the
/// same asking for an ack, `42<n>[…]`) is
/// `{"event":"name",…}`, `43N[{…}]` is `{"event":"ack","ack":N,…}`.
fn native_of_server_packet(packet: &str) -> Option<String> {
    let asked = packet
        .strip_prefix("42")
        .map(|r| r.trim_start_matches(|c: char| c.is_ascii_digit()));
    let (name, ack, data) = if let Some(rest) = asked.filter(|r| r.starts_with('[')) {
        (None, None, rest.to_string())
    } else if let Some(rest) = packet.strip_prefix("43") {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        (
            Some("ack".to_string()),
            rest[..digits].parse::<u64>().ok(),
            rest[digits..].to_string(),
        )
    } else {
        return None;
    };
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(&data) else {
        return None;
    };
    let mut items = items.into_iter();
    let name = match name {
        Some(n) => n,
        None => items.next()?.as_str()?.to_string(),
    };
    let mut obj = serde_json::Map::new();
    obj.insert("event".into(), Value::String(name));
    if let Some(a) = ack {
        obj.insert("ack".into(), a.into());
    }
    if let Some(Value::Object(fields)) = items.next() {
        obj.extend(fields);
    }
    Some(Value::Object(obj).to_string())
}

/// The JSON array inside an EVENT, or an error saying what arrived instead.
fn event_args(packet: &str, name: &str) -> Res<Vec<Value>> {
    match socketio::parse(packet) {
        Ok(socketio::Incoming::Event { name: n, args, .. }) if n == name => Ok(args),
        _ => Err(format!("expected a {name:?} EVENT, got {packet}").into()),
    }
}

fn check(ok: bool, claim: &str) -> Res<()> {
    if ok {
        Ok(())
    } else {
        Err(format!("claim failed: {claim}").into())
    }
}

/// A second server that keeps history and wants recorded events confirmed:
/// a message reaches the Socket.IO client as an ack request; unanswered it
/// comes again (same seq, new id); answered, it stops.
async fn server_asks() -> Res<()> {
    let config = ServerConfig {
        history: HistoryConfig {
            len: 100,
            confirm_timeout: Some(CONFIRM_TIMEOUT),
            ..HistoryConfig::default()
        },
        ..ServerConfig::default()
    };
    let server = Arc::new(ChatServer::new(config));
    server.start_ticker();
    let tcp_listener = TcpListener::bind("127.0.0.1:0").await?;
    let tcp_addr = tcp_listener.local_addr()?.to_string();
    tokio::spawn(tcp::serve(tcp_listener, server.clone()));
    let http_listener = TcpListener::bind("127.0.0.1:0").await?;
    let http_addr = http_listener.local_addr()?;
    tokio::spawn(web::serve(http_listener, server, WebConfig::default()));
    let url = format!("ws://{http_addr}/socket.io/?EIO=4&transport=websocket");
    let mut sio = Wire::open(&url).await?;
    sio.recv().await?; // open
    sio.ws.send(&Message::text("40")).await?;
    sio.ws.send(&Message::text(r#"42["join","lobby"]"#)).await?;
    // Our own join notice is recorded too: answer whatever is asked until it came.
    loop {
        let p = sio.recv().await?;
        if let Some(n) = ack_request(&p) {
            sio.ws.send(&Message::text(format!("43{n}[]"))).await?;
        }
        if p.contains("\"joined\"") {
            break;
        }
    }
    println!("  (joined lobby on a server with history; a TCP client says \"please confirm\")");
    let mut tina = ChatClient::connect(&tcp_addr).await?;
    tina.call(ClientEvent::Join {
        room: "lobby".into(),
        since: None,
    })
    .await?;
    tina.send(ClientEvent::Message {
        to: vec!["lobby".into()],
        except: vec![],
        text: "please confirm".into(),
        include_self: false,
    })
    .await?;
    let first = next_about(&mut sio, "please confirm").await?;
    show_received(
        &first,
        "an EVENT with an ack id from the server: a recorded event (see its seq); confirm it",
    );
    check(ack_request(&first).is_some(), "the server asked for an ack")?;
    println!("  (no answer for {} ms…)", CONFIRM_TIMEOUT.as_millis());
    let again = next_about(&mut sio, "please confirm").await?;
    show_received(
        &again,
        "the same event again (same seq) under a new ack id: it was not confirmed in time",
    );
    check(
        seq_of(&first)? == seq_of(&again)? && ack_request(&first) != ack_request(&again),
        "a resend carries the same seq under a new ack id",
    )?;
    let n = ack_request(&again).ok_or("no ack id")?;
    sio.send(
        &format!("43{n}[]"),
        "ACK for that id: the listener's callback ran (socket.on(\"message\", (m, ack) => ack()))",
    )
    .await?;
    let quiet =
        tokio::time::timeout(CONFIRM_TIMEOUT * 3, next_about(&mut sio, "please confirm")).await;
    check(quiet.is_err(), "after the ACK nothing is resent")?;
    println!(
        "  (nothing more for {} ms: confirmed)",
        (CONFIRM_TIMEOUT * 3).as_millis()
    );
    Ok(())
}

/// The next packet mentioning `text`; other ack requests met on the way (the
/// room's recorded join notices) are answered at once.
async fn next_about(sio: &mut Wire, text: &str) -> Res<String> {
    loop {
        let p = sio.recv().await?;
        if p.contains(text) {
            return Ok(p);
        }
        if let Some(n) = ack_request(&p) {
            sio.ws.send(&Message::text(format!("43{n}[]"))).await?;
        }
    }
}

/// The ack id of a server EVENT asking for an answer (`42<n>[…]`), if it is one.
fn ack_request(packet: &str) -> Option<u64> {
    let rest = packet.strip_prefix("42")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    rest[..digits].parse().ok()
}

/// The `seq` of the event in a `42<n>["message",{…}]` packet.
fn seq_of(packet: &str) -> Res<Value> {
    let data: Value = serde_json::from_str(&packet[packet.find('[').ok_or("no data")?..])?;
    Ok(data[1]["seq"].clone())
}

#[tokio::main]
async fn main() -> Res<()> {
    // The server: one hub, a TCP listener and an HTTP listener (netlab serve --tcp --http).
    let server = Arc::new(ChatServer::new(ServerConfig::default()));
    let tcp_listener = TcpListener::bind("127.0.0.1:0").await?;
    let tcp_addr = tcp_listener.local_addr()?.to_string();
    tokio::spawn(tcp::serve(tcp_listener, server.clone()));
    let http_listener = TcpListener::bind("127.0.0.1:0").await?;
    let http_addr = http_listener.local_addr()?;
    let config = WebConfig {
        heartbeat: Heartbeat {
            interval: PING_INTERVAL,
            timeout: PING_TIMEOUT,
        },
        ..WebConfig::default()
    };
    tokio::spawn(web::serve(http_listener, server.clone(), config));
    println!(
        "chat server: tcp://{tcp_addr}, http://{http_addr}/ (the page), Socket.IO on /socket.io/\n"
    );

    let url = format!("ws://{http_addr}/socket.io/?EIO=4&transport=websocket");
    println!("GET /socket.io/?EIO=4&transport=websocket + Upgrade: websocket → 101 (lesson 08)");
    println!("every packet below is one WebSocket text message (lesson 09)\n");
    let mut sio = Wire::open(&url).await?;

    println!("1. Engine.IO opens the session");
    let open = sio
        .expect(
            |p| p.starts_with('0'),
            "Engine.IO open (type 0): the session id, the heartbeat in ms, the largest message",
        )
        .await?;
    let info: Value = serde_json::from_str(&open[1..])?;
    let engine_sid = info["sid"].as_str().ok_or("no sid")?.to_string();
    check(
        info["pingInterval"] == json!(PING_INTERVAL.as_millis() as u64)
            && info["pingTimeout"] == json!(PING_TIMEOUT.as_millis() as u64)
            && info["upgrades"] == json!([]),
        "the open packet carries pingInterval, pingTimeout and no upgrades (WebSocket only)",
    )?;

    println!("\n2. Socket.IO connects to the main namespace");
    sio.send(
        "40",
        "Engine.IO message (4) + Socket.IO CONNECT (0), namespace / written as nothing",
    )
    .await?;
    let connected = sio
        .expect(
            |p| p.starts_with("40{\"sid\":\""),
            "CONNECT answered with the socket's id (here the hub's connection id)",
        )
        .await?;
    let answer: Value = serde_json::from_str(&connected[2..])?;
    let sid = answer["sid"].as_str().ok_or("no sid")?.to_string();
    check(
        sid != engine_sid,
        "the Socket.IO id is not the Engine.IO session id: one session may carry several sockets",
    )?;
    let welcome = sio
        .expect(
            |p| p.starts_with("42[\"welcome\""),
            "the hub's first event, as an EVENT (4 + 2)",
        )
        .await?;
    let args = event_args(&welcome, "welcome")?;
    check(
        args[0]["id"] == json!(sid),
        "welcome names the same id as the sid",
    )?;
    let my_nick = args[0]["nick"].as_str().unwrap_or_default().to_string();

    println!("\n3. Events without and with an ack id");
    sio.send(
        r#"42["join","lobby"]"#,
        "EVENT join, no ack id: nobody answers it",
    )
    .await?;
    let joined = sio
        .expect(
            |p| p.starts_with("42[\"joined\""),
            "the room's notice reaches us too",
        )
        .await?;
    check(
        event_args(&joined, "joined")?[0]["room"] == json!("lobby"),
        "the notice is for lobby",
    )?;

    let mut tina = ChatClient::connect(&tcp_addr).await?;
    tina.call(ClientEvent::Nick {
        nick: "tina".into(),
    })
    .await?;
    tina.call(ClientEvent::Join {
        room: "lobby".into(),
        since: None,
    })
    .await?;
    println!("  (a TCP client, tina, joins lobby: netlab chat tcp://{tcp_addr} --nick tina --room lobby)");
    let tina_joined = sio
        .expect(
            |p| p.starts_with("42[\"joined\"") && p.contains("\"tina\""),
            "a TCP client joined the same room",
        )
        .await?;
    check(
        event_args(&tina_joined, "joined")?[0]["id"] == json!(tina.id().to_hex()),
        "the notice carries tina's id",
    )?;

    sio.send(
        r#"421["message",{"text":"hi tina","to":["lobby"]}]"#,
        "EVENT message with ack id 1: the digits between 42 and [ ask for an answer",
    )
    .await?;
    sio.expect(
        |p| p == r#"431[{"ok":true,"reached":1}]"#,
        "ACK (4 + 3) for id 1: delivered to 1 connection (tina)",
    )
    .await?;
    loop {
        // tina may first read her own join notice; the message follows it.
        match tokio::time::timeout(WAIT, tina.next_event()).await?? {
            ServerEvent::Message { text, nick, .. } if text == "hi tina" && nick == my_nick => {
                println!("  (tina, over TCP, received {text:?} from {nick})");
                break;
            }
            ServerEvent::Message { text, .. } => {
                return Err(format!("tina got an unexpected message {text:?}").into())
            }
            _ => continue,
        }
    }

    println!("\n4. A broadcast from the TCP client arrives as an EVENT");
    let outcome = tina
        .call(ClientEvent::Message {
            to: vec!["lobby".into()],
            except: vec![],
            text: "hello socket.io".into(),
            include_self: false,
        })
        .await?;
    check(
        outcome == AckOutcome::Reached(1),
        "tina's message reached 1 connection",
    )?;
    let msg = sio
        .expect(
            |p| p.starts_with("42[\"message\""),
            "the hub's message event, name first, fields in one object",
        )
        .await?;
    let m = &event_args(&msg, "message")?[0];
    check(
        m["text"] == json!("hello socket.io")
            && m["nick"] == json!("tina")
            && m["from"] == json!(tina.id().to_hex()),
        "the message is tina's, with her id and nick",
    )?;

    println!("\n5. The heartbeat: the server pings, the client pongs");
    let ping = sio.recv().await?;
    check(ping == "2", "the next packet is a ping")?;
    show_received(
        &ping,
        "Engine.IO ping (2), every pingInterval; answer within pingTimeout or be dropped",
    );
    sio.send("3", "Engine.IO pong (3): still here").await?;
    let ping = sio.recv().await?;
    check(ping == "2", "still connected: the next ping comes")?;
    show_received(
        &ping,
        "the next ping, one pingInterval later: the pong was accepted",
    );
    sio.send("3", "pong again").await?;

    println!("\n6. Bytes: a BINARY_EVENT and its attachment");
    sio.send(
        r#"451-2["file",{"to":["lobby"],"name":"b.bin","data":{"_placeholder":true,"num":0}}]"#,
        "BINARY_EVENT (5), 1 attachment (1-), ack id 2: the bytes' place holds a placeholder",
    )
    .await?;
    println!("  → (binary frame) 01 02 03 04");
    println!("      the attachment itself, right behind: a WebSocket binary frame (on polling: b + base64)");
    sio.ws
        .send(&Message::Binary(vec![1u8, 2, 3, 4].into()))
        .await?;
    sio.expect(
        |p| p == r#"432[{"ok":true,"reached":1}]"#,
        "ACK for id 2: the file reached tina",
    )
    .await?;
    loop {
        match tokio::time::timeout(WAIT, tina.next_event()).await?? {
            ServerEvent::File { data, name, .. } => {
                check(
                    data.decode().as_deref() == Some(&[1u8, 2, 3, 4][..]),
                    "the hub's file event carries the same bytes",
                )?;
                println!(
                    "  (tina, over TCP, received the file {:?} as {{\"_binary\":\"{}\"}} in JSON)",
                    name.unwrap_or_default(),
                    data.base64
                );
                break;
            }
            _ => continue,
        }
    }

    println!("\n7. A packet netlab refuses (a second connection)");
    let mut rogue = Wire::open(&url).await?;
    rogue.expect(|p| p.starts_with('0'), "open").await?;
    rogue.send("40", "CONNECT").await?;
    rogue.expect(|p| p.starts_with("40{"), "connected").await?;
    rogue
        .expect(|p| p.starts_with("42[\"welcome\""), "welcome")
        .await?;
    rogue
        .send(
            r#"42{"upload":true}"#,
            "an EVENT whose data is not an array starting with the event's name",
        )
        .await?;
    rogue
        .expect(
            |p| p.starts_with("44{\"message\":\"Event data must be a JSON array"),
            "CONNECT_ERROR (4 + 4) saying why; then the server closes this connection only",
        )
        .await?;
    let closed = tokio::time::timeout(WAIT, rogue.ws.recv()).await??;
    match closed {
        Some(Message::Close(Some(f))) if f.code.as_u16() == 1008 => {
            println!("  ← Close 1008 (policy violation)");
        }
        other => return Err(format!("expected Close 1008, got {other:?}").into()),
    }

    println!("\n8. Leaving");
    sio.send(
        "41",
        "Socket.IO DISCONNECT (1): leave the namespace; the hub sees the connection go",
    )
    .await?;
    loop {
        match tokio::time::timeout(WAIT, tina.next_event()).await?? {
            ServerEvent::Left { id, room, .. } if id.to_hex() == sid => {
                println!("  (tina sees {my_nick} leave {room})");
                break;
            }
            _ => continue,
        }
    }
    println!("\n9. Acks the other way: the server asks (netlab serve --history 100 --confirm-timeout 600ms)");
    server_asks().await?;

    println!(
        "\nEvery claim above was checked. Try it by hand: netlab serve --http 127.0.0.1:8080, then"
    );
    println!("netlab ws connect 'ws://127.0.0.1:8080/socket.io/?EIO=4&transport=websocket' and type 40, 421[\"join\",\"lobby\"], 3");
    Ok(())
}
