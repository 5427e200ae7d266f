//! Heartbeats over real sockets (lesson 07): a client that goes silent with
//! its socket still open (the closed laptop lid) is pinged, then dropped, and
//! its room sees it leave; a client that answers pings stays; a client that
//! keeps talking is never pinged. Over TCP (length-prefixed frames) and over
//! WebSocket (text messages).
//!
//! The clients here read raw JSON, not the library's event types, so what is
//! checked is exactly what is on the wire.

mod support;

use futures_util::{SinkExt, StreamExt};
use netlab::chat::heartbeat::HeartbeatConfig;
use netlab::framing::FrameCodec;
use netlab::transport::{tcp, ChatServer, ServerConfig, ServerNote};
use netlab::ws::client::{connect, ClientConfig};
use netlab::ws::{Message, WebSocket};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tokio_util::codec::Framed;

/// Generous bound for "this must happen" (a hang fails instead of blocking).
const PATIENCE: Duration = Duration::from_secs(30);

/// Short enough for a quick test, long enough that a loaded machine does not
/// make a live client look dead.
const HEARTBEAT: HeartbeatConfig = HeartbeatConfig {
    interval: Duration::from_millis(400),
    timeout: Duration::from_millis(600),
};

type Notes = Arc<Mutex<Vec<ServerNote>>>;

fn server() -> (Arc<ChatServer>, Notes) {
    let notes = Arc::new(Mutex::new(Vec::new()));
    let sink = notes.clone();
    let config = ServerConfig {
        heartbeat: Some(HEARTBEAT),
        ..ServerConfig::default()
    };
    let server = Arc::new(
        ChatServer::new(config).with_observer(move |n| sink.lock().unwrap().push(n.clone())),
    );
    (server, notes)
}

async fn start_tcp() -> (String, Notes) {
    let (server, notes) = server();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(tcp::serve(listener, server));
    (addr, notes)
}

async fn start_ws() -> (String, Notes) {
    let (server, notes) = server();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/ws", listener.local_addr().unwrap());
    tokio::spawn(netlab::web::serve(
        listener,
        server,
        netlab::web::WebConfig::default(),
    ));
    (url, notes)
}

/// A chat client speaking raw JSON over TCP frames or WebSocket text messages.
enum Raw {
    Tcp(Framed<TcpStream, FrameCodec>),
    Ws(Box<WebSocket<TcpStream>>),
}

impl Raw {
    async fn open(to: &str) -> Self {
        Self::open_with_welcome(to).await.0
    }

    async fn open_with_welcome(to: &str) -> (Self, Value) {
        let mut c = if to.starts_with("ws://") {
            let (ws, _) = connect(to, &ClientConfig::default()).await.unwrap();
            Raw::Ws(Box::new(ws))
        } else {
            let s = TcpStream::connect(to).await.unwrap();
            Raw::Tcp(Framed::new(s, FrameCodec::new()))
        };
        let welcome = c.recv().await.expect("a welcome");
        assert_eq!(welcome["event"], "welcome");
        (c, welcome)
    }

    async fn send(&mut self, v: Value) {
        let text = v.to_string();
        match self {
            Raw::Tcp(f) => f.send(bytes::Bytes::from(text)).await.unwrap(),
            Raw::Ws(ws) => {
                ws.feed(&Message::text(text)).unwrap();
                ws.flush().await.unwrap();
            }
        }
    }

    /// The next event, or None when the server closed.
    async fn recv(&mut self) -> Option<Value> {
        match self {
            Raw::Tcp(f) => {
                let frame = f.next().await?.ok()?;
                Some(serde_json::from_slice(&frame).expect("the server sends JSON"))
            }
            Raw::Ws(ws) => loop {
                match ws.recv().await {
                    Ok(Some(Message::Text(t))) => {
                        return Some(serde_json::from_str(t.as_str()).expect("JSON"))
                    }
                    Ok(Some(Message::Close(_))) | Ok(None) | Err(_) => return None,
                    Ok(Some(_)) => {}
                }
            },
        }
    }

    /// Joins `room` and returns this client's id.
    async fn join(&mut self, room: &str) -> String {
        self.send(json!({"event":"rooms","ack":1})).await;
        let mut id = String::new();
        loop {
            let e = self.recv().await.unwrap();
            if e["event"] == "rooms" {
                id = e["rooms"][0].as_str().unwrap().to_string();
            }
            if e["event"] == "ack" {
                break;
            }
        }
        self.send(json!({"event":"join","room":room,"ack":2})).await;
        loop {
            let e = self.recv().await.unwrap();
            if e["event"] == "ack" && e["ack"] == 2 {
                assert_eq!(e["ok"], true, "join accepted: {e}");
                return id;
            }
        }
    }
}

/// Why `id`'s connection ended: removed (no sessions) or detached (sessions on).
fn disconnect_reason(notes: &Notes, id: &str) -> Option<String> {
    notes.lock().unwrap().iter().find_map(|n| match n {
        ServerNote::Disconnected { id: who, reason } | ServerNote::Detached { id: who, reason }
            if who.to_hex() == id =>
        {
            Some(reason.clone())
        }
        _ => None,
    })
}

/// The silent client is dropped: the watcher (which answers pings) sees it
/// leave, no sooner than interval + timeout after it went quiet.
async fn silent_client_is_dropped(to: &str, notes: Notes) {
    let mut watcher = Raw::open(to).await;
    watcher.join("lobby").await;
    let mut silent = Raw::open(to).await;
    let silent_id = silent.join("lobby").await;
    let quiet_since = Instant::now();
    // From here the silent client neither reads nor writes; its socket stays open.
    let left = tokio::time::timeout(PATIENCE, async {
        loop {
            let e = watcher.recv().await.expect("the watcher stays connected");
            if e["event"] == "ping" {
                watcher.send(json!({"event":"pong"})).await;
            }
            if e["event"] == "left" && e["id"] == silent_id.as_str() {
                return e;
            }
        }
    })
    .await
    .expect("the silent client was dropped");
    assert_eq!(left["room"], "lobby");
    assert_eq!(left["reason"], "disconnect");
    assert!(
        quiet_since.elapsed() >= HEARTBEAT.interval + HEARTBEAT.timeout,
        "dropped before it had the ping and the timeout to answer"
    );
    assert_eq!(
        disconnect_reason(&notes, &silent_id).as_deref(),
        Some("heartbeat timeout")
    );
    drop(silent);
}

/// A client that answers every ping stays through several heartbeats.
async fn answering_client_stays(to: &str, notes: Notes) {
    let mut c = Raw::open(to).await;
    let id = c.join("lobby").await;
    let mut pings = 0;
    tokio::time::timeout(PATIENCE, async {
        while pings < 3 {
            let e = c.recv().await.expect("still connected");
            if e["event"] == "ping" {
                pings += 1;
                c.send(json!({"event":"pong"})).await;
            }
        }
    })
    .await
    .expect("three pings arrived");
    // Three answered pings span > 3 intervals, longer than interval + timeout.
    assert_eq!(disconnect_reason(&notes, &id), None);
    c.send(json!({"event":"who","room":"lobby","ack":9})).await;
    loop {
        let e = c
            .recv()
            .await
            .expect("still connected after three heartbeats");
        if e["event"] == "ack" && e["ack"] == 9 {
            assert_eq!(e["ok"], true);
            break;
        }
    }
}

/// A client that sends something more often than the interval is never pinged.
async fn talking_client_is_never_pinged(to: &str) {
    let mut c = Raw::open(to).await;
    c.join("lobby").await;
    let start = Instant::now();
    let mut n = 10;
    while start.elapsed() < 4 * HEARTBEAT.interval {
        n += 1;
        c.send(json!({"event":"rooms","ack":n})).await;
        // Read the answer (and whatever else came) before speaking again.
        loop {
            let e = tokio::time::timeout(PATIENCE, c.recv())
                .await
                .unwrap()
                .expect("connected");
            assert_ne!(e["event"], "ping", "a talking client was pinged");
            if e["event"] == "ack" && e["ack"] == n {
                break;
            }
        }
        tokio::time::sleep(HEARTBEAT.interval / 8).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_a_silent_client_is_dropped_with_heartbeat_timeout() {
    let (addr, notes) = start_tcp().await;
    silent_client_is_dropped(&addr, notes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ws_a_silent_client_is_dropped_with_heartbeat_timeout() {
    let (url, notes) = start_ws().await;
    silent_client_is_dropped(&url, notes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_a_client_that_answers_pings_stays() {
    let (addr, notes) = start_tcp().await;
    answering_client_stays(&addr, notes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ws_a_client_that_answers_pings_stays() {
    let (url, notes) = start_ws().await;
    answering_client_stays(&url, notes).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_a_talking_client_is_never_pinged() {
    let (addr, _) = start_tcp().await;
    talking_client_is_never_pinged(&addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ws_a_talking_client_is_never_pinged() {
    let (url, _) = start_ws().await;
    talking_client_is_never_pinged(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_heartbeats_off_a_silent_client_is_never_pinged() {
    // Off as lesson 07's demo runs it (`--heartbeat 0`); on by default.
    let config = ServerConfig {
        heartbeat: None,
        ..ServerConfig::default()
    };
    assert!(ServerConfig::default().heartbeat.is_some(), "on by default");
    let server = Arc::new(ChatServer::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(tcp::serve(listener, server.clone()));
    let mut c = Raw::open(&addr).await;
    c.join("lobby").await;
    // Silent well past what the heartbeat tests use: no ping, still there.
    let got = tokio::time::timeout(3 * (HEARTBEAT.interval + HEARTBEAT.timeout), c.recv()).await;
    assert!(got.is_err(), "nothing arrives with --heartbeat 0: {got:?}");
    assert_eq!(server.conn_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_binary_pings_then_drops_a_client_that_stays_silent() {
    let (mut server, url, _) = support::start_listening(&[
        "serve",
        "--tcp",
        "127.0.0.1:0",
        "--quiet",
        "--heartbeat",
        "200ms",
        "--heartbeat-timeout",
        "300ms",
    ]);
    let addr = url.trim_start_matches("tcp://");
    let mut watcher = Raw::open(addr).await;
    watcher.join("lobby").await;
    // The watcher answers pings all along and reports who left.
    let watching = tokio::spawn(async move {
        loop {
            let e = watcher.recv().await.expect("the watcher stays");
            if e["event"] == "ping" {
                watcher.send(json!({"event":"pong"})).await;
            }
            if e["event"] == "left" {
                return e;
            }
        }
    });
    let mut silent = Raw::open(addr).await;
    let silent_id = silent.join("lobby").await;
    // It reads (to see what arrives) but never answers.
    let first = tokio::time::timeout(PATIENCE, silent.recv()).await.unwrap();
    assert_eq!(first, Some(json!({"event":"ping"})));
    let bye = tokio::time::timeout(PATIENCE, silent.recv())
        .await
        .unwrap()
        .expect("a bye before the close");
    assert_eq!(bye["event"], "bye");
    assert_eq!(bye["code"], "heartbeat_timeout");
    let then = tokio::time::timeout(PATIENCE, silent.recv()).await.unwrap();
    assert_eq!(
        then, None,
        "after the timeout the server closes the connection"
    );
    let left = tokio::time::timeout(PATIENCE, watching)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(left["id"], silent_id.as_str());
    let _ = server.kill();
    let _ = server.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_sessions_a_heartbeat_timeout_detaches_and_the_client_can_resume() {
    let notes = Arc::new(Mutex::new(Vec::new()));
    let sink = notes.clone();
    let config = ServerConfig {
        heartbeat: Some(HEARTBEAT),
        history: netlab::chat::history::HistoryConfig {
            len: 100,
            ..Default::default()
        },
        ..ServerConfig::default()
    };
    let server = Arc::new(
        ChatServer::new(config).with_observer(move |n| sink.lock().unwrap().push(n.clone())),
    );
    let _ticker = server.start_ticker();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(tcp::serve(listener, server));

    let (mut silent, welcome) = Raw::open_with_welcome(&addr).await;
    let token = welcome["session"]
        .as_str()
        .expect("a session token")
        .to_string();
    let silent_id = silent.join("lobby").await;
    let mut watcher = Raw::open(&addr).await;
    watcher.join("lobby").await;
    // The silent client read everything so far (its own join included): its last seq.
    let mut last = 0;
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(100), silent.recv()).await {
        last = last.max(e["seq"]["lobby"].as_u64().unwrap_or(0));
    }
    assert!(last > 0, "recorded events carry a seq");
    // Now it goes silent; the watcher answers pings until the server gives up on it.
    tokio::time::timeout(PATIENCE, async {
        while disconnect_reason(&notes, &silent_id).is_none() {
            if let Ok(Some(e)) =
                tokio::time::timeout(Duration::from_millis(50), watcher.recv()).await
            {
                assert_ne!(e["event"], "left", "a detached session does not leave: {e}");
                if e["event"] == "ping" {
                    watcher.send(json!({"event":"pong"})).await;
                }
            }
        }
    })
    .await
    .expect("the silent client timed out");
    assert_eq!(
        disconnect_reason(&notes, &silent_id).as_deref(),
        Some("heartbeat timeout")
    );
    assert!(
        notes
            .lock()
            .unwrap()
            .iter()
            .any(|n| matches!(n, ServerNote::Detached { id, .. } if id.to_hex() == silent_id)),
        "detached, not removed"
    );
    watcher
        .send(json!({"event":"message","to":["lobby"],"text":"while detached","ack":50}))
        .await;
    drop(silent);
    let mut back = Raw::open(&addr).await;
    back.send(json!({"event":"resume","session":token,"last":{"lobby":last},"ack":1}))
        .await;
    let resumed = back.recv().await.unwrap();
    assert_eq!(resumed["event"], "resumed", "{resumed}");
    assert_eq!(resumed["id"], silent_id.as_str());
    assert_eq!(resumed["replayed"], 1);
    let replayed = back.recv().await.unwrap();
    assert_eq!(replayed["text"], "while detached");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ws_a_client_that_only_answers_websocket_pings_stays_like_a_browser() {
    // A browser page never answers the JSON ping, but its WebSocket answers
    // the protocol-level Ping the server sends with it (RFC 6455 §5.5.2).
    let (url, notes) = start_ws().await;
    let mut c = Raw::open(&url).await;
    let id = c.join("lobby").await;
    let mut pings = 0;
    tokio::time::timeout(PATIENCE, async {
        while pings < 3 {
            // recv() answers WebSocket Pings by itself; JSON pings are ignored.
            if c.recv().await.expect("still connected")["event"] == "ping" {
                pings += 1;
            }
        }
    })
    .await
    .expect("three heartbeats went by");
    assert_eq!(disconnect_reason(&notes, &id), None);
}
