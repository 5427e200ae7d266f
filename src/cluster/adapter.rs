//! The broadcast seam over Redis: deliver locally, then publish for the
//! other servers.
//!
//! The hub calls [`Adapter::broadcast`] while it holds its lock, so this
//! adapter never waits for Redis: it encodes the message and drops it into a
//! bounded queue that the Redis link ([`crate::transport::redis`]) empties.
//! When the queue is full (Redis is slow or gone), the message is counted as
//! dropped and local delivery goes on: one slow Redis never stalls a room.

use super::message::{data_of_native, Broadcast, Channels};
use crate::chat::adapter::{Adapter, LocalAdapter};
use crate::chat::output::Output;
use crate::chat::protocol::ServerEvent;
use crate::chat::rooms::{Rooms, Target};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// How many messages may wait for Redis before new ones are dropped.
pub const DEFAULT_PUBLISH_QUEUE: usize = 4096;

/// One message for Redis: `PUBLISH channel payload`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    /// The channel.
    pub channel: String,
    /// The MessagePack bytes.
    pub payload: Vec<u8>,
}

/// What crossed (or failed to cross) Redis, counted as it happens.
#[derive(Debug, Default)]
pub struct ClusterStats {
    /// Broadcasts handed to the publish queue.
    pub queued: AtomicU64,
    /// Broadcasts dropped because the publish queue was full.
    pub queue_full: AtomicU64,
    /// Broadcasts Redis accepted.
    pub published: AtomicU64,
    /// Broadcasts that could not be published (Redis down).
    pub publish_failed: AtomicU64,
    /// Broadcasts from other servers delivered here.
    pub received: AtomicU64,
    /// Messages from Redis that were malformed, too big or of an unknown
    /// kind: counted and dropped.
    pub rejected: AtomicU64,
    /// Requests from other servers answered or carried out.
    pub requests: AtomicU64,
}

impl ClusterStats {
    /// Adds one to `counter`.
    pub fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// A counter's value.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    /// Every counter now (what `netlab serve --json` reports as `redis`).
    pub fn snapshot(&self) -> ClusterCounts {
        let g = Self::get;
        ClusterCounts {
            published: g(&self.published),
            not_published: g(&self.publish_failed) + g(&self.queue_full),
            received: g(&self.received),
            rejected: g(&self.rejected),
            requests: g(&self.requests),
        }
    }
}

/// [`ClusterStats`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ClusterCounts {
    /// Broadcasts Redis took from this server.
    pub published: u64,
    /// Broadcasts that never reached Redis (it was away, or the queue full).
    pub not_published: u64,
    /// Broadcasts from other servers delivered here.
    pub received: u64,
    /// Messages from Redis dropped as malformed, too big or unknown.
    pub rejected: u64,
    /// Requests from other servers answered or carried out.
    pub requests: u64,
}

/// Delivers to this server's connections, and publishes every broadcast
/// that is not [`Target::local`] for the other servers.
pub struct ClusterAdapter {
    uid: String,
    nsp: String,
    channels: Channels,
    outbox: mpsc::Sender<Publish>,
    stats: Arc<ClusterStats>,
}

impl ClusterAdapter {
    /// An adapter for namespace `nsp` publishing on `channels` as server
    /// `uid`, into `outbox`.
    pub fn new(
        uid: &str,
        nsp: &str,
        channels: Channels,
        outbox: mpsc::Sender<Publish>,
        stats: Arc<ClusterStats>,
    ) -> Self {
        Self {
            uid: uid.to_string(),
            nsp: nsp.to_string(),
            channels,
            outbox,
            stats,
        }
    }

    /// The broadcast other servers receive for `event` sent to `target`.
    /// The sender left out (`skip`) is named in `except` by its own room,
    /// as Socket.IO's `socket.broadcast` does.
    pub fn message_for(&self, target: &Target, event: &ServerEvent) -> Option<Publish> {
        let native = serde_json::to_value(event).ok()?;
        let data = data_of_native(&native)?;
        let mut except = target.except.clone();
        except.extend(target.skip.map(|id| id.to_hex()));
        let b = Broadcast {
            uid: self.uid.clone(),
            nsp: self.nsp.clone(),
            data,
            rooms: target.rooms.clone(),
            except,
        };
        Some(Publish {
            channel: self.channels.for_rooms(&target.rooms),
            payload: b.encode(),
        })
    }
}

impl Adapter for ClusterAdapter {
    fn broadcast(
        &mut self,
        rooms: &Rooms,
        target: &Target,
        event: Arc<ServerEvent>,
        out: &mut Vec<Output>,
    ) -> usize {
        if !target.local {
            if let Some(p) = self.message_for(target, &event) {
                match self.outbox.try_send(p) {
                    Ok(()) => ClusterStats::count(&self.stats.queued),
                    Err(_) => ClusterStats::count(&self.stats.queue_full),
                }
            }
        }
        LocalAdapter.broadcast(rooms, target, event, out)
    }

    fn reaches_other_servers(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::id::ConnId;
    use crate::chat::protocol::SeqMap;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    fn adapter(cap: usize) -> (ClusterAdapter, mpsc::Receiver<Publish>, Arc<ClusterStats>) {
        let (tx, rx) = mpsc::channel(cap);
        let stats = Arc::new(ClusterStats::default());
        let a = ClusterAdapter::new("me", "/", Channels::new("k", "/"), tx, stats.clone());
        (a, rx, stats)
    }

    fn hello() -> Arc<ServerEvent> {
        Arc::new(ServerEvent::Message {
            from: ConnId(1),
            nick: "ana".into(),
            to: vec!["lobby".into()],
            text: "hi".into(),
            seq: SeqMap::new(),
        })
    }

    #[test]
    fn a_room_broadcast_goes_to_the_rooms_channel_with_the_sender_excepted() {
        let (mut a, mut rx, _) = adapter(4);
        let mut rooms = Rooms::new();
        rooms.add_conn(ConnId(1));
        rooms.join(ConnId(1), "lobby");
        let mut out = Vec::new();
        let target = Target::rooms(["lobby"]).except_sender(ConnId(1));
        assert_eq!(a.broadcast(&rooms, &target, hello(), &mut out), 0);
        let p = rx.try_recv().unwrap();
        assert_eq!(p.channel, "k#/#lobby#");
        let b = Broadcast::decode(&p.payload, 1 << 20).unwrap();
        assert_eq!(b.uid, "me");
        assert_eq!(b.rooms, vec!["lobby".to_string()]);
        assert_eq!(b.except, vec![ConnId(1).to_hex()]);
        assert_eq!(
            b.data,
            vec![
                json!("message"),
                json!({"from": ConnId(1).to_hex(), "nick": "ana", "to": ["lobby"], "text": "hi"})
            ]
        );
    }

    #[test]
    fn local_targets_are_not_published_and_a_full_queue_is_counted() {
        let (mut a, mut rx, stats) = adapter(1);
        let rooms = Rooms::new();
        let mut out = Vec::new();
        a.broadcast(&rooms, &Target::everyone().only_local(), hello(), &mut out);
        assert!(rx.try_recv().is_err());
        a.broadcast(&rooms, &Target::everyone(), hello(), &mut out);
        a.broadcast(&rooms, &Target::everyone(), hello(), &mut out);
        assert_eq!(
            (
                ClusterStats::get(&stats.queued),
                ClusterStats::get(&stats.queue_full)
            ),
            (1, 1)
        );
        assert_eq!(rx.try_recv().unwrap().channel, "k#/#");
    }
}
