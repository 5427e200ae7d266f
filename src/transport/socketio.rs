//! The chat hub for Socket.IO clients: Socket.IO v5 packets over an
//! Engine.IO session (lesson 10; the packets are in [`crate::web::socketio`],
//! the session — polling or WebSocket, and the heartbeat — in
//! [`crate::web::session`]).
//!
//! Like [`super::ws`], one task per connection waits on two things at once:
//! a message from the client, and events queued by the hub — taken only
//! while the session's outbox has room, so a slow client slows only itself.
//!
//! When the server asks clients to confirm recorded events (`--confirm-timeout`),
//! each event carrying a `seq` goes out as an ack request `42<n>[…]`; the
//! client's `43<n>[…]` confirms that seq to the hub, exactly as a native
//! client's `seen` would, and what stays unconfirmed is sent again.

use super::server::ChatServer;
use crate::web::engineio::Data;
use crate::web::session::{EngineSender, EngineSocket};
use crate::web::socketio::{self, Incoming};
use std::sync::Arc;

/// A Socket.IO packet (as [`socketio`] writes it, Engine.IO's `4` first)
/// as the Engine.IO message that carries it.
fn message(packet: String) -> Data {
    match packet.strip_prefix('4') {
        Some(p) => Data::Text(p.to_string()),
        None => Data::Text(packet),
    }
}

/// Runs one Socket.IO session until it closes, then tells the hub.
pub async fn connection(mut sock: EngineSocket, server: Arc<ChatServer>) {
    let peer = sock.peer().to_string();
    let (id, queue) = match server.connect(&peer) {
        Ok(c) => c,
        Err(refusal) => {
            sock.send(message(socketio::connect_error(&refusal.to_string())));
            sock.close("server full");
            return;
        }
    };
    let sid = id.to_hex();
    let out = sock.sender();
    let mut connected = false;
    // Server-emitted ack requests (lesson 07's confirmations): only when the
    // server asks clients to confirm what they received.
    let confirm = server.config().history.confirm_timeout.is_some();
    let mut requests = socketio::AckRequests::default();
    let reason: String = loop {
        tokio::select! {
            msg = sock.recv() => match msg {
                Some(Data::Text(t)) => match socketio::parse(&format!("4{t}")) {
                    Ok(Incoming::Pong) => {}
                    Ok(Incoming::Close) | Ok(Incoming::Disconnect) => break "client disconnected".into(),
                    Ok(Incoming::Connect) => {
                        if !connected {
                            connected = true;
                            out.send(message(socketio::connected(&sid)));
                        }
                    }
                    Ok(Incoming::Event { ack, name, args }) => {
                        if !connected {
                            break fail(&out, "an EVENT before CONNECT (send 40 first)");
                        }
                        match socketio::to_native(&name, &args, ack) {
                            Ok(native) => server.handle_frames(id, std::iter::once(&native[..])),
                            Err(why) => {
                                if let Some(a) = ack {
                                    let answer = serde_json::json!({"ok": false, "error": "invalid_fields", "message": why});
                                    out.send(message(socketio::encode_ack(a, &[answer])));
                                }
                            }
                        }
                    }
                    Ok(Incoming::Ack { id: n, .. }) => {
                        // The client's callback ran: what ack request n stood for is
                        // confirmed. An id never asked (or already answered) is ignored.
                        if let Some(seq) = requests.answer(n) {
                            server.seen(id, &seq);
                        }
                    }
                    Err(e) => break fail(&out, &e.to_string()),
                },
                Some(Data::Binary(_)) => {
                    break fail(&out, "binary messages (attachments) are not supported; send JSON")
                }
                None => break sock.closed_reason().unwrap_or_else(|| "session closed".into()),
            },
            batch = queue.take(), if connected && out.has_room() => {
                if batch.dropped > 0 {
                    out.send(Data::Text(format!("2[\"dropped\",{{\"count\":{}}}]", batch.dropped)));
                }
                for e in &batch.events {
                    let packet = if confirm {
                        socketio::from_native_asking(e, &mut requests)
                    } else {
                        socketio::from_native(e)
                    };
                    if let Some(p) = packet {
                        out.send(message(p));
                    }
                }
                if batch.closing {
                    out.close("closed by the server");
                    break "closed by the server".into();
                }
            }
            _ = out.writable(), if connected && !out.has_room() => {}
        }
    };
    server.disconnect(id, &reason);
}

/// A packet broke the protocol: say why (CONNECT_ERROR) and close this session only.
fn fail(out: &EngineSender, why: &str) -> String {
    out.send(message(socketio::connect_error(why)));
    out.abort("malformed Socket.IO packet");
    format!("malformed Socket.IO packet: {why}")
}
