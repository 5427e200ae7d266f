//! An Engine.IO session: one client, whatever carries its packets.
//!
//! The session outlives any one HTTP request. Its packets for the client wait
//! in an *outbox*; a polling GET takes them all at once, or — after the
//! upgrade — the session's own task writes them to the WebSocket. Packets from
//! the client (POST bodies, or WebSocket frames) go to an *inbox* the
//! application reads with [`EngineSocket::recv`]. The heartbeat lives here
//! too: the server pings every `pingInterval` on whichever transport is in
//! use, and a client that does not pong within `pingTimeout` is dropped —
//! which is also how an abandoned polling session goes away.
//!
//! Sessions live in a bounded table ([`Sessions`]), keyed by `sid`, each bound
//! to the IP address that opened it.

use super::engineio::{Data, Packet, Upgrade};
use crate::guard::{MemoryBudget, Reservation};
use crate::ws::{CloseCode, Message, WebSocket, WsError};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Notify};
use tokio::time::{sleep_until, Instant};

/// Messages from the client the application has not read yet, per session;
/// a full inbox makes the POST (or the WebSocket read) wait.
pub const INBOX: usize = 64;
/// Bytes queued for the client above which [`EngineSender::has_room`] is
/// false and the application stops taking more (control packets still go).
pub const OUTBOX_HIGH_WATER: usize = 256 * 1024;
/// How long a poll arriving during the probe waits before its noop (engine.io
/// checks every 100 ms too).
pub const PROBE_CHECK: Duration = Duration::from_millis(100);
/// How long a closed polling session waits for a last GET to collect what it
/// still had to say (a `44` refusal, the close packet).
pub const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// The Engine.IO side of the HTTP server: timing and limits.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Time between the server's pings (`pingInterval`).
    pub ping_interval: Duration,
    /// Time a client has to answer one (`pingTimeout`).
    pub ping_timeout: Duration,
    /// Largest message, and largest POST body (`maxPayload`, bytes).
    pub max_payload: usize,
    /// Most sessions at once (polling and WebSocket together).
    pub max_sessions: usize,
    /// Time a probing WebSocket has to finish the upgrade.
    pub upgrade_timeout: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            ping_interval: Duration::from_millis(super::socketio::PING_INTERVAL_MS),
            ping_timeout: Duration::from_millis(super::socketio::PING_TIMEOUT_MS),
            max_payload: 1_000_000,
            max_sessions: 10_000,
            upgrade_timeout: Duration::from_secs(10),
        }
    }
}

impl EngineConfig {
    /// The open packet's data (Engine.IO v4, "Handshake"): the session id,
    /// the transports it may upgrade to, the heartbeat, the largest message.
    pub fn open_packet(&self, sid: &str, upgrades: &[&str]) -> Packet {
        Packet::Open(
            serde_json::json!({
                "sid": sid,
                "upgrades": upgrades,
                "pingInterval": self.ping_interval.as_millis() as u64,
                "pingTimeout": self.ping_timeout.as_millis() as u64,
                "maxPayload": self.max_payload,
            })
            .to_string(),
        )
    }
}

/// The application running on each session (the chat hub, the echo server).
pub type App = Arc<dyn Fn(EngineSocket) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Why a session could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// The table is full (`max_sessions`).
    #[error("too many Engine.IO sessions ({0}); try again later")]
    Full(usize),
    /// The system's random source failed.
    #[error("no random session id available")]
    Random,
}

/// What a session holds between requests (behind its lock).
#[derive(Debug)]
struct State {
    /// Packets for the client, oldest first.
    out: VecDeque<Packet>,
    /// Their size in bytes.
    out_bytes: usize,
    /// Bytes delivered to the application's inbox and not read yet.
    in_bytes: usize,
    /// Both, charged to the server's memory budget (`--max-memory`).
    held: Reservation,
    /// The budget refused the outbox's last growth: the application takes
    /// nothing more until it drains.
    over_budget: bool,
    /// Where the upgrade stands.
    upgrade: Upgrade,
    /// A polling GET is waiting for packets.
    polling_get: bool,
    /// The WebSocket, handed over by the upgrade to the session's task.
    ws: Option<WebSocket<TcpStream>>,
    /// When the last ping must be answered by.
    pong_due: Option<Instant>,
    /// Why the session ended, once it has.
    closed: Option<String>,
    /// The WebSocket close code that says how (1000, or 1008 for a broken rule).
    close_code: CloseCode,
    /// The client itself said `1`: a waiting poll is released with a noop.
    client_closed: bool,
    /// Packets taken from the outbox are being written to the WebSocket.
    writing: bool,
    /// The client said `1` while no GET waited: the next GET (already on
    /// its way, most likely) still gets its noop.
    noop_owed: bool,
}

impl State {
    /// Charges what the session holds now (outbox, unread inbox) to the budget.
    fn recharge(&mut self) -> Result<(), crate::guard::OverBudget> {
        if self.writing {
            // The batch being written still holds its bytes.
            return Ok(());
        }
        let now = self.out_bytes + self.in_bytes;
        let r = self.held.hold(now);
        self.over_budget = r.is_err();
        r
    }
}

/// One Engine.IO session.
#[derive(Debug)]
pub struct Session {
    sid: String,
    ip: IpAddr,
    peer: String,
    state: Mutex<State>,
    /// Wakes the session's task (packets queued, a WebSocket handed over, closing).
    wake: Notify,
    /// Wakes the waiting polling GET.
    poll: Notify,
    /// Wakes an application waiting for room in the outbox.
    room: Notify,
    inbox: Mutex<Option<mpsc::Sender<Data>>>,
}

impl Session {
    /// The session id.
    pub fn sid(&self) -> &str {
        &self.sid
    }

    /// The address that opened it (requests from elsewhere are refused).
    pub fn ip(&self) -> IpAddr {
        self.ip
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Where the upgrade stands.
    pub fn upgrade(&self) -> Upgrade {
        self.lock().upgrade
    }

    /// Moves the upgrade along; false when the state machine refuses.
    pub fn step(&self, event: super::engineio::TransportEvent) -> bool {
        let mut st = self.lock();
        match st.upgrade.on(event) {
            super::engineio::UpgradeStep::Ok(next) => {
                st.upgrade = next;
                drop(st);
                // A poll waiting during the probe is answered with a noop.
                self.poll.notify_one();
                true
            }
            super::engineio::UpgradeStep::Refuse => false,
        }
    }

    /// Hands the upgraded WebSocket to the session's task.
    pub fn hand_over(&self, ws: WebSocket<TcpStream>) {
        self.lock().ws = Some(ws);
        self.wake.notify_one();
    }

    /// Is the session over?
    pub fn closed(&self) -> Option<String> {
        self.lock().closed.clone()
    }

    /// Queues a packet for the client.
    fn push(&self, p: Packet) {
        let mut st = self.lock();
        if st.closed.is_some() {
            return;
        }
        let was_empty = st.out.is_empty();
        st.out_bytes += packet_len(&p);
        st.out.push_back(p);
        // Control packets and the batch already taken still go out; what
        // the budget refuses stops the application taking more.
        st.over_budget = st.recharge().is_err();
        let upgraded = st.upgrade == Upgrade::Upgraded;
        drop(st);
        // Only the first packet of a batch wakes anyone: whoever takes the
        // outbox takes all of it. The WebSocket's writer after the upgrade,
        // a waiting poll before it.
        if was_empty {
            if upgraded {
                self.wake.notify_one();
            } else {
                self.poll.notify_one();
            }
        }
    }

    /// Ends the session; `why` is for the log. The application's `recv`
    /// returns `None` once it has read what was already there.
    pub fn close(&self, why: &str) {
        self.end(why, CloseCode::Normal)
    }

    /// Ends the session because the client broke a rule (or stopped
    /// answering): on a WebSocket, Close 1008 "policy violation" (RFC 6455 §7.4.1).
    pub fn abort(&self, why: &str) {
        self.end(why, CloseCode::PolicyViolation)
    }

    /// The client is gone (it said `1`, or stopped answering pings): what was
    /// queued for it can never be delivered and is dropped.
    pub fn gone(&self, why: &str, client_closed: bool) {
        {
            let mut st = self.lock();
            st.out.clear();
            st.out_bytes = 0;
            let _ = st.recharge();
            st.client_closed |= client_closed;
            st.noop_owed = client_closed && !st.polling_get && st.closed.is_none();
        }
        self.end(why, CloseCode::PolicyViolation)
    }

    /// Closed, with nothing left for a last poll to collect: to requests, the
    /// session no longer exists.
    pub fn is_over(&self) -> bool {
        let overdue = self.lock().pong_due.is_some_and(|d| Instant::now() >= d);
        if overdue {
            // The session's task may not have woken yet: the clock decides.
            self.gone("no pong in time (ping timeout)", false);
        }
        let st = self.lock();
        st.closed.is_some() && st.out.is_empty() && !st.noop_owed
    }

    fn end(&self, why: &str, code: CloseCode) {
        let mut st = self.lock();
        if st.closed.is_none() {
            st.closed = Some(why.to_string());
            st.close_code = code;
        }
        drop(st);
        self.inbox.lock().unwrap_or_else(|e| e.into_inner()).take();
        self.wake.notify_one();
        self.poll.notify_one();
        self.room.notify_waiters();
    }

    /// Hands one message from the client to the application, waiting while
    /// its inbox is full; false if the session is over.
    pub async fn deliver(&self, data: Data) -> bool {
        let len = data.len();
        {
            let mut st = self.lock();
            st.in_bytes += len;
            if st.recharge().is_err() {
                st.in_bytes -= len;
                let _ = st.recharge();
                drop(st);
                // A message the server's budget cannot hold (WebSocket 1013's
                // meaning): this session ends, the others go on.
                self.abort("the server's memory budget is spent (--max-memory)");
                return false;
            }
        }
        let tx = self.inbox.lock().unwrap_or_else(|e| e.into_inner()).clone();
        match tx {
            Some(tx) => tx.send(data).await.is_ok(),
            None => false,
        }
    }

    /// The application read `len` bytes from its inbox: no longer held.
    fn read(&self, len: usize) {
        let mut st = self.lock();
        st.in_bytes = st.in_bytes.saturating_sub(len);
        let _ = st.recharge();
    }

    /// Is the outbox below its high-water mark?
    fn has_room(&self) -> bool {
        let st = self.lock();
        (st.out_bytes < OUTBOX_HIGH_WATER && !st.over_budget) || st.closed.is_some()
    }

    /// Waits until the outbox has room.
    async fn writable(&self) {
        loop {
            let notified = self.room.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.has_room() {
                return;
            }
            notified.await;
        }
    }

    /// A pong arrived: the client is alive.
    pub fn pong(&self) {
        self.lock().pong_due = None;
        // The heartbeat may be asleep until the pong's deadline: let it plan
        // the next ping now (over polling the pong comes on another task).
        self.wake.notify_one();
    }

    /// What a polling GET returns: every packet queued, waiting until there
    /// is one (or a noop while probing, or the close packet at the end).
    /// `Err` when another GET is already waiting (the session is closed, as
    /// Engine.IO does on "overlap from client"), or when the session moved to
    /// its WebSocket meanwhile (polling is over for it).
    pub async fn poll(&self) -> Result<Vec<Packet>, ()> {
        {
            let mut st = self.lock();
            if st.polling_get {
                drop(st);
                self.close("two polling GETs at once (overlap from client)");
                return Err(());
            }
            st.polling_get = true;
        }
        loop {
            let notified = self.poll.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.poll_now() {
                PollNow::Answer(r) => return r,
                PollNow::Wait => notified.await,
                PollNow::Probing => return self.released_by_probe(notified).await,
            }
        }
    }

    /// What a waiting GET can be told right now.
    fn poll_now(&self) -> PollNow {
        let mut st = self.lock();
        if !st.out.is_empty() && st.upgrade == Upgrade::Polling {
            let mut packets: Vec<Packet> = st.out.drain(..).collect();
            st.out_bytes = 0;
            let _ = st.recharge();
            st.polling_get = false;
            let closed = st.closed.is_some();
            drop(st);
            if closed {
                // The last words, then the close packet.
                packets.push(Packet::Close);
                self.wake.notify_one();
            } else {
                self.room.notify_waiters();
            }
            return PollNow::Answer(Ok(packets));
        }
        if st.closed.is_some() {
            st.polling_get = false;
            st.noop_owed = false;
            // Engine.IO answers a poll released by the client's own close
            // with a noop, and one the server ends with `1`.
            let last = if st.client_closed {
                Packet::Noop
            } else {
                Packet::Close
            };
            drop(st);
            self.wake.notify_one();
            return PollNow::Answer(Ok(vec![last]));
        }
        match st.upgrade {
            Upgrade::Polling => PollNow::Wait,
            Upgrade::Probing => PollNow::Probing,
            Upgrade::Upgraded => {
                // The upgrade finished while this GET waited: it is over.
                st.polling_get = false;
                PollNow::Answer(Err(()))
            }
        }
    }

    /// A poll during the probe is released with a noop so the client can
    /// pause polling — after a short look, as Engine.IO does, in case the `5`
    /// is already on its way (then the GET is refused: polling is over).
    async fn released_by_probe(
        &self,
        changed: Pin<&mut tokio::sync::futures::Notified<'_>>,
    ) -> Result<Vec<Packet>, ()> {
        let _ = tokio::time::timeout(PROBE_CHECK, changed).await;
        let mut st = self.lock();
        st.polling_get = false;
        match st.upgrade {
            Upgrade::Upgraded => Err(()),
            _ => Ok(vec![Packet::Noop]),
        }
    }

    /// A GET that gave up (its connection went away) no longer waits.
    pub fn poll_abandoned(&self) {
        self.lock().polling_get = false;
    }
}

/// What [`Session::poll_now`] found.
enum PollNow {
    /// Answer the GET with this.
    Answer(Result<Vec<Packet>, ()>),
    /// Nothing yet: wait.
    Wait,
    /// A probe is under way: release the GET shortly.
    Probing,
}

/// Size of a packet in the outbox.
fn packet_len(p: &Packet) -> usize {
    match p {
        Packet::Message(d) => d.len() + 1,
        Packet::Open(s) | Packet::Ping(s) | Packet::Pong(s) => s.len() + 1,
        _ => 1,
    }
}

/// The application's end of a session: read the client's messages, queue
/// messages for it. Works the same over polling and over a WebSocket.
#[derive(Debug)]
pub struct EngineSocket {
    session: Arc<Session>,
    inbox: mpsc::Receiver<Data>,
}

impl EngineSocket {
    /// The Engine.IO session id.
    pub fn sid(&self) -> &str {
        &self.session.sid
    }

    /// Who the client is (for the log).
    pub fn peer(&self) -> &str {
        &self.session.peer
    }

    /// The next message from the client; `None` when the session is over
    /// (read [`EngineSocket::closed_reason`] for why). Cancel-safe.
    pub async fn recv(&mut self) -> Option<Data> {
        let data = self.inbox.recv().await?;
        self.session.read(data.len());
        Some(data)
    }

    /// Why the session ended, if it has.
    pub fn closed_reason(&self) -> Option<String> {
        self.session.closed()
    }

    /// Which transport carries the session now: `"polling"` or `"websocket"`.
    pub fn transport(&self) -> &'static str {
        match self.session.upgrade() {
            Upgrade::Upgraded => "websocket",
            _ => "polling",
        }
    }
}

impl EngineSocket {
    /// A handle that queues messages while another part of the task waits in
    /// [`EngineSocket::recv`] (a `select!` needs both at once).
    pub fn sender(&self) -> EngineSender {
        EngineSender {
            session: self.session.clone(),
        }
    }
}

/// The sending half of an [`EngineSocket`]: queue, check for room, close.
#[derive(Debug, Clone)]
pub struct EngineSender {
    session: Arc<Session>,
}

impl EngineSender {
    /// Queues one message for the client; never blocks.
    pub fn send(&self, data: Data) {
        self.session.push(Packet::Message(data));
    }

    /// Is the outbox below its high-water mark?
    pub fn has_room(&self) -> bool {
        self.session.has_room()
    }

    /// Waits until [`EngineSender::has_room`]. Cancel-safe.
    pub async fn writable(&self) {
        self.session.writable().await
    }

    /// Ends the session; what was queued still goes out.
    pub fn close(&self, why: &str) {
        self.session.close(why);
    }

    /// Waits until everything queued so far has left: written to the
    /// WebSocket, or taken by a poll. Cancel-safe.
    pub async fn drained(&self) {
        loop {
            let notified = self.session.room.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let st = self.session.lock();
                if (st.out.is_empty() && !st.writing) || st.closed.is_some() {
                    return;
                }
            }
            notified.await;
        }
    }

    /// Ends the session for a broken rule (Close 1008 on a WebSocket);
    /// what was queued (the reason, say) still goes out.
    pub fn abort(&self, why: &str) {
        self.session.abort(why);
    }
}

impl Drop for EngineSocket {
    fn drop(&mut self) {
        self.session.close("the application ended the session");
    }
}

/// Every live session, bounded; shared by the HTTP connections.
pub struct Sessions {
    config: EngineConfig,
    app: App,
    budget: Arc<MemoryBudget>,
    table: Mutex<HashMap<String, Arc<Session>>>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("config", &self.config)
            .field("len", &self.len())
            .finish()
    }
}

impl Sessions {
    /// An empty table whose sessions run `app`, charging what they buffer
    /// to `budget`.
    pub fn new(config: EngineConfig, app: App, budget: Arc<MemoryBudget>) -> Arc<Sessions> {
        Arc::new(Sessions {
            config,
            app,
            budget,
            table: Mutex::new(HashMap::new()),
        })
    }

    /// The timing and limits.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// How many sessions are open.
    pub fn len(&self) -> usize {
        self.table.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// No session open?
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The session `sid`, if it is open.
    pub fn get(&self, sid: &str) -> Option<Arc<Session>> {
        self.table
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(sid)
            .cloned()
    }

    /// Opens a session for `ip`: over polling (`ws` is `None`; its open
    /// packet waits for the first GET... which is this request, so it is
    /// returned), or straight over a WebSocket. Starts the session's task and
    /// the application.
    pub fn open(
        self: &Arc<Self>,
        ip: IpAddr,
        peer: &str,
        ws: Option<WebSocket<TcpStream>>,
    ) -> Result<(Arc<Session>, Packet), OpenError> {
        let opened = Instant::now();
        let sid = new_sid().ok_or(OpenError::Random)?;
        let upgrades: &[&str] = if ws.is_some() { &[] } else { &["websocket"] };
        let open = self.config.open_packet(&sid, upgrades);
        let (tx, rx) = mpsc::channel(INBOX);
        let session = Arc::new(Session {
            sid: sid.clone(),
            ip,
            peer: peer.to_string(),
            state: Mutex::new(State {
                out: VecDeque::new(),
                out_bytes: 0,
                in_bytes: 0,
                held: self.budget.reservation(),
                over_budget: false,
                upgrade: if ws.is_some() {
                    Upgrade::Upgraded
                } else {
                    Upgrade::Polling
                },
                polling_get: false,
                ws: None,
                pong_due: None,
                closed: None,
                close_code: CloseCode::Normal,
                client_closed: false,
                noop_owed: false,
                writing: false,
            }),
            wake: Notify::new(),
            poll: Notify::new(),
            room: Notify::new(),
            inbox: Mutex::new(Some(tx)),
        });
        {
            let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
            if table.len() >= self.config.max_sessions {
                return Err(OpenError::Full(self.config.max_sessions));
            }
            table.insert(sid.clone(), session.clone());
        }
        if let Some(ws) = ws {
            // Over a WebSocket from the start: the open packet is its first frame.
            session.push(open.clone());
            session.hand_over(ws);
        }
        let socket = EngineSocket {
            session: session.clone(),
            inbox: rx,
        };
        tokio::spawn((self.app)(socket));
        let this = self.clone();
        let s = session.clone();
        tokio::spawn(async move {
            drive(&s, &this.config, opened).await;
            this.table
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&s.sid);
        });
        Ok((session, open))
    }
}

/// A fresh session id: 16 random bytes, URL-safe base64 (no padding).
pub fn new_sid() -> Option<String> {
    use base64::Engine as _;
    let mut raw = [0u8; 16];
    getrandom::getrandom(&mut raw).ok()?;
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw))
}

/// What woke the session's task.
enum Wake {
    Timer,
    Queued,
    Frame(Result<Option<Message>, WsError>),
}

/// The session's own task: the heartbeat on every transport, and — once
/// upgraded — reading and writing the WebSocket. Returns when the session ends.
async fn drive(session: &Session, config: &EngineConfig, opened: Instant) {
    let mut ws: Option<WebSocket<TcpStream>> = None;
    let mut next_ping = opened + config.ping_interval;
    loop {
        if session.closed().is_some() {
            break;
        }
        let pong_due = session.lock().pong_due;
        let deadline = pong_due.unwrap_or(next_ping);
        let wake = tokio::select! {
            _ = sleep_until(deadline) => Wake::Timer,
            _ = session.wake.notified() => Wake::Queued,
            m = async { ws.as_mut().expect("guarded").recv().await }, if ws.is_some() => Wake::Frame(m),
        };
        match wake {
            Wake::Timer => {
                // Read again: a pong may have come while we slept.
                let pong_due = session.lock().pong_due;
                if pong_due.is_some_and(|d| Instant::now() >= d) {
                    let why = format!("no pong within {:?} (ping timeout)", config.ping_timeout);
                    session.gone(&why, false);
                    break;
                }
                if pong_due.is_none() && Instant::now() >= next_ping {
                    // Timed from when the ping was due, not from when this
                    // task got to it: the client's deadline doesn't drift.
                    session.lock().pong_due = Some(next_ping + config.ping_timeout);
                    session.push(Packet::Ping(String::new()));
                    next_ping = (next_ping + config.ping_interval).max(Instant::now());
                }
            }
            Wake::Queued => {}
            Wake::Frame(m) => {
                if let Err(why) = on_frame(session, m).await {
                    session.abort(&why);
                    break;
                }
            }
        }
        // A WebSocket handed over by the upgrade.
        if ws.is_none() {
            ws = session.lock().ws.take();
        }
        if let Some(w) = ws.as_mut() {
            if let Err(e) = write_out(session, w).await {
                session.close(&format!("write failed: {e}"));
                break;
            }
        }
    }
    match ws.as_mut() {
        Some(w) => {
            let _ = write_out(session, w).await;
            let code = session.lock().close_code;
            let _ = tokio::time::timeout(CLOSE_GRACE, w.close(code, "")).await;
        }
        None => {
            // Polling: give a last GET the chance to collect the close packet.
            let end = Instant::now() + CLOSE_GRACE;
            loop {
                let notified = session.wake.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                {
                    let st = session.lock();
                    if st.out.is_empty() && !st.polling_get && !st.noop_owed {
                        break;
                    }
                }
                if tokio::time::timeout_at(end, notified).await.is_err() {
                    break;
                }
            }
        }
    }
}

/// Writes everything queued to the WebSocket, in one flush.
async fn write_out(session: &Session, ws: &mut WebSocket<TcpStream>) -> Result<(), WsError> {
    let packets: Vec<Packet> = {
        let mut st = session.lock();
        st.out_bytes = 0;
        st.writing = true;
        // Still held while being written: released once the write is done.
        st.out.drain(..).collect()
    };
    if packets.is_empty() {
        session.lock().writing = false;
        return Ok(());
    }
    session.room.notify_waiters();
    let mut written = Ok(());
    for p in packets {
        written = match p {
            Packet::Message(Data::Binary(b)) => ws.feed(&Message::Binary(b)),
            other => ws.feed(&Message::text(other.to_text().unwrap_or_default())),
        };
        if written.is_err() {
            break;
        }
    }
    if written.is_ok() {
        written = ws.flush().await;
    }
    {
        let mut st = session.lock();
        st.writing = false;
        let _ = st.recharge();
    }
    session.room.notify_waiters();
    written
}

/// One frame from the upgraded WebSocket; `Err` says why the session ends.
async fn on_frame(session: &Session, m: Result<Option<Message>, WsError>) -> Result<(), String> {
    let packet = match m {
        Ok(Some(Message::Text(t))) => {
            Packet::parse_text(t.as_str()).map_err(|e| format!("bad Engine.IO packet: {e}"))?
        }
        Ok(Some(Message::Binary(b))) => Packet::Message(Data::Binary(b)),
        Ok(Some(Message::Close(_))) | Ok(None) => return Err("client closed the connection".into()),
        Ok(Some(_)) => return Ok(()),
        Err(WsError::ClosedWithoutHandshake { .. }) => {
            return Err("client went away without a Close frame".into())
        }
        Err(e) => return Err(format!("websocket failed: {e}")),
    };
    take_packet(session, packet).await
}

/// One packet from the client, from either transport; `Err` ends the session.
pub async fn take_packet(session: &Session, packet: Packet) -> Result<(), String> {
    match packet {
        Packet::Pong(_) => session.pong(),
        Packet::Message(d) => {
            if !session.deliver(d).await {
                return Err("the application ended the session".into());
            }
        }
        Packet::Close => {
            session.gone("client closed the session", true);
            return Err("client closed the session".into());
        }
        // Engine.IO v4: the server pings, not the client; noop and the rest
        // carry nothing for us.
        Packet::Ping(_) | Packet::Noop | Packet::Upgrade | Packet::Open(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A polling session from 127.0.0.1 whose application reads and drops
    /// every message; the table is returned so it lives as long as the test.
    fn polling_session(config: EngineConfig) -> (Arc<Sessions>, Arc<Session>) {
        let app: App = Arc::new(|mut socket: EngineSocket| {
            Box::pin(async move { while socket.recv().await.is_some() {} })
        });
        let sessions = Sessions::new(config, app, MemoryBudget::new(1 << 20));
        let ip = IpAddr::from([127, 0, 0, 1]);
        let (session, _open) = sessions.open(ip, "test", None).unwrap();
        (sessions, session)
    }

    /// Over polling the pong comes in a POST, handled on another task than
    /// the heartbeat's: it must still count (it once did not, and every
    /// polling client was dropped one ping timeout after its first pong).
    #[tokio::test]
    async fn a_pong_over_polling_keeps_the_session() {
        let config = EngineConfig {
            ping_interval: Duration::from_millis(100),
            ping_timeout: Duration::from_millis(60),
            ..EngineConfig::default()
        };
        let (_sessions, session) = polling_session(config);
        for _ in 0..3 {
            assert_eq!(session.poll().await, Ok(vec![Packet::Ping(String::new())]));
            take_packet(&session, Packet::Pong(String::new()))
                .await
                .unwrap();
        }
        assert_eq!(session.closed(), None);
        // No pong this time: the next poll brings the close packet.
        assert_eq!(session.poll().await, Ok(vec![Packet::Ping(String::new())]));
        assert_eq!(session.poll().await, Ok(vec![Packet::Close]));
        assert!(session.closed().unwrap().contains("ping timeout"));
    }

    /// ... and the next ping comes a `pingInterval` after the last, even when
    /// `pingTimeout` is longer (the heartbeat is woken by the pong rather
    /// than sleeping until the old deadline).
    #[tokio::test]
    async fn pings_keep_their_interval_after_a_pong_over_polling() {
        let config = EngineConfig {
            ping_interval: Duration::from_millis(100),
            ping_timeout: Duration::from_secs(30),
            ..EngineConfig::default()
        };
        let (_sessions, session) = polling_session(config);
        for _ in 0..3 {
            let ping = tokio::time::timeout(Duration::from_secs(5), session.poll()).await;
            assert_eq!(ping, Ok(Ok(vec![Packet::Ping(String::new())])));
            take_packet(&session, Packet::Pong(String::new()))
                .await
                .unwrap();
        }
        session.close("done");
    }
}
