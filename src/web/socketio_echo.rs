//! The Socket.IO reference echo server's behaviour (socket.io-protocol's
//! test suite runs against it): on CONNECT it emits `auth` with the
//! client's handshake auth data; `message` comes back as `message-back` with
//! the same arguments; `message-with-ack` is acked with its arguments; a
//! session that sends no CONNECT within the connect timeout is closed.

use super::echo::EchoConfig;
use super::engineio::Data;
use super::session::EngineSocket;
use super::socketio::{self, Incoming};
use std::sync::Arc;

/// Runs one echo session until it closes.
pub async fn connection(mut sock: EngineSocket, config: Arc<EchoConfig>) {
    let out = sock.sender();
    let deadline = tokio::time::Instant::now() + config.connect_timeout;
    let mut connected = false;
    loop {
        let msg = tokio::select! {
            m = sock.recv() => m,
            _ = tokio::time::sleep_until(deadline), if !connected => {
                out.close("no CONNECT within the connect timeout");
                return;
            }
        };
        let Some(msg) = msg else { return };
        let text = match msg {
            Data::Text(t) => t,
            Data::Binary(_) => {
                out.abort("binary without a packet announcing it");
                return;
            }
        };
        match socketio::parse(&format!("4{text}")) {
            Ok(Incoming::Connect) => {
                connected = true;
                let sid = sock.sid().to_string();
                out.send(Data::Text(format!(
                    "0{}",
                    serde_json::json!({ "sid": sid })
                )));
                out.send(Data::Text("2[\"auth\",{}]".into()));
            }
            Ok(Incoming::Event { ack, name, args }) if connected => {
                let packet = match (name.as_str(), ack) {
                    ("message", _) => socketio::encode_event(None, "message-back", &args),
                    ("message-with-ack", Some(id)) => socketio::encode_ack(id, &args),
                    _ => continue,
                };
                out.send(Data::Text(packet[1..].to_string()));
            }
            Ok(Incoming::Disconnect) => connected = false,
            Ok(_) => {}
            Err(_) => {
                out.abort("malformed Socket.IO packet");
                return;
            }
        }
    }
}
