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
use crate::chat::protocol::{Refusal, ServerEvent};
use crate::ws::{CloseCode, Message, WebSocket, WsError};
use bytes::Bytes;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};

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
    loop {
        tokio::select! {
            msg = ws.recv() => match msg {
                Ok(Some(Message::Text(t))) => {
                    server.handle_frames(id, std::iter::once(t.as_bytes()));
                }
                Ok(Some(Message::Binary(_))) => {
                    // Chat events are JSON text; a binary message breaks the
                    // protocol on top of WebSocket.
                    // The hub queues a `bye`; the queue branch sends it and closes.
                    server.close_for(id, Refusal::InvalidJson("a binary message; chat events are JSON text messages".into()));
                }
                Ok(Some(Message::Close(_))) | Ok(None) => return "client closed the connection".into(),
                Ok(Some(_)) => {} // ping/pong: answered by the connection
                Err(WsError::ClosedWithoutHandshake { .. }) => return "client went away without a Close frame".into(),
                Err(e) => return format!("websocket failed: {e}"),
            },
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

/// A server event as a WebSocket text message (serde_json writes UTF-8).
fn text(json: Bytes) -> Message {
    match crate::ws::message::Text::from_utf8(json) {
        Ok(t) => Message::Text(t),
        Err(_) => {
            Message::text("{\"event\":\"error\",\"code\":\"internal\",\"message\":\"not UTF-8\"}")
        }
    }
}
