//! A chat client over UDP (`netlab chat udp://...`), with loss made visible.
//!
//! Every event goes out as one datagram behind this client's sequence header;
//! every datagram from the server goes through a [`ReceiveTracker`], so what
//! the network did shows up inline: "3 messages lost: seq 41–43", "duplicate
//! of 17" (not shown twice), "arrived late: 12". The session rules (padded
//! `hello`, `heartbeat` echoing the id, `bye`) are in [`crate::transport::udp`].
//!
//! **Starting a session is a round trip the server must see twice**: the
//! `hello` gets a `welcome` with an id, and only a `heartbeat` echoing that
//! id makes the session real (the server answers it with `session`). Until
//! then the server may drop the session — a flood of spoofed hellos pushes
//! it out of the server's small pool of sessions that have not proved their
//! address — and it does not say so. So the client does not trust a welcome:
//! every round sends a `hello` (and the heartbeat for the id it holds), and
//! a round that ends without `session` (no answer, a refusal, or a welcome
//! whose session vanished) is followed by another, each waiting twice as
//! long as the one before, [`HELLO_TRIES`] rounds at most.

use super::tcp::{parse_server_event, AckOutcome};
use super::terminal::{parse_line, render_event, settle, Line, DRAIN_TIMEOUT, HELP};
use super::{TerminalConfig, TerminalResult};
use crate::chat::datagram::{Control, SessionInfo, DEFAULT_EXPIRY, DEFAULT_HEARTBEAT};
use crate::chat::id::ConnId;
use crate::chat::protocol::{ClientEvent, ClientFrame, ServerEvent};
use crate::term;
use crate::udp::{Arrival, DatagramError, DatagramHeader, ReceiveTracker, Sequencer, TrackerStats};
use std::collections::{HashMap, VecDeque};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tokio::io::AsyncBufReadExt;
use tokio::net::UdpSocket;

/// How long to wait for an answer before sending an acked event during
/// start-up again ([`UdpChatClient::call`]); also the first round's wait
/// when a session starts, doubled every round up to [`MAX_RETRY_AFTER`].
pub const RETRY_AFTER: Duration = Duration::from_millis(500);

/// The longest a session's start waits for `session` before saying hello
/// again: the cap of its backoff.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(4);

/// How many times a start-up event is sent before giving up ([`UdpChatClient::call`]).
pub const TRIES: u32 = 6;

/// Rounds of `hello` before a session's start gives up: waits of 0.5, 1, 2,
/// then 4 s, about 24 s in all — enough to outlast a burst of spoofed
/// hellos that keeps pushing the client out of the server's unverified
/// pool, and still an answer within half a minute when nothing listens.
pub const HELLO_TRIES: u32 = 8;

/// Largest datagram the client reads (anything longer is not netlab's).
const RECV_BUF: usize = 65_536;

/// What can go wrong for a UDP chat client.
#[derive(Debug, thiserror::Error)]
pub enum UdpChatError {
    /// The socket failed (e.g. ICMP port unreachable: nothing listens there).
    #[error(
        "udp socket error talking to {addr}: {source} (is `netlab serve --udp {addr}` running?)"
    )]
    Io {
        /// The server.
        addr: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// No welcome came back.
    #[error("no answer from udp://{addr} after {tries} hellos (is `netlab serve --udp {addr}` running? UDP cannot tell you that nothing listens)")]
    NoAnswer {
        /// The server.
        addr: String,
        /// Hellos sent.
        tries: u32,
    },
    /// Welcomes came back, but no heartbeat got its `session` answer: the
    /// session vanished before it was verified, every time.
    #[error("udp://{addr} welcomed us but never confirmed the session after {tries} hellos (its sessions that have not proved their address may be flooded out by spoofed hellos; or the link loses every heartbeat)")]
    NotVerified {
        /// The server.
        addr: String,
        /// Hellos sent.
        tries: u32,
    },
    /// The server said `bye` (e.g. it is full).
    #[error("the server refused the session: {0}")]
    Refused(String),
    /// The message does not fit one datagram.
    #[error(transparent)]
    TooLarge(#[from] DatagramError),
}

/// One thing that arrived, in the order to show it.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// What the sequence numbers say (anything but "in order").
    Notice(Arrival),
    /// A chat event.
    Event(ServerEvent),
    /// The server's session parameters.
    Session(SessionInfo),
    /// A datagram that was not a netlab chat datagram.
    Garbage(String),
}

/// Why a session's start says `hello` again ([`UdpChatClient::connect_reporting`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retry {
    /// The round about to start (2 for the second hello).
    pub round: u32,
    /// The most rounds there will be ([`HELLO_TRIES`]).
    pub of: u32,
    /// How long the round that ended waited.
    pub waited: Duration,
    /// What that round got.
    pub why: RetryReason,
}

/// What a round of a session's start got instead of `session`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryReason {
    /// Nothing at all.
    NoAnswer,
    /// A welcome, but the heartbeat echoing its id got no `session`: the
    /// server may have dropped the session before it was verified.
    NotVerified,
    /// A `bye` (e.g. the server is full); its message.
    Refused(String),
}

impl std::fmt::Display for Retry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let waited = self.waited.as_secs_f64();
        match &self.why {
            RetryReason::NoAnswer => write!(f, "no answer within {waited:.1} s")?,
            RetryReason::NotVerified => write!(
                f,
                "welcomed, but no answer to the heartbeat that proves our address within {waited:.1} s (was the session pushed out before it was verified?)"
            )?,
            RetryReason::Refused(why) => write!(f, "refused: {why}")?,
        }
        write!(f, "; hello again (try {} of {})", self.round, self.of)
    }
}

/// A UDP chat session with a server.
pub struct UdpChatClient {
    socket: UdpSocket,
    addr: String,
    seq: Sequencer,
    tracker: ReceiveTracker,
    epoch: Instant,
    id: ConnId,
    welcome: ServerEvent,
    heartbeat: Duration,
    expiry: Duration,
    last_heard: Instant,
    next_ack: u64,
    pending: VecDeque<Incoming>,
    buf: Vec<u8>,
}

impl UdpChatClient {
    /// Opens a session with the server at `addr` (host:port): hello, welcome,
    /// heartbeat, session — again, waiting longer each round, until the
    /// session is confirmed or [`HELLO_TRIES`] rounds have passed.
    pub async fn connect(addr: &str) -> Result<Self, UdpChatError> {
        Self::connect_reporting(addr, |_| {}).await
    }

    /// [`UdpChatClient::connect`], telling `on_retry` why each new round
    /// starts (the terminal prints it).
    pub async fn connect_reporting(
        addr: &str,
        mut on_retry: impl FnMut(&Retry),
    ) -> Result<Self, UdpChatError> {
        let io = |source| UdpChatError::Io {
            addr: addr.to_string(),
            source,
        };
        let target = tokio::net::lookup_host(addr)
            .await
            .map_err(io)?
            .next()
            .ok_or_else(|| io(std::io::Error::other("no address")))?;
        let local = if target.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        };
        let socket = UdpSocket::bind(local).await.map_err(io)?;
        // A connected UDP socket only receives from the server's address.
        socket.connect(target).await.map_err(io)?;
        let mut c = UdpChatClient {
            socket,
            addr: addr.to_string(),
            seq: Sequencer::new(),
            tracker: ReceiveTracker::new(),
            epoch: Instant::now(),
            // Replaced by the welcome's id before `connect` returns.
            id: "00000000000000000000000000000000"
                .parse()
                .expect("a valid id"),
            welcome: ServerEvent::Dropped { count: 0 },
            heartbeat: DEFAULT_HEARTBEAT,
            expiry: DEFAULT_EXPIRY,
            last_heard: Instant::now(),
            next_ack: 1,
            pending: VecDeque::new(),
            buf: vec![0; RECV_BUF],
        };
        let mut welcomed = false;
        let mut round = 1;
        loop {
            let wait = hello_wait(round);
            let Some(why) = c.start_round(wait, &mut welcomed).await? else {
                return Ok(c);
            };
            if round == HELLO_TRIES {
                return Err(match why {
                    RetryReason::Refused(message) => UdpChatError::Refused(message),
                    RetryReason::NotVerified => UdpChatError::NotVerified {
                        addr: c.addr,
                        tries: HELLO_TRIES,
                    },
                    RetryReason::NoAnswer => UdpChatError::NoAnswer {
                        addr: c.addr,
                        tries: HELLO_TRIES,
                    },
                });
            }
            round += 1;
            on_retry(&Retry {
                round,
                of: HELLO_TRIES,
                waited: wait,
                why,
            });
        }
    }

    /// One round of a session's start: a `hello`, and the heartbeat for the
    /// id we hold (if any: the session may still be there, only its answer
    /// lost), then up to `wait` for `session`. A welcome for an id this round
    /// has not sent a heartbeat for yet (the first, or a new session's) is
    /// answered with one at once, and that heartbeat gets a whole `wait` of
    /// its own. `None` when the session is confirmed; else what the round got
    /// instead.
    async fn start_round(
        &mut self,
        wait: Duration,
        welcomed: &mut bool,
    ) -> Result<Option<RetryReason>, UdpChatError> {
        // The hello first: for a session that is still there it brings the
        // welcome again, which then arrives before the `session` answer.
        self.send_control(&Control::Hello).await?;
        let mut beat_for = None;
        let mut why = RetryReason::NoAnswer;
        if *welcomed {
            self.heartbeat_now().await?;
            beat_for = Some(self.id);
            why = RetryReason::NotVerified;
        }
        let mut deadline = tokio::time::Instant::now() + wait;
        while let Ok(r) = tokio::time::timeout_at(deadline, self.recv_raw()).await {
            for inc in r? {
                match inc {
                    Incoming::Event(ServerEvent::Welcome { id, .. }) => {
                        // A new id means a new session: the one we held is gone.
                        self.id = id;
                        self.welcome = match inc {
                            Incoming::Event(w) => w,
                            _ => unreachable!("matched a welcome"),
                        };
                        *welcomed = true;
                        why = RetryReason::NotVerified;
                        if beat_for != Some(id) {
                            self.heartbeat_now().await?;
                            beat_for = Some(id);
                            deadline = tokio::time::Instant::now() + wait;
                        }
                    }
                    Incoming::Event(ServerEvent::Bye { message, .. }) => {
                        why = RetryReason::Refused(message);
                    }
                    Incoming::Session(s) if *welcomed => {
                        self.heartbeat = Duration::from_millis(s.heartbeat_ms.max(1));
                        self.expiry = Duration::from_millis(s.expiry_ms.max(1));
                        return Ok(None);
                    }
                    other => self.pending.push_back(other),
                }
            }
        }
        Ok(Some(why))
    }

    /// Our id.
    pub fn id(&self) -> ConnId {
        self.id
    }

    /// The welcome the server sent.
    pub fn welcome(&self) -> ServerEvent {
        self.welcome.clone()
    }

    /// How long the server has been silent; every heartbeat is answered, so a
    /// silence longer than the session's expiry means the session is gone.
    pub fn silent_for(&self) -> Duration {
        self.last_heard.elapsed()
    }

    /// The server's expiry for this session.
    pub fn expiry(&self) -> Duration {
        self.expiry
    }

    /// How often the server wants a heartbeat.
    pub fn heartbeat_interval(&self) -> Duration {
        self.heartbeat
    }

    /// What the tracker counted about the server's datagrams so far.
    pub fn stats(&self) -> TrackerStats {
        self.tracker.stats()
    }

    /// Everything received but not yet handed out.
    pub fn take_pending(&mut self) -> Vec<Incoming> {
        self.pending.drain(..).collect()
    }

    fn now_us(&self) -> u32 {
        self.epoch.elapsed().as_micros() as u32
    }

    async fn send_message(&mut self, message: &[u8]) -> Result<(), UdpChatError> {
        let d = self.seq.encode(self.now_us(), message)?;
        self.socket
            .send(&d)
            .await
            .map_err(|source| UdpChatError::Io {
                addr: self.addr.clone(),
                source,
            })?;
        Ok(())
    }

    /// Sends a session datagram (`hello`, `heartbeat`, `bye`).
    pub async fn send_control(&mut self, c: &Control) -> Result<(), UdpChatError> {
        self.send_message(&c.to_message()).await
    }

    /// Sends "still here".
    pub async fn heartbeat_now(&mut self) -> Result<(), UdpChatError> {
        let c = Control::Heartbeat {
            id: self.id.to_hex(),
        };
        self.send_control(&c).await
    }

    /// Sends one event, with a fresh ack id if `acked`; returns the ack id.
    /// A message too large for one datagram is refused here, never cut.
    pub async fn send(
        &mut self,
        event: ClientEvent,
        acked: bool,
    ) -> Result<Option<u64>, UdpChatError> {
        let ack = acked.then(|| {
            self.next_ack += 1;
            self.next_ack
        });
        let json = ClientFrame { event, ack }.to_json();
        self.send_message(&json).await?;
        Ok(ack)
    }

    /// Sends `event` with an ack id until the ack comes back (datagrams get
    /// lost), keeping everything else that arrives for [`Self::take_pending`].
    /// `None` if no ack came after [`TRIES`] sends.
    pub async fn call(&mut self, event: ClientEvent) -> Result<Option<AckOutcome>, UdpChatError> {
        for _ in 0..TRIES {
            let ack = self.send(event.clone(), true).await?;
            let deadline = tokio::time::Instant::now() + RETRY_AFTER;
            while let Ok(r) = tokio::time::timeout_at(deadline, self.recv_raw()).await {
                let mut outcome = None;
                for inc in r? {
                    match &inc {
                        Incoming::Event(ServerEvent::Ack {
                            ack: a,
                            ok,
                            reached,
                            error,
                            message,
                        }) if Some(*a) == ack => {
                            outcome = Some(if *ok {
                                AckOutcome::Reached(reached.unwrap_or(0))
                            } else {
                                AckOutcome::Refused(
                                    error
                                        .unwrap_or(crate::chat::protocol::ErrorCode::InvalidFields),
                                    message.clone().unwrap_or_default(),
                                )
                            });
                        }
                        _ => self.pending.push_back(inc),
                    }
                }
                if outcome.is_some() {
                    return Ok(outcome);
                }
            }
        }
        Ok(None)
    }

    /// Waits for the next datagram(s) and says what arrived.
    pub async fn recv(&mut self) -> Result<Vec<Incoming>, UdpChatError> {
        if !self.pending.is_empty() {
            return Ok(self.take_pending());
        }
        self.recv_raw().await
    }

    async fn recv_raw(&mut self) -> Result<Vec<Incoming>, UdpChatError> {
        let n = self
            .socket
            .recv(&mut self.buf)
            .await
            .map_err(|source| UdpChatError::Io {
                addr: self.addr.clone(),
                source,
            })?;
        Ok(self.on_datagram(n))
    }

    /// Whether `message` is a welcome with an id other than ours: the start of a new session.
    fn welcome_of_a_new_session(&self, message: &[u8]) -> bool {
        message.starts_with(br#"{"event":"welcome""#)
            && matches!(parse_server_event(message), Ok(ServerEvent::Welcome { id, .. }) if id != self.id)
    }

    fn on_datagram(&mut self, n: usize) -> Vec<Incoming> {
        self.last_heard = Instant::now();
        let mut out = Vec::with_capacity(2);
        let (header, message) = match DatagramHeader::parse(&self.buf[..n]) {
            Ok(r) => r,
            Err(e) => {
                out.push(Incoming::Garbage(e.to_string()));
                return out;
            }
        };
        if self.welcome_of_a_new_session(message) {
            // The server dropped the session we held and this is a new one:
            // it numbers its datagrams from 0 again, so it gets a tracker of
            // its own (the old one would take its welcome for a duplicate).
            self.tracker = ReceiveTracker::new();
        }
        let now = self.epoch.elapsed().as_micros() as u32;
        self.tracker.on_timing(header.timestamp, now);
        let arrival = self.tracker.on_arrival(u64::from(header.seq));
        let new = arrival.is_new();
        if !matches!(arrival, Arrival::InOrder { .. }) {
            out.push(Incoming::Notice(arrival));
        }
        if !new {
            return out; // a copy: shown as a notice, not delivered twice
        }
        if let Ok(s) = serde_json::from_slice::<SessionInfo>(message) {
            out.push(Incoming::Session(s));
        } else {
            match parse_server_event(message) {
                Ok(e) => out.push(Incoming::Event(e)),
                Err(e) => out.push(Incoming::Garbage(e.to_string())),
            }
        }
        out
    }
}

/// How long round `round` (1 first) of a session's start waits:
/// [`RETRY_AFTER`], doubled each round, at most [`MAX_RETRY_AFTER`].
pub fn hello_wait(round: u32) -> Duration {
    RETRY_AFTER
        .saturating_mul(1 << round.saturating_sub(1).min(16))
        .min(MAX_RETRY_AFTER)
}

/// The line shown for a tracker notice, e.g. `⚠ 3 messages lost: seq 41–43`.
pub fn render_notice(a: &Arrival) -> String {
    match a {
        Arrival::AfterGap { .. } | Arrival::TooOld { .. } => term::bad(format!("⚠ {a}")),
        _ => term::dim(format!("⚠ {a}")),
    }
}

/// `netlab chat udp://ADDR`: the terminal chat over UDP.
pub async fn terminal(addr: String, args: TerminalConfig) -> TerminalResult {
    let mut client = UdpChatClient::connect_reporting(&addr, |retry| {
        anstream::eprintln!("{}", term::dim(format!("udp: {retry}")));
    })
    .await?;
    let me = client.id();
    let json = args.json;
    let show = |inc: &Incoming| match inc {
        Incoming::Event(e) if json => println!("{}", serde_json::to_string(e).unwrap_or_default()),
        Incoming::Event(e) => {
            if let Some(line) = render_event(e, me) {
                anstream::println!("{line}");
            }
        }
        Incoming::Notice(a) if json => {
            println!(
                "{}",
                serde_json::json!({"event": "udp_notice", "notice": a, "text": a.to_string()})
            )
        }
        Incoming::Notice(a) => anstream::println!("{}", render_notice(a)),
        Incoming::Session(_) => {}
        Incoming::Garbage(why) => {
            anstream::println!(
                "{} {}",
                term::bad("? not a chat datagram:"),
                term::peer_text(why)
            )
        }
    };
    show(&Incoming::Event(client.welcome()));
    if !json {
        anstream::println!(
            "{}",
            term::dim(format!(
                "udp: one event per datagram, at most {} bytes each; nothing is resent, gaps are shown as they happen",
                crate::udp::MAX_MESSAGE
            ))
        );
    }
    let mut failed = false;
    let mut current: Option<String> = None;
    if let Some(nick) = args.nick.clone() {
        match client.call(ClientEvent::Nick { nick }).await? {
            Some(AckOutcome::Refused(_, why)) => {
                return Err(format!("the server refused the nickname: {why}").into())
            }
            None => {
                return Err(
                    "no answer to the nickname after retries: the link is losing everything".into(),
                )
            }
            Some(AckOutcome::Reached(_)) => {}
        }
    }
    if let Some(room) = args.room.clone() {
        match client
            .call(ClientEvent::Join {
                room: room.clone(),
                since: None,
            })
            .await?
        {
            Some(AckOutcome::Refused(_, why)) => {
                return Err(format!("the server refused to let you join {room}: {why}").into())
            }
            None => {
                return Err(
                    "no answer to the join after retries: the link is losing everything".into(),
                )
            }
            Some(AckOutcome::Reached(_)) => current = Some(room),
        }
    }
    for inc in client.take_pending() {
        show(&inc);
    }
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut waiting: HashMap<u64, Option<String>> = HashMap::new();
    let mut heartbeat = tokio::time::interval(client.heartbeat_interval());
    heartbeat.tick().await;
    // Once input ends: one acked `rooms` request, resent until answered. Its
    // ack is the last datagram the server sends us, so every gap before it
    // has been seen and counted.
    let mut sync: Option<u64> = None;
    let mut resend = tokio::time::interval(RETRY_AFTER);
    let deadline = tokio::time::sleep(Duration::from_secs(u64::MAX / 4));
    tokio::pin!(deadline);
    let mut input_open = true;
    loop {
        tokio::select! {
            line = lines.next_line(), if input_open => {
                let Some(line) = line? else {
                    input_open = false;
                    deadline.as_mut().reset(tokio::time::Instant::now() + DRAIN_TIMEOUT);
                    resend.reset_immediately();
                    continue;
                };
                match parse_line(&line, current.as_deref()) {
                    Line::Nothing => {}
                    Line::Help => anstream::println!("{}", term::dim(HELP)),
                    Line::Quit => { input_open = false; deadline.as_mut().reset(tokio::time::Instant::now() + DRAIN_TIMEOUT); resend.reset_immediately(); }
                    Line::Bad(why) => { anstream::println!("{} {why}", term::bad("?")); failed = true; }
                    Line::Send(event, becomes_current) => {
                        if let ClientEvent::Leave { room } = &event {
                            if current.as_deref() == Some(room.as_str()) { current = None; }
                        }
                        match client.send(event, true).await {
                            Ok(Some(ack)) => { waiting.insert(ack, becomes_current); }
                            Ok(None) => {}
                            Err(UdpChatError::TooLarge(e)) => {
                                anstream::println!("{} {e}", term::bad("not sent:"));
                                failed = true;
                            }
                            Err(e) => return Err(e.into()),
                        }
                    }
                }
            }
            r = client.recv() => {
                for inc in r? {
                    if let Incoming::Event(event) = &inc {
                        if matches!(event, ServerEvent::Ack { ack, .. } if Some(*ack) == sync) {
                            return finish(client, waiting.len(), failed, json).await;
                        }
                        if settle(event, &mut waiting, &mut current) {
                            failed = true;
                        }
                    }
                    let bye = matches!(inc, Incoming::Event(ServerEvent::Bye { .. }));
                    // The answer to our own end-of-input `rooms` is not news.
                    let sync_answer = sync.is_some() && matches!(inc, Incoming::Event(ServerEvent::Rooms { .. }));
                    if !sync_answer {
                        show(&inc);
                    }
                    if bye {
                        return Ok(ExitCode::FAILURE);
                    }
                }
            }
            _ = heartbeat.tick() => {
                if client.silent_for() > client.expiry() {
                    anstream::println!(
                        "{} the server has not answered for {:?}, heartbeats included: the session is gone (server stopped, or it expired us)",
                        term::bad("!"),
                        client.silent_for()
                    );
                    return Ok(ExitCode::FAILURE);
                }
                client.heartbeat_now().await?
            }
            _ = resend.tick(), if !input_open => {
                sync = client.send(ClientEvent::Rooms, true).await?;
            }
            _ = &mut deadline, if !input_open => {
                anstream::eprintln!("{} no answer from the server after {:?}", term::bad("!"), DRAIN_TIMEOUT);
                let _ = client.send_control(&Control::Bye).await;
                return Ok(ExitCode::FAILURE);
            }
        }
    }
}

/// Says goodbye and prints what the sequence numbers showed.
async fn finish(
    mut client: UdpChatClient,
    unanswered: usize,
    failed: bool,
    json: bool,
) -> TerminalResult {
    let _ = client.send_control(&Control::Bye).await;
    let s = client.stats();
    if json {
        println!(
            "{}",
            serde_json::json!({"event": "udp_summary", "unanswered": unanswered, "stats": s})
        );
    } else {
        if unanswered > 0 {
            anstream::println!(
                "{}",
                term::dim(format!(
                    "{unanswered} event(s) got no answer: they or their acks were lost (UDP does not resend)"
                ))
            );
        }
        anstream::println!(
            "{}",
            term::dim(format!(
                "from the server: {} datagrams, {} lost, {} duplicates, {} late, jitter {:.0} µs",
                s.received, s.missing, s.duplicates, s.late, s.jitter_us
            ))
        );
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_round_of_hellos_waits_twice_as_long_up_to_the_cap() {
        let waits: Vec<u64> = (1..=HELLO_TRIES)
            .map(|r| hello_wait(r).as_millis() as u64)
            .collect();
        assert_eq!(waits, [500, 1000, 2000, 4000, 4000, 4000, 4000, 4000]);
        let total: Duration = (1..=HELLO_TRIES).map(hello_wait).sum();
        assert_eq!(
            total,
            Duration::from_millis(23_500),
            "bounded: under half a minute"
        );
        assert_eq!(hello_wait(u32::MAX), MAX_RETRY_AFTER);
    }

    #[test]
    fn a_welcome_is_recognised_from_its_first_bytes() {
        // `welcome_of_a_new_session` looks at the first bytes before parsing:
        // the server's welcome must start with them.
        let welcome = ServerEvent::Welcome {
            id: "0123456789abcdef0123456789abcdef".parse().unwrap(),
            nick: "guest-0123".into(),
            limits: crate::chat::protocol::WireLimits {
                max_nick: 1,
                max_room: 1,
                max_rooms: 1,
                max_text: 1,
                rate: 1,
                burst: 1,
            },
            session: None,
            session_ttl_ms: None,
        };
        assert!(welcome.to_bytes().starts_with(br#"{"event":"welcome""#));
    }

    #[test]
    fn a_retry_says_why_and_which_try_comes() {
        let r = Retry {
            round: 2,
            of: HELLO_TRIES,
            waited: RETRY_AFTER,
            why: RetryReason::NotVerified,
        };
        let line = r.to_string();
        assert!(
            line.contains("welcomed, but no answer to the heartbeat"),
            "{line}"
        );
        assert!(line.ends_with("hello again (try 2 of 8)"), "{line}");
        let refused = Retry {
            why: RetryReason::Refused("the server is full".into()),
            ..r
        };
        assert!(refused
            .to_string()
            .starts_with("refused: the server is full;"));
    }
}
