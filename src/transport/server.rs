//! One hub shared by every transport, with each connection's outbound queue.
//!
//! [`ChatServer`] is what a transport talks to: it locks the hub, feeds it a
//! connection's frames, and turns the hub's [`Output`]s into queued bytes.
//! An event going to 1,000 connections is encoded to JSON **once**; each
//! queue then holds a cheap reference-counted handle to the same bytes.

use super::heartbeat::HeartbeatConfig;
use super::outbound::Outbound;
use crate::chat::adapter::{Adapter, LocalAdapter};
use crate::chat::history::HistoryConfig;
use crate::chat::hub::{Hub, Output};
use crate::chat::id::ConnId;
use crate::chat::limits::{Limits, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_FRAME, DEFAULT_MAX_QUEUE};
use crate::chat::protocol::{Refusal, ServerEvent};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// How a chat server is configured (every field is a `netlab serve` flag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Per-connection limits of the hub.
    pub limits: Limits,
    /// Missed events (lesson 07): history, sessions, confirmations; all off by default.
    pub history: HistoryConfig,
    /// Largest frame a client may send (bytes).
    pub max_frame: usize,
    /// Outbound queue per connection (events).
    pub max_queue: usize,
    /// Most connections at once.
    pub max_connections: usize,
    /// Ping native (TCP, WebSocket) clients after this much silence and drop
    /// those that stay silent (`--heartbeat`); `None`: off.
    pub heartbeat: Option<HeartbeatConfig>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            history: HistoryConfig::default(),
            max_frame: DEFAULT_MAX_FRAME,
            max_queue: DEFAULT_MAX_QUEUE,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            heartbeat: None,
        }
    }
}

/// What the server reports as connections come and go (for logs and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerNote {
    /// A connection arrived and got an id.
    Connected {
        /// Its id.
        id: ConnId,
        /// Where it came from (e.g. `tcp 127.0.0.1:53114`).
        peer: String,
    },
    /// Socket.IO's `disconnecting`: it is still in these rooms.
    Disconnecting {
        /// Who.
        id: ConnId,
        /// Its rooms, its own first.
        rooms: Vec<String>,
    },
    /// Socket.IO's `disconnect`: it has left every room.
    Disconnected {
        /// Who.
        id: ConnId,
        /// Why.
        reason: String,
    },
    /// The server closed a connection for breaking the rules.
    Closed {
        /// Who.
        id: ConnId,
    },
    /// A transport could not accept a connection (e.g. out of file
    /// descriptors); it pauses briefly and tries again.
    AcceptFailed {
        /// What the OS said.
        error: String,
    },
}

type NoteSink = Box<dyn Fn(&ServerNote) + Send + Sync>;

/// The hub as the server holds it: its adapter chosen at start-up.
pub type ServerHub = Hub<Box<dyn Adapter>>;

struct State {
    hub: ServerHub,
    queues: HashMap<ConnId, Arc<Outbound>>,
    out: Vec<Output>,
}

/// A hub and the outbound queues of its connections, shared by all transports.
pub struct ChatServer {
    state: Mutex<State>,
    config: ServerConfig,
    on_note: Option<NoteSink>,
    delivered: AtomicU64,
    dropped: AtomicU64,
    peak_queue: AtomicUsize,
}

impl ChatServer {
    /// A server with `config`, the in-memory adapter and no observer.
    pub fn new(config: ServerConfig) -> Self {
        Self::with_adapter(config, Box::new(LocalAdapter))
    }

    /// A server whose broadcasts go through `adapter` (the seam later
    /// lessons plug history and Redis into).
    pub fn with_adapter(config: ServerConfig, adapter: Box<dyn Adapter>) -> Self {
        Self {
            state: Mutex::new(State {
                hub: Hub::with_adapter(config.limits, adapter),
                queues: HashMap::new(),
                out: Vec::new(),
            }),
            config,
            on_note: None,
            delivered: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            peak_queue: AtomicUsize::new(0),
        }
    }

    /// Calls `sink` for every [`ServerNote`]. It runs with the hub locked:
    /// log or record there, but do not call back into the server.
    pub fn with_observer(mut self, sink: impl Fn(&ServerNote) + Send + Sync + 'static) -> Self {
        self.on_note = Some(Box::new(sink));
        self
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// A new connection from `peer`: its id and its queue, or the refusal
    /// (the server is full) to send before closing.
    pub fn connect(&self, peer: &str) -> Result<(ConnId, Arc<Outbound>), Refusal> {
        let mut st = self.state.lock().expect("hub lock");
        if st.hub.len() >= self.config.max_connections {
            return Err(Refusal::ServerFull {
                max: self.config.max_connections,
            });
        }
        let mut out = std::mem::take(&mut st.out);
        // The OS generator failing is not something a client can cause; treat
        // it like a full server rather than inventing a predictable id.
        let id = st.hub.connect(&mut out).map_err(|_| Refusal::ServerFull {
            max: self.config.max_connections,
        })?;
        let queue = Arc::new(Outbound::new(self.config.max_queue));
        st.queues.insert(id, queue.clone());
        self.note(&ServerNote::Connected {
            id,
            peer: peer.to_string(),
        });
        self.dispatch(&mut st, &mut out);
        st.out = out;
        Ok((id, queue))
    }

    /// Frames that arrived from `id`, in order.
    pub fn handle_frames<'a>(&self, id: ConnId, frames: impl IntoIterator<Item = &'a [u8]>) {
        let mut st = self.state.lock().expect("hub lock");
        let mut out = std::mem::take(&mut st.out);
        for f in frames {
            st.hub.handle(id, f, &mut out);
        }
        self.dispatch(&mut st, &mut out);
        st.out = out;
    }

    /// `id` broke a rule its transport detected (e.g. an oversized frame):
    /// it gets the error and is closed.
    pub fn close_for(&self, id: ConnId, why: Refusal) {
        let mut st = self.state.lock().expect("hub lock");
        let mut out = std::mem::take(&mut st.out);
        st.hub.close(id, why, &mut out);
        self.dispatch(&mut st, &mut out);
        st.out = out;
    }

    /// `id` is gone (its socket closed or failed).
    pub fn disconnect(&self, id: ConnId, reason: &str) {
        let mut st = self.state.lock().expect("hub lock");
        let mut out = std::mem::take(&mut st.out);
        st.hub.disconnect(id, reason, &mut out);
        self.dispatch(&mut st, &mut out);
        if let Some(q) = st.queues.remove(&id) {
            self.peak_queue.fetch_max(q.peak(), Ordering::Relaxed);
        }
        st.out = out;
    }

    /// Server code emitting to any target (no membership check).
    pub fn emit(&self, target: &crate::chat::Target, event: ServerEvent) -> usize {
        let mut st = self.state.lock().expect("hub lock");
        let mut out = std::mem::take(&mut st.out);
        let n = st.hub.emit(target, event, &mut out);
        self.dispatch(&mut st, &mut out);
        st.out = out;
        n
    }

    /// Runs `f` with the hub (read-only), e.g. to list rooms.
    pub fn with_hub<R>(&self, f: impl FnOnce(&ServerHub) -> R) -> R {
        f(&self.state.lock().expect("hub lock").hub)
    }

    /// Number of connections.
    pub fn conn_count(&self) -> usize {
        self.with_hub(|h| h.len())
    }

    /// Events handed to queues so far (one per recipient).
    pub fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }

    /// Events dropped from full queues so far.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// The longest any connection's queue has been (live or gone).
    pub fn peak_queue(&self) -> usize {
        let st = self.state.lock().expect("hub lock");
        st.queues
            .values()
            .map(|q| q.peak())
            .max()
            .unwrap_or(0)
            .max(self.peak_queue.load(Ordering::Relaxed))
    }

    /// Reports a note to the observer (transports report accept failures here).
    pub fn note(&self, n: &ServerNote) {
        if let Some(sink) = &self.on_note {
            sink(n);
        }
    }

    fn dispatch(&self, st: &mut State, out: &mut Vec<Output>) {
        for o in out.drain(..) {
            match o {
                Output::Deliver { to, event } => {
                    let bytes = event.to_bytes();
                    let mut dropped = 0;
                    for id in &to {
                        if let Some(q) = st.queues.get(id) {
                            if !q.push(bytes.clone()) {
                                dropped += 1;
                            }
                        }
                    }
                    self.delivered.fetch_add(to.len() as u64, Ordering::Relaxed);
                    if dropped > 0 {
                        self.dropped.fetch_add(dropped, Ordering::Relaxed);
                    }
                }
                Output::Close { id } => {
                    if let Some(q) = st.queues.get(&id) {
                        q.close();
                    }
                    self.note(&ServerNote::Closed { id });
                }
                Output::Disconnecting { id, rooms } => {
                    self.note(&ServerNote::Disconnecting { id, rooms })
                }
                Output::Disconnected { id, reason } => {
                    self.note(&ServerNote::Disconnected { id, reason })
                }
            }
        }
    }
}
