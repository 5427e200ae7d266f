//! Observers: the clients whose losses and duplicates are counted. Each sits
//! in `soak` with a session and, again and again, *vanishes without a FIN* —
//! a reset (`SO_LINGER` 0, then close), or the socket simply abandoned, so
//! the server believes a dead connection is alive — stays away a while,
//! reconnects and sends `resume` with its token and the last seq it saw
//! ([`crate::client::resume::Resume`]). Every sender number that arrives is
//! counted *on the wire*, before the client's own seq check (which would
//! hide a duplicate from a user, but the server promises none on resume);
//! [`super::ledger`] holds the counts against the sender's book. Live
//! messages are timed too (send → receive).

use super::conn::{Conn, Ended, CONNECT_TIMEOUT};
use super::plan::{Fault, SoakError, SOAK_ROOM};
use super::sender::soak_stamp;
use super::shared::{bump, pause, stopped, uniform, Shared};
use crate::client::resume::{Action, Incoming, Resume, ResumeConfig};
use crate::link::rng::SplitMix64;
use hdrhistogram::Histogram;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Largest latency the histogram tracks: 60 s in nanoseconds.
const MAX_LATENCY_NS: u64 = 60_000_000_000;

/// What one observer counted, handed back when the run is over.
#[derive(Default)]
pub(super) struct ObserverOutcome {
    /// Arrivals of each sender number (index = number), duplicates included.
    pub(super) counts: Vec<u8>,
    /// Times it came back with `resume` and was answered `resumed`.
    pub(super) resumes: u64,
    /// Events the client's seq check dropped as already seen.
    pub(super) dropped_by_seq: u64,
    /// `gap` notices.
    pub(super) gaps: u64,
    /// Events the server dropped from its full queue.
    pub(super) queue_drops: u64,
    /// Whether it caught up with the sender within the drain timeout.
    pub(super) finished: bool,
    /// Latencies of the live messages it received.
    pub(super) hist: Option<Histogram<u64>>,
}

/// An empty latency histogram (1 ns to [`MAX_LATENCY_NS`], 3 significant digits).
pub(super) fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).expect("valid bounds")
}

/// One observer: its session, what it counted, and how it misbehaves (if a fault is injected).
pub(super) struct Observer {
    shared: Arc<Shared>,
    slot: usize,
    fault: Fault,
    resume: Resume,
    counts: Vec<u8>,
    replay_left: u64,
    out: ObserverOutcome,
    hist: Histogram<u64>,
    /// A connection abandoned without a word, kept until the next `resumed`.
    abandoned: Option<Conn>,
    seed: u64,
    drain_timeout: Duration,
}

impl Observer {
    /// The observer in connection slot `slot`, not connected yet.
    pub(super) fn new(
        shared: Arc<Shared>,
        slot: usize,
        fault: Fault,
        seed: u64,
        drain_timeout: Duration,
    ) -> Self {
        Observer {
            shared,
            slot,
            fault,
            resume: Resume::new(ResumeConfig::default(), 1, Instant::now()),
            counts: Vec::new(),
            replay_left: 0,
            out: ObserverOutcome::default(),
            hist: new_histogram(),
            abandoned: None,
            seed,
            drain_timeout,
        }
    }

    /// Connects (three tries) and waits until it is in `soak`: observers
    /// must be there before the sender's first message. `i` names it in the
    /// error, `addr` is the server's.
    pub(super) async fn start(
        mut self,
        i: usize,
        addr: std::net::SocketAddr,
    ) -> Result<(Self, Conn), SoakError> {
        let mut conn = None;
        for _ in 0..3 {
            conn = self.connect().await;
            if conn.is_some() {
                break;
            }
        }
        let Some(mut conn) = conn else {
            return Err(SoakError::Start(format!(
                "observer {i} could not connect to {addr}"
            )));
        };
        // Wait for the join's answer so the observer is in the room.
        while self.resume.rooms().is_empty() {
            match tokio::time::timeout(CONNECT_TIMEOUT, conn.recv()).await {
                Ok(Some(v)) => {
                    self.on_event(&mut conn, &v).await;
                }
                _ => {
                    return Err(SoakError::Start(format!(
                        "observer {i} could not join {SOAK_ROOM}"
                    )))
                }
            }
        }
        Ok((self, conn))
    }

    /// Connects; the first time joins `soak` as a new session, afterwards
    /// resumes (or, with a fault, does the wrong thing on purpose).
    async fn connect(&mut self) -> Option<Conn> {
        let (mut conn, welcome) = Conn::open(&self.shared, self.slot, None).await?;
        let now = Instant::now();
        let mut frames = Vec::new();
        if !self.resume.has_session() {
            self.resume.on_event(&welcome, now);
            bump(&self.shared.c.new_sessions);
            frames.push(
                self.resume
                    .send(json!({"event": "join", "room": SOAK_ROOM}), now)
                    .1,
            );
        } else {
            match self.fault {
                Fault::None | Fault::ReplayAll => {
                    // The old token first: the new welcome brings a provisional one.
                    let frame = self.resume.resume_frame();
                    self.resume.on_event(&welcome, now);
                    match frame {
                        Some(mut f) => {
                            if self.fault == Fault::ReplayAll {
                                let mut v: Value = serde_json::from_slice(&f).unwrap_or_default();
                                v["last"] = json!({});
                                f = v.to_string().into_bytes();
                            }
                            frames.push(f);
                        }
                        // The token went out with a `resume` whose answer never
                        // came (the connection died first): the session may be
                        // resumed already under a token we never saw. Start
                        // over on this one and join again since the last seq.
                        None => {
                            bump(&self.shared.c.new_sessions);
                            frames.extend(self.resume.rejoin(now, true));
                        }
                    }
                }
                Fault::NoResume => {
                    self.resume.on_event(&welcome, now);
                    self.resume.forget_unanswered();
                    bump(&self.shared.c.new_sessions);
                    frames.extend(self.resume.rejoin(now, false));
                }
            }
        }
        for f in frames {
            if !conn.send(&f).await {
                return None;
            }
        }
        Some(conn)
    }

    /// One event: counted, timed, answered.
    async fn on_event(&mut self, conn: &mut Conn, v: &Value) -> bool {
        let now = Instant::now();
        let recorded = v.get("seq").is_some_and(|s| s.is_object());
        let verdict = self.resume.on_event(v, now);
        let replayed = recorded && self.replay_left > 0;
        if replayed {
            self.replay_left -= 1;
        }
        match &verdict {
            Incoming::Ping(pong) => return conn.send(pong).await,
            Incoming::Resumed { replayed } => {
                self.replay_left = *replayed;
                self.out.resumes += 1;
                bump(&self.shared.c.resumed);
                // The server has closed the half-open old connection by now.
                self.abandoned = None;
            }
            Incoming::ResumeRefused { .. } => {
                bump(&self.shared.c.resume_refused);
                let frames = self.resume.rejoin(now, true);
                for f in frames {
                    if !conn.send(&f).await {
                        return false;
                    }
                }
            }
            Incoming::Duplicate => self.out.dropped_by_seq += 1,
            _ => {}
        }
        match v["event"].as_str() {
            Some("gap") => self.out.gaps += 1,
            Some("dropped") => self.out.queue_drops += v["count"].as_u64().unwrap_or(0),
            _ => {}
        }
        if let Some((n, sent_ns)) = soak_stamp(v) {
            let i = n as usize;
            if self.counts.len() <= i {
                self.counts.resize(i + 1, 0);
            }
            self.counts[i] = self.counts[i].saturating_add(1);
            if self.counts[i] == 1 && !replayed && verdict == Incoming::Fresh {
                let lat = self.shared.now_ns().saturating_sub(sent_ns);
                let _ = self.hist.record(lat.clamp(1, MAX_LATENCY_NS));
            }
        }
        if let Some(seen) = self.resume.seen_frame(now) {
            return conn.send(&seen).await;
        }
        true
    }

    /// Reads until `until` (or the load stops, or, when draining, until
    /// the last accepted number has arrived).
    async fn serve(&mut self, conn: &mut Conn, until: Option<Instant>) -> Ended {
        let mut running = self.shared.running.clone();
        let mut last = self.shared.last_accepted.clone();
        loop {
            if until.is_none() && self.caught_up() {
                return Ended::TimeUp;
            }
            let wake = [until, self.resume.deadline()].into_iter().flatten().min();
            let sleep = async {
                match wake {
                    Some(w) => tokio::time::sleep_until(w.into()).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                v = conn.recv() => match v {
                    Some(v) => {
                        if !self.on_event(conn, &v).await {
                            return Ended::Closed;
                        }
                    }
                    None => return Ended::Closed,
                },
                _ = sleep => {
                    if until.is_some_and(|u| Instant::now() >= u) {
                        return Ended::TimeUp;
                    }
                    for a in self.resume.poll(Instant::now()) {
                        let frame = match a {
                            Action::Resend(f) | Action::Seen(f) | Action::Ping(f) => f,
                            _ => continue,
                        };
                        if !conn.send(&frame).await {
                            return Ended::Closed;
                        }
                    }
                }
                _ = stopped(&mut running), if until.is_some() => return Ended::TimeUp,
                _ = last.changed(), if until.is_none() => {}
            }
        }
    }

    /// Whether the sender has finished and its last accepted message is here.
    fn caught_up(&self) -> bool {
        match *self.shared.last_accepted.borrow() {
            Some(0) => true,
            Some(n) => self.counts.get(n as usize).is_some_and(|&c| c > 0),
            None => false,
        }
    }

    /// Stays, vanishes, comes back and resumes until the load stops, then catches up.
    pub(super) async fn run(
        mut self,
        first: Conn,
        stay: (Duration, Duration),
        away: (Duration, Duration),
    ) -> ObserverOutcome {
        let mut rng =
            SplitMix64::new(self.seed ^ (self.slot as u64).wrapping_mul(0x2545_f491_4f6c_dd1d));
        let mut conn = Some(first);
        let mut vanish_by_reset = self.slot % 2 == 0;
        while self.shared.running() {
            let Some(mut c) = (match conn.take() {
                Some(c) => Some(c),
                None => self.connect().await,
            }) else {
                if !pause(&self.shared, uniform(&mut rng, away)).await {
                    break;
                }
                continue;
            };
            let until = Instant::now() + uniform(&mut rng, stay);
            match self.serve(&mut c, Some(until)).await {
                Ended::Closed => {
                    bump(&self.shared.c.closed_by_server);
                    drop(c);
                }
                Ended::TimeUp if !self.shared.running() => {
                    conn = Some(c);
                    break;
                }
                Ended::TimeUp => {
                    // Vanish without a FIN: a reset, or just silence.
                    if vanish_by_reset {
                        c.reset();
                    } else {
                        bump(&self.shared.c.abandoned);
                        self.abandoned = Some(c);
                    }
                    vanish_by_reset = !vanish_by_reset;
                }
            }
            if !pause(&self.shared, uniform(&mut rng, away)).await {
                break;
            }
        }
        // The load stopped: come back if away, then read until the last
        // accepted message is here.
        let deadline = Instant::now() + self.drain_timeout;
        let drain = async {
            loop {
                let mut c = match conn.take() {
                    Some(c) => c,
                    None => match self.connect().await {
                        Some(c) => c,
                        None => {
                            tokio::time::sleep(Duration::from_millis(200)).await;
                            continue;
                        }
                    },
                };
                if let Ended::TimeUp = self.serve(&mut c, None).await {
                    return;
                }
            }
        };
        self.out.finished = tokio::time::timeout_at(deadline.into(), drain)
            .await
            .is_ok();
        self.out.counts = std::mem::take(&mut self.counts);
        self.out.hist = Some(self.hist);
        self.out
    }
}
