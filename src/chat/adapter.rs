//! The broadcast seam: every message the hub sends to more than its own
//! sender goes through one [`Adapter`] call.
//!
//! Socket.IO calls this piece the *adapter*. The in-memory one
//! ([`LocalAdapter`]) looks the recipients up in this server's membership
//! table. Later lessons plug other adapters into the same seam without
//! touching the hub: one that records each room's events so a client that
//! reconnects can be replayed what it missed (lesson 07), and one that also
//! publishes every broadcast over Redis so rooms span several servers
//! (lesson 12).

use super::history::{keys_of, History};
use super::output::Output;
use super::protocol::ServerEvent;
use super::rooms::{Rooms, Target};
use std::sync::Arc;

/// Carries a broadcast to its recipients.
pub trait Adapter: Send {
    /// Delivers `event` to every connection `target` names, pushing the
    /// deliveries for this server's connections into `out`; returns how many
    /// local connections it reached.
    fn broadcast(
        &mut self,
        rooms: &Rooms,
        target: &Target,
        event: Arc<ServerEvent>,
        out: &mut Vec<Output>,
    ) -> usize;

    /// The history this adapter records into, if it keeps one (lesson 07).
    fn history(&self) -> Option<&History> {
        None
    }

    /// Whether connections this server has never seen can be reached by
    /// their id (lesson 12: over Redis, a Node Socket.IO server's sockets,
    /// whose ids are 20 base64url characters, [`super::id::looks_like_socketio_id`]).
    fn reaches_other_servers(&self) -> bool {
        false
    }

    /// The same, to replay from or forget keys.
    fn history_mut(&mut self) -> Option<&mut History> {
        None
    }
}

/// A boxed adapter is an adapter, so a server can pick one at run time
/// (in-memory, with history, over Redis) without being generic.
impl Adapter for Box<dyn Adapter> {
    fn broadcast(
        &mut self,
        rooms: &Rooms,
        target: &Target,
        event: Arc<ServerEvent>,
        out: &mut Vec<Output>,
    ) -> usize {
        (**self).broadcast(rooms, target, event, out)
    }

    fn history(&self) -> Option<&History> {
        (**self).history()
    }

    fn reaches_other_servers(&self) -> bool {
        (**self).reaches_other_servers()
    }

    fn history_mut(&mut self) -> Option<&mut History> {
        (**self).history_mut()
    }
}

/// The in-memory adapter: one server, recipients from its own table.
#[derive(Debug, Default, Clone, Copy)]
pub struct LocalAdapter;

impl Adapter for LocalAdapter {
    fn broadcast(
        &mut self,
        rooms: &Rooms,
        target: &Target,
        event: Arc<ServerEvent>,
        out: &mut Vec<Output>,
    ) -> usize {
        let to = rooms.recipients(target);
        let reached = to.len();
        if reached > 0 {
            out.push(Output::Deliver { to, event });
        }
        reached
    }
}

/// The adapter that records every message, join and leave in a [`History`]
/// before the inner adapter delivers it (stamped with its seqs).
pub struct HistoryAdapter<A: Adapter = LocalAdapter> {
    inner: A,
    history: History,
}

impl<A: Adapter> HistoryAdapter<A> {
    /// Records into `history`, delivers through `inner`.
    pub fn new(inner: A, history: History) -> Self {
        Self { inner, history }
    }
}

impl<A: Adapter> Adapter for HistoryAdapter<A> {
    fn broadcast(
        &mut self,
        rooms: &Rooms,
        target: &Target,
        event: Arc<ServerEvent>,
        out: &mut Vec<Output>,
    ) -> usize {
        if !event.is_recordable() {
            return self.inner.broadcast(rooms, target, event, out);
        }
        let keys = keys_of(rooms, target);
        if keys.is_empty() {
            return self.inner.broadcast(rooms, target, event, out);
        }
        let stamped = self
            .history
            .record(&keys, &target.except, target.skip, &event);
        self.inner.broadcast(rooms, target, stamped, out)
    }

    fn history(&self) -> Option<&History> {
        Some(&self.history)
    }

    fn reaches_other_servers(&self) -> bool {
        self.inner.reaches_other_servers()
    }

    fn history_mut(&mut self) -> Option<&mut History> {
        Some(&mut self.history)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::id::ConnId;
    use crate::chat::protocol::{LeaveReason, SeqMap};

    fn msg(text: &str) -> ServerEvent {
        ServerEvent::Message {
            from: ConnId(1),
            nick: "ana".into(),
            to: vec![],
            text: text.into(),
            seq: SeqMap::new(),
        }
    }

    #[test]
    fn only_messages_joins_and_leaves_are_recorded() {
        let rooms = {
            let mut r = Rooms::new();
            r.add_conn(ConnId(1));
            r.join(ConnId(1), "a");
            r
        };
        let mut adapter = HistoryAdapter::new(LocalAdapter, History::new(10));
        let mut out = Vec::new();
        let left = ServerEvent::Left {
            room: "a".into(),
            id: ConnId(1),
            nick: "ana".into(),
            reason: LeaveReason::Leave,
            seq: SeqMap::new(),
        };
        adapter.broadcast(&rooms, &Target::rooms(["a"]), Arc::new(left), &mut out);
        adapter.broadcast(
            &rooms,
            &Target::rooms(["a"]),
            Arc::new(ServerEvent::Pong),
            &mut out,
        );
        // A private message to an id nobody has reaches no one and is not kept.
        let ghost = ConnId(5).to_hex();
        adapter.broadcast(
            &rooms,
            &Target::rooms([ghost.as_str()]),
            Arc::new(msg("x")),
            &mut out,
        );
        let h = adapter.history().unwrap();
        assert_eq!(
            (h.recorded(), h.last_seq("a"), h.last_seq(&ghost)),
            (1, 1, 0)
        );
        match &out[0] {
            Output::Deliver { event, .. } => {
                assert_eq!(event.seq(), Some(&SeqMap::from([("a".into(), 1)])))
            }
            other => panic!("{other:?}"),
        }
    }
}
