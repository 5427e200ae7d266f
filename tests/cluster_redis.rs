//! Lesson 12 from outside: real `netlab serve --redis` processes sharing
//! rooms through a real `redis-server`, and a Node Socket.IO server with
//! `@socket.io/redis-adapter` on the same Redis (the interop tier: a missing
//! `redis-server` or Node package fails it under `NETLAB_INTEROP=1`).

mod support;

use netlab::chat::protocol::{ClientEvent, ServerEvent};
use netlab::client::tcp::ChatClient;
use netlab::cluster::message::Broadcast;
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
        let mut child = Command::new(netlab_bin())
            .args(["--color", "never", "serve", "--tcp", "127.0.0.1:0"])
            .args(["--redis", &redis.url()])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("netlab runs");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let tcp = support::read_listening_addr(&mut out)
            .trim_start_matches("tcp://")
            .to_string();
        let stdout = lines_of(out);
        let stderr = lines_of(BufReader::new(child.stderr.take().unwrap()));
        Netlab {
            child,
            tcp,
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
