//! Lesson 07: three popular answers to "what if a client misses an event?",
//! tried on real sockets — try/catch, an error handler, a buffer, a heartbeat.
//!
//! Run: `cargo run --example 07_try_catch`
//!
//! * Part 1, try/catch and error handlers: the peer's process is gone, yet the
//!   next write returns `Ok` — the kernel took the bytes, nobody will read
//!   them. The error comes on a *later* write, about the connection, not about
//!   the message that was lost.
//! * Part 2, "push it to a buffer": the path goes dark (the peer stops
//!   reading, as a cut cable or a frozen laptop would). Write after write
//!   returns `Ok` into the kernel's send buffer; none of it is ever read. A
//!   buffer helps only if it keeps each message until the *receiver* confirms
//!   it — an ack, lesson 07's at-least-once.
//! * Part 3, a heartbeat: netlab's hub with pings on. It notices the silent
//!   client within interval + timeout and tells the room she left — but what
//!   was said meanwhile reached nobody and is kept nowhere: when she comes
//!   back, she gets none of it. Detection is not replay.
//!
//! The example checks its own claims and panics if one is false.

use futures_util::{SinkExt, StreamExt};
use netlab::chat::heartbeat::HeartbeatConfig;
use netlab::framing::FrameCodec;
use netlab::transport::{tcp, ChatServer, ServerConfig};
use serde_json::{json, Value};
use std::io::{ErrorKind, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::Framed;

/// A hang is a failed claim, not a frozen example.
const PATIENCE: Duration = Duration::from_secs(10);

/// Part 3's heartbeat: ping after this much silence…
const PING_AFTER: Duration = Duration::from_millis(200);
/// … and drop the client if nothing comes within this after the ping.
const PING_TIMEOUT: Duration = Duration::from_millis(200);

/// Part 2 stops writing here if the buffers never fill (they always do).
const WRITE_CAP: usize = 64 * 1024 * 1024;

fn part1_try_catch() {
    println!("Part 1 — try/catch around a send, and an error handler");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let mut client =
        std::net::TcpStream::connect(listener.local_addr().expect("bound")).expect("connects");
    let (peer, _) = listener.accept().expect("accepts");
    drop(peer); // the peer's process is gone: its kernel closes the socket
    std::thread::sleep(Duration::from_millis(50));
    println!("  ✂ the peer's socket is closed (its process died)");

    let first = client.write(b"meet at 6\n");
    println!("  write(\"meet at 6\")        → {first:?}   (try/catch: nothing to catch)");
    assert!(
        matches!(first, Ok(10)),
        "claim: a write into a connection whose peer is gone returns Ok: {first:?}"
    );
    std::thread::sleep(Duration::from_millis(50)); // the peer's kernel answers RST
    let second = client.write(b"bring the slides\n");
    println!("  write(\"bring the slides\") → {second:?}");
    let err = second.expect_err("claim: only a later write reports the broken connection");
    assert!(
        matches!(
            err.kind(),
            ErrorKind::BrokenPipe | ErrorKind::ConnectionReset
        ),
        "claim: the error is about the connection: {err:?}"
    );
    println!("  → \"meet at 6\" was lost without an error; the error handler runs once, on");
    println!(
        "    a later write, and says \"{}\" — not which message.",
        err.kind()
    );
    println!("    Repair needs the receiver's word: an ack per message, and a retry.\n");
}

fn part2_buffer() {
    println!("Part 2 — \"push it to a buffer\": the kernel's send buffer is one already");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let mut client =
        std::net::TcpStream::connect(listener.local_addr().expect("bound")).expect("connects");
    let (_silent_peer, _) = listener.accept().expect("accepts"); // never reads: a dark path
    println!("  ✂ the path goes dark: the peer stays connected but reads nothing");
    client.set_nonblocking(true).expect("nonblocking");
    let message = [b'x'; 100];
    let (mut ok, mut bytes) = (0usize, 0usize);
    loop {
        match client.write(&message) {
            Ok(n) => {
                ok += 1;
                bytes += n;
                if bytes >= WRITE_CAP {
                    break;
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) => panic!("claim: writes into a dark path do not fail: {e}"),
        }
    }
    println!(
        "  {ok} writes of 100 bytes returned Ok ({} KiB) before one would wait; the peer read 0 of them",
        bytes / 1024
    );
    assert!(
        ok >= 100,
        "claim: many writes succeed into a connection nobody reads: only {ok}"
    );
    println!("  → all of it sits in buffers and dies with the connection. On a real cut,");
    println!("    Linux retransmits for about 15 minutes (net.ipv4.tcp_retries2 = 15) before");
    println!("    a write fails. A buffer saves messages only if it keeps each one until");
    println!("    the receiver acknowledges it, and resends it after a reconnect.\n");
}

type Conn = Framed<TcpStream, FrameCodec>;

/// Next event on `c`, answering the hub's pings on the way (a live client).
async fn recv(c: &mut Conn) -> Value {
    loop {
        let frame = tokio::time::timeout(PATIENCE, c.next())
            .await
            .expect("the server answers within 10 s")
            .expect("the connection is open")
            .expect("a whole frame");
        let e: Value = serde_json::from_slice(&frame).expect("JSON");
        if e["event"] == "ping" {
            let pong = serde_json::to_vec(&json!({"event":"pong"})).expect("JSON");
            c.send(pong).await.expect("open");
            continue;
        }
        return e;
    }
}

/// Sends `event` with ack id `ack`; returns the ack's answer.
async fn call(c: &mut Conn, ack: u64, mut event: Value) -> Value {
    event["ack"] = json!(ack);
    c.send(serde_json::to_vec(&event).expect("JSON"))
        .await
        .expect("open");
    loop {
        let e = recv(c).await;
        if e["event"] == "ack" && e["ack"] == ack {
            assert_eq!(e["ok"], true, "the server accepted it: {e}");
            return e;
        }
    }
}

async fn open(addr: &str, nick: &str) -> Conn {
    let s = TcpStream::connect(addr).await.expect("the server listens");
    let mut c = Framed::new(s, FrameCodec::new());
    let welcome = recv(&mut c).await;
    assert_eq!(welcome["event"], "welcome");
    call(&mut c, 1, json!({"event":"nick","nick":nick})).await;
    call(&mut c, 2, json!({"event":"join","room":"lobby"})).await;
    c
}

async fn part3_heartbeat() {
    println!(
        "Part 3 — a heartbeat (ping after {} ms of silence, drop {} ms later)",
        PING_AFTER.as_millis(),
        PING_TIMEOUT.as_millis()
    );
    let config = ServerConfig {
        heartbeat: Some(HeartbeatConfig {
            interval: PING_AFTER,
            timeout: PING_TIMEOUT,
        }),
        ..ServerConfig::default()
    };
    let server = Arc::new(ChatServer::new(config));
    let _ticker = server.start_ticker();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let addr = listener.local_addr().expect("bound").to_string();
    tokio::spawn(tcp::serve(listener, server.clone()));

    let mut bob = open(&addr, "bob").await;
    let ana = open(&addr, "ana").await;
    let cut = Instant::now();
    println!("  ✂ ana goes silent (a frozen laptop): she neither reads nor answers pings");
    let left = loop {
        let e = recv(&mut bob).await;
        if e["event"] == "left" && e["nick"] == "ana" {
            break e;
        }
    };
    let noticed = cut.elapsed();
    println!("  after {} ms bob gets {left}", noticed.as_millis());
    assert!(
        noticed < PATIENCE,
        "claim: the heartbeat notices the silent client"
    );
    drop(ana);
    let mut reached = Vec::new();
    for (i, text) in ["did you see the game?", "meet at 6"].iter().enumerate() {
        let answer = call(
            &mut bob,
            10 + i as u64,
            json!({"event":"message","to":["lobby"],"text":text}),
        )
        .await;
        println!("  bob says {text:?} → the hub answers {answer}");
        reached.push(answer["reached"].as_u64().unwrap_or(u64::MAX));
    }
    let mut ana = open(&addr, "ana").await;
    println!("  ana comes back and joins lobby again");
    call(
        &mut bob,
        20,
        json!({"event":"message","to":["lobby"],"text":"welcome back"}),
    )
    .await;
    let mut seen = Vec::new();
    loop {
        let e = recv(&mut ana).await;
        if e["event"] == "message" {
            let t = e["text"].as_str().unwrap_or_default().to_string();
            let done = t == "welcome back";
            seen.push(t);
            if done {
                break;
            }
        }
    }
    println!("  ana shows bob's lines: {seen:?}");
    assert_eq!(
        seen,
        vec!["welcome back"],
        "claim: the heartbeat detected the cut but replayed nothing"
    );
    assert_eq!(
        reached,
        vec![0, 0],
        "claim: what was said meanwhile reached no one"
    );
    println!(
        "  → the heartbeat found the cut in {} ms; what was said meanwhile reached 0 clients",
        noticed.as_millis()
    );
    println!(
        "    (\"reached\":0) and was replayed to no one. Detection is not delivery: replay needs"
    );
    println!("    a history on the server (`netlab serve --history N`, cargo run --example 07_missed_events).");
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    part1_try_catch();
    part2_buffer();
    part3_heartbeat().await;
}
