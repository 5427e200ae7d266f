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

use super::history::History;
use super::hub::Output;
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
