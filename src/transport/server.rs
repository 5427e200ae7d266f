//! One hub shared by every transport, with each connection's outbound queue.
//!
//! [`ChatServer`] is what a transport talks to: it locks the hub, feeds it a
//! connection's frames, and turns the hub's [`Output`]s into queued bytes.
//! An event going to 1,000 connections is encoded to JSON **once**; each
//! queue then holds a cheap reference-counted handle to the same bytes.
//!
//! With history on (lesson 07) a connection can *become* an older session
//! (`resume`). Transports never learn that: they keep calling
//! [`ChatServer::handle_frames`] and [`ChatServer::disconnect`] with the id
//! [`ChatServer::connect`] gave them, and the server maps that id to the
//! session it now is. The connection a session replaced may still disconnect
//! later; that disconnect is recognised as stale and changes nothing.

use super::outbound::Outbound;
use crate::chat::adapter::HistoryAdapter;
use crate::chat::adapter::{Adapter, LocalAdapter};
use crate::chat::heartbeat::{
    HeartbeatConfig, DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_HEARTBEAT_TIMEOUT,
};
use crate::chat::history::{History, HistoryConfig, HistoryError, HistoryUsage};
use crate::chat::hub::{Hub, Output, Question};
use crate::chat::id::ConnId;
use crate::chat::limits::{Limits, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_FRAME, DEFAULT_MAX_QUEUE};
use crate::chat::log::Recovery;
use crate::chat::protocol::{Refusal, ServerEvent};
use crate::chat::session::SessionConfig;
use crate::guard::{
    AcceptReport, AddressCap, AddressFull, AddressSlot, MemoryBudget, DEFAULT_FRAME_TIMEOUT,
    DEFAULT_MAX_MEMORY, DEFAULT_MAX_PER_IP,
};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The ticker never runs more often than this.
pub const MIN_TICK: Duration = Duration::from_millis(10);
/// Nor less often than this.
pub const MAX_TICK: Duration = Duration::from_secs(1);

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
    /// those that stay silent (`--heartbeat`); `None`: off. On by default
    /// ([`DEFAULT_HEARTBEAT_INTERVAL`], [`DEFAULT_HEARTBEAT_TIMEOUT`]).
    pub heartbeat: Option<HeartbeatConfig>,
    /// A TCP frame or WebSocket message must be whole within this of its
    /// first byte (`--frame-timeout`); `None`: no limit.
    pub frame_timeout: Option<std::time::Duration>,
    /// Bytes every connection together may hold in partial frames,
    /// unfinished messages and outbound queues (`--max-memory`); 0: no limit.
    pub max_memory: usize,
    /// Most TCP connections (chat and HTTP) from one source address
    /// (`--max-per-ip`); 0: no limit.
    pub max_per_ip: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            history: HistoryConfig::default(),
            max_frame: DEFAULT_MAX_FRAME,
            max_queue: DEFAULT_MAX_QUEUE,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            heartbeat: Some(HeartbeatConfig {
                interval: DEFAULT_HEARTBEAT_INTERVAL,
                timeout: DEFAULT_HEARTBEAT_TIMEOUT,
            }),
            frame_timeout: Some(DEFAULT_FRAME_TIMEOUT),
            max_memory: DEFAULT_MAX_MEMORY,
            max_per_ip: DEFAULT_MAX_PER_IP,
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
    /// A session's connection went away; the session waits to be resumed (lesson 07).
    Detached {
        /// The session.
        id: ConnId,
        /// Why the connection went away.
        reason: String,
    },
    /// A new connection resumed a session.
    Resumed {
        /// The session (its original id).
        id: ConnId,
        /// The id the connection was given at first (now dropped).
        from: ConnId,
    },
    /// The server closed a connection for breaking the rules.
    Closed {
        /// Who.
        id: ConnId,
    },
    /// A transport's `accept` is failing (e.g. out of file descriptors), or
    /// works again: said once per episode, with a count.
    Accept(AcceptReport),
    /// A connection was refused at once: its address holds `--max-per-ip`.
    AddressFull {
        /// Where it came from (e.g. `tcp 127.0.0.1:53114`).
        peer: String,
        /// The cap it hit.
        error: AddressFull,
    },
}

/// How many connections a server took and turned away, and why (what
/// `netlab serve --json` reports when it stops).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Admissions {
    /// Connections the hub accepted, every transport together (a client
    /// that reconnects to resume counts again).
    pub accepted: u64,
    /// Refused because `--max-connections` were open (`bye server_full`).
    pub refused_full: u64,
    /// Refused at once because their address held `--max-per-ip`
    /// connections (TCP and HTTP listeners).
    pub refused_per_ip: u64,
    /// Closed because their next frame did not fit the memory budget
    /// (`bye memory_full` over TCP, Close 1013 on `/ws`).
    pub refused_memory: u64,
}

/// The running counts behind [`Admissions`].
#[derive(Debug, Default)]
struct AdmissionCounters {
    accepted: AtomicU64,
    refused_full: AtomicU64,
    refused_per_ip: AtomicU64,
    refused_memory: AtomicU64,
}

type NoteSink = Arc<dyn Fn(&ServerNote) + Send + Sync>;

/// Who asks the other servers a [`Question`] (lesson 12); called with the
/// hub locked, so it only hands the question on.
pub type Asker = Box<dyn Fn(ConnId, Question) + Send + Sync>;

/// The hub as the server holds it: its adapter chosen at start-up.
pub type ServerHub = Hub<Box<dyn Adapter>>;

struct State {
    hub: ServerHub,
    queues: HashMap<ConnId, Arc<Outbound>>,
    out: Vec<Output>,
    /// A transport's id → the session it became by resuming.
    alias: HashMap<ConnId, ConnId>,
    /// A resumed session → the transport id that carries it now.
    owner: HashMap<ConnId, ConnId>,
}

impl State {
    /// The session transport id `t` speaks for, if `t` still carries it
    /// (`None`: a connection whose session was resumed elsewhere).
    fn route(&self, t: ConnId) -> Option<ConnId> {
        let sid = self.alias.get(&t).copied().unwrap_or(t);
        let current = self.owner.get(&sid).map_or(sid == t, |o| *o == t);
        current.then_some(sid)
    }
}

/// A hub and the outbound queues of its connections, shared by all transports.
pub struct ChatServer {
    state: Mutex<State>,
    config: ServerConfig,
    on_note: Option<NoteSink>,
    delivered: AtomicU64,
    dropped: AtomicU64,
    peak_queue: AtomicUsize,
    budget: Arc<MemoryBudget>,
    per_ip: Arc<AddressCap>,
    admissions: AdmissionCounters,
    asker: std::sync::OnceLock<Asker>,
}

impl ChatServer {
    /// A server with `config`, the in-memory adapter and no observer. With
    /// `config.history.len > 0` it keeps history in memory; a history *file*
    /// needs [`ChatServer::open`] (opening it can fail).
    pub fn new(config: ServerConfig) -> Self {
        Self::with_adapter(config, Box::new(LocalAdapter))
    }

    /// Like [`ChatServer::new`], and with `config.history.file` the history is
    /// rebuilt from that file and appended to it; returns what reading it found.
    pub fn open(config: ServerConfig) -> Result<(Self, Option<Recovery>), HistoryError> {
        match (&config.history.file, config.history.enabled()) {
            (Some(path), true) => {
                let (history, recovery) =
                    History::open(config.history.len, config.history.max_keys, path)?;
                let adapter: Box<dyn Adapter> = Box::new(LocalAdapter);
                Ok((Self::build(config, adapter, Some(history)), Some(recovery)))
            }
            _ => Ok((Self::new(config), None)),
        }
    }

    /// A server whose broadcasts go through `adapter` (the seam later
    /// lessons plug history and Redis into). With history on, a
    /// [`HistoryAdapter`] (in memory) wraps it.
    pub fn with_adapter(config: ServerConfig, adapter: Box<dyn Adapter>) -> Self {
        let history = config
            .history
            .enabled()
            .then(|| History::new(config.history.len).with_max_keys(config.history.max_keys));
        Self::build(config, adapter, history)
    }

    fn build(config: ServerConfig, adapter: Box<dyn Adapter>, history: Option<History>) -> Self {
        let budget = MemoryBudget::new(config.max_memory);
        let per_ip = AddressCap::new(config.max_per_ip);
        Self::build_sharing(config, adapter, history, budget, per_ip)
    }

    /// Another hub with this server's configuration, memory budget and
    /// observer, and its own connections, rooms, nicknames and history (in
    /// memory, even when this one appends to a file). A Socket.IO namespace
    /// is one ([`crate::transport::socketio`]): its rooms are apart from
    /// every other namespace's, while `--max-memory` still bounds them all
    /// together.
    pub fn sibling(&self) -> ChatServer {
        let history = self.config.history.enabled().then(|| {
            History::new(self.config.history.len).with_max_keys(self.config.history.max_keys)
        });
        let mut s = Self::build_sharing(
            self.config.clone(),
            Box::new(LocalAdapter),
            history,
            self.budget.clone(),
            self.per_ip.clone(),
        );
        s.on_note = self.on_note.clone();
        s
    }

    fn build_sharing(
        config: ServerConfig,
        adapter: Box<dyn Adapter>,
        history: Option<History>,
        budget: Arc<MemoryBudget>,
        per_ip: Arc<AddressCap>,
    ) -> Self {
        let hub = match history {
            Some(h) => {
                // The history is charged to the same budget as the connections.
                let h = h.with_budget(budget.reservation());
                let adapter: Box<dyn Adapter> = Box::new(HistoryAdapter::new(adapter, h));
                Hub::with_adapter(config.limits, adapter).with_sessions(SessionConfig {
                    ttl: config.history.session_ttl,
                    confirm_timeout: config.history.confirm_timeout,
                    confirm_retries: config.history.confirm_retries,
                })
            }
            None => Hub::with_adapter(config.limits, adapter),
        };
        Self {
            state: Mutex::new(State {
                hub,
                queues: HashMap::new(),
                out: Vec::new(),
                alias: HashMap::new(),
                owner: HashMap::new(),
            }),
            on_note: None,
            delivered: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            peak_queue: AtomicUsize::new(0),
            budget,
            per_ip,
            admissions: AdmissionCounters::default(),
            asker: std::sync::OnceLock::new(),
            config,
        }
    }

    /// The memory budget every connection of this server draws on
    /// (`--max-memory`): transports charge partial frames and unfinished
    /// messages to it, [`Outbound`] queues their events, and the history
    /// (lesson 07) the events it keeps.
    pub fn budget(&self) -> &Arc<MemoryBudget> {
        &self.budget
    }

    /// What the history holds of the budget, and what it evicted to stay
    /// within it (`None`: history off).
    pub fn history_usage(&self) -> Option<HistoryUsage> {
        self.with_hub(|h| h.adapter().history().map(History::usage))
    }

    /// A place for a new TCP connection (chat or HTTP) from `ip`, or the
    /// refusal when that address holds `--max-per-ip` already. Keep the slot
    /// as long as the connection lives.
    pub fn admit(&self, ip: IpAddr) -> Result<AddressSlot, AddressFull> {
        let admitted = self.per_ip.admit(ip);
        if admitted.is_err() {
            count(&self.admissions.refused_per_ip);
        }
        admitted
    }

    /// A transport closed a connection itself because its next frame did not
    /// fit the memory budget (a WebSocket's Close 1013): counted in
    /// [`ChatServer::admissions`]. TCP tells [`ChatServer::close_for`]
    /// instead, which counts it.
    pub fn refused_for_memory(&self) {
        count(&self.admissions.refused_memory);
    }

    /// How many connections were accepted and refused so far, and why.
    pub fn admissions(&self) -> Admissions {
        let a = &self.admissions;
        Admissions {
            accepted: a.accepted.load(Ordering::Relaxed),
            refused_full: a.refused_full.load(Ordering::Relaxed),
            refused_per_ip: a.refused_per_ip.load(Ordering::Relaxed),
            refused_memory: a.refused_memory.load(Ordering::Relaxed),
        }
    }

    /// The per-address cap (`--max-per-ip`) every transport's connections share.
    pub fn address_cap(&self) -> &Arc<AddressCap> {
        &self.per_ip
    }

    /// Calls `sink` for every [`ServerNote`]. It runs with the hub locked:
    /// log or record there, but do not call back into the server.
    pub fn with_observer(mut self, sink: impl Fn(&ServerNote) + Send + Sync + 'static) -> Self {
        self.on_note = Some(Arc::new(sink));
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
        let full = Refusal::ServerFull {
            max: self.config.max_connections,
        };
        if st.hub.len() >= self.config.max_connections {
            count(&self.admissions.refused_full);
            return Err(full);
        }
        let mut out = std::mem::take(&mut st.out);
        // The OS generator failing is not something a client can cause; treat
        // it like a full server rather than inventing a predictable id.
        let Ok(id) = st.hub.connect(&mut out) else {
            count(&self.admissions.refused_full);
            return Err(full);
        };
        count(&self.admissions.accepted);
        let queue = Arc::new(Outbound::with_budget(
            self.config.max_queue,
            self.budget.reservation(),
        ));
        st.queues.insert(id, queue.clone());
        self.note(&ServerNote::Connected {
            id,
            peer: peer.to_string(),
        });
        self.dispatch(&mut st, &mut out);
        st.out = out;
        Ok((id, queue))
    }

    /// Frames that arrived from `id` (the id [`ChatServer::connect`] gave), in order.
    pub fn handle_frames<'a>(&self, id: ConnId, frames: impl IntoIterator<Item = &'a [u8]>) {
        let mut st = self.state.lock().expect("hub lock");
        let mut out = std::mem::take(&mut st.out);
        for f in frames {
            // Looked up per frame: a `resume` changes who the next frame is from.
            let Some(sid) = st.route(id) else { break };
            st.hub.handle(sid, f, &mut out);
            // Deliver now: a resume's rebinding must happen before the next frame's answers.
            self.dispatch(&mut st, &mut out);
        }
        self.dispatch(&mut st, &mut out);
        st.out = out;
    }

    /// `id` broke a rule its transport detected (e.g. an oversized frame):
    /// it gets the error and is closed.
    pub fn close_for(&self, id: ConnId, why: Refusal) {
        if matches!(why, Refusal::MemoryFull { .. }) {
            self.refused_for_memory();
        }
        let mut st = self.state.lock().expect("hub lock");
        let mut out = std::mem::take(&mut st.out);
        if let Some(sid) = st.route(id) {
            st.hub.close(sid, why, &mut out);
        }
        self.dispatch(&mut st, &mut out);
        st.out = out;
    }

    /// `id` is gone (its socket closed or failed). With history on its
    /// session is detached, not removed; a connection whose session was
    /// resumed elsewhere changes nothing.
    pub fn disconnect(&self, id: ConnId, reason: &str) {
        let mut st = self.state.lock().expect("hub lock");
        let mut out = std::mem::take(&mut st.out);
        let route = st.route(id);
        st.alias.remove(&id);
        if let Some(sid) = route {
            st.owner.remove(&sid);
            st.hub.disconnect(sid, reason, &mut out);
            self.dispatch(&mut st, &mut out);
            if let Some(q) = st.queues.remove(&sid) {
                self.peak_queue.fetch_max(q.peak(), Ordering::Relaxed);
            }
        }
        st.out = out;
    }

    /// `id`'s welcome again (a UDP client whose welcome was lost says hello
    /// twice); with sessions on it carries a fresh token.
    pub fn welcome_again(&self, id: ConnId) -> Option<ServerEvent> {
        let mut st = self.state.lock().expect("hub lock");
        let sid = st.route(id)?;
        st.hub.welcome_again(sid)
    }

    /// Client `id` confirms it handled recorded events up to `seq` per key
    /// (the `seen` event; the Socket.IO transport calls this when a client
    /// answers a server-emitted ack request). Ignored with history off.
    pub fn seen(&self, id: ConnId, seq: &BTreeMap<String, u64>) {
        let mut st = self.state.lock().expect("hub lock");
        if let Some(sid) = st.route(id) {
            st.hub.seen(sid, seq);
        }
    }

    /// Time-driven work of the hub at `now`: expire detached sessions, resend
    /// unconfirmed events, close peers that never confirm.
    pub fn tick(&self, now: Instant) {
        let mut st = self.state.lock().expect("hub lock");
        let mut out = std::mem::take(&mut st.out);
        st.hub.tick(now, &mut out);
        self.dispatch(&mut st, &mut out);
        st.out = out;
    }

    /// How often the ticker runs: a quarter of the shortest deadline it
    /// serves, between [`MIN_TICK`] and [`MAX_TICK`]; `None` when nothing needs it.
    pub fn tick_period(&self) -> Option<Duration> {
        let h = &self.config.history;
        if !h.enabled() {
            return None;
        }
        let shortest = h
            .confirm_timeout
            .map_or(h.session_ttl, |c| c.min(h.session_ttl));
        Some((shortest / 4).clamp(MIN_TICK, MAX_TICK))
    }

    /// Spawns the task that calls [`ChatServer::tick`] periodically, when a
    /// feature needs it (history on). It stops when the server is dropped.
    pub fn start_ticker(self: &Arc<Self>) -> Option<tokio::task::JoinHandle<()>> {
        let period = self.tick_period()?;
        let server = Arc::downgrade(self);
        Some(tokio::spawn(async move {
            let mut every = tokio::time::interval(period);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                let Some(server) = server.upgrade() else {
                    return;
                };
                server.tick(Instant::now());
            }
        }))
    }

    /// Server code emitting to any target (no membership check).
    pub fn emit(&self, target: &crate::chat::Target, event: ServerEvent) -> usize {
        self.act(|hub, out| hub.emit(target, event, out))
    }

    /// Runs `f` on the hub as server code, then carries out what it decided.
    fn act<R>(&self, f: impl FnOnce(&mut ServerHub, &mut Vec<Output>) -> R) -> R {
        let mut st = self.state.lock().expect("hub lock");
        let mut out = std::mem::take(&mut st.out);
        let r = f(&mut st.hub, &mut out);
        self.dispatch(&mut st, &mut out);
        st.out = out;
        r
    }

    /// Lets `asker` answer the questions only every server together can
    /// answer (lesson 12); without one, this server answers alone.
    pub fn set_asker(&self, asker: Asker) {
        let _ = self.asker.set(asker);
    }

    /// Delivers `event` to connection `id` alone (e.g. an answer that took
    /// a round trip to the other servers); `false` if it is gone.
    pub fn deliver(&self, id: ConnId, event: &ServerEvent) -> bool {
        let st = self.state.lock().expect("hub lock");
        match st.queues.get(&id) {
            Some(q) => {
                q.push(event.to_bytes());
                true
            }
            None => false,
        }
    }

    /// Server code: every connection `target` names joins `room`
    /// (Socket.IO's `socketsJoin`); returns how many did.
    pub fn join_where(&self, target: &crate::chat::Target, room: &str) -> usize {
        self.act(|hub, out| hub.join_where(target, room, out))
    }

    /// Server code: every connection `target` names leaves `room`
    /// (`socketsLeave`); returns how many did.
    pub fn leave_where(&self, target: &crate::chat::Target, room: &str) -> usize {
        self.act(|hub, out| hub.leave_where(target, room, out))
    }

    /// Server code: closes every connection `target` names, each told that
    /// `by` asked (`disconnectSockets`); returns how many.
    pub fn disconnect_where(&self, target: &crate::chat::Target, by: &str) -> usize {
        let ids = self.with_hub(|h| h.rooms().recipients(target));
        for id in &ids {
            self.act(|hub, out| hub.close(*id, Refusal::Disconnected { by: by.into() }, out));
        }
        ids.len()
    }

    /// The connections `target` names: id, nickname and rooms (own id room
    /// first), for a question from another server (lesson 12).
    pub fn members_where(
        &self,
        target: &crate::chat::Target,
    ) -> Vec<(ConnId, String, Vec<String>)> {
        self.with_hub(|h| {
            h.rooms()
                .recipients(target)
                .into_iter()
                .map(|id| {
                    (
                        id,
                        h.nick(id).unwrap_or_default().to_string(),
                        h.rooms_of(id),
                    )
                })
                .collect()
        })
    }

    /// Every room this server has: each connection's own id room and every
    /// named room with members.
    pub fn room_names(&self) -> Vec<String> {
        self.with_hub(|h| {
            h.rooms()
                .conns()
                .map(ConnId::to_hex)
                .chain(h.rooms().room_sizes().map(|(r, _)| r.to_string()))
                .collect()
        })
    }

    /// Whether any connection here is in `room` (an id: that connection is here).
    pub fn has_room(&self, room: &str) -> bool {
        self.with_hub(|h| !h.rooms().members(room).is_empty())
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
                Output::Detached { id, reason } => self.note(&ServerNote::Detached { id, reason }),
                Output::Ask { id, question } => match self.asker.get() {
                    // The Redis link asks the other servers and answers later.
                    Some(ask) => ask(id, question),
                    None => {
                        let event = Arc::new(question.local_answer(None));
                        if let Some(q) = st.queues.get(&id) {
                            q.push(event.to_bytes());
                        }
                    }
                },
                Output::Rebind { from, to } => {
                    // `from`'s queue (its transport) now carries session `to`.
                    if let Some(q) = st.queues.remove(&from) {
                        st.queues.insert(to, q);
                    }
                    st.alias.insert(from, to);
                    st.owner.insert(to, from);
                    self.note(&ServerNote::Resumed { id: to, from });
                }
            }
        }
    }
}

/// Adds one to a counter.
fn count(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}
