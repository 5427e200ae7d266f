//! Lesson 12: two chat servers, one room, over a real Redis.
//!
//! Run: `cargo run --example 12_many_servers`
//!
//! * Part 1, two servers alone: ana connects to server A, bo to server B,
//!   both join `lobby`. Ana's message reaches nobody: each server has a room
//!   called `lobby` of its own, and neither knows the other.
//! * Part 2, the same two servers sharing a Redis, as
//!   `netlab serve --redis redis://127.0.0.1:PORT` runs them: every broadcast
//!   is also published on Redis in the format of Socket.IO's Redis adapter,
//!   and each server delivers what the other published to *its own* members.
//!   Membership stays local; only broadcasts cross.
//! * A third Redis connection listens to the broadcast channels (`PSUBSCRIBE
//!   socket.io#/#*`, like `redis-cli monitor` would) and prints the bytes of
//!   ana's message: a MessagePack `[uid, packet, opts]`, value by value.
//!
//! It needs `redis-server` on PATH (`sudo apt install redis-server`, or
//! `scripts/install-peers`); it starts its own on a free loopback port in a
//! temporary folder, saving nothing, and stops it by its PID at the end.
//!
//! The example checks its own claims and panics if one is false.

use netlab::chat::protocol::{ClientEvent, ServerEvent};
use netlab::client::tcp::{AckOutcome, ChatClient};
use netlab::cluster::message::Broadcast;
use netlab::lab::redis::{ScratchRedis, ScratchRedisError};
use netlab::transport::redis::{Cluster, LinkNote, RedisConfig};
use netlab::transport::{tcp, ChatServer, ServerConfig};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// A hang is a failed claim, not a frozen example.
const PATIENCE: Duration = Duration::from_secs(10);

/// How long bo listens to be sure that nothing arrives.
const QUIET: Duration = Duration::from_millis(300);

/// The broadcast channels of namespace `/` under the default key.
const BROADCAST_PATTERN: &str = "socket.io#/#*";

fn main() -> ExitCode {
    let mut redis = match ScratchRedis::start() {
        Ok(r) => r,
        Err(ScratchRedisError::NotInstalled) => {
            eprintln!("This example needs a real Redis: `redis-server` is not on PATH.");
            eprintln!("  Debian, Ubuntu:  sudo apt install redis-server");
            eprintln!("  macOS:           brew install redis");
            eprintln!("  or, from the netlab folder: scripts/install-peers");
            eprintln!("Then run `cargo run --example 12_many_servers` again.");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "redis-server (pid {}) on 127.0.0.1:{}, saving nothing (--save '' --appendonly no)",
        redis.pid(),
        redis.port()
    );
    let rt = tokio::runtime::Runtime::new().expect("a tokio runtime");
    rt.block_on(async {
        two_servers_alone().await;
        two_servers_over_redis(&redis.url()).await;
    });
    // Stop the servers (their tasks end with the runtime) before Redis, so
    // nobody reports Redis gone.
    drop(rt);
    redis.stop();
    println!("\nredis-server (pid {}) stopped.", redis.pid());
    ExitCode::SUCCESS
}

/// Part 1: `netlab serve` twice, no Redis.
async fn two_servers_alone() {
    println!("\n== Part 1: two servers, no Redis ==");
    let a = start_server(None).await;
    let b = start_server(None).await;
    println!("server A on {}, server B on {}", a.addr, b.addr);
    let mut bo = member(&b.addr, "bo").await;
    let mut ana = member(&a.addr, "ana").await;
    println!("bo (on B) and ana (on A) both joined lobby");
    let outcome = say(&mut ana, "hello from A").await;
    println!("ana → lobby: \"hello from A\"; A's ack: {outcome:?}");
    assert_eq!(
        outcome,
        AckOutcome::Reached(0),
        "nobody else is in A's lobby"
    );
    let heard = events_for(&mut bo, QUIET).await;
    assert!(
        heard.is_empty(),
        "bo is in B's lobby, which is another room: {heard:?}"
    );
    println!("bo heard nothing in {QUIET:?}: two rooms that happen to share a name");
}

/// Part 2: the same, each server linked to Redis.
async fn two_servers_over_redis(url: &str) {
    println!("\n== Part 2: the same two servers, sharing a Redis ==");
    // A spy subscribed to every broadcast channel (netlab::lab::redis::spy).
    let mut spy = netlab::lab::redis::spy(url, BROADCAST_PATTERN)
        .await
        .expect("Redis answers a PSUBSCRIBE");
    let a = start_server(Some(url)).await;
    let b = start_server(Some(url)).await;
    let (uid_a, uid_b) = (a.uid(), b.uid());
    println!(
        "server A on {} is uid {uid_a} on Redis; server B on {} is uid {uid_b}",
        a.addr, b.addr
    );
    for s in [&a, &b] {
        s.subscribed().await;
    }
    println!(
        "both subscribed to {BROADCAST_PATTERN} (broadcasts) and socket.io-request#/# (questions)"
    );

    let mut bo = member(&b.addr, "bo").await;
    let mut ana = member(&a.addr, "ana").await;
    println!("bo (on B) and ana (on A) both joined lobby");
    let outcome = say(&mut ana, "hello from A").await;
    println!(
        "ana → lobby: \"hello from A\"; A's ack: {outcome:?} (it counts A's own connections only)"
    );
    assert_eq!(
        outcome,
        AckOutcome::Reached(0),
        "A has nobody else in lobby"
    );
    let heard = events_until_message(&mut bo).await;
    for e in &heard {
        println!("  bo got {}", shown(e));
    }
    assert!(
        heard.iter().any(|e| matches!(e,
            ServerEvent::Message { nick, text, to, .. }
                if nick == "ana" && text == "hello from A" && to == &["lobby"])),
        "ana's message crossed Redis to bo: {heard:?}"
    );
    println!("✓ it crossed: A published it on Redis, B delivered it to its member of lobby");

    // What the third connection saw: ana's message as it went over Redis.
    let (channel, payload) = loop {
        let (channel, payload) = tokio::time::timeout(PATIENCE, spy.recv())
            .await
            .expect("the spy hears the broadcast")
            .expect("the spy is listening");
        let b = Broadcast::decode(&payload, 1 << 20).expect("an adapter broadcast");
        if b.data.first().and_then(|v| v.as_str()) == Some("message") {
            assert_eq!(b.uid, uid_a, "A published it, under its uid");
            assert_eq!(b.rooms, ["lobby"], "to lobby");
            assert_eq!(
                b.except,
                [ana.id().to_hex()],
                "the sender's own room is excepted"
            );
            break (channel, payload);
        }
        println!("  before it on Redis: {} on {channel}", b.data[0]);
    };
    assert_eq!(channel, "socket.io#/#lobby#", "one room: its own channel");
    println!(
        "\nPUBLISH {channel} <{} bytes of MessagePack>, as `redis-cli monitor` shows it:",
        payload.len()
    );
    hex_dump(&payload);
    println!("\nthe same bytes, value by value (MessagePack spec names):");
    dissect(&payload);

    // And back: bo answers, ana hears it.
    say(&mut bo, "hi ana, from B").await;
    let heard = events_until_message(&mut ana).await;
    assert!(
        heard.iter().any(|e| matches!(e,
            ServerEvent::Message { nick, text, .. } if nick == "bo" && text == "hi ana, from B")),
        "bo's answer crossed the other way: {heard:?}"
    );
    println!("\n✓ and back: bo (on B) → lobby, ana (on A) got \"hi ana, from B\"");
    let (pa, rb) = (a.cluster_counts(), b.cluster_counts());
    println!(
        "counters (`netlab serve --json` reports them as \"redis\"): A published {} and received {}, B published {} and received {}",
        pa.0, pa.1, rb.0, rb.1
    );
}

/// One chat server in this process on a free port; with `redis`, linked to
/// it as `netlab serve --redis URL` is (see `src/cli/serve.rs`).
struct Server {
    addr: String,
    cluster: Option<Cluster>,
}

impl Server {
    fn uid(&self) -> String {
        self.cluster
            .as_ref()
            .map(|c| c.uid().to_string())
            .unwrap_or_default()
    }

    /// Waits until its subscriber is in place: pub/sub delivers nothing to a
    /// server that is not subscribed yet (not even later).
    async fn subscribed(&self) {
        let Some(c) = &self.cluster else { return };
        let deadline = Instant::now() + PATIENCE;
        while !c.is_connected() {
            assert!(Instant::now() < deadline, "the server never subscribed");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// (published, received) broadcasts, from its counters.
    fn cluster_counts(&self) -> (u64, u64) {
        let c = self
            .cluster
            .as_ref()
            .expect("linked to Redis")
            .stats()
            .snapshot();
        (c.published, c.received)
    }
}

async fn start_server(redis: Option<&str>) -> Server {
    let config = ServerConfig::default();
    let (server, mut cluster) = match redis {
        None => (ChatServer::new(config), None),
        Some(url) => {
            let cluster = Cluster::connect(RedisConfig::new(url))
                .await
                .expect("Redis answers PING")
                .with_observer(|note| {
                    if let LinkNote::CutOff { detail } = note {
                        println!("  redis: cut off ({detail})");
                    }
                });
            // The hub broadcasts through the cluster's adapter: delivered
            // here, and queued for PUBLISH.
            let server = ChatServer::with_adapter(config, Box::new(cluster.adapter()));
            (server, Some(cluster))
        }
    };
    let server = Arc::new(server);
    if let Some(c) = cluster.as_mut() {
        // The publisher and the subscriber: what came from the other
        // servers is delivered to this server's own members.
        c.start(server.clone());
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let addr = listener.local_addr().expect("bound").to_string();
    tokio::spawn(tcp::serve(listener, server));
    Server { addr, cluster }
}

/// A client named `nick` on `addr`, in `lobby`.
async fn member(addr: &str, nick: &str) -> ChatClient {
    let mut c = ChatClient::connect(addr).await.expect("the server listens");
    c.call(ClientEvent::Nick { nick: nick.into() })
        .await
        .expect("nick");
    c.call(ClientEvent::Join {
        room: "lobby".into(),
        since: None,
    })
    .await
    .expect("join");
    c
}

/// Says `text` to lobby (the room but the sender), and returns the ack.
async fn say(c: &mut ChatClient, text: &str) -> AckOutcome {
    c.call(ClientEvent::Message {
        to: vec!["lobby".into()],
        except: vec![],
        text: text.into(),
        include_self: false,
    })
    .await
    .expect("the server answers")
}

/// Every event `c` receives within `wait`, its own nick and join answers aside.
async fn events_for(c: &mut ChatClient, wait: Duration) -> Vec<ServerEvent> {
    let mut got = Vec::new();
    while let Ok(e) = tokio::time::timeout(wait, c.next_event()).await {
        got.push(e.expect("the connection stays open"));
    }
    got.retain(|e| !is_own(c, e));
    got
}

/// Every event up to and including the first message.
async fn events_until_message(c: &mut ChatClient) -> Vec<ServerEvent> {
    let mut got = Vec::new();
    loop {
        let e = tokio::time::timeout(PATIENCE, c.next_event())
            .await
            .expect("a message arrives in time")
            .expect("the connection stays open");
        let done = matches!(e, ServerEvent::Message { .. });
        if !is_own(c, &e) {
            got.push(e);
        }
        if done {
            return got;
        }
    }
}

/// Whether `e` is about `c` itself (its own nick change or join).
fn is_own(c: &ChatClient, e: &ServerEvent) -> bool {
    matches!(e, ServerEvent::Joined { id, .. } if *id == c.id())
        || matches!(e, ServerEvent::Nick { id, .. } if *id == c.id())
}

fn shown(e: &ServerEvent) -> String {
    match e {
        ServerEvent::Joined { room, nick, .. } => format!("[{room}] → {nick} joined"),
        ServerEvent::Message { to, nick, text, .. } => {
            format!("[{}] {nick}: {text}", to.join(","))
        }
        other => format!("{other:?}"),
    }
}

/// 16 bytes a row: offset, hex, and the printable ones as text.
fn hex_dump(bytes: &[u8]) {
    for (row, chunk) in bytes.chunks(16).enumerate() {
        let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
        let text: String = chunk
            .iter()
            .map(|&b| if b.is_ascii_graphic() { b as char } else { '.' })
            .collect();
        println!("  {:04x}  {:<47}  {text}", row * 16, hex.join(" "));
    }
}

/// Prints MessagePack one value a line: offset, the bytes of its header,
/// what the spec calls it, and its content; an array's items and a map's
/// keys and values follow it, indented. (Only the formats a broadcast uses
/// are named; see the spec's "Formats" for the rest.)
fn dissect(bytes: &[u8]) {
    let mut at = 0;
    value(bytes, &mut at, 0, "[uid, packet, opts]");
    assert_eq!(at, bytes.len(), "one value, nothing after it");
}

/// What a key's value means in a broadcast (empty: nothing to add).
fn role_of(key: &str) -> &'static str {
    match key {
        "type" => "2 = EVENT, the 2 of 42[...] on a Socket.IO connection",
        "data" => "[event name, its argument]",
        "from" => "the sender's id: 32 bytes, one more than a fixstr holds",
        "nsp" => "the namespace",
        "rooms" => "to the members of these rooms (empty: everyone)",
        "except" => "but not these: the sender's own room",
        "flags" => "none",
        _ => "",
    }
}

/// Prints the value at `*at` and what it holds, moves `*at` past it, and
/// returns it if it is a string (so a map's key can explain its value).
fn value(b: &[u8], at: &mut usize, depth: usize, role: &str) -> Option<String> {
    let start = *at;
    let first = b[start];
    let be = |from: usize, n: usize| {
        b[from..from + n]
            .iter()
            .fold(0usize, |acc, x| (acc << 8) | usize::from(*x))
    };
    // (header length, name, what follows: a string, items, pairs, or nothing)
    let (head, name, follows) = match first {
        0x00..=0x7f => (1, format!("positive fixint {first}"), Follows::Nothing),
        0xe0..=0xff => (
            1,
            format!("negative fixint {}", first as i8),
            Follows::Nothing,
        ),
        0x80..=0x8f => (
            1,
            "fixmap".into(),
            Follows::Pairs(usize::from(first & 0x0f)),
        ),
        0x90..=0x9f => (
            1,
            "fixarray".into(),
            Follows::Items(usize::from(first & 0x0f)),
        ),
        0xa0..=0xbf => (1, "fixstr".into(), Follows::Str(usize::from(first & 0x1f))),
        0xc0 => (1, "nil".into(), Follows::Nothing),
        0xc2 => (1, "false".into(), Follows::Nothing),
        0xc3 => (1, "true".into(), Follows::Nothing),
        0xcc => (2, format!("uint 8: {}", b[start + 1]), Follows::Nothing),
        0xcd => (
            3,
            format!("uint 16: {}", be(start + 1, 2)),
            Follows::Nothing,
        ),
        0xce => (
            5,
            format!("uint 32: {}", be(start + 1, 4)),
            Follows::Nothing,
        ),
        0xd9 => (2, "str 8".into(), Follows::Str(be(start + 1, 1))),
        0xda => (3, "str 16".into(), Follows::Str(be(start + 1, 2))),
        0xdc => (3, "array 16".into(), Follows::Items(be(start + 1, 2))),
        0xde => (3, "map 16".into(), Follows::Pairs(be(start + 1, 2))),
        other => {
            println!(
                "  {start:04x}  {other:02x}  (a format this dump does not name; see the spec)"
            );
            *at = b.len();
            return None;
        }
    };
    let header: Vec<String> = b[start..start + head]
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect();
    *at = start + head;
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut text = None;
    let what = match follows {
        Follows::Nothing => name,
        Follows::Str(n) => {
            let s = String::from_utf8_lossy(&b[*at..*at + n]).into_owned();
            *at += n;
            let shown = format!("{name}, {}: {s:?}", plural(n, "byte", "bytes"));
            text = Some(s);
            shown
        }
        Follows::Items(n) => format!("{name}, {}", plural(n, "item", "items")),
        Follows::Pairs(n) => format!("{name}, {}", plural(n, "pair", "pairs")),
    };
    let indent = "  ".repeat(depth);
    let role = if role.is_empty() {
        String::new()
    } else {
        format!("   ← {role}")
    };
    println!(
        "  {start:04x}  {:<6} {indent}{what}{role}",
        header.join(" ")
    );
    match follows {
        Follows::Items(n) => {
            const TOP: [&str; 3] = [
                "uid: the publishing server",
                "packet: the Socket.IO event",
                "opts: to whom",
            ];
            for i in 0..n {
                let role = if depth == 0 {
                    TOP.get(i).copied()
                } else {
                    None
                };
                value(b, at, depth + 1, role.unwrap_or(""));
            }
        }
        Follows::Pairs(n) => {
            for _ in 0..n {
                let key = value(b, at, depth + 1, "");
                value(b, at, depth + 1, role_of(key.as_deref().unwrap_or("")));
            }
        }
        _ => {}
    }
    text
}

/// What follows a MessagePack header.
enum Follows {
    Nothing,
    Str(usize),
    Items(usize),
    Pairs(usize),
}
