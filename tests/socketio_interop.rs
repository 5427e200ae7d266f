//! Socket.IO as it really runs, with real peers (the interop tier): an
//! unmodified Node `socket.io-client` v4 with default options — HTTP
//! long-polling first, then the upgrade — chatting with a netlab TCP client
//! and surviving a server restart; the same client on polling only; Socket.IO's
//! own connection-state recovery across a cut; binary attachments on both
//! transports; namespaces; and headless Chromium running the client's browser
//! bundle in polling mode from another origin. The scripts are in
//! tests/interop/sio_*.js (each says what it prints); under `NETLAB_INTEROP=1`
//! a missing peer fails these tests, elsewhere they say loudly what they skip.

mod support;

use netlab::chat::protocol::ServerEvent;
use netlab::client::tcp::{AckOutcome, ChatClient};
use serde_json::json;
use std::process::Command;
use std::time::Duration;
use support::{
    chromium_available, node_module_available, say, serve, serve_on, tcp_member, tcp_sees, Proxy,
    Script, PATIENCE,
};

/// One chat exchange both ways between the script's client and a TCP member
/// of lobby: TCP → Socket.IO (arriving on `transport`), Socket.IO → TCP
/// (acked as reaching one connection).
fn chat_both_ways(
    rt: &tokio::runtime::Runtime,
    node: &mut Script,
    tcp: &mut ChatClient,
    words: &str,
    transport: &str,
) {
    let to_sio = format!("{words}, from tcp");
    let outcome = rt.block_on(tcp.call(say(&to_sio))).unwrap();
    assert_eq!(outcome, AckOutcome::Reached(1), "{to_sio}");
    let m = node.expect("message");
    assert_eq!(
        (m["text"].as_str(), m["nick"].as_str(), m["to"].clone()),
        (Some(to_sio.as_str()), Some("tina"), json!(["lobby"])),
        "{m}"
    );
    assert_eq!(m["transport"], transport, "{m}");
    let to_tcp = format!("{words}, from socket.io");
    node.send(&json!({ "say": to_tcp }).to_string());
    assert_eq!(rt.block_on(tcp_sees(tcp, &to_tcp)), "sio");
    let acked = node.expect("acked");
    assert_eq!(acked["ack"], json!({"ok": true, "reached": 1}), "{acked}");
}

/// The client script in `mode` chats, the server is restarted on the same
/// port, the client reconnects by itself and chats again.
fn chat_survives_a_restart(mode: &str, transport: &str) {
    let server = serve(&[]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut tcp = rt.block_on(tcp_member(&server.tcp, Some("tina"), "lobby"));
    let mut node = Script::start("sio_chat.js", &[&server.http, mode]);
    let ready = node.expect("ready");
    assert_eq!(
        (ready["first"].as_str(), ready["now"].as_str()),
        (Some("polling"), Some(transport)),
        "first polling, then {transport}: {ready}"
    );
    chat_both_ways(&rt, &mut node, &mut tcp, "hello", transport);

    // The server goes away and comes back on the same port, knowing nothing.
    let http = server.http.clone();
    drop(tcp);
    drop(server);
    let gone = node.expect("disconnect");
    assert_ne!(
        gone["reason"], "io client disconnect",
        "the server went: {gone}"
    );
    std::thread::sleep(Duration::from_millis(300));
    let again = serve_on(&http, &[]);
    let ready = node.expect("ready");
    assert_eq!(
        (ready["first"].as_str(), ready["now"].as_str()),
        (Some("polling"), Some(transport)),
        "after the restart: {ready}"
    );
    let mut tcp = rt.block_on(tcp_member(&again.tcp, Some("tina"), "lobby"));
    chat_both_ways(&rt, &mut node, &mut tcp, "after the restart", transport);
    node.send(r#"{"quit":true}"#);
    let upgrades: Vec<&String> = node
        .seen
        .iter()
        .filter(|l| l.contains("\"upgrade\""))
        .collect();
    let want = if transport == "websocket" { 2 } else { 0 };
    assert_eq!(
        upgrades.len(),
        want,
        "one upgrade per connection in {mode} mode: {:#?}",
        node.seen
    );
    node.finish();
}

/// An unmodified socket.io-client v4 with default options (`io(url)`, what
/// the issue's new user typed): it connects over HTTP long-polling, upgrades
/// to WebSocket (`socket.io.engine.transport.name` is "websocket" after the
/// "upgrade" event), chats with a TCP client in lobby both ways, and when the
/// server is restarted on the same port it reconnects by itself — polling
/// first and upgrading again — and chats again.
#[test]
fn a_default_socketio_client_polls_upgrades_chats_and_survives_a_restart() {
    if !node_module_available("socket.io-client") {
        return;
    }
    chat_survives_a_restart("default", "websocket");
}

/// The same client with `transports: ["polling"]` (where WebSocket is
/// blocked): everything works over HTTP long-polling alone, restart
/// included, and it never upgrades.
#[test]
fn a_polling_only_socketio_client_chats_and_survives_a_restart() {
    if !node_module_available("socket.io-client") {
        return;
    }
    chat_survives_a_restart("polling", "polling");
}

/// Socket.IO's connection-state recovery (`--history 100`): a default client
/// in lobby has seen one message (so it holds an offset); a proxy between it
/// and the server is cut and refuses connections while a TCP client says
/// three things in lobby; when the path is back the client reconnects by
/// itself with `socket.recovered === true`, and gets exactly those three,
/// once each, in order — then live traffic goes on, nothing replayed twice.
#[test]
fn connection_state_recovery_delivers_exactly_what_was_missed() {
    if !node_module_available("socket.io-client") {
        return;
    }
    let server = serve(&["--history", "100"]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let proxy = rt.block_on(Proxy::start(server.http.clone()));
    let mut tcp = rt.block_on(tcp_member(&server.tcp, Some("tina"), "lobby"));
    let mut node = Script::start("sio_recover.js", &[&proxy.addr]);
    let first = node.expect("connect");
    assert!(
        first["pid"].is_string(),
        "with --history, the CONNECT answer carries a pid: {first}"
    );
    assert_eq!(first["recovered"], false, "{first}");
    node.expect("ready");
    rt.block_on(tcp.call(say("before"))).unwrap();
    let before = node.expect("message");
    assert_eq!(before["text"], "before");
    assert!(
        before["offset"].is_string(),
        "with history on, every event carries its offset last: {before}"
    );

    proxy.refuse(true);
    proxy.cut();
    let gone = node.expect("disconnect");
    assert_eq!(gone["reason"], "transport close", "{gone}");
    let missed = ["missed 1", "missed 2", "missed 3"];
    for text in missed {
        rt.block_on(tcp.call(say(text))).unwrap();
    }
    proxy.refuse(false);

    // Every message from the cut on counts, even one (wrongly) before the
    // reconnection's `connect`.
    let mut got = Vec::new();
    let back = loop {
        let v = node.expect_any(&["connect", "message"]);
        if v["ev"] == "connect" {
            break v;
        }
        got.push(v["text"].as_str().unwrap_or_default().to_string());
    };
    assert_eq!(
        back["recovered"], true,
        "the server restored the session: {back}"
    );
    assert_eq!(back["id"], first["id"], "the same Socket.IO id");
    // Live traffic after the recovery: everything up to it is what was replayed.
    std::thread::sleep(Duration::from_millis(500));
    rt.block_on(tcp.call(say("after"))).unwrap();
    while got.last().map(String::as_str) != Some("after") {
        let m = node.expect_any(&["message", "disconnect"]);
        assert_eq!(m["ev"], "message", "disconnected again: {m}");
        got.push(m["text"].as_str().unwrap_or_default().to_string());
    }
    assert_eq!(
        got,
        ["missed 1", "missed 2", "missed 3", "after"],
        "exactly the missed three, once, in order, then live"
    );
    drop(node);
}

/// Binary attachments between two unmodified socket.io-clients through the
/// chat server on `transport`: a Buffer sent as a `file` event's data
/// arrives as a Buffer with the same bytes, both ways (4 bytes, then 1000).
fn binary_both_ways(transport: &str) {
    let server = serve(&[]);
    let node = Command::new("node")
        .current_dir(support::interop_dir())
        .args(["sio_binary.js", &server.http, transport])
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&node.stdout);
    assert!(
        node.status.success() && stdout.trim() == "done",
        "{stdout}\n{}",
        String::from_utf8_lossy(&node.stderr)
    );
}

/// Binary attachments over HTTP long-polling (base64 `b` packets on the wire).
#[test]
fn binary_attachments_cross_between_socketio_clients_over_polling() {
    if !node_module_available("socket.io-client") {
        return;
    }
    binary_both_ways("polling");
}

/// Binary attachments over WebSocket (binary frames on the wire).
#[test]
fn binary_attachments_cross_between_socketio_clients_over_websocket() {
    if !node_module_available("socket.io-client") {
        return;
    }
    binary_both_ways("websocket");
}

/// Namespaces with real clients (`--namespace /admin`): `io(url + "/admin")`
/// connects (multiplexed on the same Engine.IO connection as `io(url)`); a
/// message to `lobby` in /admin reaches /admin's lobby only — not the `/`
/// client nor the TCP client in `/`'s lobby (its ack says it reached one) —
/// and `/`'s lobby is just as closed to /admin; leaving /admin (`41/admin,`)
/// keeps `/` connected on the shared connection; `io(url + "/nope")` gets
/// connect_error "Invalid namespace".
#[test]
fn namespaces_keep_their_rooms_apart() {
    if !node_module_available("socket.io-client") {
        return;
    }
    let server = serve(&["--namespace", "/admin"]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut tcp = rt.block_on(tcp_member(&server.tcp, Some("tina"), "lobby"));
    let mut node = Script::start("sio_namespaces.js", &[&server.http]);
    let nope = node.expect("nope");
    assert_eq!(nope["message"], "Invalid namespace", "{nope}");
    let ready = node.expect("ready");
    assert_eq!(ready["shared"], true, "/ and /admin share a connection");

    node.send(r#"{"cmd":"admin-say"}"#);
    // The ack and admin2's delivery, in whichever order they come.
    let (mut acked, mut delivered) = (None, None);
    while acked.is_none() || delivered.is_none() {
        let v = node.expect_any(&["admin-acked", "message"]);
        if v["ev"] == "admin-acked" {
            acked = Some(v);
        } else {
            assert!(delivered.is_none(), "delivered twice: {v}");
            delivered = Some(v);
        }
    }
    let (acked, m) = (acked.unwrap(), delivered.unwrap());
    assert_eq!(
        acked["ack"],
        json!({"ok": true, "reached": 1}),
        "only /admin's lobby: {acked}"
    );
    assert_eq!(
        (m["who"].as_str(), m["text"].as_str()),
        (Some("admin2"), Some("admin only"))
    );

    let outcome = rt.block_on(tcp.call(say("root only"))).unwrap();
    assert_eq!(outcome, AckOutcome::Reached(1), "only /'s lobby");
    let m = node.expect("message");
    assert_eq!(
        (m["who"].as_str(), m["text"].as_str()),
        (Some("root"), Some("root only"))
    );

    node.send(r#"{"cmd":"leave-admin"}"#);
    let left = node.expect("left-admin");
    assert_eq!(
        (
            left["root"].as_bool(),
            left["admin"].as_bool(),
            left["admin2"].as_bool()
        ),
        (Some(true), Some(false), Some(true)),
        "{left}"
    );
    node.send(r#"{"cmd":"root-say"}"#);
    let acked = node.expect("root-acked");
    assert_eq!(acked["ack"], json!({"ok": true, "reached": 1}), "{acked}");
    // The TCP client (in /) hears "/"'s lobby and never /admin's.
    let heard = rt.block_on(async {
        let mut heard = Vec::new();
        loop {
            match tokio::time::timeout(PATIENCE, tcp.next_event())
                .await
                .expect("in time")
                .unwrap()
            {
                ServerEvent::Message { text, .. } => {
                    let last = text == "root still here";
                    heard.push(text);
                    if last {
                        return heard;
                    }
                }
                _ => continue,
            }
        }
    });
    assert_eq!(heard, ["root still here"]);
    node.send(r#"{"cmd":"report"}"#);
    let report = node.expect("report");
    assert_eq!(
        (
            report["root"].clone(),
            report["admin"].clone(),
            report["admin2"].clone()
        ),
        (json!(["root only"]), json!([]), json!(["admin only"])),
        "{report}"
    );
    node.finish();
}

/// Headless Chromium runs socket.io-client's browser bundle in polling mode
/// from a page on another origin (`--allow-origin` names it): every request
/// is a cross-origin XHR, so this works only with netlab's CORS headers
/// right. The page joins lobby, shows a TCP client's message, and its own
/// reaches the TCP client; it never opened a WebSocket.
#[test]
fn chromium_runs_the_socketio_client_in_polling_mode_from_another_origin() {
    if !chromium_available() || !node_module_available("socket.io-client") {
        return;
    }
    let user_data =
        std::env::temp_dir().join(format!("netlab-chromium-sio-{}", std::process::id()));
    let mut node = Script::start_with("sio_page.js", &[], &[("XDG_CONFIG_HOME", &user_data)]);
    let first = node.line();
    let origin = first
        .strip_prefix("origin ")
        .unwrap_or_else(|| panic!("expected the page's origin, got {first:?}"))
        .to_string();
    let server = serve(&["--allow-origin", &origin]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut tcp = rt.block_on(tcp_member(&server.tcp, Some("tina"), "lobby"));
    node.send(&server.http);
    assert_eq!(node.line(), "joined");
    assert_eq!(
        rt.block_on(tcp.call(say("hello page"))).unwrap(),
        AckOutcome::Reached(1)
    );
    assert_eq!(
        rt.block_on(tcp_sees(&mut tcp, "hello from chromium")),
        "page"
    );
    assert_eq!(node.line(), "done");
    node.finish();
    let _ = std::fs::remove_dir_all(&user_data);
}
