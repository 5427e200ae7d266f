//! Lessons 03 and 04 — the routing rules on plain sets, as the lessons state them.
//!
//! These functions are the rules written as simply as possible, over a
//! `BTreeMap` of rooms; they are what the exercises ask students to write. The
//! hub's own table ([`super::rooms::Rooms`]) answers the same questions with
//! indexes both ways, and the property tests check it against these.

use super::id::ConnId;
use super::rooms::Target;
use std::collections::{BTreeMap, BTreeSet};

/// Room name → members. A connection's own id room is not stored here either.
pub type Table = BTreeMap<String, BTreeSet<ConnId>>;

/// Lesson 03: who an emit from `sender` reaches when it goes to everyone.
///
/// `include_sender` is Socket.IO's `io.emit` (true) versus
/// `socket.broadcast.emit` (false). The order of `connected` is kept.
pub fn everyone(connected: &[ConnId], sender: ConnId, include_sender: bool) -> Vec<ConnId> {
    connected
        .iter()
        .copied()
        .filter(|id| include_sender || *id != sender)
        .collect()
}

/// Lesson 04: puts `id` into `room`; `false` if it was already there.
pub fn join(table: &mut Table, id: ConnId, room: &str) -> bool {
    table.entry(room.to_string()).or_default().insert(id)
}

/// Lesson 04: takes `id` out of `room`; `false` if it was not there. A room
/// left empty disappears (Socket.IO deletes empty rooms too).
pub fn leave(table: &mut Table, id: ConnId, room: &str) -> bool {
    let Some(members) = table.get_mut(room) else {
        return false;
    };
    let was_there = members.remove(&id);
    if members.is_empty() {
        table.remove(room);
    }
    was_there
}

/// Lesson 04: `id` disconnected. Returns the rooms it was in (sorted) — what
/// a `disconnecting` handler sees — and leaves them all.
pub fn disconnect(table: &mut Table, id: ConnId) -> Vec<String> {
    let rooms: Vec<String> = table
        .iter()
        .filter(|(_, m)| m.contains(&id))
        .map(|(r, _)| r.clone())
        .collect();
    for r in &rooms {
        leave(table, id, r);
    }
    rooms
}

/// The members of one room, the own id rooms included.
fn members(table: &Table, connected: &[ConnId], room: &str) -> BTreeSet<ConnId> {
    match room.parse::<ConnId>() {
        Ok(id) if connected.contains(&id) => BTreeSet::from([id]),
        Ok(_) => BTreeSet::new(),
        Err(_) => table.get(room).cloned().unwrap_or_default(),
    }
}

/// Lesson 04: every connection a broadcast to `target` reaches.
///
/// No target rooms means every connected id; otherwise the union of the
/// rooms' members (a room named by an id holds that connection). Then the
/// members of every `except` room, and `skip`, are taken out.
pub fn recipients(table: &Table, connected: &[ConnId], target: &Target) -> BTreeSet<ConnId> {
    let mut out: BTreeSet<ConnId> = if target.rooms.is_empty() {
        connected.iter().copied().collect()
    } else {
        target
            .rooms
            .iter()
            .flat_map(|r| members(table, connected, r))
            .collect()
    };
    for r in &target.except {
        for m in members(table, connected, r) {
            out.remove(&m);
        }
    }
    if let Some(s) = target.skip {
        out.remove(&s);
    }
    out
}
