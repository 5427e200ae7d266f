//! The chat hub over WebSocket: one JSON event per text message (lesson 10).
//!
//! The HTTP side ([`crate::web`]) accepts the upgrade on `/ws`; from then on
//! this module is the TCP transport's twin: text messages from the browser go
//! to [`ChatServer::handle_frames`], and what the connection's [`Outbound`]
//! queue holds goes out as text messages, many per `write`.
//!
//! One task per connection is enough: [`WebSocket::recv`] is cancel-safe, so
//! the task waits on "a message arrived" and "something is queued" at once.

use super::outbound::Outbound;
use super::server::ChatServer;
use super::tcp::HEARTBEAT_TIMEOUT;
use crate::chat::heartbeat::{Beat, Heartbeat, PING};
use crate::chat::protocol::{Refusal, ServerEvent};
use crate::ws::{CloseCode, Message, WebSocket, WsError};
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{sleep_until, Instant};

/// How long the closing handshake with a dead-looking client may take.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Runs one upgraded chat connection until it closes, then tells the hub.
pub async fn connection<S>(mut ws: WebSocket<S>, peer: &str, server: Arc<ChatServer>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (id, queue) = match server.connect(peer) {
        Ok(c) => c,
        Err(refusal) => {
            // Full: say why in one message, then close (1013 "try again later").
            let bye = ServerEvent::Bye {
                code: refusal.code(),
                message: refusal.to_string(),
            };
            let _ = ws.feed(&text(bye.to_bytes()));
            let _ = ws.close(CloseCode::TryAgainLater, "server full").await;
            return;
        }
    };
    let reason = run(&mut ws, id, &queue, &server).await;
    server.disconnect(id, &reason);
}

/// The connection's loop: returns why it ended.
async fn run<S>(
    ws: &mut WebSocket<S>,
    id: crate::chat::ConnId,
    queue: &Outbound,
    server: &ChatServer,
) -> String
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut heartbeat = server
        .config()
        .heartbeat
        .map(|c| Heartbeat::new(c, Instant::now().into_std()));
    loop {
        // Without a heartbeat the timer branch is disabled (and never polled).
        let deadline = heartbeat.as_ref().map(|h| Instant::from_std(h.deadline()));
        tokio::select! {
            msg = ws.recv() => match msg {
                Ok(Some(m)) => {
                    // Any message from the client is life (WebSocket pings too).
                    if let Some(h) = &mut heartbeat {
                        h.heard(Instant::now().into_std());
                    }
                    if let Some(reason) = on_message(m, id, server) {
                        return reason;
                    }
                }
                Ok(None) => return "client closed the connection".into(),
                Err(WsError::ClosedWithoutHandshake { .. }) => return "client went away without a Close frame".into(),
                Err(e) => {
                    if matches!(e, WsError::OverBudget(_)) {
                        server.refused_for_memory(); // it got Close 1013
                    }
                    return format!("websocket failed: {e}");
                }
            },
            _ = sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                match heartbeat.as_mut().and_then(|h| h.due(Instant::now().into_std())) {
                    Some(Beat::Ping) => {
                        let _ = ws.feed(&text(Bytes::from_static(PING)));
                        // A WebSocket Ping too: browsers answer it by themselves
                        // (RFC 6455 §5.5.2), so an idle page is not taken for dead.
                        let _ = ws.feed(&Message::Ping(Bytes::from_static(b"heartbeat")));
                        if let Err(e) = ws.flush().await {
                            return format!("write failed: {e}");
                        }
                    }
                    Some(Beat::Dead) => {
                        if let Some(h) = &heartbeat {
                            let _ = ws.feed(&text(h.bye()));
                        }
                        // §7.4.1: 1001 "going away" fits a peer we gave up on;
                        // a dead peer gets a short grace, not a wait.
                        let _ = tokio::time::timeout(CLOSE_GRACE, ws.close(CloseCode::GoingAway, HEARTBEAT_TIMEOUT)).await;
                        return HEARTBEAT_TIMEOUT.into();
                    }
                    None => {}
                }
            }
            batch = queue.take() => {
                if batch.dropped > 0 {
                    let notice = ServerEvent::Dropped { count: batch.dropped };
                    let _ = ws.feed(&text(notice.to_bytes()));
                }
                for e in batch.events {
                    let _ = ws.feed(&text(e));
                }
                if batch.closing {
                    // The hub closed it (too many strikes, a limit): the
                    // `bye` went out above; policy violation (§7.4.1: 1008).
                    let _ = ws.close(CloseCode::PolicyViolation, "closed by the server").await;
                    return "closed by the server".into();
                }
                if let Err(e) = ws.flush().await {
                    return format!("write failed: {e}");
                }
            }
        }
    }
}

/// One message from the client: text goes to the hub; returns why the
/// connection ends, if it does.
fn on_message(msg: Message, id: crate::chat::ConnId, server: &ChatServer) -> Option<String> {
    match msg {
        Message::Text(t) => server.handle_frames(id, std::iter::once(t.as_bytes())),
        Message::Binary(_) => {
            // Chat events are JSON text; a binary message breaks the protocol
            // on top of WebSocket. The hub queues a `bye`; the queue branch
            // sends it and closes.
            server.close_for(
                id,
                Refusal::InvalidJson("a binary message; chat events are JSON text messages".into()),
            );
        }
        Message::Close(_) => return Some("client closed the connection".into()),
        _ => {} // ping/pong: answered by the connection
    }
    None
}

/// A server event as a WebSocket text message (serde_json writes UTF-8).
fn text(json: Bytes) -> Message {
    match crate::ws::message::Text::from_utf8(json) {
        Ok(t) => Message::Text(t),
        Err(_) => {
            Message::text("{\"event\":\"error\",\"code\":\"internal\",\"message\":\"not UTF-8\"}")
        }
    }
}
