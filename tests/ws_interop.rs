//! Interop tier: netlab's WebSocket server and client against real third-party
//! peers — Python `websockets` and Node `ws` (installed by scripts/install-peers).
//!
//! Their clients drive our echo server (text and binary from 0 B to 16 MiB,
//! fragments, ping/pong, closing); our client drives their servers (the same,
//! plus server-initiated pings, fragments and closes).

mod support;

use netlab::ws::client::{self, ClientConfig};
use netlab::ws::server::{self, EchoConfig, EchoEvent};
use netlab::ws::{CloseCode, Message, WebSocket};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpStream;

const SIZES: [usize; 8] = [0, 1, 125, 126, 65535, 65536, 1 << 20, 16 << 20];

fn python_ok() -> bool {
    support::peer_available(
        "python3 websockets",
        Command::new("python3").args(["-c", "import websockets.asyncio.server"]),
    )
}

fn node_ok() -> bool {
    support::peer_available(
        "node ws",
        Command::new("node")
            .current_dir(support::interop_dir())
            .args(["-e", "require('ws')"]),
    )
}

/// Our echo server on port 0, on its own runtime thread; returns its address
/// and the log of how connections ended.
fn start_our_server() -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = log.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            server::serve_echo(listener, EchoConfig::default(), move |e| {
                let line = match e {
                    EchoEvent::Closed { close, .. } => {
                        format!("closed {:?}", close.map(|c| c.code.as_u16()))
                    }
                    EchoEvent::Failed { error, .. } => format!("failed {error}"),
                    EchoEvent::Refused { error, .. } => format!("refused {error}"),
                    _ => return,
                };
                sink.lock().unwrap().push(line);
            })
            .await
            .unwrap();
        });
    });
    (rx.recv().unwrap(), log)
}

/// Runs a peer's client script against our server and checks its report.
fn their_client_against_our_server(program: &str, script: &str) {
    let (addr, log) = start_our_server();
    let out = Command::new(program)
        .current_dir(support::interop_dir())
        .args([script, &format!("ws://{addr}/interop")])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("ALL OK"),
        "{script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for size in SIZES {
        assert!(stdout.contains(&format!("ok echo {size}\n")), "{stdout}");
    }
    for check in [
        "ok fragmented",
        "ok ping",
        "ok close",
        "ok invalid utf-8 -> 1007",
    ] {
        assert!(stdout.contains(check), "{check} missing:\n{stdout}");
    }
    // Give the server a moment to log the end of the last connection.
    std::thread::sleep(Duration::from_millis(200));
    let log = log.lock().unwrap().clone();
    assert!(
        log.iter().any(|l| l.starts_with("closed Some(400")),
        "{log:?}"
    );
}

#[test]
fn python_websockets_client_against_our_server() {
    if !python_ok() {
        return;
    }
    their_client_against_our_server("python3", "ws_py_client.py");
}

#[test]
fn node_ws_client_against_our_server() {
    if !node_ok() {
        return;
    }
    their_client_against_our_server("node", "ws_node_client.js");
}

/// A peer's server script, killed when dropped.
struct Peer(Child, u16);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_peer(program: &str, script: &str) -> Peer {
    let mut child = Command::new(program)
        .current_dir(support::interop_dir())
        .arg(script)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("{script} said {line:?}"));
    let port = port.parse().unwrap();
    Peer(child, port)
}

async fn recv_data(ws: &mut WebSocket<TcpStream>) -> Message {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(20), ws.recv())
            .await
            .expect("peer hung")
            .unwrap()
            .expect("connection ended");
        if m.is_data() {
            return m;
        }
    }
}

async fn our_client_against(port: u16) {
    let url = format!("ws://127.0.0.1:{port}/");
    let (mut ws, _) = client::connect(&url, &ClientConfig::default())
        .await
        .unwrap();
    for size in SIZES {
        let bin: Vec<u8> = (0..size).map(|i| (i * 7 % 256) as u8).collect();
        let m = Message::binary(bin);
        ws.send(&m).await.unwrap();
        assert!(recv_data(&mut ws).await == m, "binary {size}");
        let text: String = "ü".repeat(size / 2);
        let m = Message::text(text);
        ws.send(&m).await.unwrap();
        assert!(recv_data(&mut ws).await == m, "text {size}");
    }
    // Our fragments, their reassembly.
    ws.feed_fragmented(&Message::text("fragmented by netlab ✓"), 3)
        .unwrap();
    ws.flush().await.unwrap();
    assert_eq!(
        recv_data(&mut ws).await,
        Message::text("fragmented by netlab ✓")
    );
    // Their fragments, our reassembly.
    ws.send(&Message::text("fragment-me")).await.unwrap();
    assert_eq!(recv_data(&mut ws).await, Message::text("fragmented ✓"));
    // Their ping: we must answer with a pong, which they confirm.
    ws.send(&Message::text("ping-me")).await.unwrap();
    assert_eq!(recv_data(&mut ws).await, Message::text("ponged"));
    // Our ping: their pong carries the same data.
    ws.send(&Message::Ping(bytes::Bytes::from_static(b"netlab ping")))
        .await
        .unwrap();
    loop {
        match ws.recv().await.unwrap() {
            Some(Message::Pong(p)) => {
                assert_eq!(&p[..], b"netlab ping");
                break;
            }
            Some(Message::Ping(_)) => {}
            other => panic!("expected a pong, got {other:?}"),
        }
    }
    // We close: they answer with our code.
    ws.close(CloseCode::Private(4003), "netlab done")
        .await
        .unwrap();
    match ws.recv().await.unwrap() {
        Some(Message::Close(Some(c))) => assert_eq!(c.code, CloseCode::Private(4003)),
        other => panic!("expected their Close, got {other:?}"),
    }
    assert_eq!(ws.recv().await.unwrap(), None);

    // They close: we answer and see their code and reason.
    let (mut ws, _) = client::connect(&url, &ClientConfig::default())
        .await
        .unwrap();
    ws.send(&Message::text("close-me")).await.unwrap();
    match tokio::time::timeout(Duration::from_secs(5), ws.recv())
        .await
        .unwrap()
        .unwrap()
    {
        Some(Message::Close(Some(c))) => {
            assert_eq!(
                (c.code, c.reason.as_str()),
                (CloseCode::Private(4001), "bye")
            )
        }
        other => panic!("expected their Close, got {other:?}"),
    }
    assert_eq!(ws.recv().await.unwrap(), None);
}

#[tokio::test]
async fn our_client_against_python_websockets_server() {
    if !python_ok() {
        return;
    }
    let peer = start_peer("python3", "ws_py_server.py");
    our_client_against(peer.1).await;
}

#[tokio::test]
async fn our_client_against_node_ws_server() {
    if !node_ok() {
        return;
    }
    let peer = start_peer("node", "ws_node_server.js");
    our_client_against(peer.1).await;
}
