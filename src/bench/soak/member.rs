//! Members: the bulk of the connection count. Each joins a room of about
//! [`super::MEMBER_ROOM_SIZE`], says something, idles for a random lifetime,
//! then leaves in one of four ways — reset and resume, abandon and resume,
//! reset and start a new session, or `leave` and a polite FIN — and comes
//! back: the churn the server must hold without leaking.

use super::conn::{message, Conn, Ended};
use super::shared::{bump, pause, stopped, uniform, Shared};
use crate::client::resume::{Incoming, Resume, ResumeConfig};
use crate::link::rng::SplitMix64;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One member slot: join, chat, idle, leave one way or another, come back.
pub(super) async fn run(
    shared: Arc<Shared>,
    slot: usize,
    room: String,
    start: Duration,
    lifetime: Duration,
    away: (Duration, Duration),
    seed: u64,
) {
    let mut rng = SplitMix64::new(seed ^ (slot as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    if !pause(&shared, start).await {
        return;
    }
    let mut session: Option<Resume> = None;
    let mut abandoned: Option<Conn> = None;
    while shared.running() {
        let Some((mut conn, welcome)) = Conn::open(&shared, slot, None).await else {
            if !pause(&shared, uniform(&mut rng, away)).await {
                break;
            }
            continue;
        };
        let now = Instant::now();
        let mut frames = Vec::new();
        let resume_frame = session.as_mut().and_then(|r| {
            r.forget_unanswered();
            r.resume_frame()
        });
        match resume_frame {
            Some(f) => frames.push(f),
            None => {
                let mut r = Resume::new(ResumeConfig::default(), 1, now);
                frames.push(r.send(json!({"event": "join", "room": room}), now).1);
                bump(&shared.c.new_sessions);
                session = Some(r);
            }
        }
        let Some(r) = session.as_mut() else {
            continue;
        };
        r.on_event(&welcome, now);
        frames.push(
            r.send(message(&room, format!("hello from member {slot}")), now)
                .1,
        );
        let mut ok = true;
        for f in frames {
            ok &= conn.send(&f).await;
        }
        let until = Instant::now() + lifetime.mul_f64(0.5 + rng.next_f64());
        let ended = if ok {
            read(&shared, &mut conn, r, until, &mut abandoned).await
        } else {
            Ended::Closed
        };
        if !shared.running() {
            break;
        }
        match ended {
            Ended::Closed => bump(&shared.c.closed_by_server),
            Ended::TimeUp => match rng.below(100) {
                // Reset, and resume the session later.
                0..=44 => conn.reset(),
                // Abandon the socket; the next `resume` makes the server close it.
                45..=59 => {
                    bump(&shared.c.abandoned);
                    abandoned = Some(conn);
                }
                // Reset, and come back as someone new (the old session expires).
                60..=79 => {
                    conn.reset();
                    session = None;
                }
                // Leave, FIN; come back as someone new.
                _ => {
                    let leave = json!({"event": "leave", "room": room}).to_string();
                    let _ = conn.send(leave.as_bytes()).await;
                    conn.close_politely();
                    session = None;
                }
            },
        }
        if !pause(&shared, uniform(&mut rng, away)).await {
            break;
        }
    }
}

/// A member reads everything (it is not a slow reader) until its time is up.
async fn read(
    shared: &Shared,
    conn: &mut Conn,
    r: &mut Resume,
    until: Instant,
    abandoned: &mut Option<Conn>,
) -> Ended {
    let mut running = shared.running.clone();
    loop {
        tokio::select! {
            v = conn.recv() => {
                let Some(v) = v else {
                    return Ended::Closed;
                };
                let mut answers = Vec::new();
                match r.on_event(&v, Instant::now()) {
                    Incoming::Ping(pong) => answers.push(pong),
                    Incoming::Resumed { .. } => {
                        bump(&shared.c.resumed);
                        *abandoned = None;
                    }
                    Incoming::ResumeRefused { .. } => {
                        bump(&shared.c.resume_refused);
                        *abandoned = None;
                        answers = r.rejoin(Instant::now(), true);
                    }
                    _ => {}
                }
                for f in answers {
                    if !conn.send(&f).await {
                        return Ended::Closed;
                    }
                }
            }
            _ = tokio::time::sleep_until(until.into()) => return Ended::TimeUp,
            _ = stopped(&mut running) => return Ended::TimeUp,
        }
    }
}
