//! Lesson 07 from outside: the real `netlab serve` binary, real TCP sockets,
//! raw JSON frames. What a client that was away misses by default, and how
//! `--history`, sessions, `seen` confirmations and `--history-file` make
//! "nothing lost, nothing twice" hold.
//!
//! Expected values are written from the protocol rules (seqs count 1, 2, 3 …
//! per key; a ring of N keeps the last N), never copied from a run.

mod support;

use futures_util::{SinkExt, StreamExt};
use netlab::framing::FrameCodec;
use serde_json::{json, Value};
use std::process::Child;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

/// Bound for "this must happen": a hang fails instead of blocking. Never a speed assertion.
const PATIENCE: Duration = Duration::from_secs(20);
/// How long "nothing more arrives" is watched for.
const QUIET: Duration = Duration::from_millis(300);

/// A `netlab serve` process, killed when the test ends.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(extra: &[&str]) -> Server {
    let mut args = vec![
        "serve",
        "--tcp",
        "127.0.0.1:0",
        "--quiet",
        "--rate",
        "100000",
        "--burst",
        "100000",
    ];
    args.extend_from_slice(extra);
    let (child, addr, _rest) = support::start_listening(&args);
    let addr = addr
        .strip_prefix("tcp://")
        .expect("tcp address")
        .to_string();
    Server { child, addr }
}

/// A raw client: JSON values in, JSON values out, nothing hidden.
struct Client {
    framed: Framed<TcpStream, FrameCodec>,
    welcome: Value,
    /// The last events received (for failure messages).
    log: Vec<Value>,
}

impl Client {
    async fn connect(addr: &str) -> Client {
        let stream = TcpStream::connect(addr).await.expect("connect");
        let mut c = Client {
            framed: Framed::new(stream, FrameCodec::new()),
            welcome: Value::Null,
            log: Vec::new(),
        };
        c.welcome = c.next().await;
        assert_eq!(c.welcome["event"], "welcome", "first event: {}", c.welcome);
        c
    }

    fn id(&self) -> String {
        self.welcome["id"].as_str().expect("an id").to_string()
    }

    fn token(&self) -> String {
        self.welcome["session"]
            .as_str()
            .expect("a session token (history on)")
            .to_string()
    }

    async fn send(&mut self, v: Value) {
        let bytes = serde_json::to_vec(&v).unwrap();
        self.framed.send(bytes).await.expect("send");
    }

    /// The next event, or a panic after PATIENCE.
    async fn next(&mut self) -> Value {
        let frame = tokio::time::timeout(PATIENCE, self.framed.next())
            .await
            .unwrap_or_else(|_| panic!("no event in time after {:#?}", self.log))
            .expect("connection open")
            .expect("a frame");
        let v: Value = serde_json::from_slice(&frame).expect("the server sends JSON");
        self.log.push(v.clone());
        v
    }

    /// The next event within `wait`, `None` when nothing (or the end) comes.
    async fn next_within(&mut self, wait: Duration) -> Option<Value> {
        match tokio::time::timeout(wait, self.framed.next()).await {
            Ok(Some(Ok(frame))) => Some(serde_json::from_slice(&frame).expect("JSON")),
            _ => None,
        }
    }

    /// Every event until `pred` matches (that one included, last).
    async fn until(&mut self, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
        let mut got = Vec::new();
        loop {
            let e = self.next().await;
            let done = pred(&e);
            got.push(e);
            if done {
                return got;
            }
        }
    }

    /// Sends `v` with ack id `ack` and returns every event up to and including its ack.
    async fn call(&mut self, mut v: Value, ack: u64) -> Vec<Value> {
        v["ack"] = ack.into();
        self.send(v).await;
        self.until(|e| e["event"] == "ack" && e["ack"] == ack).await
    }

    /// Events that arrive until the line is quiet for QUIET.
    async fn drain(&mut self) -> Vec<Value> {
        let mut got = Vec::new();
        while let Some(e) = self.next_within(QUIET).await {
            got.push(e);
        }
        got
    }

    /// Whether the server closed the connection (EOF) within PATIENCE.
    async fn closed(&mut self) -> bool {
        tokio::time::timeout(PATIENCE, async {
            loop {
                match self.framed.next().await {
                    None | Some(Err(_)) => return true,
                    Some(Ok(_)) => {}
                }
            }
        })
        .await
        .unwrap_or(false)
    }

    /// Dies abruptly: RST, no goodbye (a killed process, a pulled cable as seen by the server).
    fn kill(self) {
        // SO_LINGER 0: close sends a reset (the socket is not blocking, so drop does not wait).
        let _ = socket2::SockRef::from(self.framed.get_ref()).set_linger(Some(Duration::ZERO));
        drop(self);
    }
}

fn join(room: &str) -> Value {
    json!({"event":"join","room":room})
}

fn say(room: &str, text: &str) -> Value {
    json!({"event":"message","to":[room],"text":text})
}

fn texts(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["event"] == "message")
        .map(|e| e["text"].as_str().unwrap().to_string())
        .collect()
}

fn ack_ok(events: &[Value]) -> &Value {
    let a = events.last().expect("an ack");
    assert_eq!(a["ok"], true, "refused: {a}");
    a
}

fn refused_with(events: &[Value], code: &str) {
    let a = events.last().expect("an ack");
    assert_eq!(a["ok"], false, "{a}");
    assert_eq!(a["error"], code, "{a}");
}

fn expected(prefix: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("{prefix}{i}")).collect()
}

/// At-most-once, the default: a client that reconnects has missed what was
/// said while it was away, and `since`/`resume` are refused with the fix.
#[tokio::test]
async fn without_history_a_reconnecting_client_misses_events() {
    let server = serve(&[]);
    let mut ana = Client::connect(&server.addr).await;
    let mut bob = Client::connect(&server.addr).await;
    assert!(
        ana.welcome.get("session").is_none(),
        "no sessions without --history"
    );
    ack_ok(&ana.call(join("lobby"), 1).await);
    ack_ok(&bob.call(join("lobby"), 1).await);
    bob.kill();
    for i in 0..3 {
        ack_ok(&ana.call(say("lobby", &format!("m{i}")), 10 + i).await);
    }
    let mut bob = Client::connect(&server.addr).await;
    let got = bob.call(join("lobby"), 1).await;
    ack_ok(&got);
    let mut got = got;
    got.extend(bob.drain().await);
    assert_eq!(
        texts(&got),
        Vec::<String>::new(),
        "m0..m2 are gone: at-most-once"
    );
    refused_with(
        &bob.call(json!({"event":"join","room":"lobby","since":0}), 2)
            .await,
        "history_off",
    );
    let mut carl = Client::connect(&server.addr).await;
    refused_with(
        &carl
            .call(json!({"event":"resume","session":"00".repeat(32)}), 1)
            .await,
        "history_off",
    );
    // Live events still carry no seq.
    ack_ok(&ana.call(say("lobby", "live"), 20).await);
    let live = bob.until(|e| e["event"] == "message").await;
    assert!(live.last().unwrap().get("seq").is_none());
}

/// `join` with `since` replays exactly the room's events after that seq,
/// then the joiner's own `joined`.
#[tokio::test]
async fn join_since_replays_exactly_what_came_after() {
    let server = serve(&["--history", "100"]);
    let mut ana = Client::connect(&server.addr).await;
    ack_ok(&ana.call(join("lobby"), 1).await); // lobby seq 1: ana joined
    for i in 0..5 {
        // seqs 2..=6
        ack_ok(&ana.call(say("lobby", &format!("m{i}")), 10 + i).await);
    }
    let mut cy = Client::connect(&server.addr).await;
    let got = cy
        .call(json!({"event":"join","room":"lobby","since":3}), 1)
        .await;
    ack_ok(&got);
    let seqs: Vec<(String, u64)> = got
        .iter()
        .filter(|e| e.get("seq").is_some())
        .map(|e| {
            (
                e["event"].as_str().unwrap().to_string(),
                e["seq"]["lobby"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seqs,
        vec![
            ("message".into(), 4),
            ("message".into(), 5),
            ("message".into(), 6),
            ("joined".into(), 7)
        ]
    );
    assert_eq!(texts(&got), expected("m", 2..5));
    assert!(cy.drain().await.is_empty(), "nothing twice");
}

/// A ring of 5: a client away for 12 messages is told what is gone (`gap`
/// first), then gets the 5 that remain.
#[tokio::test]
async fn a_gap_is_announced_before_what_remains() {
    let server = serve(&["--history", "5"]);
    let mut ana = Client::connect(&server.addr).await;
    let mut bob = Client::connect(&server.addr).await;
    ack_ok(&ana.call(join("lobby"), 1).await); // 1
    ack_ok(&bob.call(join("lobby"), 1).await); // 2
    let seen = ana
        .until(|e| e["event"] == "joined" && e["seq"]["lobby"] == 2)
        .await;
    assert!(!seen.is_empty());
    let token = ana.token();
    ana.kill();
    for i in 0..12 {
        // seqs 3..=14; the ring keeps 10..=14 (m7..m11)
        ack_ok(&bob.call(say("lobby", &format!("m{i}")), 10 + i).await);
    }
    let mut back = Client::connect(&server.addr).await;
    let got = back
        .call(
            json!({"event":"resume","session":token,"last":{"lobby":2}}),
            1,
        )
        .await;
    ack_ok(&got);
    assert_eq!(got[0]["event"], "resumed");
    assert_eq!(got[0]["replayed"], 5);
    assert_eq!(got[1]["event"], "gap", "{:#?}", got);
    assert_eq!(
        (
            &got[1]["key"],
            &got[1]["from"],
            &got[1]["to"],
            &got[1]["kept_from"]
        ),
        (&json!("lobby"), &json!(3), &json!(9), &json!(10))
    );
    assert!(got[1]["message"].as_str().unwrap().contains("3-9"));
    assert_eq!(texts(&got), expected("m", 7..12));
}

/// Resume: the original id, nick and rooms come back, with exactly the
/// events missed, in order, once; the token rotates.
#[tokio::test]
async fn resume_restores_identity_and_exactly_the_missed_events() {
    let server = serve(&["--history", "100"]);
    let mut ana = Client::connect(&server.addr).await;
    let mut bob = Client::connect(&server.addr).await;
    ack_ok(&ana.call(json!({"event":"nick","nick":"ana"}), 1).await);
    ack_ok(&ana.call(join("lobby"), 2).await); // lobby 1
    ack_ok(&ana.call(join("dev"), 3).await); // dev 1
    ack_ok(&bob.call(join("lobby"), 1).await); // lobby 2
    ack_ok(&bob.call(join("dev"), 2).await); // dev 2
    ana.until(|e| e["event"] == "joined" && e["room"] == "dev" && e["seq"]["dev"] == 2)
        .await;
    ack_ok(&bob.call(say("lobby", "seen-before"), 3).await); // lobby 3
    ana.until(|e| e["event"] == "message").await;
    let (ana_id, token) = (ana.id(), ana.token());
    ana.kill();
    // While ana is away: lobby 4, 5; dev 3; one to both rooms (lobby 6, dev 4:
    // once for ana); a private one (ana's id key 1); one to everyone (* 1).
    ack_ok(&bob.call(say("lobby", "a"), 4).await);
    ack_ok(&bob.call(say("lobby", "b"), 5).await);
    ack_ok(&bob.call(say("dev", "c"), 6).await);
    ack_ok(
        &bob.call(
            json!({"event":"message","to":["lobby","dev"],"text":"d"}),
            7,
        )
        .await,
    );
    ack_ok(
        &bob.call(json!({"event":"message","to":[ana_id],"text":"e"}), 8)
            .await,
    );
    ack_ok(&bob.call(json!({"event":"message","text":"f"}), 9).await);
    let mut back = Client::connect(&server.addr).await;
    let provisional = back.id();
    let got = back
        .call(
            json!({"event":"resume","session":token,"last":{"lobby":3,"dev":2}}),
            1,
        )
        .await;
    ack_ok(&got);
    let r = &got[0];
    assert_eq!(r["event"], "resumed");
    assert_eq!(
        r["id"],
        ana_id.as_str(),
        "the original id, not {provisional}"
    );
    assert_eq!(r["nick"], "ana");
    assert_eq!(r["rooms"], json!(["dev", "lobby"]));
    assert_eq!(r["replayed"], 6);
    let new_token = r["session"].as_str().unwrap().to_string();
    assert_eq!(new_token.len(), 64);
    assert_ne!(new_token, token, "tokens rotate");
    assert_eq!(texts(&got), ["a", "b", "c", "d", "e", "f"]);
    let d = got.iter().find(|e| e["text"] == "d").unwrap();
    assert_eq!(d["seq"], json!({"dev":4,"lobby":6}));
    assert!(back.drain().await.is_empty(), "nothing twice");
    // The resumed connection is ana now: bob's next message reaches it live, and bob never saw ana leave.
    ack_ok(&bob.call(say("lobby", "live"), 10).await);
    let live = back.until(|e| e["event"] == "message").await;
    assert_eq!(texts(&live), ["live"]);
    assert!(!bob.drain().await.iter().any(|e| e["event"] == "left"));
    // Speaking as ana works (same id as sender). Ack ids keep increasing per
    // session: ana's 1..=3 are remembered across the resume.
    ack_ok(&back.call(say("lobby", "i am back"), 4).await);
    let heard = bob.until(|e| e["event"] == "message").await;
    assert_eq!(heard.last().unwrap()["from"], ana_id.as_str());
}

/// Tokens: single use, another connection's, garbage — each refused with
/// `session_unknown`, and the refused connection learns nothing.
#[tokio::test]
async fn bad_tokens_are_refused_and_leak_nothing() {
    let server = serve(&["--history", "100"]);
    let mut ana = Client::connect(&server.addr).await;
    ack_ok(&ana.call(join("secret"), 1).await);
    ack_ok(&ana.call(say("secret", "psst"), 2).await);
    let token = ana.token();
    ana.kill();
    // Garbage, the right token in capitals, an empty one, and a fresh
    // connection's own token used to claim more than it has.
    let other = Client::connect(&server.addr).await;
    let other_token = other.token();
    for (i, bad) in ["garbage".to_string(), token.to_uppercase(), String::new()]
        .into_iter()
        .enumerate()
    {
        let mut eve = Client::connect(&server.addr).await;
        let got = eve
            .call(
                json!({"event":"resume","session":bad,"last":{"secret":0}}),
                i as u64,
            )
            .await;
        refused_with(&got, "session_unknown");
        assert_eq!(got.len(), 1, "only the refusal: {got:#?}");
        assert!(eve.drain().await.is_empty());
        // Still a fresh, roomless connection.
        let rooms = eve.call(json!({"event":"rooms"}), 100).await;
        assert_eq!(rooms[0]["rooms"], json!([eve.id()]));
    }
    // A token resumes its own session only, whatever `last` claims: this
    // one was never in `secret`, so nothing of it is replayed.
    let mut eve = Client::connect(&server.addr).await;
    let got = eve
        .call(
            json!({"event":"resume","session":other_token,"last":{"secret":0}}),
            1,
        )
        .await;
    ack_ok(&got);
    assert_eq!(got[0]["id"], other.id().as_str());
    assert_eq!(got[0]["rooms"], json!([]));
    assert_eq!(texts(&got), Vec::<String>::new());
    // The real token works once...
    let mut back = Client::connect(&server.addr).await;
    let got = back
        .call(json!({"event":"resume","session":token}), 3)
        .await;
    ack_ok(&got);
    assert_eq!(got[0]["rooms"], json!(["secret"]));
    let second = got[0]["session"].as_str().unwrap().to_string();
    // ...and the used one never again.
    let mut eve = Client::connect(&server.addr).await;
    refused_with(
        &eve.call(json!({"event":"resume","session":token}), 1).await,
        "session_unknown",
    );
    // Resume is only a first event.
    let mut late = Client::connect(&server.addr).await;
    ack_ok(&late.call(join("x"), 1).await);
    refused_with(
        &late
            .call(json!({"event":"resume","session":second}), 2)
            .await,
        "resume_not_first",
    );
}

/// An expired session's token is dead: `session_unknown`, nothing replayed.
#[tokio::test]
async fn an_expired_token_is_refused() {
    let server = serve(&["--history", "100", "--session-ttl", "300ms"]);
    let mut ana = Client::connect(&server.addr).await;
    ack_ok(&ana.call(join("lobby"), 1).await);
    let token = ana.token();
    ana.kill();
    tokio::time::sleep(Duration::from_millis(900)).await;
    let mut eve = Client::connect(&server.addr).await;
    let got = eve
        .call(
            json!({"event":"resume","session":token,"last":{"lobby":0}}),
            1,
        )
        .await;
    refused_with(&got, "session_unknown");
    assert_eq!(got.len(), 1);
    assert!(eve.drain().await.is_empty());
}

/// The old connection is still open (half-open, the server has not noticed):
/// it gets `bye session_resumed` and is closed; closing it later does not
/// detach or remove the resumed session.
#[tokio::test]
async fn resume_while_the_old_connection_is_half_open() {
    let server = serve(&["--history", "100"]);
    let mut ana = Client::connect(&server.addr).await;
    let mut bob = Client::connect(&server.addr).await;
    ack_ok(&ana.call(join("lobby"), 1).await);
    ack_ok(&bob.call(join("lobby"), 1).await);
    ana.until(|e| e["event"] == "joined" && e["seq"]["lobby"] == 2)
        .await;
    let mut back = Client::connect(&server.addr).await;
    let got = back
        .call(
            json!({"event":"resume","session":ana.token(),"last":{"lobby":2}}),
            1,
        )
        .await;
    ack_ok(&got);
    assert_eq!(got[0]["id"], ana.id().as_str());
    assert_eq!(got[0]["replayed"], 0);
    let bye = ana.until(|e| e["event"] == "bye").await;
    assert_eq!(bye.last().unwrap()["code"], "session_resumed");
    assert!(ana.closed().await, "the old connection is closed");
    drop(ana);
    tokio::time::sleep(QUIET).await;
    ack_ok(&bob.call(say("lobby", "still there?"), 2).await);
    assert_eq!(
        texts(&back.until(|e| e["event"] == "message").await),
        ["still there?"]
    );
    assert!(
        !bob.drain().await.iter().any(|e| e["event"] == "left"),
        "the old connection's end is not the session's"
    );
    let who = bob.call(json!({"event":"who","room":"lobby"}), 3).await;
    assert_eq!(who[0]["members"].as_array().unwrap().len(), 2);
}

/// Idempotent receive: the same ack id twice is applied once and answered
/// twice alike, also across a resume.
#[tokio::test]
async fn a_retried_ack_id_is_applied_once() {
    let server = serve(&["--history", "100"]);
    let mut ana = Client::connect(&server.addr).await;
    let mut bob = Client::connect(&server.addr).await;
    ack_ok(&ana.call(join("lobby"), 1).await);
    ack_ok(&bob.call(join("lobby"), 1).await);
    let first = ana.call(say("lobby", "once"), 7).await;
    let again = ana.call(say("lobby", "once"), 7).await;
    assert_eq!(first.last(), again.last(), "the same answer");
    let token = ana.token();
    ana.kill();
    let mut back = Client::connect(&server.addr).await;
    ack_ok(
        &back
            .call(json!({"event":"resume","session":token}), 8)
            .await,
    );
    let third = back.call(say("lobby", "once"), 7).await;
    assert_eq!(first.last(), third.last(), "remembered across the resume");
    ack_ok(&back.call(say("lobby", "done"), 9).await);
    let heard = bob.until(|e| e["text"] == "done").await;
    assert_eq!(texts(&heard), ["once", "done"]);
}

/// Server→client confirmations: an event not confirmed with `seen` is
/// resent (same seq) after the timeout, and after the retries the peer is
/// dropped as dead; a client that confirms gets nothing twice.
#[tokio::test]
async fn unconfirmed_events_are_resent_then_the_peer_is_dropped() {
    let server = serve(&[
        "--history",
        "100",
        "--confirm-timeout",
        "200ms",
        "--confirm-retries",
        "2",
    ]);
    let mut ana = Client::connect(&server.addr).await;
    let mut bob = Client::connect(&server.addr).await;
    let mut cy = Client::connect(&server.addr).await;
    ack_ok(&ana.call(join("lobby"), 1).await); // 1
    ack_ok(&bob.call(join("lobby"), 1).await); // 2
    ack_ok(&cy.call(join("lobby"), 1).await); // 3
    ack_ok(&ana.call(say("lobby", "hello"), 2).await); // 4
                                                       // cy confirms everything it gets; bob never does.
    let mut cy_got = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_millis(1500);
    let mut bob_got = Vec::new();
    while tokio::time::Instant::now() < deadline {
        while let Some(e) = cy.next_within(Duration::from_millis(20)).await {
            if let Some(seq) = e.get("seq") {
                cy.send(json!({"event":"seen","seq":seq})).await;
            }
            cy_got.push(e);
        }
        while let Some(e) = bob.next_within(Duration::from_millis(20)).await {
            bob_got.push(e);
        }
    }
    let hellos = bob_got.iter().filter(|e| e["text"] == "hello").count();
    assert_eq!(hellos, 3, "sent once, resent twice: {bob_got:#?}");
    assert!(bob_got
        .iter()
        .filter(|e| e["text"] == "hello")
        .all(|e| e["seq"] == json!({"lobby":4})));
    let bye = bob_got.iter().find(|e| e["event"] == "bye").expect("bye");
    assert_eq!(bye["code"], "no_confirmation");
    assert_eq!(cy_got.iter().filter(|e| e["text"] == "hello").count(), 1);
    // Dropped as dead, but resumable.
    let mut back = Client::connect(&server.addr).await;
    let got = back
        .call(
            json!({"event":"resume","session":bob.token(),"last":{"lobby":4}}),
            1,
        )
        .await;
    ack_ok(&got);
    assert_eq!(got[0]["replayed"], 0);
}

/// A session nobody resumes leaves after `--session-ttl`: its rooms see
/// `left` with reason `disconnect` then, not before.
#[tokio::test]
async fn an_expired_session_leaves_its_rooms() {
    let server = serve(&["--history", "100", "--session-ttl", "700ms"]);
    let mut ana = Client::connect(&server.addr).await;
    let mut bob = Client::connect(&server.addr).await;
    ack_ok(&ana.call(join("lobby"), 1).await);
    ack_ok(&bob.call(join("lobby"), 1).await);
    let ana_id = ana.id();
    ana.kill();
    let early = bob.drain().await; // 300 ms of quiet: well inside the TTL
    assert!(!early.iter().any(|e| e["event"] == "left"), "{early:#?}");
    let left = bob.until(|e| e["event"] == "left").await;
    let left = left.last().unwrap();
    assert_eq!(left["id"], ana_id.as_str());
    assert_eq!(left["reason"], "disconnect");
    assert_eq!(left["seq"], json!({"lobby":3}));
}

/// A file name in the temp folder for this test, removed when dropped.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(name: &str) -> TempFile {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        TempFile(
            std::env::temp_dir().join(format!("netlab-{name}-{}-{nanos}.log", std::process::id())),
        )
    }

    fn arg(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// What a client joining `room` with `since: 0` is replayed (its own
/// `joined` and the ack excluded).
async fn replay_of(addr: &str, room: &str) -> Vec<Value> {
    let mut c = Client::connect(addr).await;
    let mut got = c
        .call(json!({"event":"join","room":room,"since":0}), 1)
        .await;
    ack_ok(&got);
    got.pop(); // the ack
    let own = got.pop().expect("the joiner's own joined");
    assert_eq!(
        (&own["event"], &own["id"]),
        (&json!("joined"), &json!(c.id()))
    );
    got
}

/// The replay of `lobby` must be: the flooder's `joined` (seq 1), then
/// messages m0, m1, … with seqs 2, 3, … — contiguous, in order, nothing else.
fn check_flood_replay(replay: &[Value]) -> usize {
    assert_eq!(replay[0]["event"], "joined", "{}", replay[0]);
    assert_eq!(replay[0]["seq"], json!({"lobby":1}));
    for (i, e) in replay[1..].iter().enumerate() {
        assert_eq!(e["event"], "message", "record {i}: {e}");
        assert_eq!(e["seq"], json!({"lobby": i as u64 + 2}), "record {i}: {e}");
        assert_eq!(e["text"], format!("m{i}"), "record {i}: {e}");
    }
    replay.len() - 1
}

/// `netlab serve --history-file F` is flooded, killed with SIGKILL
/// mid-stream and started again: every acknowledged message is in the
/// replay, in order, with contiguous seqs, and nothing that is not a whole
/// record comes back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_stream_restarts_with_its_history() {
    const KILL_AFTER: usize = 5_000;
    let file = TempFile::new("killed");
    // A queue long enough that no ack is dropped while the flood goes on.
    let mut server = serve(&[
        "--history",
        "100000",
        "--history-file",
        file.arg(),
        "--max-queue",
        "100000",
    ]);
    let stream = TcpStream::connect(&server.addr).await.unwrap();
    let (rd, wr) = stream.into_split();
    let mut rd = tokio_util::codec::FramedRead::new(rd, FrameCodec::new());
    let mut wr = tokio_util::codec::FramedWrite::new(wr, FrameCodec::new());
    rd.next().await.unwrap().unwrap(); // welcome
    wr.send(serde_json::to_vec(&json!({"event":"join","room":"lobby"})).unwrap())
        .await
        .unwrap();
    // Sends until the server is gone, at most WINDOW ahead of the acks: the
    // kill lands while messages flow.
    const WINDOW: u64 = 256;
    let acks = Arc::new(AtomicU64::new(0));
    let seen_acks = acks.clone();
    let writer = tokio::spawn(async move {
        for i in 0u64.. {
            while i >= seen_acks.load(Ordering::Relaxed) + WINDOW {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let m = json!({"event":"message","to":["lobby"],"text":format!("m{i}"),"ack":i});
            if wr.send(serde_json::to_vec(&m).unwrap()).await.is_err() {
                return i;
            }
        }
        unreachable!()
    });
    let mut acked = 0usize;
    while let Some(Ok(frame)) = rd.next().await {
        let e: Value = serde_json::from_slice(&frame).unwrap();
        if e["event"] == "ack" {
            assert_eq!(e["ack"], acked as u64, "acks come in order");
            acked += 1;
            acks.store(acked as u64, Ordering::Relaxed);
            if acked == KILL_AFTER {
                server.child.kill().unwrap(); // SIGKILL: no chance to flush or tidy up
                server.child.wait().unwrap();
            }
        }
    }
    let sent = writer.await.unwrap() as usize;
    assert!(
        acked >= KILL_AFTER && acked < sent,
        "killed mid-stream: {acked} of {sent} acked"
    );
    // The replay goes through the outbound queue too: it must hold it.
    let again = serve(&[
        "--history",
        "100000",
        "--history-file",
        file.arg(),
        "--max-queue",
        "100000",
    ]);
    let replay = replay_of(&again.addr, "lobby").await;
    let kept = check_flood_replay(&replay);
    assert!(
        kept >= acked,
        "every acknowledged message survives: {kept} < {acked}"
    );
    assert!(kept <= sent);
}

/// Cuts a history file at arbitrary bytes (as a crash mid-write would) and
/// restarts on it: the replay is exactly the records that are whole, and
/// what the restarted server appends after the cut reads back too.
#[tokio::test]
async fn a_history_file_cut_anywhere_keeps_its_whole_records() {
    const SENT: usize = 30;
    let file = TempFile::new("cut");
    {
        let server = serve(&["--history", "1000", "--history-file", file.arg()]);
        let mut c = Client::connect(&server.addr).await;
        ack_ok(&c.call(join("lobby"), 1).await);
        for i in 0..SENT {
            ack_ok(&c.call(say("lobby", &format!("m{i}")), 10 + i as u64).await);
        }
    } // killed
    let whole = std::fs::read(&file.0).unwrap();
    // Record boundaries from the documented format (src/chat/log.rs):
    // 8 bytes of magic, then per record len:u32le, two CRCs, payload.
    let mut ends = vec![8usize];
    while *ends.last().unwrap() < whole.len() {
        let at = *ends.last().unwrap();
        let len = u32::from_le_bytes(whole[at..at + 4].try_into().unwrap()) as usize;
        ends.push(at + 12 + len);
    }
    assert_eq!(*ends.last().unwrap(), whole.len());
    assert_eq!(ends.len() - 1, SENT + 1, "one record per recorded event");
    let mid = ends[SENT / 2];
    for cut in [
        whole.len() - 1, // the last record torn by one byte
        whole.len() - 13,
        mid + 5, // inside a record header
        mid,     // exactly on a boundary
        9,       // one byte of the first record
        3,       // inside the magic
    ] {
        let copy = TempFile::new("cut-copy");
        std::fs::write(&copy.0, &whole[..cut]).unwrap();
        let complete = ends.iter().filter(|&&e| e > 8 && e <= cut).count();
        let replay = {
            let server = serve(&["--history", "1000", "--history-file", copy.arg()]);
            replay_of(&server.addr, "lobby").await
        };
        if complete == 0 {
            assert!(replay.is_empty(), "cut at {cut}: {replay:#?}");
        } else {
            assert_eq!(check_flood_replay(&replay), complete - 1, "cut at {cut}");
        }
        // The restart appended the joiner's `joined` after the cut: it reads back.
        let server = serve(&["--history", "1000", "--history-file", copy.arg()]);
        let replay = replay_of(&server.addr, "lobby").await;
        assert_eq!(replay.len(), complete + 1, "cut at {cut}");
        let last = replay.last().unwrap();
        assert_eq!(last["event"], "joined");
        assert_eq!(last["seq"], json!({"lobby": complete as u64 + 1}));
    }
}

/// A small seeded generator (xorshift64*): the chaos is the same on every run of a seed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }
}

/// One chaos participant: its connection (if alive), session, and what it got.
struct Member {
    conn: Option<Client>,
    id: String,
    token: String,
    next_ack: u64,
    /// The last lobby seq this member handled.
    last: u64,
    /// Message texts in the order received.
    got: Vec<String>,
}

impl Member {
    /// Handles events as a client must: records messages, checks each lobby
    /// seq is exactly the next one (no gap, no duplicate on the wire),
    /// follows token rotation.
    fn absorb(&mut self, events: Vec<Value>, seed: u64) {
        for e in events {
            if e["event"] == "resumed" {
                assert_eq!(
                    e["id"],
                    self.id.as_str(),
                    "seed {seed}: resumed as someone else"
                );
                self.token = e["session"].as_str().unwrap().to_string();
            }
            if e["event"] == "gap" || e["event"] == "dropped" {
                panic!("seed {seed}: {} lost events: {e}", self.id);
            }
            if let Some(s) = e["seq"]["lobby"].as_u64() {
                assert_eq!(
                    s,
                    self.last + 1,
                    "seed {seed}: {} got {e} after {}",
                    self.id,
                    self.last
                );
                self.last = s;
                if e["event"] == "message" {
                    self.got.push(e["text"].as_str().unwrap().to_string());
                }
            }
        }
    }

    fn ack(&mut self) -> u64 {
        self.next_ack += 1;
        self.next_ack
    }
}

async fn chaos(seed: u64, members: usize, steps: usize) {
    let server = serve(&["--history", "10000"]);
    let mut rng = Rng(seed);
    let mut team: Vec<Member> = Vec::new();
    for _ in 0..members {
        let mut c = Client::connect(&server.addr).await;
        let got = c.call(join("lobby"), 1).await;
        ack_ok(&got);
        let mut m = Member {
            id: c.id(),
            token: c.token(),
            conn: None,
            next_ack: 1,
            last: 0,
            got: Vec::new(),
        };
        // Joins before ours were not meant for us: start at our own joined.
        let own = got
            .iter()
            .find(|e| e["event"] == "joined" && e["id"] == m.id.as_str());
        m.last = own.unwrap()["seq"]["lobby"].as_u64().unwrap() - 1;
        m.conn = Some(c);
        m.absorb(got, seed);
        team.push(m);
    }
    // Everyone catches up on the later joins.
    for m in &mut team {
        let events = m.conn.as_mut().unwrap().drain().await;
        m.absorb(events, seed);
    }
    let mut sent: Vec<String> = Vec::new();
    for step in 0..steps {
        let i = rng.below(members);
        let roll = rng.below(100);
        let m = &mut team[i];
        match (m.conn.is_some(), roll) {
            (true, 0..=49) => {
                let text = format!("s{seed}-{step}");
                let ack = m.ack();
                let msg = json!({"event":"message","to":["lobby"],"text":text,"self":true});
                let events = m.conn.as_mut().unwrap().call(msg, ack).await;
                ack_ok(&events);
                sent.push(text);
                m.absorb(events, seed);
            }
            (true, 50..=69) => m.conn.take().unwrap().kill(), // whatever was unread is lost
            (true, _) => {
                let c = m.conn.as_mut().unwrap();
                let mut events = Vec::new();
                while let Some(e) = c.next_within(Duration::from_millis(2)).await {
                    events.push(e);
                }
                m.absorb(events, seed);
            }
            (false, _) => resume(m, &server.addr, seed).await,
        }
    }
    for m in team.iter_mut().filter(|m| m.conn.is_none()) {
        resume(m, &server.addr, seed).await;
    }
    let ack = team[0].ack();
    let end = json!({"event":"message","to":["lobby"],"text":"end","self":true});
    let events = team[0].conn.as_mut().unwrap().call(end, ack).await;
    team[0].absorb(events, seed);
    sent.push("end".into());
    for m in &mut team {
        while m.got.last().map(String::as_str) != Some("end") {
            let e = m.conn.as_mut().unwrap().next().await;
            m.absorb(vec![e], seed);
        }
        assert_eq!(
            m.got, sent,
            "seed {seed}: member {} saw a different story",
            m.id
        );
    }
}

async fn resume(m: &mut Member, addr: &str, seed: u64) {
    let mut c = Client::connect(addr).await;
    let ack = m.ack();
    let events = c
        .call(
            json!({"event":"resume","session":m.token,"last":{"lobby":m.last}}),
            ack,
        )
        .await;
    ack_ok(&events);
    m.absorb(events, seed);
    m.conn = Some(c);
}

/// Seeded chaos over real sockets: members are killed abruptly (reset, unread
/// events lost) and resume at random points while others talk. Every member
/// ends up with every message sent to the room exactly once, in order.
#[tokio::test]
async fn chaos_kills_and_resumes_lose_nothing_and_repeat_nothing() {
    for seed in [0x9e37_79b9_7f4a_7c15, 42, 7_777_777] {
        chaos(seed, 4, 250).await;
    }
}

/// A history file that is not one, or is damaged before its last record, is
/// refused with a clear error before the server listens: never replayed as garbage.
#[test]
fn a_damaged_history_file_is_refused_with_a_clear_error() {
    // One well-formed record (documented format: len, CRC-32 of the payload,
    // CRC-32 of those 8 bytes, payload) whose payload is not a history entry.
    let record = |payload: &[u8]| {
        let mut r = Vec::new();
        r.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        r.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
        let head_crc = crc32fast::hash(&r);
        r.extend_from_slice(&head_crc.to_le_bytes());
        r.extend_from_slice(payload);
        r
    };
    let not_an_entry = [b"nlog v1\n".to_vec(), record(b"hello")].concat();
    let mut flipped = [b"nlog v1\n".to_vec(), record(b"{}"), record(b"{}")].concat();
    flipped[8 + 12] ^= 0xff; // the first payload, with a whole record after it
    for (bytes, says) in [
        (not_an_entry, "is not a history entry"),
        (flipped, "corrupt"),
        (b"GIF89a....".to_vec(), "is not a netlab history log"),
    ] {
        let file = TempFile::new("damaged");
        std::fs::write(&file.0, &bytes).unwrap();
        let out = std::process::Command::new(support::netlab_bin())
            .args([
                "serve",
                "--tcp",
                "127.0.0.1:0",
                "--history-file",
                file.arg(),
            ])
            .output()
            .unwrap();
        assert!(!out.status.success());
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stdout.contains("listening"), "{stdout}");
        assert!(stderr.contains(says), "{stderr}");
        assert_eq!(
            std::fs::read(&file.0).unwrap(),
            bytes,
            "the file is left as it was"
        );
    }
}

/// Record boundaries of a history file, from the documented format
/// (src/chat/log.rs): 8 bytes of magic, then per record len:u32le, two
/// CRCs, payload. Returns the offset where each record starts.
fn record_starts(bytes: &[u8]) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut at = 8;
    while at + 12 <= bytes.len() {
        starts.push(at);
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        at += 12 + len;
    }
    starts
}

/// Runs `netlab serve --tcp 127.0.0.1:0 EXTRA…`, which must refuse to start:
/// it must exit without saying it listens. A server that starts anyway is
/// killed and the test fails (rather than waiting on it forever).
fn refused_at_start(extra: &[&str]) -> std::process::Output {
    use std::io::Read;
    let mut child = std::process::Command::new(support::netlab_bin())
        .args(["serve", "--tcp", "127.0.0.1:0"])
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 1];
    // A refusing server exits (EOF, 0 bytes); a starting one prints `listening`.
    let n = stdout.read(&mut first).unwrap();
    if n > 0 {
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        panic!(
            "the server started: {}{}",
            String::from_utf8_lossy(&first),
            String::from_utf8_lossy(&out.stdout)
        );
    }
    child.wait_with_output().unwrap()
}

/// A byte flipped *inside the complete last record* is damage, not a crash:
/// `netlab serve` refuses to start, says at which byte and what to do, and
/// leaves the file as it was. Only a last record shorter than its length says
/// (a torn write) is cut off, and the server says so.
#[tokio::test]
async fn a_flipped_byte_in_the_last_record_is_refused_and_only_a_short_one_is_cut() {
    let file = TempFile::new("last");
    {
        let server = serve(&["--history", "1000", "--history-file", file.arg()]);
        let mut c = Client::connect(&server.addr).await;
        ack_ok(&c.call(join("lobby"), 1).await);
        for i in 0..3 {
            ack_ok(&c.call(say("lobby", &format!("m{i}")), 10 + i).await);
        }
    } // killed
    let whole = std::fs::read(&file.0).unwrap();
    let starts = record_starts(&whole);
    assert_eq!(starts.len(), 4, "joined + 3 messages");
    let last = *starts.last().unwrap();

    // Damage: one bit of the last record's payload, the record still whole.
    let mut flipped = whole.clone();
    flipped[last + 12 + 5] ^= 0x01;
    std::fs::write(&file.0, &flipped).unwrap();
    let out = refused_at_start(&["--history-file", file.arg()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stdout}{stderr}");
    assert!(
        stderr.contains(&format!("corrupt at byte {last}")),
        "says where: {stderr}"
    );
    assert!(
        stderr.contains(&format!("truncate it to {last} bytes")),
        "says what to do: {stderr}"
    );
    assert_eq!(
        std::fs::read(&file.0).unwrap(),
        flipped,
        "a refused file is left untouched (same size, same bytes)"
    );

    // A crash mid-write: the last record shorter than its length says.
    std::fs::write(&file.0, &whole[..whole.len() - 2]).unwrap();
    let mut server = support::Proc::spawn_with_stderr(&[
        "serve",
        "--tcp",
        "127.0.0.1:0",
        "--history-file",
        file.arg(),
    ]);
    server.expect("listening on tcp://");
    // Stdout and stderr interleave: the notice may have come first.
    let said = match server.seen.iter().find(|l| l.contains("torn last record")) {
        Some(l) => l.clone(),
        None => server.expect("torn last record"),
    };
    assert!(
        said.contains(&format!("at offset {last}")) && said.contains("cut off"),
        "{said}"
    );
    assert_eq!(
        std::fs::metadata(&file.0).unwrap().len(),
        last as u64,
        "exactly the torn record is cut"
    );
}

/// A client that joins and leaves room after room cannot make the server keep
/// a ring for every room it ever named: the history holds at most
/// `--history-keys` keys (here 16, checked through the library on an
/// in-process server reached over a real socket). The least recently
/// recorded key is dropped; a session that resumes asking for a dropped key
/// is told with `gap` what is gone (never silently replayed nothing), and the
/// dropped key's seqs go on where they were (never reused).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_after_room_keeps_the_history_at_its_key_limit_and_a_dropped_key_resumes_with_a_gap() {
    use netlab::chat::history::HistoryConfig;
    use netlab::chat::limits::Limits;
    use netlab::transport::{tcp, ChatServer, ServerConfig};
    const KEYS: usize = 16;
    const ROOMS: usize = 200;
    let config = ServerConfig {
        history: HistoryConfig {
            len: 100,
            max_keys: KEYS,
            ..Default::default()
        },
        limits: Limits {
            rate: 100_000,
            burst: 100_000,
            ..Limits::default()
        },
        ..ServerConfig::default()
    };
    let server = Arc::new(ChatServer::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(tcp::serve(listener, server.clone()));
    let keys = || server.with_hub(|h| h.adapter().history().unwrap().key_count());

    let mut ana = Client::connect(&addr).await;
    ack_ok(&ana.call(join("keep"), 1).await); // keep 1: ana joined (she sees it)
    ack_ok(&ana.call(say("keep", "before"), 2).await); // keep 2 (not to herself)
    let (ana_id, token) = (ana.id(), ana.token());
    ana.kill();
    let mut bob = Client::connect(&addr).await;
    ack_ok(&bob.call(join("keep"), 1).await); // keep 3: bob joined
    ack_ok(&bob.call(say("keep", "while away"), 2).await); // keep 4
    let mut ack = 10;
    for i in 0..ROOMS {
        for e in [
            join(&format!("r{i}")),
            json!({"event":"leave","room":format!("r{i}")}),
        ] {
            ack += 1;
            ack_ok(&bob.call(e, ack).await);
        }
        assert!(keys() <= KEYS, "after room {i}: {} keys", keys());
    }
    assert_eq!(keys(), KEYS, "rooms r184..r199, the most recently recorded");

    // Ana comes back having seen keep's seq 1: 2..4 happened, and keep's
    // ring was dropped (least recently recorded): a gap says so. (After 200
    // rooms even keep's last seq is forgotten, so the gap may reach past 4:
    // "at most this is gone", never less than what is.)
    let mut back = Client::connect(&addr).await;
    let got = back
        .call(
            json!({"event":"resume","session":token,"last":{"keep":1}}),
            1,
        )
        .await;
    ack_ok(&got);
    assert_eq!(got[0]["event"], "resumed");
    assert_eq!(got[0]["id"], ana_id.as_str());
    let gaps: Vec<&Value> = got.iter().filter(|e| e["event"] == "gap").collect();
    assert_eq!(gaps.len(), 1, "{got:#?}");
    let to = gaps[0]["to"].as_u64().unwrap();
    assert_eq!(
        (&gaps[0]["key"], &gaps[0]["from"], &gaps[0]["kept_from"]),
        (&json!("keep"), &json!(2), &json!(to + 1)),
        "{got:#?}"
    );
    assert!(to >= 4, "covers every missed event: {}", gaps[0]);
    assert!(
        gaps[0]["message"].as_str().unwrap().contains("at most 16"),
        "says why: {}",
        gaps[0]
    );
    assert!(texts(&got).is_empty(), "nothing made up: {got:#?}");
    // keep's seqs go on after the drop, never reused: the next event is the
    // one after the gap, not keep 1.
    ack_ok(&bob.call(say("keep", "after"), 1000).await);
    let next = back.until(|e| e["event"] == "message").await;
    assert_eq!(next.last().unwrap()["seq"], json!({"keep": to + 1}));
    assert!(keys() <= KEYS);
}
