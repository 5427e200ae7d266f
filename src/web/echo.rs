//! `netlab socketio echo`: the reference echo server of the Socket.IO and
//! Engine.IO protocol documents, for learning and for conformance runs.
//!
//! | path | speaks | does |
//! |---|---|---|
//! | `/engine.io/` | Engine.IO v4 alone | every message comes back as it was sent |
//! | `/socket.io/` | Socket.IO v5 on Engine.IO | on CONNECT emits `auth` with the client's auth data; `message` comes back as `message-back`; `message-with-ack` is acked with its arguments |
//!
//! Both paths speak long-polling, the upgrade and WebSocket (the same code
//! as `netlab serve`'s `/socket.io/`), so a test suite written for the
//! protocol documents can run against them.

use super::session::{App, EngineConfig, EngineSocket, Sessions};
use super::socketio_echo::{self, EchoRules};
use super::{accept_loop, Guards, Site, WebConfig};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// What the echo server is told on its command line.
#[derive(Debug, Clone)]
pub struct EchoConfig {
    /// Origins, heartbeat, request-head limits.
    pub web: WebConfig,
    /// Largest message and POST body (`maxPayload`).
    pub max_payload: usize,
    /// Most sessions at once.
    pub max_sessions: usize,
    /// Namespaces served besides `/` (e.g. `/custom`).
    pub namespaces: Vec<String>,
    /// A session that sends no CONNECT within this is closed.
    pub connect_timeout: Duration,
    /// Budget, per-address cap, frame timeout.
    pub guards: Guards,
}

/// Serves both echoes on `listener` until dropped.
pub async fn serve(listener: TcpListener, config: EchoConfig) -> std::io::Result<()> {
    let engine = EngineConfig {
        ping_interval: config.web.heartbeat.interval,
        ping_timeout: config.web.heartbeat.timeout,
        max_payload: config.max_payload,
        max_sessions: config.max_sessions,
        ..EngineConfig::default()
    };
    let echo_engine: App = Arc::new(|socket| Box::pin(engine_echo(socket)));
    let shared = Arc::new(EchoRules {
        namespaces: config.namespaces.clone(),
        connect_timeout: config.connect_timeout,
        max_payload: config.max_payload,
    });
    let echo_socketio: App =
        Arc::new(move |socket| Box::pin(socketio_echo::connection(socket, shared.clone())));
    let site = Site {
        socketio: Sessions::new(engine.clone(), echo_socketio, config.guards.budget.clone()),
        engine_echo: Some(Sessions::new(
            engine,
            echo_engine,
            config.guards.budget.clone(),
        )),
        chat: None,
        config: config.web,
        guards: config.guards,
    };
    tokio::spawn(accept_loop(listener, Arc::new(site)))
        .await
        .map_err(std::io::Error::other)?
}

/// Engine.IO alone: every message, text or binary, goes back as it came.
async fn engine_echo(mut socket: EngineSocket) {
    while let Some(data) = socket.recv().await {
        let out = socket.sender();
        if !out.has_room() {
            out.writable().await;
        }
        out.send(data);
    }
}
