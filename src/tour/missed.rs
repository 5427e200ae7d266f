//! Tour step for lesson 07: a client cut off misses what was said — unless
//! the hub keeps history and the client resumes its session.

use super::{explain, ok, say, TourError};
use crate::chat::history::HistoryConfig;
use crate::client::resume::{Incoming, Resume, ResumeConfig};
use crate::framing::FrameCodec;
use crate::transport::{tcp, ChatServer, ServerConfig};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::Framed;

/// How long the tour waits for an event before calling the step failed.
const WAIT: Duration = Duration::from_secs(5);

/// What bob says while ana's connection is down.
const WHILE_AWAY: [&str; 2] = ["meet at 6", "bring the slides"];

type Conn = Framed<TcpStream, FrameCodec>;

fn fail(e: impl std::fmt::Display) -> TourError {
    TourError::Unexpected(e.to_string())
}

/// One client: its connection and what it remembers to resume.
struct Peer {
    conn: Conn,
    state: Resume,
}

impl Peer {
    async fn open(addr: &str, state: Option<Resume>) -> Result<(Peer, Option<Vec<u8>>), TourError> {
        let conn = Framed::new(TcpStream::connect(addr).await?, FrameCodec::new());
        let mut state =
            state.unwrap_or_else(|| Resume::new(ResumeConfig::default(), 1, Instant::now()));
        // The old token goes out before the new welcome replaces it.
        let resume = state.resume_frame();
        let mut p = Peer { conn, state };
        let welcome = p.recv().await?;
        p.state.on_event(&welcome, Instant::now());
        Ok((p, resume))
    }

    async fn recv(&mut self) -> Result<Value, TourError> {
        let frame = tokio::time::timeout(WAIT, self.conn.next())
            .await
            .map_err(|_| fail("an expected chat event did not arrive"))?
            .ok_or_else(|| fail("the server closed the connection"))?
            .map_err(fail)?;
        serde_json::from_slice(&frame).map_err(fail)
    }

    async fn send(&mut self, frame: Vec<u8>) -> Result<(), TourError> {
        self.conn.send(frame).await.map_err(fail)
    }

    /// Sends an acked event and reads until its answer.
    async fn call(&mut self, event: Value) -> Result<(), TourError> {
        let (ack, frame) = self.state.send(event, Instant::now());
        self.send(frame).await?;
        loop {
            let e = self.recv().await?;
            if let Incoming::Answered { ack: a, .. } = self.state.on_event(&e, Instant::now()) {
                if a == ack {
                    return Ok(());
                }
            }
        }
    }

    /// Bob's lines as they arrive (duplicates dropped by seq), until `last`.
    async fn lines_until(&mut self, last: &str) -> Result<Vec<String>, TourError> {
        let mut lines = Vec::new();
        loop {
            let e = self.recv().await?;
            if self.state.on_event(&e, Instant::now()) == Incoming::Duplicate {
                continue;
            }
            if e["event"] == "message" {
                let text = e["text"].as_str().unwrap_or_default().to_string();
                let done = text == last;
                lines.push(text);
                if done {
                    return Ok(lines);
                }
            }
        }
    }
}

fn say_in_lobby(text: &str) -> Value {
    json!({"event": "message", "to": ["lobby"], "text": text})
}

/// Ana is cut off while bob talks, then comes back; returns what she then shows.
async fn scene(history: usize) -> Result<Vec<String>, TourError> {
    let config = ServerConfig {
        history: HistoryConfig {
            len: history,
            ..HistoryConfig::default()
        },
        ..ServerConfig::default()
    };
    let server = Arc::new(ChatServer::new(config));
    let ticker = server.start_ticker();
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    let serving = tokio::spawn(tcp::serve(listener, server));
    let (mut bob, _) = Peer::open(&addr, None).await?;
    let (mut ana, _) = Peer::open(&addr, None).await?;
    for (p, nick) in [(&mut bob, "bob"), (&mut ana, "ana")] {
        p.call(json!({"event": "nick", "nick": nick})).await?;
        p.call(json!({"event": "join", "room": "lobby"})).await?;
    }
    let remembered = ana.state.clone();
    drop(ana); // the cut
    for text in WHILE_AWAY {
        bob.call(say_in_lobby(text)).await?;
    }
    let (mut ana, resume) = Peer::open(&addr, Some(remembered)).await?;
    match resume {
        Some(frame) => ana.send(frame).await?,
        None => {
            for frame in ana.state.rejoin(Instant::now(), false) {
                ana.send(frame).await?;
            }
        }
    }
    // Bob speaks again once ana is back in the room (resumed, or rejoined).
    let mut shown = Vec::new();
    loop {
        let e = ana.recv().await?;
        let what = ana.state.on_event(&e, Instant::now());
        if what == Incoming::Duplicate {
            continue;
        }
        if e["event"] == "message" {
            shown.push(e["text"].as_str().unwrap_or_default().to_string());
        }
        let back = matches!(what, Incoming::Resumed { .. }) || ana.state.unanswered() == 0;
        if back && shown.len() >= if history > 0 { WHILE_AWAY.len() } else { 0 } {
            break;
        }
    }
    bob.call(say_in_lobby("welcome back")).await?;
    shown.extend(ana.lines_until("welcome back").await?);
    serving.abort();
    if let Some(t) = ticker {
        t.abort();
    }
    Ok(shown)
}

/// The same cut twice: without history, then with `--history`.
pub async fn missed_then_replayed() -> Result<(), TourError> {
    say(format!(
        "ana and bob in lobby; ana's socket is dropped while bob says {WHILE_AWAY:?}; she reconnects"
    ));
    let plain = scene(0).await?;
    if plain != ["welcome back"] {
        return Err(fail(format!(
            "without history ana should show only the line after her return, not {plain:?}"
        )));
    }
    ok(format!(
        "default hub (at-most-once): ana shows {plain:?} — she missed {} events and nothing tells her",
        WHILE_AWAY.len()
    ));
    let replayed = scene(100).await?;
    let mut want: Vec<String> = WHILE_AWAY.iter().map(|s| s.to_string()).collect();
    want.push("welcome back".into());
    if replayed != want {
        return Err(fail(format!(
            "with history ana should show exactly {want:?}, not {replayed:?}"
        )));
    }
    ok(format!(
        "--history 100: ana resumes her session and shows {replayed:?} — each missed event once, in order"
    ));
    explain("try it: netlab serve --history 100, then netlab chat tcp://… and cut it; run cargo run --example 07_missed_events (netlab lesson 07)");
    Ok(())
}
