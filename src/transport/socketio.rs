//! The chat hub for Socket.IO clients: Engine.IO v4 and Socket.IO v5 packets
//! over the WebSocket on `/socket.io/` (lesson 10; the packets are in
//! [`crate::web::socketio`]).
//!
//! Like [`super::ws`], one task per connection waits on three things at once:
//! a message from the client, events queued by the hub, and the heartbeat
//! (the server pings every `pingInterval`; no pong within `pingTimeout` and the
//! client is dropped, as Engine.IO v4 specifies).
//!
//! When the server asks clients to confirm recorded events (`--confirm-timeout`),
//! each event carrying a `seq` goes out as an ack request `42<n>[…]`; the
//! client's `43<n>[…]` confirms that seq to the hub, exactly as a native
//! client's `seen` would, and what stays unconfirmed is sent again.

use super::server::ChatServer;
use crate::web::socketio::{self, Heartbeat, Incoming};
use crate::ws::{CloseCode, Message, WebSocket};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{sleep_until, Instant};

/// Runs one Socket.IO connection until it closes, then tells the hub.
pub async fn connection<S>(
    mut ws: WebSocket<S>,
    peer: &str,
    server: Arc<ChatServer>,
    heartbeat: Heartbeat,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (id, queue) = match server.connect(peer) {
        Ok(c) => c,
        Err(refusal) => {
            let _ = ws.feed(&Message::text(socketio::connect_error(
                &refusal.to_string(),
            )));
            let _ = ws.close(CloseCode::TryAgainLater, "server full").await;
            return;
        }
    };
    let sid = id.to_hex();
    let _ = ws.feed(&Message::text(socketio::open(
        &sid,
        &heartbeat,
        server.config().max_frame,
    )));
    let interval = heartbeat.interval;
    let mut next_ping = Instant::now() + interval;
    let mut pong_due: Option<Instant> = None;
    let mut connected = false;
    // Server-emitted ack requests (lesson 07's confirmations): only when the
    // server asks clients to confirm what they received.
    let confirm = server.config().history.confirm_timeout.is_some();
    let mut requests = socketio::AckRequests::default();
    let reason: String = loop {
        let deadline = pong_due.unwrap_or(next_ping);
        tokio::select! {
            msg = ws.recv() => match msg {
                Ok(Some(Message::Text(t))) => match socketio::parse(t.as_str()) {
                    Ok(Incoming::Pong) => pong_due = None,
                    Ok(Incoming::Close) | Ok(Incoming::Disconnect) => break "client disconnected".into(),
                    Ok(Incoming::Connect) => {
                        if !connected {
                            connected = true;
                            let _ = ws.feed(&Message::text(socketio::connected(&sid)));
                        }
                    }
                    Ok(Incoming::Event { ack, name, args }) => {
                        if !connected {
                            break fail(&mut ws, "an EVENT before CONNECT (send 40 first)").await;
                        }
                        match socketio::to_native(&name, &args, ack) {
                            Ok(native) => server.handle_frames(id, std::iter::once(&native[..])),
                            Err(why) => {
                                if let Some(a) = ack {
                                    let answer = serde_json::json!({"ok": false, "error": "invalid_fields", "message": why});
                                    let _ = ws.feed(&Message::text(socketio::encode_ack(a, &[answer])));
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
                    Err(e) => break fail(&mut ws, &e.to_string()).await,
                },
                Ok(Some(Message::Binary(_))) => {
                    break fail(&mut ws, "binary messages (attachments) are not supported; send JSON").await
                }
                Ok(Some(Message::Close(_))) | Ok(None) => break "client closed the connection".into(),
                Ok(Some(_)) => {}
                Err(e) => break format!("websocket failed: {e}"),
            },
            batch = queue.take(), if connected => {
                if batch.dropped > 0 {
                    let _ = ws.feed(&Message::text(format!("42[\"dropped\",{{\"count\":{}}}]", batch.dropped)));
                }
                for e in &batch.events {
                    let packet = if confirm {
                        socketio::from_native_asking(e, &mut requests)
                    } else {
                        socketio::from_native(e)
                    };
                    if let Some(p) = packet {
                        let _ = ws.feed(&Message::text(p));
                    }
                }
                if batch.closing {
                    let _ = ws.close(CloseCode::PolicyViolation, "closed by the server").await;
                    break "closed by the server".into();
                }
                if let Err(e) = ws.flush().await {
                    break format!("write failed: {e}");
                }
            }
            _ = sleep_until(deadline) => {
                if pong_due.is_some() {
                    let _ = ws.close(CloseCode::PolicyViolation, "ping timeout").await;
                    break format!("no pong within {:?} (ping timeout)", heartbeat.timeout);
                }
                let _ = ws.feed(&Message::text("2"));
                if let Err(e) = ws.flush().await {
                    break format!("write failed: {e}");
                }
                pong_due = Some(Instant::now() + heartbeat.timeout);
                next_ping = Instant::now() + interval;
            }
        }
    };
    server.disconnect(id, &reason);
}

/// A packet broke the protocol: say why (CONNECT_ERROR) and close this connection only.
async fn fail<S>(ws: &mut WebSocket<S>, why: &str) -> String
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let _ = ws.feed(&Message::text(socketio::connect_error(why)));
    let _ = ws
        .close(CloseCode::PolicyViolation, "malformed Socket.IO packet")
        .await;
    format!("malformed Socket.IO packet: {why}")
}
