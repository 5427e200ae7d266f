//! Lesson 12 from outside: real `netlab serve --redis` processes sharing
//! rooms through a real `redis-server`, and a Node Socket.IO server with
//! `@socket.io/redis-adapter` on the same Redis (the interop tier: a missing
//! `redis-server` or Node package fails it under `NETLAB_INTEROP=1`).

mod support;

use netlab::chat::protocol::{ClientEvent, ServerEvent};
use netlab::client::tcp::ChatClient;
use netlab::client::udp::{Incoming, UdpChatClient};
use netlab::cluster::message::Broadcast;
use netlab::ws::client::{connect as ws_connect, ClientConfig};
use netlab::ws::{Message as WsMessage, WebSocket};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};
use support::{netlab_bin, node_module_available, redis_available, RedisServer, Script, PATIENCE};

/// How long a client waits to be sure something does *not* arrive.
const QUIET: Duration = Duration::from_millis(400);

/// `netlab serve --redis URL` on free ports, its stderr read line by line.
struct Netlab {
    child: Child,
    tcp: String,
    /// `--udp`'s address, when given.
    udp: Option<String>,
    /// `--http`'s address, when given.
    http: Option<String>,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
}

impl Drop for Netlab {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Netlab {
    fn start(redis: &RedisServer, extra: &[&str]) -> Netlab {
        Self::start_url(&redis.url(), extra)
    }

    fn start_url(url: &str, extra: &[&str]) -> Netlab {
        let mut child = Command::new(netlab_bin())
            .args(["--color", "never", "serve", "--tcp", "127.0.0.1:0"])
            .args(["--redis", url])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("netlab runs");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut next = || {
            let a = support::read_listening_addr(&mut out);
            a.split_once("://")
                .map_or(a.clone(), |(_, rest)| rest.to_string())
        };
        let tcp = next();
        let udp = extra.contains(&"--udp").then(&mut next);
        let http = extra.contains(&"--http").then(&mut next);
        let stdout = lines_of(out);
        let stderr = lines_of(BufReader::new(child.stderr.take().unwrap()));
        Netlab {
            child,
            tcp,
            udp,
            http,
            stdout,
            stderr,
        }
    }

    /// Stops it with SIGTERM and returns its `--json` report.
    fn report(mut self) -> Value {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(self.child.wait().unwrap().success());
        let last = self.stdout.iter().last().expect("a report on stdout");
        serde_json::from_str(&last).unwrap_or_else(|e| panic!("{e}: {last}"))
    }

    /// Waits for a stderr line containing `text`; returns it.
    fn says(&self, text: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(l) if l.contains(text) => return l,
                Ok(_) => continue,
                Err(_) => panic!("the server never said {text:?}"),
            }
        }
    }
}

/// Every line `r` gives, through a channel (read on a thread of its own).
fn lines_of(r: impl BufRead + Send + 'static) -> Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for l in r.lines().map_while(Result::ok) {
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits until `n` servers are subscribed to the request channel.
fn subscribed(redis: &RedisServer, n: usize) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let out = redis.cli(&["PUBSUB", "NUMSUB", "socket.io-request#/#"]);
        if out
            .lines()
            .nth(1)
            .and_then(|l| l.trim().parse::<usize>().ok())
            == Some(n)
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{n} servers never subscribed: {out}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A TCP chat client named `nick`, in `rooms`.
async fn member(addr: &str, nick: &str, rooms: &[&str]) -> (ChatClient, String) {
    let mut c = ChatClient::connect(addr).await.unwrap();
    c.call(ClientEvent::Nick { nick: nick.into() })
        .await
        .unwrap();
    for r in rooms {
        c.call(ClientEvent::Join {
            room: r.to_string(),
            since: None,
        })
        .await
        .unwrap();
    }
    let id = c.id().to_hex();
    (c, id)
}

fn message(to: &[&str], except: &[&str], text: &str) -> ClientEvent {
    ClientEvent::Message {
        to: to.iter().map(|s| s.to_string()).collect(),
        except: except.iter().map(|s| s.to_string()).collect(),
        text: text.into(),
        include_self: false,
    }
}

/// The texts of the messages `c` receives, whatever shape they came in (a
/// netlab server's, or relayed from a Node one): waits up to [`PATIENCE`]
/// for `n` of them, then until it has been quiet for [`QUIET`], so one too
/// many is seen too.
async fn texts(c: &mut ChatClient, n: usize) -> Vec<String> {
    let mut got = Vec::new();
    loop {
        let wait = if got.len() < n { PATIENCE } else { QUIET };
        let Ok(e) = tokio::time::timeout(wait, c.next_event()).await else {
            return got;
        };
        match e.unwrap() {
            ServerEvent::Message { text, .. } => got.push(text),
            ServerEvent::Relayed(r) if r.name() == "message" => {
                got.push(r.0["text"].as_str().unwrap_or_default().to_string())
            }
            _ => {}
        }
    }
}

/// The next event of `c` that `pick` accepts.
async fn next_matching<T>(c: &mut ChatClient, pick: impl Fn(&ServerEvent) -> Option<T>) -> T {
    loop {
        let e = tokio::time::timeout(PATIENCE, c.next_event())
            .await
            .expect("in time")
            .unwrap();
        if let Some(t) = pick(&e) {
            return t;
        }
    }
}

#[test]
fn two_netlab_servers_share_rooms_and_every_routing_form_reaches_exactly_its_members() {
    if !redis_available() {
        return;
    }
    let redis = RedisServer::start();
    let (a, b) = (Netlab::start(&redis, &[]), Netlab::start(&redis, &[]));
    subscribed(&redis, 2);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (mut ana, _) = member(&a.tcp, "ana", &["lobby"]).await;
        let (mut dee, _) = member(&a.tcp, "dee", &[]).await;
        let (mut bo, _) = member(&b.tcp, "bo", &["lobby"]).await;
        let (mut cy, cy_id) = member(&b.tcp, "cy", &["lobby", "quiet"]).await;
        for c in [&mut ana, &mut dee, &mut bo, &mut cy] {
            texts(c, 0).await;
        }
        ana.call(message(&["lobby"], &[], "room")).await.unwrap();
        ana.call(message(&["lobby"], &["quiet"], "room but quiet"))
            .await
            .unwrap();
        ana.call(message(&[&cy_id], &[], "private to cy"))
            .await
            .unwrap();
        ana.call(message(&[], &[], "everyone")).await.unwrap();
        // Each gets exactly what was meant for it, once and in order.
        assert_eq!(
            texts(&mut bo, 3).await,
            ["room", "room but quiet", "everyone"]
        );
        assert_eq!(
            texts(&mut cy, 3).await,
            ["room", "private to cy", "everyone"]
        );
        assert_eq!(texts(&mut dee, 1).await, ["everyone"]);
        assert_eq!(texts(&mut ana, 0).await, Vec::<String>::new());
        // The other way, from B, with the sender's own server's member too.
        cy.call(message(&["lobby"], &[], "from b")).await.unwrap();
        assert_eq!(texts(&mut ana, 1).await, ["from b"]);
        assert_eq!(texts(&mut bo, 1).await, ["from b"]);
    });
}

/// `who room` from `c`: the members' (id, nick), sorted, and the answer's `partial`.
async fn who(c: &mut ChatClient, room: &str) -> (Vec<(String, String)>, Option<String>) {
    c.call(ClientEvent::Who { room: room.into() })
        .await
        .unwrap();
    next_matching(c, |e| match e {
        ServerEvent::Who {
            members, partial, ..
        } => {
            let mut m: Vec<(String, String)> = members
                .iter()
                .map(|m| (m.id.clone(), m.nick.clone()))
                .collect();
            m.sort();
            Some((m, partial.clone()))
        }
        _ => None,
    })
    .await
}

#[test]
fn who_asks_every_server_and_says_when_the_answer_is_partial() {
    if !redis_available() {
        return;
    }
    let redis = RedisServer::start();
    let a = Netlab::start(&redis, &["--redis-timeout", "300ms"]);
    let b = Netlab::start(&redis, &[]);
    subscribed(&redis, 2);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (mut ana, ana_id) = member(&a.tcp, "ana", &["lobby"]).await;
        let (_bo, bo_id) = member(&b.tcp, "bo", &["lobby"]).await;
        let (_cy, _) = member(&b.tcp, "cy", &["elsewhere"]).await;
        let mut want = vec![(ana_id, "ana".to_string()), (bo_id, "bo".to_string())];
        want.sort();
        assert_eq!(who(&mut ana, "lobby").await, (want.clone(), None));
        // A third "server" that listens for requests and never answers.
        let mut silent = std::net::TcpStream::connect(("127.0.0.1", redis.port)).unwrap();
        std::io::Write::write_all(
            &mut silent,
            b"*2\r\n$9\r\nSUBSCRIBE\r\n$20\r\nsocket.io-request#/#\r\n",
        )
        .unwrap();
        subscribed(&redis, 3);
        let (members, partial) = who(&mut ana, "lobby").await;
        assert_eq!(members, want, "what came in time is kept");
        assert_eq!(
            partial.as_deref(),
            Some("1 of 2 other servers did not answer within 300ms")
        );
    });
}

/// A small seeded generator (xorshift64*): the same seed, the same run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }

    fn coin(&mut self) -> bool {
        self.below(2) == 1
    }
}

/// Three servers, nine clients spread over them in random rooms, and random
/// messages of every routing form: each client receives exactly what the
/// one-server model (`chat::routing::recipients` over everyone's rooms)
/// says it should, each message once, and each sender's in the order sent.
#[test]
fn three_servers_deliver_exactly_what_one_server_would() {
    use netlab::chat::id::ConnId;
    use netlab::chat::routing::{recipients, Table};
    use netlab::chat::Target;
    use std::collections::BTreeSet;
    if !redis_available() {
        return;
    }
    const ROOMS: [&str; 3] = ["a", "b", "c"];
    let redis = RedisServer::start();
    let servers: Vec<Netlab> = (0..3).map(|_| Netlab::start(&redis, &[])).collect();
    subscribed(&redis, 3);
    let rt = tokio::runtime::Runtime::new().unwrap();
    for seed in [7u64, 1234, 99_991] {
        let mut rng = Rng(seed);
        rt.block_on(async {
            let mut clients = Vec::new();
            let mut table = Table::new();
            for i in 0..9 {
                let rooms: Vec<&str> = ROOMS.iter().copied().filter(|_| rng.coin()).collect();
                let at = &servers[rng.below(servers.len())].tcp;
                let (c, id) = member(at, &format!("u{i}"), &rooms).await;
                let id: ConnId = id.parse().unwrap();
                for r in &rooms {
                    table.entry(r.to_string()).or_default().insert(id);
                }
                clients.push((c, id, rooms));
            }
            for (c, _, _) in clients.iter_mut() {
                texts(c, 0).await;
            }
            let connected: Vec<ConnId> = clients.iter().map(|c| c.1).collect();
            // Who should get each message, by the one-server model.
            let mut expected: Vec<Vec<String>> = vec![Vec::new(); clients.len()];
            for n in 0..30 {
                let from = rng.below(clients.len());
                let (own, rooms) = (clients[from].1, clients[from].2.clone());
                let to: Vec<String> = match rng.below(3) {
                    0 => Vec::new(),
                    1 => rooms
                        .iter()
                        .filter(|_| rng.coin())
                        .map(|r| r.to_string())
                        .collect(),
                    _ => vec![connected[rng.below(connected.len())].to_hex()],
                };
                let except: Vec<String> = ROOMS
                    .iter()
                    .filter(|_| rng.below(4) == 0)
                    .map(|r| r.to_string())
                    .collect();
                let include_self = rng.coin();
                let text = format!("s{seed} m{n} from u{from}");
                let target = Target {
                    rooms: to.clone(),
                    except: except.clone(),
                    skip: (!include_self).then_some(own),
                    local: false,
                };
                let reach: BTreeSet<ConnId> = recipients(&table, &connected, &target);
                for (i, id) in connected.iter().enumerate() {
                    if reach.contains(id) {
                        expected[i].push(text.clone());
                    }
                }
                let ev = ClientEvent::Message {
                    to,
                    except,
                    text,
                    include_self,
                };
                clients[from].0.call(ev).await.unwrap();
            }
            for (i, (c, _, _)) in clients.iter_mut().enumerate() {
                let got = texts(c, expected[i].len()).await;
                // Order is kept per sender; across senders it may differ.
                let by_sender = |v: &[String], u: usize| -> Vec<String> {
                    v.iter()
                        .filter(|t| t.ends_with(&format!(" from u{u}")))
                        .cloned()
                        .collect()
                };
                for u in 0..9 {
                    assert_eq!(
                        by_sender(&got, u),
                        by_sender(&expected[i], u),
                        "seed {seed}: what u{i} got from u{u}"
                    );
                }
                assert_eq!(
                    got.len(),
                    expected[i].len(),
                    "seed {seed}: u{i} got {got:?}"
                );
            }
        });
    }
}

/// A WebSocket chat client on `/ws` in lobby, named `nick`.
async fn ws_member(http: &str, nick: &str) -> WebSocket<tokio::net::TcpStream> {
    let (mut ws, _) = ws_connect(&format!("ws://{http}/ws"), &ClientConfig::default())
        .await
        .unwrap();
    for (n, ev) in [
        json!({"event": "nick", "nick": nick, "ack": 1}),
        json!({"event": "join", "room": "lobby", "ack": 2}),
    ]
    .into_iter()
    .enumerate()
    {
        ws.send(&WsMessage::text(ev.to_string())).await.unwrap();
        let ack = ws_next(&mut ws, |v| (v["event"] == "ack").then(|| v.clone())).await;
        assert_eq!(
            (ack["ack"].as_u64(), &ack["ok"]),
            (Some(n as u64 + 1), &json!(true)),
            "{ack}"
        );
    }
    ws
}

/// The next JSON text message of `ws` that `pick` accepts.
async fn ws_next<T>(
    ws: &mut WebSocket<tokio::net::TcpStream>,
    pick: impl Fn(&Value) -> Option<T>,
) -> T {
    loop {
        let m = tokio::time::timeout(PATIENCE, ws.recv())
            .await
            .expect("in time")
            .unwrap()
            .expect("open");
        if let WsMessage::Text(t) = m {
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            if let Some(x) = pick(&v) {
                return x;
            }
        }
    }
}

/// The next message text a UDP client receives.
async fn udp_text(c: &mut UdpChatClient) -> String {
    loop {
        let got = tokio::time::timeout(PATIENCE, c.recv())
            .await
            .expect("in time")
            .unwrap();
        for inc in got {
            if let Incoming::Event(ServerEvent::Message { text, .. }) = inc {
                return text;
            }
        }
    }
}

/// TCP and UDP clients on one server, WebSocket and Socket.IO clients on the
/// other: each one's message reaches all three others, across Redis or not.
#[test]
fn every_transport_crosses_redis() {
    if !redis_available() || !node_module_available("socket.io-client") {
        return;
    }
    let redis = RedisServer::start();
    let a = Netlab::start(&redis, &["--udp", "127.0.0.1:0"]);
    let b = Netlab::start(&redis, &["--http", "127.0.0.1:0"]);
    subscribed(&redis, 2);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut sio = Script::start("sio_chat.js", &[b.http.as_deref().unwrap(), "default"]);
    sio.expect("ready");
    let (mut tina, _) = rt.block_on(member(&a.tcp, "tina", &["lobby"]));
    let mut uma = rt.block_on(async {
        let mut c = UdpChatClient::connect(a.udp.as_deref().unwrap())
            .await
            .unwrap();
        c.call(ClientEvent::Nick { nick: "uma".into() })
            .await
            .unwrap();
        c.call(ClientEvent::Join {
            room: "lobby".into(),
            since: None,
        })
        .await
        .unwrap();
        c
    });
    let mut wes = rt.block_on(ws_member(b.http.as_deref().unwrap(), "wes"));
    let ws_text =
        |v: &Value| (v["event"] == "message").then(|| v["text"].as_str().unwrap().to_string());

    rt.block_on(tina.call(message(&["lobby"], &[], "from tcp")))
        .unwrap();
    assert_eq!(sio.expect("message")["text"], "from tcp");
    rt.block_on(async {
        assert_eq!(udp_text(&mut uma).await, "from tcp");
        assert_eq!(ws_next(&mut wes, ws_text).await, "from tcp");
    });

    sio.send(r#"{"say":"from socket.io"}"#);
    rt.block_on(async {
        assert_eq!(texts(&mut tina, 1).await, ["from socket.io"]);
        assert_eq!(udp_text(&mut uma).await, "from socket.io");
        assert_eq!(ws_next(&mut wes, ws_text).await, "from socket.io");
    });

    rt.block_on(wes.send(&WsMessage::text(
        json!({"event": "message", "to": ["lobby"], "text": "from ws"}).to_string(),
    )))
    .unwrap();
    assert_eq!(sio.expect("message")["text"], "from ws");
    rt.block_on(async {
        assert_eq!(texts(&mut tina, 1).await, ["from ws"]);
        assert_eq!(udp_text(&mut uma).await, "from ws");
    });

    rt.block_on(uma.call(message(&["lobby"], &[], "from udp")))
        .unwrap();
    let m = sio.expect("message");
    assert_eq!(
        (&m["text"], &m["nick"]),
        (&json!("from udp"), &json!("uma")),
        "{m}"
    );
    rt.block_on(async {
        assert_eq!(texts(&mut tina, 1).await, ["from udp"]);
        assert_eq!(ws_next(&mut wes, ws_text).await, "from udp");
    });
    sio.send(r#"{"quit":true}"#);
}

#[test]
fn an_unreachable_redis_is_a_clear_error_unless_optional() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("redis://127.0.0.1:{port}");
    let out = Command::new(netlab_bin())
        .args([
            "--color",
            "never",
            "serve",
            "--tcp",
            "127.0.0.1:0",
            "--redis",
            &url,
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains(&format!("cannot reach Redis at {url}"))
            && err.contains("redis-server --port")
            && err.contains("--redis-optional"),
        "{err}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("listening"));
    if !redis_available() {
        return;
    }
    // Optional: it serves alone, says so, and joins when Redis comes.
    let alone = Netlab::start_url(&url, &["--redis-optional"]);
    alone.says("redis: cut off");
    let redis = RedisServer::start_on(port);
    alone.says("redis: back after");
    subscribed(&redis, 1);
}

#[test]
fn a_redis_restart_cuts_servers_off_visibly_and_they_come_back() {
    if !redis_available() {
        return;
    }
    let mut redis = RedisServer::start();
    let (a, b) = (Netlab::start(&redis, &[]), Netlab::start(&redis, &[]));
    subscribed(&redis, 2);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (mut ana, _) = member(&a.tcp, "ana", &["lobby"]).await;
        let (mut al, _) = member(&a.tcp, "al", &["lobby"]).await;
        let (mut bo, _) = member(&b.tcp, "bo", &["lobby"]).await;
        for c in [&mut ana, &mut al, &mut bo] {
            texts(c, 0).await;
        }
        redis.stop();
        a.says("redis: cut off");
        // Local delivery goes on; the other server is out of reach.
        ana.call(message(&["lobby"], &[], "while redis is away"))
            .await
            .unwrap();
        assert_eq!(texts(&mut al, 1).await, ["while redis is away"]);
        assert_eq!(texts(&mut bo, 0).await, Vec::<String>::new());
        let _redis = RedisServer::start_on(redis.port);
        let back = a.says("redis: back after");
        assert!(
            back.contains("broadcasts from here could not reach"),
            "{back}"
        );
        b.says("redis: back after");
        subscribed(&_redis, 2);
        ana.call(message(&["lobby"], &[], "after")).await.unwrap();
        assert_eq!(texts(&mut bo, 1).await, ["after"]);
    });
}

#[test]
fn hostile_messages_on_redis_are_counted_and_dropped() {
    if !redis_available() {
        return;
    }
    let redis = RedisServer::start();
    let a = Netlab::start(&redis, &["--redis-max-message", "1KiB", "--json"]);
    subscribed(&redis, 1);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (mut ana, _) = member(&a.tcp, "ana", &["lobby"]).await;
        texts(&mut ana, 0).await;
        let hostile: [(&str, Vec<u8>); 5] = [
            ("socket.io#/#", b"\xc1 not msgpack".to_vec()),
            ("socket.io#/#", vec![0xdd, 0xff, 0xff, 0xff, 0xff]),
            ("socket.io#/#", vec![0x91; 5000]),
            ("socket.io#/#", vec![0x91; 200]),
            ("socket.io-request#/#", br#"{"type":99,"uid":"x"}"#.to_vec()),
        ];
        for (channel, payload) in &hostile {
            assert_eq!(redis.publish(channel, payload), 1);
        }
        // A good message after them still arrives.
        let good = Broadcast {
            uid: "other".into(),
            nsp: "/".into(),
            data: vec![json!("message"), json!({"nick": "x", "text": "still here"})],
            rooms: vec!["lobby".into()],
            except: vec![],
        };
        redis.publish("socket.io#/#lobby#", &good.encode());
        assert_eq!(texts(&mut ana, 1).await, ["still here"]);
    });
    let line = a.says("redis: dropped a message (1 so far)");
    assert!(line.contains("MessagePack"), "{line}");
    let report = a.report();
    assert_eq!(report["redis"]["rejected"], 5, "{report}");
    assert_eq!(report["redis"]["received"], 1, "{report}");
}

#[test]
fn a_node_socketio_server_with_the_redis_adapter_shares_rooms_both_ways() {
    if !redis_available()
        || !node_module_available("socket.io")
        || !node_module_available("@socket.io/redis-adapter")
        || !node_module_available("@socket.io/redis-emitter")
    {
        return;
    }
    let redis = RedisServer::start();
    let a = Netlab::start(&redis, &[]);
    let mut node = Script::start("sio_redis.js", &[&redis.url()]);
    let nora = node.expect("ready")["id"].as_str().unwrap().to_string();
    subscribed(&redis, 2);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (mut tina, tina_id) = rt.block_on(member(&a.tcp, "tina", &["lobby"]));
    let (mut quinn, quinn_id) = rt.block_on(member(&a.tcp, "quinn", &["lobby", "quiet"]));
    rt.block_on(async {
        texts(&mut tina, 0).await;
        texts(&mut quinn, 0).await;
    });

    // netlab → Node: a room message, with the sender's fields.
    rt.block_on(tina.call(message(&["lobby"], &[], "from tcp")))
        .unwrap();
    let m = node.expect("message");
    assert_eq!(
        (&m["text"], &m["nick"], &m["from"], &m["to"]),
        (
            &json!("from tcp"),
            &json!("tina"),
            &json!(tina_id),
            &json!(["lobby"])
        ),
        "{m}"
    );
    assert_eq!(rt.block_on(texts(&mut quinn, 1)), ["from tcp"]);
    // Node → netlab, with `except`: quinn is in `quiet`.
    node.send(&json!({"say": "from node", "to": ["lobby"], "except": ["quiet"]}).to_string());
    rt.block_on(async {
        assert_eq!(texts(&mut tina, 1).await, ["from node"]);
        assert_eq!(texts(&mut quinn, 0).await, Vec::<String>::new());
    });
    // Private both ways: Node's server to tina's id; tina to nora's id.
    node.send(
        &json!({"emit": {"to": [tina_id], "data": {"nick": "server", "text": "just tina"}}})
            .to_string(),
    );
    rt.block_on(async {
        assert_eq!(texts(&mut tina, 1).await, ["just tina"]);
        assert_eq!(texts(&mut quinn, 0).await, Vec::<String>::new());
    });
    rt.block_on(tina.call(message(&[&nora], &[], "just nora")))
        .unwrap();
    assert_eq!(node.expect("message")["text"], "just nora");
    // @socket.io/redis-emitter from a plain Redis client.
    node.send(&json!({"emitter": {"to": ["lobby"], "data": {"nick": "cron", "text": "from the emitter"}}}).to_string());
    rt.block_on(async {
        assert_eq!(texts(&mut tina, 1).await, ["from the emitter"]);
    });

    // Node asks every server: netlab's members come back with their nicks.
    node.send(r#"{"fetch":"lobby"}"#);
    let f = node.expect("fetched");
    let mut ids: Vec<(String, String)> = f["sockets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_string(),
                s["data"]["nick"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    ids.sort();
    let mut want = vec![
        (nora.clone(), "nora".to_string()),
        (tina_id.clone(), "tina".to_string()),
        (quinn_id.clone(), "quinn".to_string()),
    ];
    want.sort();
    assert_eq!(ids, want, "{f}");
    node.send(r#"{"rooms":true}"#);
    let rooms = node.expect("rooms");
    for r in ["lobby", "quiet", &tina_id] {
        assert!(
            rooms["rooms"].as_array().unwrap().contains(&json!(r)),
            "{r}: {rooms}"
        );
    }

    // netlab asks every server too: nora's nick comes from her socket.data.
    let (members, partial) = rt.block_on(who(&mut tina, "lobby"));
    assert_eq!((members, partial), (want.clone(), None));

    // Node's server-side commands act on netlab's sockets.
    node.send(&json!({"join": {"in": tina_id, "room": "annex"}}).to_string());
    let room = rt.block_on(next_matching(&mut tina, |e| match e {
        ServerEvent::Joined { room, .. } => Some(room.clone()),
        _ => None,
    }));
    assert_eq!(room, "annex");
    node.send(&json!({"kick": quinn_id}).to_string());
    let bye = rt.block_on(next_matching(&mut quinn, |e| match e {
        ServerEvent::Bye { code, .. } => Some(code.to_string()),
        _ => None,
    }));
    assert_eq!(bye, "disconnected");
    node.send(r#"{"quit":true}"#);
    node.finish();
}
