//! The Socket.IO reference echo server's behaviour (the socket.io-protocol
//! test suite runs against it): on CONNECT it emits `auth` with the client's
//! handshake auth data; `message` comes back as `message-back` with the same
//! arguments, attachments included; `message-with-ack` is acked with its
//! arguments; a session that sends no CONNECT within the connect timeout is
//! closed. Namespaces: `/` and each `--namespace`; any other gets
//! `44/name,{"message":"Invalid namespace"}`.

use super::engineio::Data;
use super::session::{new_sid, EngineSender, EngineSocket};
use super::socketio::{Packet, PacketType, Reassembler, MAIN_NAMESPACE};
use serde_json::Value;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{sleep_until, Instant};

/// What one echo session is held to.
#[derive(Debug, Clone)]
pub struct EchoRules {
    /// Namespaces served besides `/`.
    pub namespaces: Vec<String>,
    /// A session that sends no CONNECT within this is closed.
    pub connect_timeout: Duration,
    /// Most bytes of attachments one packet may carry (`maxPayload`).
    pub max_payload: usize,
}

/// Runs one echo session until it closes.
pub async fn connection(mut sock: EngineSocket, config: Arc<EchoRules>) {
    let out = sock.sender();
    let deadline = Instant::now() + config.connect_timeout;
    let mut joined: HashSet<String> = HashSet::new();
    let mut ever_connected = false;
    let mut parts = Reassembler::new(config.max_payload);
    loop {
        let msg = tokio::select! {
            m = sock.recv() => m,
            _ = sleep_until(deadline), if !ever_connected => {
                out.close("no CONNECT within the connect timeout");
                return;
            }
        };
        let Some(msg) = msg else { return };
        let packet = match msg {
            Data::Text(t) => parts.text(&t),
            Data::Binary(b) => parts.binary(b),
        };
        let packet = match packet {
            Ok(Some(p)) => p,
            Ok(None) => continue, // attachments still due
            Err(e) => {
                out.abort(&format!("malformed Socket.IO packet: {e}"));
                return;
            }
        };
        let Ok(then) = on_packet(&out, &config, &mut joined, packet) else {
            return;
        };
        if let Some(auth) = then {
            // Socket.IO emits `auth` from its `connection` handler, after the
            // CONNECT answer went out: the two arrive as two writes, as from
            // the reference server (test suites read them one by one).
            out.drained().await;
            send(&out, &auth);
        }
        ever_connected |= !joined.is_empty();
    }
}

/// One complete packet: `Err` when the session must end; `Ok(Some(auth))`
/// after a CONNECT, the `auth` event to emit once the answer is out.
fn on_packet(
    out: &EngineSender,
    config: &EchoRules,
    joined: &mut HashSet<String>,
    p: Packet,
) -> Result<Option<Packet>, ()> {
    let known = p.nsp == MAIN_NAMESPACE || config.namespaces.contains(&p.nsp);
    match p.kind {
        PacketType::Connect if !known => {
            send(out, &Packet::connect_error(&p.nsp, "Invalid namespace"))
        }
        PacketType::Connect => {
            let Some(sid) = new_sid() else {
                out.close("no random socket id available");
                return Err(());
            };
            joined.insert(p.nsp.clone());
            send(out, &Packet::connected(&p.nsp, &sid, None));
            let auth = p.data.unwrap_or_else(|| Value::Object(Default::default()));
            let emit = Packet::event(&p.nsp, None, "auth", vec![auth], Vec::new());
            return Ok(Some(emit));
        }
        PacketType::Disconnect => {
            joined.remove(&p.nsp);
        }
        PacketType::Event | PacketType::BinaryEvent if joined.contains(&p.nsp) => {
            let args = p.args().to_vec();
            match (p.event_name(), p.id) {
                (Some("message"), _) if p.nsp == MAIN_NAMESPACE => {
                    send(
                        out,
                        &Packet::event(&p.nsp, None, "message-back", args, p.attachments),
                    );
                }
                (Some("message-with-ack"), Some(id)) if p.nsp == MAIN_NAMESPACE => {
                    send(out, &Packet::ack(&p.nsp, id, args, p.attachments));
                }
                _ => {}
            }
        }
        // An event on a namespace not joined, an ACK to nothing asked: ignored,
        // as Socket.IO servers do.
        _ => {}
    }
    Ok(None)
}

/// Queues a packet: its text, then each attachment as a binary message.
fn send(out: &EngineSender, p: &Packet) {
    out.send(Data::Text(p.encode()));
    for a in &p.attachments {
        out.send(Data::Binary(a.clone()));
    }
}
