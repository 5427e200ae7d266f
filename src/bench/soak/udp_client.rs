//! UDP clients: sit in `soak`, heartbeat, chat in `udp` now and then, and
//! start a new session every 20–40 s, usually through `netlab link --loss`.
//! What they miss is reported, not judged: UDP loses.

use super::plan::{SOAK_ROOM, UDP_ROOM};
use super::sender::soak_stamp;
use super::shared::{pause, stopped, Shared};
use crate::chat::datagram::Control;
use crate::chat::protocol::{ClientEvent, ServerEvent};
use crate::client::udp::{Incoming as UdpIncoming, UdpChatClient};
use crate::link::rng::SplitMix64;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What one UDP client counted over all its sessions.
#[derive(Default)]
pub(super) struct UdpOutcome {
    /// Sessions opened.
    pub(super) sessions: u64,
    /// Session opens (or their joins) that got no answer.
    pub(super) failures: u64,
    /// Sender numbers its sessions should have seen (first to last seen).
    pub(super) expected: u64,
    /// Distinct sender numbers that arrived.
    pub(super) delivered: u64,
}

/// A UDP client: joins `soak`, heartbeats, chats in `udp` now and then, and
/// starts a new session every 20–40 s; counts the sender's numbers it got.
pub(super) async fn run(shared: Arc<Shared>, addr: String, seed: u64) -> UdpOutcome {
    let mut rng = SplitMix64::new(seed);
    let mut out = UdpOutcome::default();
    while shared.running() {
        let mut c = match UdpChatClient::connect(&addr).await {
            Ok(c) => c,
            Err(_) => {
                out.failures += 1;
                if !pause(&shared, Duration::from_secs(1)).await {
                    break;
                }
                continue;
            }
        };
        out.sessions += 1;
        let join = ClientEvent::Join {
            room: SOAK_ROOM.into(),
            since: None,
        };
        let chat = ClientEvent::Join {
            room: UDP_ROOM.into(),
            since: None,
        };
        if !matches!(c.call(join).await, Ok(Some(_))) || !matches!(c.call(chat).await, Ok(Some(_)))
        {
            out.failures += 1;
            continue;
        }
        let (mut first, mut last, mut seen) = (u64::MAX, 0u64, std::collections::HashSet::new());
        let mut note = |e: &ServerEvent| {
            if let ServerEvent::Message { text, .. } = e {
                if let Some((n, _)) = soak_stamp(&json!({"event": "message", "text": text})) {
                    first = first.min(n);
                    last = last.max(n);
                    seen.insert(n);
                }
            }
        };
        for i in c.take_pending() {
            if let UdpIncoming::Event(e) = i {
                note(&e);
            }
        }
        let beat = (c.heartbeat_interval() / 2).max(Duration::from_millis(100));
        let mut heartbeat = tokio::time::interval(beat);
        let mut chat_every = tokio::time::interval(Duration::from_secs(5));
        let session_ends = Instant::now() + Duration::from_secs(20 + rng.below(21));
        let mut running = shared.running.clone();
        loop {
            if Instant::now() >= session_ends || c.silent_for() > c.expiry() {
                break;
            }
            tokio::select! {
                got = c.recv() => match got {
                    Ok(got) => {
                        for i in got {
                            if let UdpIncoming::Event(e) = i {
                                note(&e);
                            }
                        }
                    }
                    Err(_) => break,
                },
                _ = heartbeat.tick() => {
                    if c.heartbeat_now().await.is_err() {
                        break;
                    }
                }
                _ = chat_every.tick() => {
                    let m = ClientEvent::Message {
                        to: vec![UDP_ROOM.into()],
                        except: vec![],
                        text: "udp says hi".into(),
                        include_self: false,
                    };
                    if c.send(m, true).await.is_err() {
                        break;
                    }
                }
                _ = tokio::time::sleep_until(session_ends.into()) => break,
                _ = stopped(&mut running) => break,
            }
        }
        let _ = c.send_control(&Control::Bye).await;
        if last >= first {
            out.expected += last - first + 1;
            out.delivered += seen.len() as u64;
        }
    }
    out
}
