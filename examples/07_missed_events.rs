//! Lesson 07: what a client misses while its connection is down — and how a
//! hub with history gives exactly that back.
//!
//! Run: `cargo run --example 07_missed_events`
//!
//! A chat server runs in this process on 127.0.0.1 (real TCP sockets). Ana and
//! Bob are in the room `lobby`. Ana's socket is dropped (a network cut); Bob
//! keeps talking; Ana reconnects.
//!
//! * Part 1, the hub of lessons 03–04 (no history, and heartbeats off, as
//!   `netlab serve --heartbeat 0` runs it): Ana comes back as a new
//!   connection and never sees what Bob said meanwhile: **at-most-once**.
//! * Part 2, `--history 100` (sessions and replay): Ana presents her session
//!   token and the last seq she saw; the hub replays exactly the missed
//!   events, in order, once each; her seq check drops anything seen twice.
//!
//! The example checks its own claims and panics if one is false.

use futures_util::{SinkExt, StreamExt};
use netlab::chat::history::HistoryConfig;
use netlab::client::resume::{Incoming, Resume, ResumeConfig};
use netlab::framing::FrameCodec;
use netlab::transport::{tcp, ChatServer, ServerConfig};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::Framed;

/// What Bob says while Ana is away.
const WHILE_AWAY: [&str; 3] = ["did you see the game?", "meet at 6", "bring the slides"];

/// A hang is a failed claim, not a frozen example.
const PATIENCE: Duration = Duration::from_secs(10);

type Conn = Framed<TcpStream, FrameCodec>;

async fn recv(c: &mut Conn) -> Value {
    let frame = tokio::time::timeout(PATIENCE, c.next())
        .await
        .expect("the server answers within 10 s")
        .expect("the connection is open")
        .expect("a whole frame");
    serde_json::from_slice(&frame).expect("the server sends JSON")
}

async fn send(c: &mut Conn, frame: Vec<u8>) {
    c.send(frame).await.expect("the connection is open");
}

/// Opens a connection and returns it with its welcome.
async fn open(addr: &str) -> (Conn, Value) {
    let s = TcpStream::connect(addr).await.expect("the server listens");
    let mut c = Framed::new(s, FrameCodec::new());
    let welcome = recv(&mut c).await;
    assert_eq!(
        welcome["event"], "welcome",
        "the first event is the welcome"
    );
    (c, welcome)
}

/// Sends `event` with an ack id and waits for the answer; returns the other
/// events that arrived meanwhile (each fed to `state`).
async fn call(c: &mut Conn, state: &mut Resume, event: Value) -> Vec<Value> {
    let (ack, frame) = state.send(event, Instant::now());
    send(c, frame).await;
    let mut others = Vec::new();
    loop {
        let e = recv(c).await;
        match state.on_event(&e, Instant::now()) {
            Incoming::Answered { ack: a, ok } if a == ack => {
                assert!(ok, "the server accepted it: {e}");
                return others;
            }
            Incoming::Duplicate => {}
            _ => others.push(e),
        }
    }
}

/// Reads until Bob's message `last` arrives; returns the texts of Bob's
/// messages, in arrival order (duplicates dropped by seq).
async fn bob_lines_until(c: &mut Conn, state: &mut Resume, last: &str) -> Vec<String> {
    let mut texts = Vec::new();
    loop {
        let e = recv(c).await;
        if state.on_event(&e, Instant::now()) == Incoming::Duplicate {
            continue;
        }
        if e["event"] == "message" && e["nick"] == "bob" {
            let t = e["text"].as_str().unwrap_or_default().to_string();
            let done = t == last;
            texts.push(t);
            if done {
                return texts;
            }
        }
    }
}

fn fresh_state() -> Resume {
    Resume::new(ResumeConfig::default(), 1, Instant::now())
}

/// Runs the scene on a server with `history` events kept per key (0: none);
/// returns Bob's lines as Ana saw them after she came back.
async fn scene(history: usize) -> Vec<String> {
    let config = ServerConfig {
        history: HistoryConfig {
            len: history,
            ..HistoryConfig::default()
        },
        // `netlab serve` pings silent clients by default (every 25 s); this
        // demo turns that off too, so nothing but history differs between
        // the two parts and the failure is the plain one of lessons 03–04.
        heartbeat: None,
        ..ServerConfig::default()
    };
    let server = Arc::new(ChatServer::new(config));
    let _ticker = server.start_ticker();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let addr = listener.local_addr().expect("bound").to_string();
    tokio::spawn(tcp::serve(listener, server.clone()));

    let mut bob_state = fresh_state();
    let (mut bob, w) = open(&addr).await;
    bob_state.on_event(&w, Instant::now());
    call(
        &mut bob,
        &mut bob_state,
        json!({"event":"nick","nick":"bob"}),
    )
    .await;
    call(
        &mut bob,
        &mut bob_state,
        json!({"event":"join","room":"lobby"}),
    )
    .await;

    let mut ana_state = fresh_state();
    let (mut ana, w) = open(&addr).await;
    ana_state.on_event(&w, Instant::now());
    println!(
        "  ana connects: {}",
        if ana_state.has_session() {
            "her welcome carries a session token"
        } else {
            "no session token (the server keeps no history)"
        }
    );
    call(
        &mut ana,
        &mut ana_state,
        json!({"event":"nick","nick":"ana"}),
    )
    .await;
    call(
        &mut ana,
        &mut ana_state,
        json!({"event":"join","room":"lobby"}),
    )
    .await;
    call(
        &mut bob,
        &mut bob_state,
        json!({"event":"message","to":["lobby"],"text":"hi ana"}),
    )
    .await;
    bob_lines_until(&mut ana, &mut ana_state, "hi ana").await;
    println!(
        "  ana and bob chat in lobby; ana last saw seq {:?}",
        ana_state.last()
    );

    drop(ana); // the cut: her socket is gone
    println!("  ✂ ana's socket is dropped");
    for text in WHILE_AWAY {
        call(
            &mut bob,
            &mut bob_state,
            json!({"event":"message","to":["lobby"],"text":text}),
        )
        .await;
        println!("  bob says: {text}");
    }

    let (mut ana, w) = open(&addr).await;
    let resuming = match ana_state.resume_frame() {
        Some(resume) => {
            println!(
                "  ana reconnects and sends {}",
                String::from_utf8_lossy(&resume)
            );
            ana_state.on_event(&w, Instant::now());
            send(&mut ana, resume).await;
            true
        }
        None => {
            ana_state.on_event(&w, Instant::now());
            println!("  ana reconnects as a new connection and joins lobby again");
            for frame in ana_state.rejoin(Instant::now(), false) {
                send(&mut ana, frame).await;
            }
            false
        }
    };
    // Until the server has answered (resumed, or the rejoin's acks), keep
    // Bob's lines as they come (the replay).
    let mut seen = Vec::new();
    loop {
        let e = recv(&mut ana).await;
        match ana_state.on_event(&e, Instant::now()) {
            Incoming::Duplicate => continue,
            Incoming::Resumed { replayed } => {
                println!("  the server answers resumed: {replayed} missed events follow");
            }
            _ => {}
        }
        if e["event"] == "message" {
            seen.push(e["text"].as_str().unwrap_or_default().to_string());
        }
        let answered = if resuming {
            seen.len() >= WHILE_AWAY.len()
        } else {
            ana_state.unanswered() == 0
        };
        if answered {
            break;
        }
    }
    call(
        &mut bob,
        &mut bob_state,
        json!({"event":"message","to":["lobby"],"text":"welcome back"}),
    )
    .await;
    seen.extend(bob_lines_until(&mut ana, &mut ana_state, "welcome back").await);
    println!("  ana now shows bob's lines: {seen:?}");
    seen
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    println!("Part 1 — the default hub keeps no history (at-most-once)");
    let seen = scene(0).await;
    let missed: Vec<&str> = WHILE_AWAY
        .iter()
        .copied()
        .filter(|t| !seen.iter().any(|s| s == t))
        .collect();
    println!("  ana MISSED {} events: {missed:?}", missed.len());
    assert_eq!(
        missed,
        WHILE_AWAY.to_vec(),
        "claim: without history a client that was away misses everything said meanwhile"
    );
    assert_eq!(
        seen,
        vec!["welcome back"],
        "claim: only what came after the reconnect arrives"
    );

    println!("\nPart 2 — history 100: resume with the session token, replay what was missed");
    let seen = scene(100).await;
    let mut want: Vec<&str> = WHILE_AWAY.to_vec();
    want.push("welcome back");
    println!(
        "  ana got the {} missed events, in order, once each, then the live one",
        WHILE_AWAY.len()
    );
    assert_eq!(
        seen, want,
        "claim: with history the client gets exactly the missed events, in order, once, then live traffic"
    );
    println!("\nTry it with the real binaries: netlab serve --history 100, then netlab chat tcp://… and cut it (netlab lesson 07).");
}
