//! The client's side of "never miss an event" (lesson 07), with no I/O: what
//! a reconnecting chat client must remember and decide.
//!
//! * **De-duplication by seq.** With `netlab serve --history N` every recorded
//!   event carries `"seq": {"lobby": 42, ...}`, one counter per history key.
//!   An event whose every entry is at or below what we already saw for that
//!   key is a duplicate (a replay overlapping live traffic, or a resend after
//!   a lost `seen`) and is dropped: at-least-once delivery plus this check is
//!   exactly-once *processing*.
//! * **Resume.** The `welcome` carries a session token; after a reconnect the
//!   first frame is `{"event":"resume","session":…,"last":{key: seq}}` and the
//!   server replays what we missed. Tokens are single-use: `resumed` brings
//!   the next one.
//! * **Confirmations.** `{"event":"seen","seq":{…}}` tells the server the
//!   highest seq we handled per key (cumulative, like a TCP ack).
//! * **Retries.** An acked event with no answer after the ack timeout is sent
//!   again *with the same ack id* (the server remembers ack ids and does not
//!   apply it twice), up to a number of retries; then we give up on it.
//! * **Heartbeat.** A silent server is pinged; no frame within the timeout
//!   and it is treated as dead (the caller reconnects).
//!
//! The caller owns the socket and the clock: it feeds in every frame the
//! server sent ([`Resume::on_event`]), asks for frames to send
//! ([`Resume::send`], [`Resume::resume_frame`], [`Resume::seen_frame`]) and
//! calls [`Resume::poll`] when [`Resume::deadline`] passes.

use crate::chat::heartbeat::{Beat, Heartbeat, HeartbeatConfig, PING};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// How long an acked event may go unanswered before it is sent again (`--ack-timeout`).
pub const DEFAULT_ACK_TIMEOUT: Duration = Duration::from_secs(5);

/// How many times an unanswered event is sent again before giving up (`--retries`).
pub const DEFAULT_RETRIES: u32 = 3;

/// At most one `seen` per this interval: confirmations are client events and
/// count against the server's rate limit, so a busy room is confirmed in
/// batches (one cumulative `seen` covers every event before it).
pub const SEEN_EVERY: Duration = Duration::from_millis(100);

/// First reconnect delay (before jitter); it doubles with each failed attempt.
pub const RECONNECT_BASE: Duration = Duration::from_millis(500);

/// The reconnect delay stops doubling here.
pub const RECONNECT_MAX: Duration = Duration::from_secs(15);

/// How the client retries and watches the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResumeConfig {
    /// Unanswered acked events are sent again after this.
    pub ack_timeout: Duration,
    /// At most this many times.
    pub retries: u32,
    /// Ping a silent server; `None`: never.
    pub heartbeat: Option<HeartbeatConfig>,
}

impl Default for ResumeConfig {
    fn default() -> Self {
        Self {
            ack_timeout: DEFAULT_ACK_TIMEOUT,
            retries: DEFAULT_RETRIES,
            heartbeat: None,
        }
    }
}

/// What an incoming server event means for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// New: show it (and confirm it with [`Resume::seen_frame`]).
    Fresh,
    /// Already handled (every seq at or below what we saw): drop it silently.
    Duplicate,
    /// The server pinged us: answer with the returned frame (a `pong`).
    Ping(Vec<u8>),
    /// The answer to our ping: nothing to show.
    Pong,
    /// The server took our session back; this many missed events follow.
    Resumed {
        /// How many events the server replays.
        replayed: u64,
    },
    /// The server refused our `resume` (the session expired, or the server
    /// restarted without it): start again with [`Resume::rejoin`] (`nick`,
    /// then `join` with `since` for every room we were in).
    ResumeRefused {
        /// Why, as the server said it.
        message: String,
    },
    /// An acked event of ours was answered (it is no longer retried).
    Answered {
        /// Its ack id.
        ack: u64,
        /// Whether it was accepted.
        ok: bool,
    },
}

/// What [`Resume::poll`] asks the caller to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send this frame again (an unanswered event, same ack id).
    Resend(Vec<u8>),
    /// This event stayed unanswered after every retry: report it.
    GaveUp {
        /// Its ack id.
        ack: u64,
    },
    /// Confirm what we handled: send this `seen`.
    Seen(Vec<u8>),
    /// The server has been silent: send this `ping`.
    Ping(Vec<u8>),
    /// The server did not answer our ping in time: it is dead, reconnect.
    Dead,
}

/// An acked event waiting for its answer.
#[derive(Debug, Clone)]
struct Pending {
    frame: Vec<u8>,
    event: Value,
    sent_at: Instant,
    resent: u32,
}

/// Everything a client remembers to resume a session and get each event once.
#[derive(Debug, Clone)]
pub struct Resume {
    config: ResumeConfig,
    history: bool,
    session: Option<String>,
    last: BTreeMap<String, u64>,
    confirmed: BTreeMap<String, u64>,
    seen_sent_at: Option<Instant>,
    pending: BTreeMap<u64, Pending>,
    next_ack: u64,
    resume_ack: Option<u64>,
    nick: Option<String>,
    rooms: BTreeSet<String>,
    heartbeat: Option<Heartbeat>,
}

impl Resume {
    /// A client that has not connected yet; its first ack id is `first_ack`.
    pub fn new(config: ResumeConfig, first_ack: u64, now: Instant) -> Self {
        Self {
            config,
            history: false,
            session: None,
            last: BTreeMap::new(),
            confirmed: BTreeMap::new(),
            seen_sent_at: None,
            pending: BTreeMap::new(),
            next_ack: first_ack,
            resume_ack: None,
            nick: None,
            rooms: BTreeSet::new(),
            heartbeat: config.heartbeat.map(|c| Heartbeat::new(c, now)),
        }
    }

    /// Whether the server gave us a session (it keeps history): only then can
    /// we resume, and only then does it want `seen`.
    pub fn has_session(&self) -> bool {
        self.history
    }

    /// The highest seq handled per history key.
    pub fn last(&self) -> &BTreeMap<String, u64> {
        &self.last
    }

    /// The rooms we are in (as far as accepted joins and leaves tell).
    pub fn rooms(&self) -> &BTreeSet<String> {
        &self.rooms
    }

    /// Acked events still waiting for their answer.
    pub fn unanswered(&self) -> usize {
        self.pending.len()
    }

    /// A new connection is open (at `now`): the heartbeat starts over.
    pub fn connected(&mut self, now: Instant) {
        self.heartbeat = self.config.heartbeat.map(|c| Heartbeat::new(c, now));
    }

    /// Takes a client event (a JSON object such as `{"event":"join","room":"lobby"}`),
    /// gives it the next ack id and remembers it until answered; returns the
    /// ack id and the frame to send.
    pub fn send(&mut self, mut event: Value, now: Instant) -> (u64, Vec<u8>) {
        let ack = self.take_ack();
        if let Value::Object(map) = &mut event {
            map.insert("ack".into(), ack.into());
        }
        let frame = event.to_string().into_bytes();
        self.pending.insert(
            ack,
            Pending {
                frame: frame.clone(),
                event,
                sent_at: now,
                resent: 0,
            },
        );
        (ack, frame)
    }

    /// The frames of every unanswered event, to send again on a new connection
    /// (same ack ids: the server answers a remembered id without applying it twice).
    pub fn unanswered_frames(&mut self, now: Instant) -> Vec<Vec<u8>> {
        self.pending
            .values_mut()
            .map(|p| {
                p.sent_at = now;
                p.frame.clone()
            })
            .collect()
    }

    /// Drops every unanswered event and returns their ack ids: after a
    /// reconnect to a server without sessions nothing can tell whether they
    /// were applied, and a resend could apply them twice.
    pub fn forget_unanswered(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.pending).into_keys().collect()
    }

    /// The first frame on a new connection when we hold a session:
    /// `{"event":"resume","session":…,"last":{…},"ack":N}`. `None` without one.
    pub fn resume_frame(&mut self) -> Option<Vec<u8>> {
        let session = self.session.take()?; // single-use: `resumed` brings the next
        let ack = self.take_ack();
        self.resume_ack = Some(ack);
        let frame = json!({"event": "resume", "session": session, "last": self.last, "ack": ack});
        Some(frame.to_string().into_bytes())
    }

    /// `{"event":"seen","seq":{…}}` when we handled events the server has not
    /// heard about yet (and it keeps history), at most once per
    /// [`SEEN_EVERY`]; `None` otherwise (then [`Resume::deadline`] says when
    /// [`Resume::poll`] sends the batch).
    pub fn seen_frame(&mut self, now: Instant) -> Option<Vec<u8>> {
        if !self.history || self.last == self.confirmed {
            return None;
        }
        if self.seen_sent_at.is_some_and(|at| now < at + SEEN_EVERY) {
            return None;
        }
        self.seen_sent_at = Some(now);
        self.confirmed = self.last.clone();
        Some(
            json!({"event": "seen", "seq": self.last})
                .to_string()
                .into_bytes(),
        )
    }

    /// One event from the server, as JSON. Updates what we saw, the session
    /// token, the unanswered events and the heartbeat.
    pub fn on_event(&mut self, event: &Value, now: Instant) -> Incoming {
        if let Some(h) = &mut self.heartbeat {
            h.heard(now); // any frame is life
        }
        let name = event.get("event").and_then(Value::as_str).unwrap_or("");
        match name {
            "ping" => return Incoming::Ping(crate::chat::heartbeat::PONG.to_vec()),
            "pong" => return Incoming::Pong,
            "welcome" | "resumed" => {
                if let Some(s) = event.get("session").and_then(Value::as_str) {
                    self.session = Some(s.to_string());
                    self.history = true;
                }
                if name == "resumed" {
                    self.resume_ack = None;
                    let replayed = event.get("replayed").and_then(Value::as_u64).unwrap_or(0);
                    return Incoming::Resumed { replayed };
                }
                return Incoming::Fresh;
            }
            "ack" => {
                let ack = event.get("ack").and_then(Value::as_u64);
                let ok = event.get("ok").and_then(Value::as_bool).unwrap_or(false);
                if ack.is_some() && ack == self.resume_ack {
                    self.resume_ack = None;
                    if ok {
                        return Incoming::Answered {
                            ack: ack.unwrap_or(0),
                            ok,
                        };
                    }
                    let message = event
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("the server refused the session")
                        .to_string();
                    return Incoming::ResumeRefused { message };
                }
                if let Some(p) = ack.and_then(|a| self.pending.remove(&a)) {
                    if ok {
                        self.settled(&p.event);
                    }
                    return Incoming::Answered {
                        ack: ack.unwrap_or(0),
                        ok,
                    };
                }
            }
            _ => {}
        }
        match event.get("seq").and_then(Value::as_object) {
            Some(seq) if !seq.is_empty() => {
                if self.is_duplicate(seq) {
                    return Incoming::Duplicate;
                }
                for (key, n) in seq {
                    if let Some(n) = n.as_u64() {
                        let seen = self.last.entry(key.clone()).or_insert(0);
                        *seen = (*seen).max(n);
                    }
                }
                Incoming::Fresh
            }
            _ => Incoming::Fresh,
        }
    }

    /// When [`Resume::poll`] next has work: the earliest retry or heartbeat deadline.
    pub fn deadline(&self) -> Option<Instant> {
        let retry = self
            .pending
            .values()
            .map(|p| p.sent_at + self.config.ack_timeout)
            .min();
        let beat = self.heartbeat.as_ref().map(Heartbeat::deadline);
        let seen = match self.seen_sent_at {
            Some(at) if self.history && self.last != self.confirmed => Some(at + SEEN_EVERY),
            _ => None,
        };
        [retry, beat, seen].into_iter().flatten().min()
    }

    /// What is due at `now`: resends, give-ups, a batched `seen`, a ping, or
    /// the verdict that the server is dead.
    pub fn poll(&mut self, now: Instant) -> Vec<Action> {
        let mut actions = Vec::new();
        if let Some(seen) = self.seen_frame(now) {
            actions.push(Action::Seen(seen));
        }
        let timeout = self.config.ack_timeout;
        let mut gave_up = Vec::new();
        for (ack, p) in &mut self.pending {
            if now < p.sent_at + timeout {
                continue;
            }
            if p.resent >= self.config.retries {
                gave_up.push(*ack);
            } else {
                p.resent += 1;
                p.sent_at = now;
                // Only a server with sessions remembers ack ids; anywhere
                // else a resend could apply the event twice, so we only wait.
                if self.history {
                    actions.push(Action::Resend(p.frame.clone()));
                }
            }
        }
        for ack in gave_up {
            self.pending.remove(&ack);
            actions.push(Action::GaveUp { ack });
        }
        match self.heartbeat.as_mut().and_then(|h| h.due(now)) {
            Some(Beat::Ping) => actions.push(Action::Ping(PING.to_vec())),
            Some(Beat::Dead) => actions.push(Action::Dead),
            None => {}
        }
        actions
    }

    fn take_ack(&mut self) -> u64 {
        let ack = self.next_ack;
        self.next_ack += 1;
        ack
    }

    /// Every entry at or below what we saw for its key: seen before.
    fn is_duplicate(&self, seq: &Map<String, Value>) -> bool {
        seq.iter()
            .all(|(key, n)| match (n.as_u64(), self.last.get(key)) {
                (Some(n), Some(&seen)) => n <= seen,
                _ => false,
            })
    }

    /// An accepted event changes what we must restore after a fresh start.
    fn settled(&mut self, event: &Value) {
        let field = |f: &str| event.get(f).and_then(Value::as_str).map(str::to_string);
        match event.get("event").and_then(Value::as_str) {
            Some("join") => {
                if let Some(room) = field("room") {
                    self.rooms.insert(room);
                }
            }
            Some("leave") => {
                if let Some(room) = field("room") {
                    self.rooms.remove(&room);
                }
            }
            Some("nick") => self.nick = field("nick"),
            _ => {}
        }
    }

    /// Starting over on a new connection: the nickname again, and every room
    /// again; `with_since` adds `since` = the last seq we saw there, so a
    /// server that keeps history replays the rest.
    pub fn rejoin(&mut self, now: Instant, with_since: bool) -> Vec<Vec<u8>> {
        let mut frames = Vec::new();
        if let Some(nick) = self.nick.clone() {
            frames.push(self.send(json!({"event": "nick", "nick": nick}), now).1);
        }
        for room in self.rooms.clone() {
            let mut join = json!({"event": "join", "room": room});
            if with_since {
                join["since"] = self.last.get(&room).copied().unwrap_or(0).into();
            }
            frames.push(self.send(join, now).1);
        }
        frames
    }
}

/// How long to wait before reconnect attempt `attempt` (0 first): the delay
/// doubles from [`RECONNECT_BASE`] up to [`RECONNECT_MAX`], and `jitter`
/// (uniform in 0..1) picks a point in its upper half, so that a thousand
/// clients cut at once do not all come back in the same millisecond.
pub fn backoff(attempt: u32, jitter: f64) -> Duration {
    let doubled = RECONNECT_BASE.saturating_mul(1u32 << attempt.min(16));
    let cap = doubled.min(RECONNECT_MAX);
    cap / 2 + cap.mul_f64(jitter.clamp(0.0, 1.0) / 2.0)
}

/// A jitter value in 0..1 from the OS's random source (0.5 if it fails).
pub fn jitter() -> f64 {
    let mut b = [0u8; 4];
    match getrandom::getrandom(&mut b) {
        Ok(()) => f64::from(u32::from_le_bytes(b)) / (f64::from(u32::MAX) + 1.0),
        Err(_) => 0.5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn v(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    fn text(frame: &[u8]) -> String {
        String::from_utf8(frame.to_vec()).unwrap()
    }

    fn client(now: Instant) -> Resume {
        let mut c = Resume::new(
            ResumeConfig {
                ack_timeout: S,
                retries: 2,
                heartbeat: None,
            },
            1,
            now,
        );
        let welcome = v(
            r#"{"event":"welcome","id":"aa","nick":"guest","limits":{},"session":"t1","session_ttl_ms":120000}"#,
        );
        assert_eq!(c.on_event(&welcome, now), Incoming::Fresh);
        c
    }

    #[test]
    fn an_event_whose_every_seq_was_seen_is_a_duplicate() {
        let t = Instant::now();
        let mut c = client(t);
        let e = |seq: &str| v(&format!(r#"{{"event":"message","text":"x","seq":{seq}}}"#));
        assert_eq!(c.on_event(&e(r#"{"lobby":1}"#), t), Incoming::Fresh);
        assert_eq!(c.on_event(&e(r#"{"lobby":2}"#), t), Incoming::Fresh);
        assert_eq!(c.on_event(&e(r#"{"lobby":2}"#), t), Incoming::Duplicate);
        assert_eq!(c.on_event(&e(r#"{"lobby":1}"#), t), Incoming::Duplicate);
        // In two keys: new in one of them is enough to be new.
        assert_eq!(c.on_event(&e(r#"{"lobby":2,"dev":1}"#), t), Incoming::Fresh);
        assert_eq!(
            c.on_event(&e(r#"{"lobby":2,"dev":1}"#), t),
            Incoming::Duplicate
        );
        // Events without seq (answers, history off) are never duplicates.
        let who = v(r#"{"event":"who","room":"lobby","members":[]}"#);
        assert_eq!(c.on_event(&who, t), Incoming::Fresh);
        assert_eq!(c.on_event(&who, t), Incoming::Fresh);
        let want: BTreeMap<String, u64> = [("dev".to_string(), 1), ("lobby".to_string(), 2)].into();
        assert_eq!(c.last(), &want);
    }

    #[test]
    fn a_gap_in_seq_is_not_a_duplicate_and_the_highest_is_kept() {
        let t = Instant::now();
        let mut c = client(t);
        let e = |n: u64| v(&format!(r#"{{"event":"message","seq":{{"lobby":{n}}}}}"#));
        assert_eq!(c.on_event(&e(5), t), Incoming::Fresh);
        assert_eq!(c.on_event(&e(3), t), Incoming::Duplicate, "older than 5");
        assert_eq!(c.on_event(&e(9), t), Incoming::Fresh);
        assert_eq!(c.last()["lobby"], 9);
    }

    #[test]
    fn the_resume_frame_carries_the_token_and_the_last_seq_per_key_and_uses_the_token_once() {
        let t = Instant::now();
        let mut c = client(t);
        c.on_event(&v(r#"{"event":"message","seq":{"lobby":41,"*":7}}"#), t);
        c.on_event(&v(r#"{"event":"message","seq":{"aa":2}}"#), t);
        let frame = c.resume_frame().expect("we hold a session");
        assert_eq!(
            v(&text(&frame)),
            v(r#"{"event":"resume","session":"t1","last":{"lobby":41,"*":7,"aa":2},"ack":1}"#)
        );
        assert_eq!(c.resume_frame(), None, "a token is used once");
        // `resumed` brings the next token.
        let resumed = v(
            r#"{"event":"resumed","id":"aa","nick":"ana","rooms":["lobby"],"session":"t2","replayed":3}"#,
        );
        assert_eq!(c.on_event(&resumed, t), Incoming::Resumed { replayed: 3 });
        let again = c.resume_frame().unwrap();
        assert_eq!(v(&text(&again))["session"], "t2");
        assert_eq!(v(&text(&again))["ack"], 2, "ack ids keep increasing");
    }

    #[test]
    fn without_a_session_there_is_no_resume_and_no_seen() {
        let t = Instant::now();
        let mut c = Resume::new(ResumeConfig::default(), 1, t);
        c.on_event(
            &v(r#"{"event":"welcome","id":"aa","nick":"g","limits":{}}"#),
            t,
        );
        assert!(!c.has_session());
        assert_eq!(c.resume_frame(), None);
        c.on_event(&v(r#"{"event":"message","seq":{"lobby":1}}"#), t);
        assert_eq!(
            c.seen_frame(t),
            None,
            "seen would be refused with history off"
        );
    }

    #[test]
    fn seen_confirms_the_highest_seq_per_key_once() {
        let t = Instant::now();
        let mut c = client(t);
        assert_eq!(c.seen_frame(t), None, "nothing handled yet");
        c.on_event(&v(r#"{"event":"message","seq":{"lobby":56}}"#), t);
        c.on_event(&v(r#"{"event":"message","seq":{"lobby":57}}"#), t);
        let seen = c.seen_frame(t).unwrap();
        assert_eq!(v(&text(&seen)), v(r#"{"event":"seen","seq":{"lobby":57}}"#));
        assert_eq!(c.seen_frame(t), None, "already confirmed");
        assert_eq!(c.deadline(), None, "nothing left to confirm");
        // More within 100 ms: batched, sent by poll when the 100 ms are up.
        let ms = Duration::from_millis(1);
        c.on_event(&v(r#"{"event":"message","seq":{"lobby":58}}"#), t + 10 * ms);
        c.on_event(
            &v(r#"{"event":"message","seq":{"lobby":59,"*":3}}"#),
            t + 20 * ms,
        );
        assert_eq!(c.seen_frame(t + 20 * ms), None, "too soon after the last");
        assert_eq!(c.deadline(), Some(t + 100 * ms));
        assert_eq!(c.poll(t + 99 * ms), vec![]);
        let batch = v(r#"{"event":"seen","seq":{"lobby":59,"*":3}}"#);
        match c.poll(t + 100 * ms).as_slice() {
            [Action::Seen(f)] => assert_eq!(v(&text(f)), batch),
            other => panic!("one batched seen, got {other:?}"),
        }
    }

    #[test]
    fn an_unanswered_event_is_resent_with_the_same_ack_id_then_given_up() {
        // ack timeout 1 s, 2 retries: sent at 0 s, resent at 1 s and 2 s, given up at 3 s.
        let t = Instant::now();
        let mut c = client(t);
        let (ack, frame) = c.send(v(r#"{"event":"message","to":["lobby"],"text":"hi"}"#), t);
        assert_eq!(ack, 1);
        assert_eq!(
            v(&text(&frame)),
            v(r#"{"event":"message","to":["lobby"],"text":"hi","ack":1}"#)
        );
        assert_eq!(c.deadline(), Some(t + S));
        assert_eq!(c.poll(t + S / 2), vec![]);
        assert_eq!(c.poll(t + S), vec![Action::Resend(frame.clone())]);
        assert_eq!(c.poll(t + S + S / 2), vec![]);
        assert_eq!(c.poll(t + 2 * S), vec![Action::Resend(frame.clone())]);
        assert_eq!(c.poll(t + 3 * S), vec![Action::GaveUp { ack: 1 }]);
        assert_eq!(c.unanswered(), 0);
        assert_eq!(c.deadline(), None);
    }

    #[test]
    fn without_sessions_nothing_is_resent_but_the_give_up_comes_on_time() {
        // The server remembers no ack ids: a resend could apply the event twice.
        let t = Instant::now();
        let mut c = Resume::new(
            ResumeConfig {
                ack_timeout: S,
                retries: 2,
                heartbeat: None,
            },
            1,
            t,
        );
        c.on_event(
            &v(r#"{"event":"welcome","id":"aa","nick":"g","limits":{}}"#),
            t,
        );
        let (ack, _) = c.send(v(r#"{"event":"message","text":"hi"}"#), t);
        assert_eq!(c.poll(t + S), vec![]);
        assert_eq!(c.poll(t + 2 * S), vec![]);
        assert_eq!(c.poll(t + 3 * S), vec![Action::GaveUp { ack }]);
        c.send(v(r#"{"event":"message","text":"again"}"#), t);
        assert_eq!(c.forget_unanswered(), vec![ack + 1]);
        assert_eq!(c.unanswered(), 0);
    }

    #[test]
    fn an_answer_stops_the_retries_and_an_accepted_join_is_remembered() {
        let t = Instant::now();
        let mut c = client(t);
        let (ack, _) = c.send(v(r#"{"event":"join","room":"lobby"}"#), t);
        let answer = v(&format!(
            r#"{{"event":"ack","ack":{ack},"ok":true,"reached":1}}"#
        ));
        assert_eq!(c.on_event(&answer, t), Incoming::Answered { ack, ok: true });
        assert_eq!(c.poll(t + 10 * S), vec![]);
        assert!(c.rooms().contains("lobby"));
        // A second answer to the same id (the server's remembered ack after a resend) is just shown.
        assert_eq!(c.on_event(&answer, t), Incoming::Fresh);
    }

    #[test]
    fn a_refused_resume_rejoins_every_room_since_the_last_seq_seen() {
        let t = Instant::now();
        let mut c = client(t);
        let (a1, _) = c.send(v(r#"{"event":"nick","nick":"ana"}"#), t);
        let (a2, _) = c.send(v(r#"{"event":"join","room":"lobby"}"#), t);
        for a in [a1, a2] {
            c.on_event(&v(&format!(r#"{{"event":"ack","ack":{a},"ok":true}}"#)), t);
        }
        c.on_event(&v(r#"{"event":"message","seq":{"lobby":41}}"#), t);
        let resume = c.resume_frame().unwrap();
        let resume_ack = v(&text(&resume))["ack"].as_u64().unwrap();
        assert_eq!(resume_ack, 3);
        let refused = v(
            r#"{"event":"ack","ack":3,"ok":false,"error":"session_unknown","message":"start fresh"}"#,
        );
        let Incoming::ResumeRefused { message } = c.on_event(&refused, t) else {
            panic!("a refused resume is reported");
        };
        assert_eq!(message, "start fresh");
        let rejoin = c.rejoin(t, true);
        let rejoin: Vec<Value> = rejoin.iter().map(|f| v(&text(f))).collect();
        assert_eq!(
            rejoin,
            vec![
                v(r#"{"event":"nick","nick":"ana","ack":4}"#),
                v(r#"{"event":"join","room":"lobby","since":41,"ack":5}"#)
            ]
        );
    }

    #[test]
    fn a_silent_server_is_pinged_then_declared_dead() {
        let t = Instant::now();
        let hb = HeartbeatConfig {
            interval: 10 * S,
            timeout: 5 * S,
        };
        let mut c = Resume::new(
            ResumeConfig {
                heartbeat: Some(hb),
                ..ResumeConfig::default()
            },
            1,
            t,
        );
        assert_eq!(c.poll(t + 9 * S), vec![]);
        assert_eq!(c.poll(t + 10 * S), vec![Action::Ping(PING.to_vec())]);
        c.on_event(&v(r#"{"event":"pong"}"#), t + 11 * S);
        assert_eq!(c.poll(t + 16 * S), vec![], "the pong was life");
        assert_eq!(c.poll(t + 21 * S), vec![Action::Ping(PING.to_vec())]);
        assert_eq!(c.poll(t + 26 * S), vec![Action::Dead]);
    }

    #[test]
    fn the_server_ping_is_answered_with_pong() {
        let t = Instant::now();
        let mut c = client(t);
        assert_eq!(
            c.on_event(&v(r#"{"event":"ping"}"#), t),
            Incoming::Ping(br#"{"event":"pong"}"#.to_vec())
        );
    }

    #[test]
    fn backoff_doubles_from_half_a_second_to_fifteen_with_jitter_in_the_upper_half() {
        // attempt: 0 → 0.5 s cap, 1 → 1 s, 2 → 2 s, 5 → 16 s capped to 15 s.
        assert_eq!(backoff(0, 0.0), Duration::from_millis(250));
        assert_eq!(backoff(0, 1.0), Duration::from_millis(500));
        assert_eq!(backoff(1, 0.5), Duration::from_millis(750));
        assert_eq!(backoff(2, 0.0), Duration::from_secs(1));
        assert_eq!(backoff(5, 0.0), Duration::from_millis(7500));
        assert_eq!(backoff(5, 1.0), Duration::from_secs(15));
        assert_eq!(
            backoff(u32::MAX, 1.0),
            Duration::from_secs(15),
            "no overflow"
        );
        let j = jitter();
        assert!((0.0..1.0).contains(&j));
    }
}
