//! `netlab chat tcp://… | ws://…`: the terminal chat, and how it survives a
//! cut connection (lesson 07).
//!
//! One loop serves both native transports (length-prefixed JSON over TCP,
//! JSON text messages over WebSocket). It waits on three things at once:
//! a typed line, a server event, and the next timer of [`Resume`] (a retry
//! of an unanswered event, or the heartbeat). When the connection dies — the
//! socket closes, or the server stops answering pings — it reconnects by
//! itself with exponential backoff and jitter, presents its session token,
//! and shows what the server replays, each event once.

use super::resume::{backoff, jitter, Action, Incoming, Resume, ResumeConfig};
use super::terminal::{parse_line, render_event, settle, Line, DRAIN_TIMEOUT, HELP};
use super::{Reconnect, TerminalConfig, TerminalResult};
use crate::chat::heartbeat::HeartbeatConfig;
use crate::chat::id::ConnId;
use crate::chat::protocol::ServerEvent;
use crate::framing::FrameCodec;
use crate::term;
use crate::ws::client::{connect, ClientConfig};
use crate::ws::{CloseCode, Message, WebSocket, WsError};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::error::Error;
use std::process::ExitCode;
use std::time::Instant;
use tokio::io::AsyncBufReadExt;
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

/// Ack ids the terminal client starts from.
const FIRST_ACK: u64 = 1;

/// Reconnect attempts in a row before the client gives up.
pub const MAX_RECONNECT_ATTEMPTS: u32 = 12;

/// Where `netlab chat` connects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// `tcp://HOST:PORT`: length-prefixed JSON events.
    Tcp(String),
    /// `ws://HOST:PORT/PATH`: JSON events as WebSocket text messages.
    Ws(String),
}

impl Endpoint {
    fn open_hint(&self) -> String {
        match self {
            Endpoint::Tcp(a) => format!("is `netlab serve --tcp {a}` running?"),
            Endpoint::Ws(_) => "is `netlab serve --http ADDR` running?".into(),
        }
    }
}

/// One open connection to the hub, either transport.
enum Link {
    Tcp(Framed<TcpStream, FrameCodec>),
    Ws(Box<WebSocket<TcpStream>>),
}

type Failure = Box<dyn Error>;

impl Link {
    async fn open(to: &Endpoint) -> Result<Link, String> {
        match to {
            Endpoint::Tcp(addr) => {
                let s = TcpStream::connect(addr)
                    .await
                    .map_err(|e| format!("could not connect to {addr}: {e}"))?;
                let _ = s.set_nodelay(true);
                Ok(Link::Tcp(Framed::new(s, FrameCodec::new())))
            }
            Endpoint::Ws(url) => {
                let (ws, _) = connect(url, &ClientConfig::default())
                    .await
                    .map_err(|e| format!("could not open {url}: {e}"))?;
                Ok(Link::Ws(Box::new(ws)))
            }
        }
    }

    async fn send(&mut self, frame: &[u8]) -> Result<(), String> {
        match self {
            Link::Tcp(f) => f
                .send(Bytes::copy_from_slice(frame))
                .await
                .map_err(|e| e.to_string()),
            Link::Ws(ws) => {
                let text = String::from_utf8_lossy(frame).into_owned();
                ws.feed(&Message::text(text)).map_err(|e| e.to_string())?;
                ws.flush().await.map_err(|e| e.to_string())
            }
        }
    }

    /// The next event as JSON; `Ok(None)` when the server closed. Cancel-safe.
    async fn recv(&mut self) -> Result<Option<Value>, String> {
        let bytes: Vec<u8> = match self {
            Link::Tcp(f) => match f.next().await {
                None => return Ok(None),
                Some(frame) => frame.map_err(|e| e.to_string())?.to_vec(),
            },
            Link::Ws(ws) => loop {
                match ws.recv().await {
                    Ok(Some(Message::Text(t))) => break t.as_bytes().to_vec(),
                    Ok(Some(Message::Binary(_))) => {
                        return Err(
                            "the server sent a binary message; chat events are JSON text".into(),
                        )
                    }
                    Ok(Some(Message::Close(_))) | Ok(None) => return Ok(None),
                    Ok(Some(_)) => {}
                    Err(WsError::ClosedWithoutHandshake { .. }) => return Ok(None),
                    Err(e) => return Err(e.to_string()),
                }
            },
        };
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(v) if v.get("event").and_then(Value::as_str).is_some() => Ok(Some(v)),
            _ => Err(format!(
                "the server sent a frame that is not a chat event: {}",
                term::printable(&bytes, 80)
            )),
        }
    }

    async fn close(&mut self) {
        match self {
            Link::Tcp(f) => {
                let _ = SinkExt::<Bytes>::close(f).await;
            }
            Link::Ws(ws) => {
                let _ = ws.close(CloseCode::Normal, "bye").await;
            }
        }
    }
}

/// The terminal session: the connection, what [`Resume`] remembers, and
/// what the typed lines wait for.
struct Chat {
    to: Endpoint,
    link: Link,
    state: Resume,
    me: ConnId,
    json: bool,
    reconnect: bool,
    /// Ack id → the room that becomes current if the typed event is accepted.
    waiting: HashMap<u64, Option<String>>,
    /// Acks of events the client sent by itself (nick and room at start, rejoins): not shown.
    quiet: HashSet<u64>,
    current: Option<String>,
    failed: bool,
    /// The id a fresh connection got, used if the session cannot be resumed.
    fresh_id: Option<ConnId>,
    /// `--retries`, for the give-up message.
    retries: u32,
    /// The answer to the client's own `rooms` (sent to become resumable) is not shown.
    hide_rooms_answer: bool,
}

/// The connection ended under the session (as opposed to an error of ours).
struct Lost(String);

impl Chat {
    /// A line about the connection itself (not a chat event): stdout in
    /// text mode, stderr in JSON mode so the JSON stays parseable.
    fn status(&self, text: impl std::fmt::Display) {
        if self.json {
            anstream::eprintln!("{}", term::dim(text.to_string()));
        } else {
            anstream::println!("{}", term::dim(text.to_string()));
        }
    }

    fn show(&self, v: &Value) {
        if self.json {
            println!("{v}");
            return;
        }
        match serde_json::from_value::<ServerEvent>(v.clone()) {
            Ok(e) => {
                if let Some(line) = render_event(&e, self.me) {
                    anstream::println!("{line}");
                }
            }
            // An event this client does not know yet: shown as it came.
            Err(_) => anstream::println!("{}", term::dim(term::peer_text(&v.to_string()))),
        }
    }

    async fn send(&mut self, frame: &[u8]) -> Result<(), Lost> {
        self.link.send(frame).await.map_err(Lost)
    }

    /// Sends an event with an ack id; `becomes` is the room that becomes
    /// current if it is accepted.
    async fn send_event(
        &mut self,
        event: Value,
        becomes: Option<String>,
        quiet: bool,
    ) -> Result<(), Lost> {
        let (ack, frame) = self.state.send(event, Instant::now());
        self.waiting.insert(ack, becomes);
        if quiet {
            self.quiet.insert(ack);
        }
        self.send(&frame).await
    }

    /// One event from the server.
    async fn on_event(&mut self, v: Value) -> Result<(), Lost> {
        match self.state.on_event(&v, Instant::now()) {
            Incoming::Duplicate | Incoming::Pong => return Ok(()),
            Incoming::Ping(pong) => return self.send(&pong).await,
            Incoming::Resumed { replayed } => {
                if let Some(id) = v.get("id").and_then(Value::as_str) {
                    self.me = id.parse().unwrap_or(self.me);
                }
                if self.json {
                    println!("{v}"); // scripts see the resume too
                }
                self.status(format!(
                    "resumed: {replayed} missed event{} replayed",
                    if replayed == 1 { "" } else { "s" }
                ));
                return self.resend_unanswered().await;
            }
            Incoming::ResumeRefused { message } => {
                if let Some(id) = self.fresh_id {
                    self.me = id;
                }
                let rooms: Vec<String> = self
                    .state
                    .rooms()
                    .iter()
                    .map(|r| format!("{r} since {}", self.state.last().get(r).unwrap_or(&0)))
                    .collect();
                self.status(format!(
                    "session expired: rejoined {} ({message})",
                    if rooms.is_empty() {
                        "no rooms".to_string()
                    } else {
                        rooms.join(", ")
                    }
                ));
                return self.start_again(true).await;
            }
            Incoming::Answered { ack, .. } if self.quiet.remove(&ack) => {
                if let Ok(e) = serde_json::from_value::<ServerEvent>(v.clone()) {
                    // A refused rejoin is shown too (e.g. `nick_taken`: the
                    // old connection still holds the name): the user must know.
                    let refused = matches!(e, ServerEvent::Ack { ok: false, .. });
                    if settle(&e, &mut self.waiting, &mut self.current) | refused {
                        self.failed = true;
                        self.show(&v);
                    }
                }
                return Ok(());
            }
            Incoming::Answered { .. } | Incoming::Fresh => {}
        }
        if v["event"] == "rooms" && self.hide_rooms_answer {
            self.hide_rooms_answer = false;
            return Ok(());
        }
        if v["event"] == "gap" {
            let message = v["message"].as_str().unwrap_or("some events are lost");
            if self.json {
                println!("{v}");
            } else {
                anstream::println!("{} {}", term::bad("gap:"), term::peer_text(message));
            }
        } else {
            // A `bye` for a connection the client will replace (it looked
            // dead to the server) is no failure of the session.
            let replaced = self.reconnect
                && v["event"] == "bye"
                && matches!(
                    v["code"].as_str(),
                    Some("heartbeat_timeout" | "no_confirmation" | "session_resumed")
                );
            if let Ok(e) = serde_json::from_value::<ServerEvent>(v.clone()) {
                if settle(&e, &mut self.waiting, &mut self.current) && !replaced {
                    self.failed = true;
                }
            }
            self.show(&v);
        }
        if let Some(seen) = self.state.seen_frame(Instant::now()) {
            self.send(&seen).await?;
        }
        Ok(())
    }

    /// The frames [`Resume`] built itself (rejoins) are the client's own: their acks stay quiet.
    fn quiet_last_sent(&mut self, frame: &[u8]) {
        if let Some(ack) = serde_json::from_slice::<Value>(frame)
            .ok()
            .and_then(|v| v["ack"].as_u64())
        {
            self.quiet.insert(ack);
        }
    }

    async fn resend_unanswered(&mut self) -> Result<(), Lost> {
        for frame in self.state.unanswered_frames(Instant::now()) {
            self.send(&frame).await?;
        }
        Ok(())
    }

    /// What the retry and heartbeat timers ask for.
    async fn on_timer(&mut self) -> Result<(), Lost> {
        for action in self.state.poll(Instant::now()) {
            match action {
                Action::Resend(frame) | Action::Seen(frame) | Action::Ping(frame) => {
                    self.send(&frame).await?
                }
                Action::GaveUp { ack } => {
                    self.waiting.remove(&ack);
                    self.quiet.remove(&ack);
                    self.failed = true;
                    anstream::println!(
                        "{} no answer to event {ack} after {} retries; giving up on it",
                        term::bad("!"),
                        self.retries
                    );
                }
                Action::Dead => {
                    return Err(Lost("the server did not answer a ping in time".into()));
                }
            }
        }
        Ok(())
    }

    /// Reconnects with exponential backoff and jitter, then resumes the
    /// session (or, without one, rejoins the rooms as a new connection).
    async fn reconnect(&mut self, why: &str) -> Result<(), Failure> {
        self.status(format!("connection lost: {why}"));
        for attempt in 0..MAX_RECONNECT_ATTEMPTS {
            let delay = backoff(attempt, jitter());
            self.status(format!("reconnecting in {:.1}s…", delay.as_secs_f64()));
            tokio::time::sleep(delay).await;
            let Ok(mut link) = Link::open(&self.to).await else {
                continue;
            };
            let welcome = match tokio::time::timeout(DRAIN_TIMEOUT, link.recv()).await {
                Ok(Ok(Some(w))) if w["event"] == "welcome" => w,
                _ => continue,
            };
            self.link = link;
            let now = Instant::now();
            self.state.connected(now);
            // The old token first: the new welcome brings a provisional one.
            let resume = self.state.resume_frame();
            self.state.on_event(&welcome, now);
            self.fresh_id = welcome["id"].as_str().and_then(|s| s.parse().ok());
            let sent = match resume {
                Some(frame) => self.send(&frame).await,
                None => self.start_over().await,
            };
            if sent.is_ok() {
                return Ok(());
            }
        }
        Err(format!(
            "could not reconnect after {MAX_RECONNECT_ATTEMPTS} attempts ({})",
            self.to.open_hint()
        )
        .into())
    }

    /// No session to resume (the server keeps no history): a new connection,
    /// a new id, the same nickname and rooms; whatever was said meanwhile is lost.
    async fn start_over(&mut self) -> Result<(), Lost> {
        if let Some(id) = self.fresh_id {
            self.me = id;
        }
        self.status(
            "reconnected as a new connection: events sent while you were away are lost (the server keeps no history: netlab serve --history N)",
        );
        for ack in self.state.forget_unanswered() {
            self.quiet.remove(&ack);
            if self.waiting.remove(&ack).is_some() {
                self.failed = true;
                anstream::println!(
                    "{} event {ack} was unanswered when the connection broke; not sent again (without sessions the server could apply it twice)",
                    term::bad("!")
                );
            }
        }
        self.start_again(false).await
    }

    /// The nickname and rooms again (`since` the last seq seen, with
    /// history), then whatever typed events were still unanswered.
    async fn start_again(&mut self, since: bool) -> Result<(), Lost> {
        let now = Instant::now();
        let unanswered = self.state.unanswered_frames(now);
        for frame in self.state.rejoin(now, since) {
            self.quiet_last_sent(&frame);
            self.send(&frame).await?;
        }
        for frame in unanswered {
            self.send(&frame).await?;
        }
        Ok(())
    }
}

/// Runs the terminal chat against `to` until stdin ends (and every acked
/// event is answered), reconnecting when the connection is lost.
pub async fn terminal(to: Endpoint, args: TerminalConfig) -> TerminalResult {
    let config = ResumeConfig {
        ack_timeout: args.ack_timeout,
        retries: args.retries,
        heartbeat: (!args.heartbeat.is_zero()).then_some(HeartbeatConfig {
            interval: args.heartbeat,
            timeout: args.heartbeat_timeout,
        }),
    };
    if args.ack_timeout.is_zero() || args.heartbeat_timeout.is_zero() {
        return Err("--ack-timeout and --heartbeat-timeout must be above 0".into());
    }
    let mut link = Link::open(&to)
        .await
        .map_err(|e| format!("{e} ({})", to.open_hint()))?;
    let welcome = match link.recv().await? {
        Some(w) if w["event"] == "welcome" => w,
        Some(other) => return Err(format!("expected a welcome event first, got {other}").into()),
        None => return Err("the server closed the connection before the welcome".into()),
    };
    let me: ConnId = welcome["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or("the welcome carries no valid id")?;
    let mut state = Resume::new(config, FIRST_ACK, Instant::now());
    state.on_event(&welcome, Instant::now());
    let reconnect = match args.reconnect {
        Reconnect::Never => false,
        Reconnect::Always => true,
        Reconnect::Auto => state.has_session(),
    };
    let mut chat = Chat {
        to,
        link,
        state,
        me,
        json: args.json,
        reconnect,
        waiting: HashMap::new(),
        quiet: HashSet::new(),
        current: None,
        failed: false,
        fresh_id: None,
        hide_rooms_answer: false,
        retries: args.retries,
    };
    chat.show(&welcome);
    // The nick and room first, settled before typed lines are read, so the
    // first line already goes to the room.
    if let Some(nick) = &args.nick {
        let e = json!({"event": "nick", "nick": nick});
        chat.send_event(e, None, true).await.map_err(|l| l.0)?;
    }
    if let Some(room) = &args.room {
        let e = json!({"event": "join", "room": room});
        chat.send_event(e, Some(room.clone()), true)
            .await
            .map_err(|l| l.0)?;
    }
    if args.nick.is_none() && args.room.is_none() && chat.state.has_session() {
        // A session that never sent an event is not kept when its connection
        // drops (connect-and-drop floods must not pile up): one silent
        // `rooms` makes a listen-only client resumable.
        chat.hide_rooms_answer = true;
        let e = json!({"event": "rooms"});
        chat.send_event(e, None, true).await.map_err(|l| l.0)?;
    }
    while !chat.waiting.is_empty() {
        let got = tokio::time::timeout(DRAIN_TIMEOUT, chat.link.recv())
            .await
            .map_err(|_| format!("no answer to the nick and join after {DRAIN_TIMEOUT:?}"))?;
        let lost = match got {
            Ok(Some(event)) => {
                let ours = event["ack"]
                    .as_u64()
                    .is_some_and(|a| chat.waiting.contains_key(&a));
                if ours && event["event"] == "ack" && event["ok"] == false {
                    let why = event["message"].as_str().unwrap_or_default();
                    return Err(format!("the server refused the nickname or room: {why}").into());
                }
                chat.on_event(event).await.err()
            }
            Ok(None) => Some(Lost("the server closed the connection".into())),
            Err(e) => Some(Lost(e)),
        };
        // Cut before the nick and room were settled: the same as later.
        if let Some(Lost(why)) = lost {
            if !chat.reconnect {
                return Err(why.into());
            }
            chat.reconnect(&why).await?;
        }
    }
    if let Some(ttl) = welcome["session_ttl_ms"].as_u64() {
        chat.status(format!(
            "the server keeps history: after a cut this session resumes (it waits {:?} for you)",
            std::time::Duration::from_millis(ttl)
        ));
    }
    run(&mut chat).await
}

async fn run(chat: &mut Chat) -> TerminalResult {
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut input_open = true;
    let far = tokio::time::Instant::now() + DRAIN_TIMEOUT * 1_000_000;
    let drain_deadline = tokio::time::sleep_until(far);
    tokio::pin!(drain_deadline);
    loop {
        if !input_open && chat.waiting.is_empty() {
            break;
        }
        let timer = chat.state.deadline().map(tokio::time::Instant::from_std);
        let step: Result<(), Lost> = tokio::select! {
            line = lines.next_line(), if input_open => {
                let Some(line) = line? else {
                    input_open = false;
                    drain_deadline.as_mut().reset(tokio::time::Instant::now() + DRAIN_TIMEOUT);
                    continue;
                };
                match parse_line(&line, chat.current.as_deref()) {
                    Line::Nothing => Ok(()),
                    Line::Help => { anstream::println!("{}", term::dim(HELP)); Ok(()) }
                    Line::Quit => { input_open = false; chat.waiting.clear(); Ok(()) }
                    Line::Bad(why) => { anstream::println!("{} {why}", term::bad("?")); chat.failed = true; Ok(()) }
                    Line::Send(event, becomes) => {
                        if let crate::chat::protocol::ClientEvent::Leave { room } = &event {
                            if chat.current.as_deref() == Some(room.as_str()) {
                                chat.current = None;
                            }
                        }
                        let v = serde_json::to_value(&event).expect("client events serialize");
                        chat.send_event(v, becomes, false).await
                    }
                }
            }
            event = chat.link.recv() => match event {
                Ok(Some(v)) => chat.on_event(v).await,
                Ok(None) => Err(Lost("the server closed the connection".into())),
                Err(e) => Err(Lost(e)),
            },
            _ = tokio::time::sleep_until(timer.unwrap_or(far)), if timer.is_some() => chat.on_timer().await,
            _ = &mut drain_deadline, if !input_open => {
                anstream::eprintln!("{} no answer to {} event(s) after {:?}", term::bad("!"), chat.waiting.len(), DRAIN_TIMEOUT);
                return Ok(ExitCode::FAILURE);
            }
        };
        if let Err(Lost(why)) = step {
            if !chat.reconnect || (!input_open && chat.waiting.is_empty()) {
                if !chat.json {
                    anstream::println!("{}", term::dim("connection closed"));
                }
                let bad = chat.failed || !chat.waiting.is_empty();
                return Ok(if bad {
                    ExitCode::FAILURE
                } else {
                    ExitCode::SUCCESS
                });
            }
            chat.reconnect(&why).await?;
        }
    }
    chat.link.close().await;
    Ok(if chat.failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
