//! The chat hub for Socket.IO clients: Socket.IO v5 over an Engine.IO
//! session (lesson 10; the packets are in [`crate::web::socketio`], the
//! session — polling or WebSocket, and the heartbeat — in
//! [`crate::web::session`]).
//!
//! **One session, several sockets.** A client joins a namespace with a
//! CONNECT (`0/admin,`) and leaves it with a DISCONNECT (`1/admin,`); each
//! namespace it is in is a *socket* of its own: its own hub connection, id
//! and rooms. [`Namespaces`] holds one hub ([`ChatServer`]) per namespace —
//! `/` is the server's own hub, shared with TCP, UDP and `/ws` clients, and
//! every `--namespace` is a sibling hub with the same limits and the same
//! memory budget. So rooms are kept apart by the simplest rule there is: a
//! `lobby` in `/admin` is another hub's `lobby`. An unknown namespace gets
//! `4/name,{"message":"Invalid namespace"}`, as Socket.IO answers.
//!
//! **Binary.** The session's [`Reassembler`] turns a binary packet and its
//! attachments back into one packet; each attachment becomes
//! `{"_binary":"<base64>"}` in the hub's JSON (a `file` event's `data`), and
//! the hub's `{"_binary":…}` goes out as a real attachment.
//!
//! **Recorded events** (with `--history`). Connection-state recovery as
//! socket.io-client 4.6+ expects it ([`crate::web::socketio::recovery`]): the
//! CONNECT answer carries a `pid`, every recorded event its offset as the
//! last argument, and a CONNECT with `{pid, offset}` sends the hub a
//! `resume` with the token the pid stands for and the seq map the offset
//! stands for. The hub replays what was missed; the answer carries the same
//! pid, so the client sets `socket.recovered`. With `--confirm-timeout`,
//! recorded events are ack requests instead (`2<n>[…]`): the client's
//! `3<n>[…]` confirms that seq to the hub, exactly as a native `seen` would,
//! and what was confirmed is what a recovering client is taken to have.
//!
//! One task per session waits on three things at once: a message from the
//! client, events queued by any of its sockets' hub connections — taken only
//! while the session's outbox has room, so a slow client slows only itself —
//! and, while it has no socket, the connect timeout.

use super::outbound::{Batch, Outbound};
use super::server::ChatServer;
use crate::chat::id::ConnId;
use crate::chat::protocol::{ClientEvent, ClientFrame, ErrorCode, Refusal, SeqMap, ServerEvent};
use crate::guard::Reservation;
use crate::web::engineio::Data;
use crate::web::session::{EngineSender, EngineSocket};
use crate::web::socketio::binary::placeholders_to_base64;
use crate::web::socketio::native::event_name;
use crate::web::socketio::packet::valid_namespace;
use crate::web::socketio::recovery::{recovery_request, PidTable, Received};
use crate::web::socketio::{
    to_native, AckRequests, Outgoing, Packet, PacketType, Reassembler, Recorded, Translator,
    MAIN_NAMESPACE,
};
use bytes::Bytes;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a session may hold no socket (no CONNECT yet, or every
/// namespace left) before it is closed: Socket.IO's `connectTimeout` default.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(45);

/// What Socket.IO answers a CONNECT to a namespace the server does not offer.
pub const INVALID_NAMESPACE: &str = "Invalid namespace";

/// One namespace: its hub, and its pids for connection-state recovery.
pub struct Namespace {
    name: String,
    server: Arc<ChatServer>,
    pids: Mutex<PidTable>,
}

impl Namespace {
    fn new(name: &str, server: Arc<ChatServer>) -> Namespace {
        let c = server.config();
        let pids = PidTable::new(c.max_connections, c.history.session_ttl);
        Namespace {
            name: name.to_string(),
            server,
            pids: Mutex::new(pids),
        }
    }

    /// Its name (`/`, `/admin`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its hub.
    pub fn server(&self) -> &Arc<ChatServer> {
        &self.server
    }

    fn pids(&self) -> std::sync::MutexGuard<'_, PidTable> {
        self.pids.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl std::fmt::Debug for Namespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Namespace")
            .field("name", &self.name)
            .field("connections", &self.server.conn_count())
            .field("pids", &self.pids().len())
            .finish()
    }
}

/// Why a `--namespace` name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a namespace name: `/` then at most 63 visible ASCII characters, without `,`, `?` or `#`")]
pub struct BadNamespace(pub String);

/// The namespaces a server offers: `/` always, and the `--namespace` ones.
#[derive(Debug)]
pub struct Namespaces {
    by_name: BTreeMap<String, Arc<Namespace>>,
}

impl Namespaces {
    /// `/` served by `main`, and each of `extra` by a sibling of it
    /// ([`ChatServer::sibling`]); a repeated name, or `/`, counts once. Call
    /// it inside the runtime: the siblings' tickers start here.
    pub fn new(main: Arc<ChatServer>, extra: &[String]) -> Result<Arc<Namespaces>, BadNamespace> {
        let mut by_name = BTreeMap::new();
        for name in extra {
            if !valid_namespace(name) {
                return Err(BadNamespace(name.clone()));
            }
            if name == MAIN_NAMESPACE || by_name.contains_key(name) {
                continue;
            }
            let sibling = Arc::new(main.sibling());
            sibling.start_ticker();
            by_name.insert(name.clone(), Arc::new(Namespace::new(name, sibling)));
        }
        by_name.insert(
            MAIN_NAMESPACE.to_string(),
            Arc::new(Namespace::new(MAIN_NAMESPACE, main)),
        );
        Ok(Arc::new(Namespaces { by_name }))
    }

    /// The namespace called `name`, if offered.
    pub fn get(&self, name: &str) -> Option<&Arc<Namespace>> {
        self.by_name.get(name)
    }

    /// The names offered, sorted (`/` first).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    fn main(&self) -> &Arc<Namespace> {
        &self.by_name[MAIN_NAMESPACE]
    }
}

/// Where a socket's CONNECT stands.
#[derive(Debug)]
enum Phase {
    /// The hub's `welcome` (always its first event) will give the socket its
    /// id and token: then comes the CONNECT answer.
    Greeting,
    /// `resume` was sent with the token `pid` stands for: `resumed` means
    /// recovered; a refusal means a fresh session after all.
    Resuming {
        /// The pid the client presented.
        pid: String,
        /// This socket's hold on it.
        epoch: u64,
        /// What the client has, per key (sent with `resume`).
        have: SeqMap,
        /// The new connection's own welcome, kept in case the resume fails.
        welcome: Option<Bytes>,
    },
    /// Answered: events flow.
    Connected,
}

/// One namespace socket of a session.
#[derive(Debug)]
struct Socket {
    ns: Arc<Namespace>,
    /// The id the hub gave this connection (the transport's handle, even
    /// after a resume made it an older session).
    id: ConnId,
    queue: Arc<Outbound>,
    translator: Translator,
    phase: Phase,
    /// The pid and this socket's epoch (recovery on).
    pid: Option<(String, u64)>,
}

impl Socket {
    fn nsp(&self) -> &str {
        &self.ns.name
    }

    /// What the client is taken to have when it comes back: what it
    /// confirmed (ack requests on); otherwise its offset will say.
    fn kept(&self) -> SeqMap {
        match self.translator.recorded() {
            Recorded::Ask { confirmed, .. } => confirmed.seq().clone(),
            _ => SeqMap::new(),
        }
    }

    /// The socket is gone (`why`): the hub is told, the pid stays for recovery.
    fn leave(&self, why: &str) {
        if let Some((pid, epoch)) = &self.pid {
            self.ns
                .pids()
                .detach(pid, *epoch, self.kept(), Instant::now());
        }
        self.ns.server.disconnect(self.id, why);
    }
}

/// Runs one Engine.IO session's Socket.IO side until it closes, then tells
/// each hub its socket is gone.
pub async fn session(mut sock: EngineSocket, namespaces: Arc<Namespaces>) {
    let out = sock.sender();
    let peer = sock.peer().to_string();
    let main = namespaces.main().server.clone();
    let mut reassembler = Reassembler::new(main.config().max_frame);
    // What a half-received binary packet holds of the server's memory budget.
    let mut held: Reservation = main.budget().reservation();
    let mut sockets: Vec<Socket> = Vec::new();
    let mut alone_since = tokio::time::Instant::now();
    let reason: String = loop {
        let batches = async {
            if sockets.is_empty() {
                std::future::pending().await
            } else {
                let takes = sockets.iter().map(|s| Box::pin(s.queue.take()));
                let (batch, i, _) = futures_util::future::select_all(takes).await;
                (batch, i)
            }
        };
        tokio::select! {
            msg = sock.recv() => {
                let read = match msg {
                    Some(Data::Text(t)) => reassembler.text(&t),
                    Some(Data::Binary(b)) => {
                        let r = reassembler.binary(b);
                        if let Err(e) = held.hold(reassembler.buffered()) {
                            break fail(&out, &e.to_string());
                        }
                        r
                    }
                    None => break sock.closed_reason().unwrap_or_else(|| "session closed".into()),
                };
                match read {
                    Ok(Some(packet)) => {
                        held.release();
                        if let Err(why) = on_packet(packet, &mut sockets, &namespaces, &out, &peer) {
                            break fail(&out, &why);
                        }
                        if sockets.is_empty() {
                            alone_since = tokio::time::Instant::now();
                        }
                    }
                    Ok(None) => {}
                    Err(e) => break fail(&out, &e.to_string()),
                }
            }
            (batch, i) = batches, if out.has_room() => {
                if !deliver(&mut sockets[i], batch, &out) {
                    // The hub closed that socket's connection: its namespace ends.
                    let s = sockets.remove(i);
                    out.send(Data::Text(Packet::disconnect(s.nsp()).encode()));
                    s.leave("closed by the server");
                    if sockets.is_empty() {
                        alone_since = tokio::time::Instant::now();
                    }
                }
            }
            _ = out.writable(), if !out.has_room() => {}
            _ = tokio::time::sleep_until(alone_since + CONNECT_TIMEOUT), if sockets.is_empty() => {
                out.close("no namespace joined within the connect timeout");
                break format!("no namespace joined within {CONNECT_TIMEOUT:?}");
            }
        }
    };
    for s in &sockets {
        s.leave(&reason);
    }
}

/// A packet broke the protocol: say why (CONNECT_ERROR) and end this session only.
fn fail(out: &EngineSender, why: &str) -> String {
    out.send(Data::Text(
        Packet::connect_error(MAIN_NAMESPACE, why).encode(),
    ));
    out.abort("malformed Socket.IO packet");
    format!("malformed Socket.IO packet: {why}")
}

/// Sends a packet and its attachments.
fn send(out: &EngineSender, o: Outgoing) {
    out.send(Data::Text(o.text));
    for a in o.attachments {
        out.send(Data::Binary(a));
    }
}

/// One whole packet from the client; `Err` ends the session.
fn on_packet(
    p: Packet,
    sockets: &mut Vec<Socket>,
    namespaces: &Namespaces,
    out: &EngineSender,
    peer: &str,
) -> Result<(), String> {
    let at = sockets.iter().position(|s| s.nsp() == p.nsp);
    match (p.kind, at) {
        (PacketType::Connect, None) => {
            match namespaces.get(&p.nsp) {
                Some(ns) => {
                    if let Some(s) = connect(ns, p.data.as_ref(), out, peer) {
                        sockets.push(s);
                    }
                }
                None => out.send(Data::Text(
                    Packet::connect_error(&p.nsp, INVALID_NAMESPACE).encode(),
                )),
            }
            Ok(())
        }
        // Connecting twice to one namespace changes nothing.
        (PacketType::Connect, Some(_)) => Ok(()),
        (PacketType::Disconnect, Some(i)) => {
            sockets.remove(i).leave("client left the namespace");
            Ok(())
        }
        (PacketType::Event | PacketType::BinaryEvent, Some(i)) => {
            let s = &mut sockets[i];
            let name = p.event_name().unwrap_or_default().to_string();
            let mut args = p.args().to_vec();
            for a in &mut args {
                placeholders_to_base64(a, &p.attachments);
            }
            // What a native client could not send either is refused the
            // same way: a frame longer than --max-frame, fields that do not fit.
            let max = s.ns.server.config().max_frame;
            let native = match to_native(&name, &args, p.id) {
                Ok(n) if n.len() > max => Err((
                    ErrorCode::FrameTooLong,
                    format!(
                        "`{name}` is {} bytes as a chat event (binary in base64); at most {max} (--max-frame)",
                        n.len()
                    ),
                )),
                Ok(n) => Ok(n),
                Err(detail) => Err((
                    ErrorCode::InvalidFields,
                    Refusal::InvalidFields {
                        event: name.clone(),
                        detail,
                    }
                    .to_string(),
                )),
            };
            match native {
                Ok(n) => s.ns.server.handle_frames(s.id, std::iter::once(&n[..])),
                Err((code, message)) => {
                    // Its ack, or an `error` event, as the hub answers a refusal.
                    let answer = match p.id {
                        Some(ack) => ServerEvent::Ack {
                            ack,
                            ok: false,
                            reached: None,
                            error: Some(code),
                            message: Some(message),
                        },
                        None => ServerEvent::Error { code, message },
                    };
                    if let Some(o) = s.translator.packet(&answer.to_bytes()) {
                        send(out, o);
                    }
                }
            }
            Ok(())
        }
        (PacketType::Ack | PacketType::BinaryAck, Some(i)) => {
            // The client's callback ran: what ack request n stood for is
            // confirmed. An id never asked (or already answered) is ignored.
            let s = &mut sockets[i];
            if let Some(seq) = p.id.and_then(|n| s.translator.answer(n)) {
                s.ns.server.seen(s.id, &seq);
            }
            Ok(())
        }
        (PacketType::Disconnect | PacketType::Event | PacketType::BinaryEvent, None)
        | (PacketType::Ack | PacketType::BinaryAck, None) => Err(format!(
            "a packet for namespace {:?} before its CONNECT (send 0{} first)",
            p.nsp,
            if p.nsp == MAIN_NAMESPACE {
                String::new()
            } else {
                format!("{},", p.nsp)
            }
        )),
        (PacketType::ConnectError, _) => Err("CONNECT_ERROR is the server's to send".into()),
    }
}

/// A CONNECT to `ns`: a new hub connection, resuming the session `pid`
/// names when the client presents one the table knows.
fn connect(
    ns: &Arc<Namespace>,
    auth: Option<&serde_json::Value>,
    out: &EngineSender,
    peer: &str,
) -> Option<Socket> {
    let server = &ns.server;
    let (id, queue) = match server.connect(peer) {
        Ok(c) => c,
        Err(refusal) => {
            let refused = Packet::connect_error(&ns.name, &refusal.to_string());
            out.send(Data::Text(refused.encode()));
            return None;
        }
    };
    let history = &server.config().history;
    let recorded = match (history.enabled(), history.confirm_timeout) {
        (false, _) => Recorded::Plain,
        (true, None) => Recorded::Offsets(Received::default()),
        (true, Some(_)) => Recorded::Ask {
            requests: AckRequests::default(),
            confirmed: Received::default(),
        },
    };
    let mut socket = Socket {
        ns: ns.clone(),
        id,
        queue,
        translator: Translator::new(&ns.name, recorded),
        phase: Phase::Greeting,
        pid: None,
    };
    let wanted = history.enabled().then(|| recovery_request(auth)).flatten();
    if let Some(want) = wanted {
        let claim = ns.pids().claim(&want.pid, Instant::now());
        if let Some(claim) = claim {
            // What the client has: its offset, and what it confirmed.
            let mut have = want.have;
            for (k, n) in claim.confirmed {
                let e = have.entry(k).or_insert(0);
                *e = (*e).max(n);
            }
            let resume = ClientFrame {
                event: ClientEvent::Resume {
                    session: claim.token,
                    last: have.clone(),
                },
                ack: None,
            };
            socket.phase = Phase::Resuming {
                pid: want.pid,
                epoch: claim.epoch,
                have,
                welcome: None,
            };
            server.handle_frames(id, std::iter::once(&resume.to_json()[..]));
        }
    }
    Some(socket)
}

/// Sends what a socket's hub connection queued; false when the hub closed it.
fn deliver(s: &mut Socket, batch: Batch, out: &EngineSender) -> bool {
    if batch.dropped > 0 {
        let notice = ServerEvent::Dropped {
            count: batch.dropped,
        };
        if let Some(o) = s.translator.packet(&notice.to_bytes()) {
            send(out, o);
        }
    }
    for e in &batch.events {
        if !matches!(s.phase, Phase::Connected) && !handshake(s, e, out) {
            continue;
        }
        if event_name(e) == Some("resumed") {
            // A resume the client sent itself (the native `resume` event):
            // the pid now stands for the rotated token.
            rotate(s, e);
        }
        if let Some(o) = s.translator.packet_shared(e) {
            send(out, o);
        }
    }
    !batch.closing
}

/// An event while the CONNECT is being answered: returns whether it still
/// goes to the client.
fn handshake(s: &mut Socket, e: &Bytes, out: &EngineSender) -> bool {
    let event = serde_json::from_slice::<ServerEvent>(e).ok();
    let phase = std::mem::replace(&mut s.phase, Phase::Connected);
    match (phase, event) {
        (Phase::Greeting, Some(ServerEvent::Welcome { id, session, .. })) => {
            answer_fresh(s, id, session.as_deref(), out);
            true
        }
        (
            Phase::Resuming {
                pid, epoch, have, ..
            },
            Some(ServerEvent::Welcome { .. }),
        ) => {
            // The new connection's welcome: kept until the resume's outcome.
            s.phase = Phase::Resuming {
                pid,
                epoch,
                have,
                welcome: Some(e.clone()),
            };
            false
        }
        (
            Phase::Resuming {
                pid, epoch, have, ..
            },
            Some(ServerEvent::Resumed {
                id, rooms, session, ..
            }),
        ) => {
            s.ns.pids().rotate(&pid, epoch, &session, Instant::now());
            s.translator.start(&id.to_hex(), rooms, have);
            out.send(Data::Text(
                Packet::connected(s.nsp(), &id.to_hex(), Some(&pid)).encode(),
            ));
            s.pid = Some((pid, epoch));
            // Socket.IO's recovered socket gets the missed events, not a notice.
            false
        }
        (
            Phase::Resuming {
                pid,
                epoch,
                welcome,
                ..
            },
            other,
        ) => {
            // Unknown, expired or used: a fresh session, as Socket.IO does.
            s.ns.pids().forget(&pid, epoch);
            let greeting = welcome
                .as_ref()
                .and_then(|w| serde_json::from_slice::<ServerEvent>(w).ok());
            if let Some(ServerEvent::Welcome { id, session, .. }) = greeting {
                answer_fresh(s, id, session.as_deref(), out);
                if let Some(o) = welcome.and_then(|w| s.translator.packet(&w)) {
                    send(out, o);
                }
            }
            // The refusal of the resume is the server's business, not the client's.
            !matches!(other, Some(ServerEvent::Error { .. }))
        }
        (Phase::Greeting, _) => {
            // Not the welcome (which always comes first): still greeting.
            s.phase = Phase::Greeting;
            true
        }
        (Phase::Connected, _) => true,
    }
}

/// The CONNECT answer of a fresh socket: its id, and a new pid when the hub
/// gave a session token (history on).
fn answer_fresh(s: &mut Socket, id: ConnId, token: Option<&str>, out: &EngineSender) {
    let me = id.to_hex();
    s.pid = token.and_then(|t| s.ns.pids().issue(t, Instant::now()).ok());
    s.translator.start(&me, Vec::new(), SeqMap::new());
    let pid = s.pid.as_ref().map(|(p, _)| p.as_str());
    out.send(Data::Text(Packet::connected(s.nsp(), &me, pid).encode()));
}

/// Keeps the pid pointing at the token a `resumed` event carries.
fn rotate(s: &mut Socket, e: &Bytes) {
    if let (Some((pid, epoch)), Ok(ServerEvent::Resumed { session, .. })) =
        (&s.pid, serde_json::from_slice::<ServerEvent>(e))
    {
        s.ns.pids().rotate(pid, *epoch, &session, Instant::now());
    }
}

#[cfg(test)]
mod tests {
    //! The application driven through an Engine.IO polling session, in
    //! process: what goes in is what a POST would carry, what comes out is
    //! what a GET would collect.
    use super::*;
    use crate::chat::history::HistoryConfig;
    use crate::transport::ServerConfig;
    use crate::web::engineio::Packet as EnginePacket;
    use crate::web::session::{take_packet, EngineConfig, Session, Sessions};
    use serde_json::{json, Value};
    use std::collections::VecDeque;
    use std::time::Duration;

    const PATIENCE: Duration = Duration::from_secs(5);

    /// One client session: sends messages, collects what the server queued.
    struct Client {
        session: Arc<Session>,
        inbox: VecDeque<Data>,
        closed: bool,
        /// The last ack id used (socket.io-client counts them up too).
        acks: u64,
    }

    impl Client {
        async fn send(&self, text: &str) {
            let m = EnginePacket::Message(Data::Text(text.to_string()));
            take_packet(&self.session, m).await.unwrap();
        }

        async fn send_binary(&self, bytes: &[u8]) {
            let m = EnginePacket::Message(Data::Binary(Bytes::copy_from_slice(bytes)));
            take_packet(&self.session, m).await.unwrap();
        }

        /// The next message from the server (pings and noops skipped);
        /// `None` once the session is closed.
        async fn next(&mut self) -> Option<Data> {
            loop {
                if let Some(d) = self.inbox.pop_front() {
                    return Some(d);
                }
                if self.closed {
                    return None;
                }
                let packets = tokio::time::timeout(PATIENCE, self.session.poll())
                    .await
                    .expect("the server answers in time")
                    .ok()?;
                for p in packets {
                    match p {
                        EnginePacket::Message(d) => self.inbox.push_back(d),
                        EnginePacket::Close => self.closed = true,
                        _ => {}
                    }
                }
            }
        }

        async fn text(&mut self) -> String {
            match self.next().await {
                Some(Data::Text(t)) => t,
                other => panic!("expected a text message, got {other:?}"),
            }
        }

        /// Text messages until one starts with `prefix`; returns it.
        async fn until(&mut self, prefix: &str) -> String {
            loop {
                let t = self.text().await;
                if t.starts_with(prefix) {
                    return t;
                }
            }
        }

        /// Connects to `nsp` with `auth`; returns the CONNECT answer's data.
        async fn connect(&mut self, nsp: &str, auth: Option<Value>) -> Value {
            let p = Packet::connect(nsp, auth);
            self.send(&p.encode()).await;
            let answer = self.until(&Packet::connect(nsp, None).encode()).await;
            Packet::parse(&answer).unwrap().0.data.unwrap()
        }

        /// Sends an event with a fresh ack id and waits for the ACK.
        async fn call(&mut self, nsp: &str, name: &str, arg: Value) -> Value {
            self.acks += 1;
            let p = Packet::event(nsp, Some(self.acks), name, vec![arg], Vec::new());
            self.send(&p.encode()).await;
            let ack = Packet::ack(nsp, self.acks, vec![], vec![]).encode();
            let answer = self.until(ack.trim_end_matches("[]")).await;
            Packet::parse(&answer).unwrap().0.args()[0].clone()
        }

        /// The next EVENT named `name` in `nsp`: its arguments and attachments.
        async fn event(&mut self, nsp: &str, name: &str) -> (Vec<Value>, Vec<Bytes>) {
            loop {
                let t = self.text().await;
                let Ok((p, n)) = Packet::parse(&t) else {
                    continue;
                };
                let mut attachments = Vec::new();
                for _ in 0..n {
                    match self.next().await {
                        Some(Data::Binary(b)) => attachments.push(b),
                        other => panic!("expected an attachment, got {other:?}"),
                    }
                }
                if p.nsp == nsp && p.event_name() == Some(name) {
                    return (p.args().to_vec(), attachments);
                }
            }
        }
    }

    /// A server offering `/` and `/admin`.
    struct Lab {
        sessions: Arc<Sessions>,
        main: Arc<ChatServer>,
    }

    impl Lab {
        fn new(history: HistoryConfig) -> Lab {
            let main = Arc::new(ChatServer::new(ServerConfig {
                history,
                ..ServerConfig::default()
            }));
            let namespaces = Namespaces::new(main.clone(), &["/admin".to_string()]).unwrap();
            let app: crate::web::session::App =
                Arc::new(move |socket| Box::pin(session(socket, namespaces.clone())));
            Lab {
                sessions: Sessions::new(EngineConfig::default(), app, main.budget().clone()),
                main,
            }
        }

        fn client(&self) -> Client {
            let (session, _open) = self
                .sessions
                .open("127.0.0.1".parse().unwrap(), "test", None)
                .unwrap();
            Client {
                session,
                inbox: VecDeque::new(),
                closed: false,
                acks: 0,
            }
        }
    }

    fn history() -> HistoryConfig {
        HistoryConfig {
            len: 100,
            ..HistoryConfig::default()
        }
    }

    #[tokio::test]
    async fn each_namespace_has_its_own_rooms() {
        let lab = Lab::new(HistoryConfig::default());
        let mut ana = lab.client();
        let main_sid = ana.connect("/", None).await["sid"].clone();
        let admin_sid = ana.connect("/admin", None).await["sid"].clone();
        assert_ne!(main_sid, admin_sid, "one session, two sockets, two ids");
        assert_eq!(
            ana.call("/admin", "join", json!("lobby")).await["reached"],
            1
        );
        assert_eq!(ana.call("/", "join", json!("lobby")).await["reached"], 1);
        let mut bo = lab.client();
        bo.connect("/admin", None).await;
        assert_eq!(
            bo.call("/admin", "join", json!("lobby")).await["reached"],
            2
        );
        let said = json!({"to": ["lobby"], "text": "admins only"});
        assert_eq!(bo.call("/admin", "message", said).await["reached"], 1);
        let (args, _) = ana.event("/admin", "message").await;
        assert_eq!(args[0]["text"], "admins only");
        // The main namespace's lobby is another room: one member, ana.
        ana.send(r#"2["who","lobby"]"#).await;
        let (args, _) = ana.event("/", "who").await;
        assert_eq!(args[0]["members"].as_array().unwrap().len(), 1);
        assert_eq!(lab.main.conn_count(), 1, "bo never joined /");
    }

    #[tokio::test]
    async fn an_unknown_namespace_is_refused_and_leaving_one_keeps_the_others() {
        let lab = Lab::new(HistoryConfig::default());
        let mut ana = lab.client();
        ana.send("0/nope,").await;
        assert_eq!(
            ana.text().await,
            r#"4/nope,{"message":"Invalid namespace"}"#
        );
        ana.connect("/", None).await;
        ana.connect("/admin", None).await;
        ana.send("1/admin,").await;
        assert_eq!(ana.call("/", "join", json!("lobby")).await["ok"], true);
        // A packet for the namespace it left breaks the protocol: the session ends.
        ana.send("2/admin,[\"rooms\"]").await;
        let refusal = ana.until("4{").await;
        assert!(refusal.contains("before its CONNECT"), "{refusal}");
        assert_eq!(ana.next().await, None);
    }

    #[tokio::test]
    async fn files_cross_as_attachments_both_ways() {
        let lab = Lab::new(HistoryConfig::default());
        let (mut ana, mut bo) = (lab.client(), lab.client());
        for c in [&mut ana, &mut bo] {
            c.connect("/admin", None).await;
            c.call("/admin", "join", json!("lobby")).await;
        }
        ana.send(r#"51-/admin,["file",{"to":["lobby"],"name":"a.bin","data":{"_placeholder":true,"num":0}}]"#)
            .await;
        ana.send_binary(&[0, 1, 255]).await;
        let (args, attachments) = bo.event("/admin", "file").await;
        assert_eq!(args[0]["name"], "a.bin");
        assert_eq!(args[0]["data"], json!({"_placeholder": true, "num": 0}));
        assert_eq!(attachments, vec![Bytes::from_static(&[0, 1, 255])]);
    }

    #[tokio::test]
    async fn what_a_native_client_could_not_send_is_refused_the_same_way() {
        let lab = Lab::new(HistoryConfig::default());
        let mut ana = lab.client();
        ana.connect("/", None).await;
        let refused = ana.call("/", "join", json!(5)).await;
        assert_eq!(
            (refused["ok"].clone(), refused["error"].clone()),
            (json!(false), json!("invalid_fields"))
        );
        // A file whose event would not fit in one frame (--max-frame).
        let big = vec![7u8; crate::chat::limits::DEFAULT_MAX_FRAME];
        ana.send(r#"51-["file",{"data":{"_placeholder":true,"num":0}}]"#)
            .await;
        ana.send_binary(&big).await;
        let (args, _) = ana.event("/", "error").await;
        assert_eq!(args[0]["code"], "frame_too_long");
        // At the edge: the largest file whose event fits goes through.
        let envelope = to_native(
            "file",
            &[json!({"to":["lobby"],"self":true,"data":{"_binary":""}})],
            Some(111),
        )
        .unwrap()
        .len();
        let edge = (crate::chat::limits::DEFAULT_MAX_FRAME - envelope) / 4 * 3;
        ana.send(r#"2["join","lobby"]"#).await;
        ana.send(
            r#"51-111["file",{"to":["lobby"],"self":true,"data":{"_placeholder":true,"num":0}}]"#,
        )
        .await;
        ana.send_binary(&vec![1u8; edge]).await;
        let (args, attachments) = ana.event("/", "file").await;
        assert_eq!(
            (attachments[0].len(), args[0]["to"].clone()),
            (edge, json!(["lobby"]))
        );
        assert_eq!(ana.until("3111[").await, r#"3111[{"ok":true,"reached":1}]"#);
        // One byte more does not fit.
        ana.send(
            r#"51-112["file",{"to":["lobby"],"self":true,"data":{"_placeholder":true,"num":0}}]"#,
        )
        .await;
        ana.send_binary(&vec![1u8; edge + 1]).await;
        let refused = ana.until("3112[").await;
        assert!(refused.contains(r#""error":"frame_too_long""#), "{refused}");
    }

    #[tokio::test]
    async fn a_malformed_binary_packet_ends_only_its_session() {
        let lab = Lab::new(HistoryConfig::default());
        let (mut ana, mut bo) = (lab.client(), lab.client());
        ana.connect("/", None).await;
        bo.connect("/", None).await;
        // A binary message nobody announced.
        ana.send_binary(b"stray").await;
        assert!(ana.until("4{").await.contains("no binary packet waiting"));
        assert_eq!(ana.next().await, None);
        // Too many attachments announced.
        let mut cy = lab.client();
        cy.connect("/", None).await;
        let too_many = crate::web::socketio::MAX_ATTACHMENTS + 1;
        cy.send(&format!("5{too_many}-[\"file\"]")).await;
        assert!(cy.until("4{").await.contains("attachments"));
        assert_eq!(cy.next().await, None);
        // Bo is fine.
        assert_eq!(bo.call("/", "join", json!("lobby")).await["ok"], true);
    }

    /// Recovery as socket.io-client does it: pid in the answer, offsets on
    /// recorded events, `{pid, offset}` on the next CONNECT.
    #[tokio::test]
    async fn a_recovered_socket_gets_exactly_what_it_missed() {
        let lab = Lab::new(history());
        let mut ana = lab.client();
        let first = ana.connect("/admin", None).await;
        let (sid, pid) = (first["sid"].clone(), first["pid"].clone());
        assert!(pid.is_string(), "{first}");
        ana.call("/admin", "join", json!("lobby")).await;
        let mut bo = lab.client();
        bo.connect("/admin", None).await;
        bo.call("/admin", "join", json!("lobby")).await;
        bo.call("/admin", "message", json!({"to":["lobby"],"text":"seen"}))
            .await;
        let (args, _) = ana.event("/admin", "message").await;
        let offset = args.last().unwrap().as_str().unwrap().to_string();
        assert!(offset.starts_with("lobby:"), "{args:?}");
        // Ana's session drops; three events go by.
        ana.session.close("cut");
        for t in ["one", "two", "three"] {
            bo.call("/admin", "message", json!({"to":["lobby"],"text":t}))
                .await;
        }
        let mut again = lab.client();
        let answer = again
            .connect(
                "/admin",
                Some(json!({"token":"x","pid":pid,"offset":offset})),
            )
            .await;
        assert_eq!(
            (answer["sid"].clone(), answer["pid"].clone()),
            (sid, pid.clone())
        );
        let mut texts = Vec::new();
        for _ in 0..3 {
            let (args, _) = again.event("/admin", "message").await;
            texts.push(args[0]["text"].clone());
        }
        assert_eq!(texts, ["one", "two", "three"]);
        // Nothing else missed comes: the next event is a live one.
        bo.call("/admin", "message", json!({"to":["lobby"],"text":"live"}))
            .await;
        let (args, _) = again.event("/admin", "message").await;
        assert_eq!(args[0]["text"], "live");
        // The pid lives on: a later cut recovers again, from the last offset.
        let offset = args.last().unwrap().as_str().unwrap().to_string();
        again.session.close("cut again");
        bo.call("/admin", "message", json!({"to":["lobby"],"text":"four"}))
            .await;
        let mut third = lab.client();
        let answer = third
            .connect("/admin", Some(json!({"pid":pid,"offset":offset})))
            .await;
        assert_eq!(answer["pid"], pid);
        let (args, _) = third.event("/admin", "message").await;
        assert_eq!(args[0]["text"], "four");
    }

    #[tokio::test]
    async fn an_unknown_pid_gets_a_fresh_session() {
        let lab = Lab::new(history());
        let mut ana = lab.client();
        let answer = ana
            .connect("/", Some(json!({"pid":"not-a-pid","offset":"lobby:3"})))
            .await;
        assert!(
            answer["pid"].is_string() && answer["pid"] != "not-a-pid",
            "{answer}"
        );
        let (args, _) = ana.event("/", "welcome").await;
        assert_eq!(args[0]["id"], answer["sid"]);
        // Without history there is no pid at all.
        let lab = Lab::new(HistoryConfig::default());
        let mut bo = lab.client();
        let answer = bo
            .connect("/", Some(json!({"pid":"p","offset":"a:1"})))
            .await;
        assert_eq!(answer.get("pid"), None, "{answer}");
    }
}
