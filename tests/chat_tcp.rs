//! The chat hub over real TCP sockets on loopback: many clients through the
//! library client, hostile and slow clients next to well-behaved ones, and
//! the limits at max and max + 1 as a remote client sees them; and the real
//! `netlab serve` under floods, stalls and trickles (issue 16).

mod support;

use bytes::BytesMut;
use netlab::chat::limits::Limits;
use netlab::chat::protocol::{ClientEvent, ErrorCode, ServerEvent};
use netlab::client::tcp::{AckOutcome, ChatClient};
use netlab::framing::encode_frame;
use netlab::transport::{tcp, ChatServer, ServerConfig, ServerNote};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Generous bound for "this must happen": a hang fails the test instead of
/// blocking it forever. Never used to assert speed.
const PATIENCE: Duration = Duration::from_secs(30);

async fn start(config: ServerConfig) -> (String, Arc<ChatServer>, Arc<Mutex<Vec<ServerNote>>>) {
    let notes = Arc::new(Mutex::new(Vec::new()));
    let sink = notes.clone();
    let server = Arc::new(
        ChatServer::new(config).with_observer(move |n| sink.lock().unwrap().push(n.clone())),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(tcp::serve(listener, server.clone()));
    (addr, server, notes)
}

fn message(to: &[&str], text: &str) -> ClientEvent {
    ClientEvent::Message {
        to: to.iter().map(|s| s.to_string()).collect(),
        except: vec![],
        text: text.into(),
        include_self: false,
    }
}

/// Reads events until one matches, or fails after PATIENCE.
async fn until(c: &mut ChatClient, mut want: impl FnMut(&ServerEvent) -> bool) -> ServerEvent {
    tokio::time::timeout(PATIENCE, async {
        loop {
            let e = c.next_event().await.expect("connection alive");
            if want(&e) {
                return e;
            }
        }
    })
    .await
    .expect("the expected event arrived")
}

fn text_of(e: &ServerEvent) -> Option<&str> {
    match e {
        ServerEvent::Message { text, .. } => Some(text),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_clients_in_two_rooms_each_get_exactly_their_rooms_messages() {
    let (addr, server, _) = start(ServerConfig::default()).await;
    let mut clients = Vec::new();
    for i in 0..40 {
        let mut c = ChatClient::connect(&addr).await.unwrap();
        let room = if i % 2 == 0 { "even" } else { "odd" };
        assert!(matches!(
            c.call(ClientEvent::Join {
                room: room.into(),
                since: None
            })
            .await
            .unwrap(),
            AckOutcome::Reached(_)
        ));
        clients.push(c);
    }
    // Every id is distinct.
    let ids: BTreeSet<_> = clients.iter().map(|c| c.id()).collect();
    assert_eq!(ids.len(), 40);
    assert_eq!(server.conn_count(), 40);

    // Client 0 speaks to "even" (20 members, 19 besides itself); client 1 to everyone.
    assert_eq!(
        clients[0]
            .call(message(&["even"], "to evens"))
            .await
            .unwrap(),
        AckOutcome::Reached(19)
    );
    assert_eq!(
        clients[1].call(message(&[], "to all")).await.unwrap(),
        AckOutcome::Reached(39)
    );
    for (i, c) in clients.iter_mut().enumerate() {
        let mut texts = Vec::new();
        // Read until the broadcast from client 1 (everyone but 1 gets it; 1 gets nothing more).
        if i == 1 {
            continue;
        }
        loop {
            let e = tokio::time::timeout(PATIENCE, c.next_event())
                .await
                .unwrap()
                .unwrap();
            if let Some(t) = text_of(&e) {
                texts.push(t.to_string());
                if t == "to all" {
                    break;
                }
            }
        }
        let expect: Vec<&str> = if i % 2 == 0 && i != 0 {
            vec!["to evens", "to all"]
        } else {
            vec!["to all"]
        };
        assert_eq!(texts, expect, "client {i}");
    }
}

#[tokio::test]
async fn a_private_message_reaches_one_id_and_names_the_sender() {
    let (addr, _, _) = start(ServerConfig::default()).await;
    let mut ana = ChatClient::connect(&addr).await.unwrap();
    let mut bob = ChatClient::connect(&addr).await.unwrap();
    let mut eve = ChatClient::connect(&addr).await.unwrap();
    let bob_id = bob.id().to_hex();
    assert_eq!(
        ana.call(message(&[&bob_id], "psst")).await.unwrap(),
        AckOutcome::Reached(1)
    );
    match until(&mut bob, |e| text_of(e).is_some()).await {
        ServerEvent::Message { from, to, .. } => {
            assert_eq!(from, ana.id());
            assert_eq!(to, vec![bob_id]);
        }
        _ => unreachable!(),
    }
    // Eve got nothing: her next event is the answer to her own question.
    eve.send_quiet(ClientEvent::Rooms).await.unwrap();
    assert!(matches!(
        eve.next_event().await.unwrap(),
        ServerEvent::Rooms { .. }
    ));
}

#[tokio::test]
async fn disconnect_is_seen_by_the_room_and_by_the_server_hooks_in_order() {
    let (addr, _, notes) = start(ServerConfig::default()).await;
    let mut ana = ChatClient::connect(&addr).await.unwrap();
    let mut bob = ChatClient::connect(&addr).await.unwrap();
    ana.call(ClientEvent::Join {
        room: "lobby".into(),
        since: None,
    })
    .await
    .unwrap();
    bob.call(ClientEvent::Join {
        room: "lobby".into(),
        since: None,
    })
    .await
    .unwrap();
    let bob_id = bob.id();
    drop(bob);
    match until(&mut ana, |e| matches!(e, ServerEvent::Left { .. })).await {
        ServerEvent::Left { id, room, .. } => assert_eq!((id, room.as_str()), (bob_id, "lobby")),
        _ => unreachable!(),
    }
    let notes = notes.lock().unwrap().clone();
    let mine: Vec<&ServerNote> = notes
        .iter()
        .filter(|n| matches!(n, ServerNote::Disconnecting { id, .. } | ServerNote::Disconnected { id, .. } if *id == bob_id))
        .collect();
    assert_eq!(mine.len(), 2, "{notes:?}");
    assert_eq!(
        mine[0],
        &ServerNote::Disconnecting {
            id: bob_id,
            rooms: vec![bob_id.to_hex(), "lobby".into()]
        }
    );
    assert!(matches!(mine[1], ServerNote::Disconnected { .. }));
}

/// Writes raw frames and reads until the server closes; returns every event.
async fn raw_session(addr: &str, frames: &[&[u8]]) -> Vec<ServerEvent> {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut buf = BytesMut::new();
    for f in frames {
        encode_frame(f, &mut buf, usize::MAX).unwrap();
    }
    s.write_all(&buf).await.unwrap();
    read_all_events(&mut s).await
}

async fn read_all_events(s: &mut TcpStream) -> Vec<ServerEvent> {
    let mut bytes = Vec::new();
    tokio::time::timeout(PATIENCE, s.read_to_end(&mut bytes))
        .await
        .expect("server closed")
        .unwrap();
    let mut src = BytesMut::from(&bytes[..]);
    let mut events = Vec::new();
    while let Some(f) = netlab::framing::decode_frame(&mut src, usize::MAX).unwrap() {
        events.push(serde_json::from_slice(&f).unwrap());
    }
    events
}

fn codes(events: &[ServerEvent]) -> Vec<ErrorCode> {
    events
        .iter()
        .filter_map(|e| match e {
            ServerEvent::Error { code, .. } | ServerEvent::Bye { code, .. } => Some(*code),
            ServerEvent::Ack {
                error: Some(code), ..
            } => Some(*code),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn hostile_frames_get_clear_errors_then_the_offender_alone_is_closed() {
    let config = ServerConfig {
        limits: Limits {
            max_strikes: 5,
            ..Limits::default()
        },
        ..ServerConfig::default()
    };
    let (addr, _, _) = start(config).await;
    let mut good = ChatClient::connect(&addr).await.unwrap();
    let events = raw_session(
        &addr,
        &[
            b"not json",
            br#"{"event":"teleport","ack":1}"#,
            br#"{"event":"join","room":"has space","ack":2}"#,
            br#"{"event":"nick","nick":"waaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaay too long"}"#,
            br#"{"event":"message","to":["secret"],"text":"let me in"}"#,
        ],
    )
    .await;
    assert_eq!(
        codes(&events),
        vec![
            ErrorCode::InvalidJson,
            ErrorCode::UnknownEvent,
            ErrorCode::InvalidRoom,
            ErrorCode::InvalidNick,
            ErrorCode::NotAMember,
            ErrorCode::TooManyStrikes
        ]
    );
    assert!(
        matches!(events.last(), Some(ServerEvent::Bye { .. })),
        "bye is the last word"
    );
    assert!(
        matches!(
            good.call(ClientEvent::Rooms).await.unwrap(),
            AckOutcome::Reached(1)
        ),
        "the good client goes on"
    );
}

#[tokio::test]
async fn frames_at_max_are_read_and_at_max_plus_one_close_the_connection() {
    let config = ServerConfig {
        max_frame: 200,
        ..ServerConfig::default()
    };
    let (addr, _, _) = start(config).await;
    let mut good = ChatClient::connect(&addr).await.unwrap();
    // Exactly 200 bytes of JSON: an unknown event padded to the limit, answered with an error.
    let mut at_max = br#"{"event":"pad","x":""#.to_vec();
    at_max.resize(200 - 2, b'p');
    at_max.extend_from_slice(br#""}"#);
    assert_eq!(at_max.len(), 200);
    let mut over = at_max.clone();
    over.insert(20, b'p');
    let events = raw_session(&addr, &[&at_max, &over]).await;
    assert_eq!(
        codes(&events),
        vec![ErrorCode::UnknownEvent, ErrorCode::FrameTooLong]
    );
    // A header announcing 4 GiB is refused from its 4 bytes.
    let mut s = TcpStream::connect(&addr).await.unwrap();
    s.write_all(&[0xff, 0xff, 0xff, 0xff]).await.unwrap();
    let events = read_all_events(&mut s).await;
    assert_eq!(codes(&events), vec![ErrorCode::FrameTooLong]);
    assert!(matches!(
        good.call(ClientEvent::Rooms).await.unwrap(),
        AckOutcome::Reached(1)
    ));
}

#[tokio::test]
async fn connections_are_limited_at_max_and_max_plus_one() {
    let config = ServerConfig {
        max_connections: 3,
        ..ServerConfig::default()
    };
    let (addr, _, _) = start(config).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(ChatClient::connect(&addr).await.expect("up to max is fine"));
    }
    let mut fourth = TcpStream::connect(&addr).await.unwrap();
    let events = read_all_events(&mut fourth).await;
    assert_eq!(codes(&events), vec![ErrorCode::ServerFull]);
    drop(held.pop());
    // Once one leaves there is room again (the server notices the close first).
    let again = tokio::time::timeout(PATIENCE, async {
        loop {
            if let Ok(c) = ChatClient::connect(&addr).await {
                return c;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(again.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_and_a_flooder_do_not_hurt_the_others() {
    const MAX_QUEUE: usize = 64;
    const MESSAGES: usize = 3000;
    // 3,000 x 6 KB = 18 MB: more than the kernel's largest send buffer
    // (tcp_wmem max, 4 MiB by default) can hide for the slow reader.
    const TEXT: usize = 6000;
    let config = ServerConfig {
        max_queue: MAX_QUEUE,
        limits: Limits {
            rate: 10_000,
            burst: MESSAGES as u32 + 100,
            max_strikes: 5,
            max_text: TEXT + 8,
            ..Limits::default()
        },
        ..ServerConfig::default()
    };
    let (addr, server, _) = start(config).await;

    // The slow reader joins the room, then reads nothing until the end. Its
    // small receive buffer makes the kernel hold little for it, so the
    // server's queue is what fills.
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.set_recv_buffer_size(4096).unwrap();
    let stream = sock.connect(addr.parse().unwrap()).await.unwrap();
    let mut slow = ChatClient::with_stream(stream).await.unwrap();
    slow.call(ClientEvent::Join {
        room: "busy".into(),
        since: None,
    })
    .await
    .unwrap();

    // Five well-behaved listeners, counting what they received.
    let mut progress = Vec::new();
    let mut listeners = Vec::new();
    for _ in 0..5 {
        let mut c = ChatClient::connect(&addr).await.unwrap();
        c.call(ClientEvent::Join {
            room: "busy".into(),
            since: None,
        })
        .await
        .unwrap();
        let mine = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        progress.push(mine.clone());
        listeners.push(tokio::spawn(async move {
            let mut got = Vec::with_capacity(MESSAGES);
            while got.len() < MESSAGES {
                let e = tokio::time::timeout(PATIENCE, c.next_event())
                    .await
                    .expect("keeps receiving")
                    .unwrap();
                assert!(
                    !matches!(e, ServerEvent::Dropped { .. }),
                    "a reading client lost events"
                );
                if let Some(t) = text_of(&e) {
                    got.push(t[..8].to_string());
                    mine.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
            got
        }));
    }

    // The flooder: 20,000 frames in one write, never reading.
    let mut flood = TcpStream::connect(&addr).await.unwrap();
    let flood_task = tokio::spawn(async move {
        let mut buf = BytesMut::new();
        for _ in 0..20_000 {
            encode_frame(br#"{"event":"rooms"}"#, &mut buf, usize::MAX).unwrap();
        }
        let _ = flood.write_all(&buf).await;
        read_all_events(&mut flood).await
    });

    // The sender: 3,000 messages of 6 KB (18 MB) to the room, at the pace of
    // the readers (never more than 2 x WINDOW < MAX_QUEUE ahead of the
    // slowest of them), as a conversation goes.
    const WINDOW: usize = 25;
    let mut sender = ChatClient::connect(&addr).await.unwrap();
    sender
        .call(ClientEvent::Join {
            room: "busy".into(),
            since: None,
        })
        .await
        .unwrap();
    let pad = "x".repeat(TEXT);
    for i in 0..MESSAGES {
        if i % WINDOW == 0 && i >= WINDOW {
            let behind = i - WINDOW;
            tokio::time::timeout(PATIENCE, async {
                while progress
                    .iter()
                    .any(|p| p.load(std::sync::atomic::Ordering::Relaxed) < behind)
                {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            })
            .await
            .expect("the listeners keep up");
        }
        sender
            .send_quiet(message(&["busy"], &format!("{i:08}{pad}")))
            .await
            .unwrap();
    }
    let expect: Vec<String> = (0..MESSAGES).map(|i| format!("{i:08}")).collect();
    for l in listeners {
        assert_eq!(
            l.await.unwrap(),
            expect,
            "every listener got every message, in order"
        );
    }

    // The flooder was told, then cut off; its last word is a bye.
    let flood_events = flood_task.await.unwrap();
    assert!(codes(&flood_events).contains(&ErrorCode::RateLimited));
    assert!(
        matches!(
            flood_events.last(),
            Some(ServerEvent::Bye {
                code: ErrorCode::TooManyStrikes,
                ..
            })
        ),
        "{:?}",
        flood_events.last()
    );

    // The server never queued more than MAX_QUEUE events for anyone.
    assert!(
        server.peak_queue() <= MAX_QUEUE,
        "peak {}",
        server.peak_queue()
    );
    assert!(server.dropped() > 0, "the slow reader's queue overflowed");

    // The slow reader now reads: a dropped notice, and the newest message is there.
    let mut saw_dropped = 0;
    let mut last = String::new();
    while last != expect[MESSAGES - 1] {
        match tokio::time::timeout(PATIENCE, slow.next_event())
            .await
            .unwrap()
            .unwrap()
        {
            ServerEvent::Dropped { count } => saw_dropped += count,
            ServerEvent::Message { text, .. } => last = text[..8].to_string(),
            _ => {}
        }
    }
    assert!(saw_dropped > 0, "the slow reader was told what it missed");
}

/// A client that sends without pause keeps its connection's read loop always
/// ready. The server must still get round to writing that client's acks back
/// *while* it sends (before the fix, not one arrived until the client paused).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_never_pauses_still_gets_acks_while_it_sends() {
    use std::io::{Read, Write};
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let mut config = ServerConfig::default();
    config.limits.rate = 10_000_000;
    config.limits.burst = 10_000_000;
    let (addr, _server, _) = start(config).await;
    let acks_while_sending = tokio::task::spawn_blocking(move || {
        let mut tx = std::net::TcpStream::connect(&addr).unwrap();
        let mut rx = tx.try_clone().unwrap();
        let sending = Arc::new(AtomicBool::new(true));
        let during = Arc::new(AtomicU64::new(0));
        let (s, d) = (sending.clone(), during.clone());
        let reader = std::thread::spawn(move || {
            let mut buf = BytesMut::new();
            let mut chunk = [0u8; 65536];
            while let Ok(n) = rx.read(&mut chunk) {
                if n == 0 || !s.load(Ordering::SeqCst) {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
                while let Ok(Some(f)) = netlab::framing::decode_frame(&mut buf, usize::MAX) {
                    if f.starts_with(br#"{"event":"ack""#) && s.load(Ordering::SeqCst) {
                        d.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }
        });
        let mut batch = BytesMut::new();
        encode_frame(
            br#"{"event":"join","room":"lobby"}"#,
            &mut batch,
            usize::MAX,
        )
        .unwrap();
        for i in 0..1000u64 {
            let json = format!(r#"{{"event":"message","to":["lobby"],"text":"m","ack":{i}}}"#);
            encode_frame(json.as_bytes(), &mut batch, usize::MAX).unwrap();
        }
        let give_up = std::time::Instant::now() + Duration::from_secs(10);
        while during.load(Ordering::SeqCst) == 0 && std::time::Instant::now() < give_up {
            tx.write_all(&batch).unwrap();
        }
        sending.store(false, Ordering::SeqCst);
        let n = during.load(Ordering::SeqCst);
        let _ = tx.shutdown(std::net::Shutdown::Both); // wakes the reader
        let _ = reader.join();
        n
    })
    .await
    .unwrap();
    assert!(
        acks_while_sending > 0,
        "no ack came back in 10 s while the client kept sending: its writer is starved"
    );
}

// ---------------------------------------------------------------------------
// The real binary against hostile clients (issue 16).

/// `netlab serve` on port 0 (TCP, and HTTP), heartbeats off unless `extra`
/// says otherwise; killed when dropped.
struct Binary {
    child: std::process::Child,
    tcp: String,
    http: String,
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary(extra: &[&str]) -> Binary {
    use std::io::BufRead;
    let mut args = vec![
        "serve",
        "--tcp",
        "127.0.0.1:0",
        "--http",
        "127.0.0.1:0",
        "--quiet",
    ];
    args.extend_from_slice(extra);
    let (child, tcp, mut out) = support::start_listening(&args);
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let http = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected line {line:?}"))
        .to_string();
    std::thread::spawn(move || for _ in out.lines() {});
    Binary {
        child,
        tcp: tcp.trim_start_matches("tcp://").to_string(),
        http,
    }
}

/// A raw chat connection: length-prefixed JSON, read and written by hand.
struct RawChat {
    s: TcpStream,
    inbox: BytesMut,
}

impl RawChat {
    async fn open(addr: &str) -> RawChat {
        Self::wrap(TcpStream::connect(addr).await.unwrap()).await
    }

    /// Wraps a connected socket and reads its welcome.
    async fn wrap(s: TcpStream) -> RawChat {
        let mut c = RawChat {
            s,
            inbox: BytesMut::new(),
        };
        let welcome = c.next().await.expect("a welcome");
        assert_eq!(welcome["event"], "welcome", "{welcome}");
        c
    }

    /// The next event, or None once the server closed the connection.
    async fn next(&mut self) -> Option<serde_json::Value> {
        tokio::time::timeout(PATIENCE, async {
            loop {
                if let Some(f) = netlab::framing::decode_frame(&mut self.inbox, 1 << 20).unwrap() {
                    return Some(serde_json::from_slice(&f).unwrap());
                }
                match self.s.read_buf(&mut self.inbox).await {
                    Ok(0) | Err(_) => return None,
                    Ok(_) => {}
                }
            }
        })
        .await
        .expect("an event or the close")
    }

    /// Events until a `bye`; returns its code, having seen the connection close after it.
    async fn bye_code(&mut self) -> String {
        loop {
            match self.next().await {
                Some(e) if e["event"] == "bye" => {
                    assert_eq!(self.next().await, None, "closed after the bye");
                    return e["code"].as_str().unwrap().to_string();
                }
                Some(_) => {}
                None => panic!("closed without a bye"),
            }
        }
    }

    /// Waits for the answer to ack `n`.
    async fn acked(&mut self, n: u64) -> serde_json::Value {
        loop {
            let e = self.next().await.expect("still connected");
            if e["event"] == "ack" && e["ack"] == n {
                return e;
            }
        }
    }
}

fn raw_frame(json: &str) -> Vec<u8> {
    let mut out = BytesMut::new();
    encode_frame(json.as_bytes(), &mut out, usize::MAX).unwrap();
    out.to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_closes_a_stalled_or_trickled_frame_with_bye_frame_timeout() {
    let server = binary(&["--frame-timeout", "300ms", "--heartbeat", "0"]);
    let mut stalled = RawChat::open(&server.tcp).await;
    stalled
        .s
        .write_all(&[0, 0, 0, 50, b'{', b'"'])
        .await
        .unwrap();
    let mut trickle = RawChat::open(&server.tcp).await;
    trickle.s.write_all(&[0, 0, 3, 0xe8]).await.unwrap();
    let (mut rd, mut wr) = trickle.s.into_split();
    let trickling = tokio::spawn(async move {
        for _ in 0..1000 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if wr.write_all(b" ").await.is_err() {
                return;
            }
        }
    });
    assert_eq!(stalled.bye_code().await, "frame_timeout");
    let mut seen = trickle.inbox;
    let bye = tokio::time::timeout(PATIENCE, async {
        loop {
            while let Some(f) = netlab::framing::decode_frame(&mut seen, 1 << 20).unwrap() {
                let e: serde_json::Value = serde_json::from_slice(&f).unwrap();
                if e["event"] == "bye" {
                    return e;
                }
            }
            assert!(
                rd.read_buf(&mut seen).await.unwrap_or(0) > 0,
                "closed without a bye"
            );
        }
    })
    .await
    .expect("the trickle is cut off (it would take 100 s)");
    assert_eq!(bye["code"], "frame_timeout", "{bye}");
    trickling.abort();
    // A frame in two halves within the timeout is served; a pause longer
    // than the timeout between frames is fine.
    let mut prompt = RawChat::open(&server.tcp).await;
    let f = raw_frame(r#"{"event":"rooms","ack":1}"#);
    prompt.s.write_all(&f[..7]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    prompt.s.write_all(&f[7..]).await.unwrap();
    assert_eq!(prompt.acked(1).await["ok"], true);
    tokio::time::sleep(Duration::from_millis(600)).await;
    prompt
        .s
        .write_all(&raw_frame(r#"{"event":"rooms","ack":2}"#))
        .await
        .unwrap();
    assert_eq!(prompt.acked(2).await["ok"], true);
}

/// N clients each send half of an 8 MiB frame to a hub with a 32 MiB
/// budget: four fit, the others get `bye memory_full` at once; the four
/// finish and are answered, a fresh client is served, and the server never
/// held anything like N × 4 MiB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_refuses_frames_past_its_memory_budget_with_bye_memory_full() {
    const N: usize = 30;
    const FRAME: usize = 8 * 1024 * 1024;
    let server = binary(&[
        "--max-frame",
        "8MiB",
        "--max-memory",
        "32MiB",
        "--frame-timeout",
        "0",
        "--heartbeat",
        "0",
    ]);
    let pid = server.child.id();
    // A `rooms` event padded with spaces to 8 MiB: valid JSON.
    let mut json = br#"{"event":"rooms","ack":7}"#.to_vec();
    json.resize(FRAME, b' ');
    let whole = raw_frame(std::str::from_utf8(&json).unwrap());
    let half = whole.len() / 2;
    let mut clients = Vec::new();
    for _ in 0..N {
        let mut c = RawChat::open(&server.tcp).await;
        let _ = c.s.write_all(&whole[..half]).await;
        clients.push(c);
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut writers = Vec::new();
    for (i, c) in clients.into_iter().enumerate() {
        let (mut rd, wr) = c.s.into_split();
        let mut inbox = c.inbox;
        let tx = tx.clone();
        tokio::spawn(async move {
            loop {
                while let Some(f) = netlab::framing::decode_frame(&mut inbox, 1 << 20).unwrap() {
                    let e: serde_json::Value = serde_json::from_slice(&f).unwrap();
                    if e["event"] == "bye" || e["event"] == "ack" {
                        let _ = tx.send((i, e));
                        return;
                    }
                }
                if rd.read_buf(&mut inbox).await.unwrap_or(0) == 0 {
                    let _ = tx.send((i, serde_json::Value::Null));
                    return;
                }
            }
        });
        writers.push(wr);
    }
    let mut refused = BTreeSet::new();
    tokio::time::timeout(PATIENCE, async {
        while refused.len() < N - 4 {
            let (i, e) = rx.recv().await.unwrap();
            assert_eq!(e["code"], "memory_full", "connection {i}: {e}");
            refused.insert(i);
        }
    })
    .await
    .expect("the refusals arrive");
    let rss = support::rss_bytes(pid);
    assert!(
        rss < 96 * 1024 * 1024,
        "the server holds {} MiB; {N} half frames would be {} MiB",
        rss >> 20,
        (N * half) >> 20
    );
    for (i, wr) in writers.iter_mut().enumerate() {
        if !refused.contains(&i) {
            wr.write_all(&whole[half..]).await.unwrap();
        }
    }
    for _ in 0..4 {
        let (i, e) = tokio::time::timeout(PATIENCE, rx.recv())
            .await
            .expect("the answers arrive")
            .unwrap();
        assert_eq!(
            (e["event"].as_str(), e["ok"].as_bool()),
            (Some("ack"), Some(true)),
            "connection {i}: {e}"
        );
    }
    let mut fresh = RawChat::open(&server.tcp).await;
    fresh
        .s
        .write_all(&raw_frame(r#"{"event":"rooms","ack":1}"#))
        .await
        .unwrap();
    assert_eq!(fresh.acked(1).await["ok"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_caps_connections_per_address_across_tcp_and_http() {
    let server = binary(&["--max-per-ip", "2", "--heartbeat", "0"]);
    let _a = RawChat::wrap(support::connect_from("127.0.0.1", &server.tcp).await).await;
    let _b = RawChat::wrap(support::connect_from("127.0.0.1", &server.tcp).await).await;
    // One past the cap: a `bye address_full`, then the close.
    let mut c = RawChat {
        s: support::connect_from("127.0.0.1", &server.tcp).await,
        inbox: BytesMut::new(),
    };
    assert_eq!(c.bye_code().await, "address_full");
    // The HTTP listener counts the same address: 503.
    let get = |from: &'static str| {
        let http = server.http.clone();
        async move {
            let mut s = support::connect_from(from, &http).await;
            s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .unwrap();
            let mut answer = Vec::new();
            let _ = tokio::time::timeout(PATIENCE, s.read_to_end(&mut answer)).await;
            String::from_utf8_lossy(&answer).to_string()
        }
    };
    let busy = get("127.0.0.1").await;
    assert!(busy.starts_with("HTTP/1.1 503 "), "{busy}");
    assert!(busy.contains("--max-per-ip"), "{busy}");
    // Another address gets in on both.
    let _d = RawChat::wrap(support::connect_from("127.0.0.2", &server.tcp).await).await;
    let page = get("127.0.0.2").await;
    assert!(page.starts_with("HTTP/1.1 200 "), "{page}");
}

#[test]
fn serve_logs_accept_failures_once_per_episode_not_every_50_ms() {
    support::accept_failures_are_logged_once_per_episode(&[
        "serve",
        "--tcp",
        "127.0.0.1:0",
        "--heartbeat",
        "0",
    ]);
}

/// Nicknames are unique per server, whatever the case: a nick held by a live
/// connection, or by a detached session that may still be resumed, is refused
/// with `nick_taken`; it is free again once its holder is gone for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nick_is_held_by_one_live_or_detached_session_at_a_time() {
    let config = ServerConfig {
        history: netlab::chat::history::HistoryConfig {
            len: 10,
            ..Default::default()
        },
        ..ServerConfig::default()
    };
    let (addr, server, _) = start(config).await;
    let nick = |n: &str| ClientEvent::Nick { nick: n.into() };
    let mut ana = ChatClient::connect(&addr).await.unwrap();
    let mut eve = ChatClient::connect(&addr).await.unwrap();
    assert_ne!(ana.nick(), eve.nick(), "guest nicks differ");
    assert!(matches!(
        ana.call(nick("ana")).await.unwrap(),
        AckOutcome::Reached(_)
    ));
    for taken in ["ana", "Ana", "ANA"] {
        match eve.call(nick(taken)).await.unwrap() {
            AckOutcome::Refused(code, why) => {
                assert_eq!(code, ErrorCode::NickTaken);
                assert!(why.contains(&format!("`{taken}` is taken")), "{why}");
            }
            other => panic!("{taken}: {other:?}"),
        }
    }
    // Nor can eve take the guest nick someone else was given.
    let guest = ChatClient::connect(&addr).await.unwrap();
    assert!(matches!(
        eve.call(nick(guest.nick())).await.unwrap(),
        AckOutcome::Refused(ErrorCode::NickTaken, _)
    ));
    // (Refusals are strikes: an accepted event clears them.)
    assert!(matches!(
        eve.call(nick("eve")).await.unwrap(),
        AckOutcome::Reached(_)
    ));
    // Her own name in another case is hers to take.
    assert!(matches!(
        ana.call(nick("Ana")).await.unwrap(),
        AckOutcome::Reached(_)
    ));
    // Ana's connection dies: her session is detached, resumable, and keeps the name.
    let ana_id = ana.id();
    drop(ana);
    tokio::time::timeout(PATIENCE, async {
        while !server.with_hub(|h| h.is_detached(ana_id)) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the session is detached");
    assert!(matches!(
        eve.call(nick("ana")).await.unwrap(),
        AckOutcome::Refused(ErrorCode::NickTaken, _)
    ));
    // The guest leaves for good (it never did anything: removed at once).
    let guest_nick = guest.nick().to_string();
    let guest_id = guest.id();
    drop(guest);
    tokio::time::timeout(PATIENCE, async {
        while server.with_hub(|h| h.nick(guest_id).is_some()) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the guest is gone");
    assert!(matches!(
        eve.call(nick(&guest_nick)).await.unwrap(),
        AckOutcome::Reached(_)
    ));
}

/// Gap 1 of issue 16 from outside: `serve --history 200 --max-memory 2MiB`
/// while one client floods 20 rooms with 4 KiB messages (about 9 MB, far
/// past the history's half of the budget, far below 200 per room). The
/// history evicts its oldest events and stays within its share; the server
/// keeps serving: a late joiner asking for everything gets `gap` (evicted
/// for memory) and then the newest events with their seqs in order, live
/// messages flow, and live traffic still has the other half of the budget.
/// At SIGTERM, `--json` reports all of it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_keeps_its_history_within_the_memory_budget_and_reports_it_as_json() {
    const ROOMS: usize = 20;
    const PER_ROOM: usize = 100;
    const TEXT: usize = 4000;
    const MIB: u64 = 1024 * 1024;
    let mut server = support::JsonServer::start(&[
        "serve",
        "--tcp",
        "127.0.0.1:0",
        "--quiet",
        "--json",
        "--history",
        "200",
        "--max-memory",
        "2MiB",
        "--max-frame",
        "2MiB",
        "--rate",
        "100000",
        "--burst",
        "100000",
        "--heartbeat",
        "0",
        "--frame-timeout",
        "0",
    ]);
    // A watcher in r0 counts the flood's messages there as they arrive.
    let mut watcher = RawChat::open(&server.addr).await;
    watcher
        .s
        .write_all(&raw_frame(r#"{"event":"join","room":"r0","ack":1}"#))
        .await
        .unwrap();
    watcher.acked(1).await;
    // The flooder joins every room, then sends PER_ROOM messages to each.
    let flooder = RawChat::open(&server.addr).await;
    let mut wire = Vec::new();
    let mut ack = 0;
    for r in 0..ROOMS {
        ack += 1;
        wire.extend(raw_frame(&format!(
            r#"{{"event":"join","room":"r{r}","ack":{ack}}}"#
        )));
    }
    for i in 0..PER_ROOM {
        for r in 0..ROOMS {
            ack += 1;
            let text = format!("r{r}-{i} {}", ".".repeat(TEXT));
            wire.extend(raw_frame(&format!(
                r#"{{"event":"message","to":["r{r}"],"text":"{text}","ack":{ack}}}"#
            )));
        }
    }
    let last_ack = ack;
    let (mut rd, mut wr) = flooder.s.into_split();
    let mut inbox = flooder.inbox;
    let writing = tokio::spawn(async move {
        wr.write_all(&wire).await.unwrap();
        wr
    });
    tokio::time::timeout(PATIENCE, async {
        loop {
            while let Some(f) = netlab::framing::decode_frame(&mut inbox, 1 << 20).unwrap() {
                let e: serde_json::Value = serde_json::from_slice(&f).unwrap();
                if e["event"] == "ack" {
                    assert_eq!(e["ok"], true, "{e}");
                    if e["ack"] == last_ack {
                        return;
                    }
                }
            }
            assert!(rd.read_buf(&mut inbox).await.unwrap() > 0, "flooder closed");
        }
    })
    .await
    .expect("every message is answered");
    let _flooder_wr = writing.await.unwrap();
    let mut seen = 0;
    while seen < PER_ROOM {
        let e = watcher.next().await.expect("the watcher is served");
        if e["event"] == "message" {
            seen += 1;
        }
    }

    // A late joiner asks r0 for everything: a gap, then the newest, in order.
    let mut late = RawChat::open(&server.addr).await;
    late.s
        .write_all(&raw_frame(
            r#"{"event":"join","room":"r0","since":0,"ack":1}"#,
        ))
        .await
        .unwrap();
    let mut replay = Vec::new();
    loop {
        let e = late.next().await.expect("still connected");
        if e["event"] == "ack" && e["ack"] == 1 {
            break;
        }
        replay.push(e);
    }
    let gap = replay
        .iter()
        .find(|e| e["event"] == "gap")
        .unwrap_or_else(|| {
            let kinds: Vec<_> = replay.iter().map(|e| &e["event"]).collect();
            panic!("a gap first: {kinds:?}")
        });
    assert_eq!(gap["key"], "r0");
    assert_eq!(gap["from"], 1);
    let message = gap["message"].as_str().unwrap();
    assert!(message.contains("evicted"), "{message}");
    assert!(message.contains("--max-memory"), "{message}");
    // (The late joiner's own `joined` follows the replay, with seq last + 1.)
    let seqs: Vec<u64> = replay
        .iter()
        .filter(|e| e["event"] == "message")
        .filter_map(|e| e["seq"]["r0"].as_u64())
        .collect();
    let kept_from = gap["kept_from"].as_u64().unwrap();
    assert!(seqs.len() > 1, "some of r0 is kept: {seqs:?}");
    assert_eq!(seqs[0], kept_from, "the replay starts where the gap ends");
    // r0 recorded the watcher's and the flooder's `joined`, then PER_ROOM messages.
    let last = 2 + PER_ROOM as u64;
    assert_eq!(
        seqs,
        (kept_from..=last).collect::<Vec<_>>(),
        "the newest, each once, in order"
    );
    assert_eq!(gap["to"].as_u64(), Some(kept_from - 1));

    // Live messages still flow.
    late.s
        .write_all(&raw_frame(
            r#"{"event":"message","to":["r0"],"text":"still here","ack":2}"#,
        ))
        .await
        .unwrap();
    late.acked(2).await;
    loop {
        let e = watcher.next().await.expect("the watcher is served");
        if e["text"] == "still here" {
            assert_eq!(e["seq"]["r0"], last + 2, "after the late joiner's `joined`");
            break;
        }
    }
    // A frame of 800 KiB fits in the half the history leaves; one of
    // 1.9 MiB does not: `bye memory_full`, and only that client goes.
    for (size, refused) in [(800 * 1024, false), (1900 * 1024, true)] {
        let mut c = RawChat::open(&server.addr).await;
        let mut json = br#"{"event":"rooms","ack":7}"#.to_vec();
        json.resize(size, b' ');
        let _ =
            c.s.write_all(&raw_frame(std::str::from_utf8(&json).unwrap()))
                .await;
        if refused {
            assert_eq!(c.bye_code().await, "memory_full");
        } else {
            assert_eq!(c.acked(7).await["ok"], true);
        }
    }

    let report = server.stop("TERM");
    let h = &report["history"];
    let max = h["max_bytes"].as_u64().unwrap();
    assert_eq!(max, MIB, "half of --max-memory: {report}");
    assert!(h["peak_bytes"].as_u64().unwrap() <= max, "{report}");
    assert!(h["bytes"].as_u64().unwrap() <= max, "{report}");
    assert!(h["evicted"].as_u64().unwrap() > 0, "{report}");
    assert!(h["events"].as_u64().unwrap() > 0, "{report}");
    let m = &report["memory_budget"];
    assert_eq!(m["limit"], 2 * MIB, "{report}");
    assert!(m["peak"].as_u64().unwrap() <= 2 * MIB, "{report}");
    let c = &report["connections"];
    assert_eq!(c["accepted"], 5, "{report}");
    assert_eq!(c["refused"]["memory"], 1, "{report}");
    assert_eq!(c["refused"]["per_ip"], 0, "{report}");
    assert_eq!(c["refused"]["full"], 0, "{report}");
    assert!(
        report["delivered"]["events"].as_u64().unwrap() >= PER_ROOM as u64,
        "{report}"
    );
}
