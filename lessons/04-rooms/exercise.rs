// Lesson 04 — exercise: the membership table and who a room broadcast reaches.
//
// Replace each `todo!()`, then run `netlab check 04`.
// `netlab lesson 04` explains every rule the grader checks.

use netlab::chat::id::ConnId;
use netlab::chat::rooms::Target;
use std::collections::{BTreeMap, BTreeSet};

/// Room name → members (own id rooms are not stored).
pub type Table = BTreeMap<String, BTreeSet<ConnId>>;

/// Puts `id` into `room` (created if need be); returns `false` if it was
/// already there, and then nothing changes.
pub fn join(table: &mut Table, id: ConnId, room: &str) -> bool {
    todo!()
}

/// Takes `id` out of `room`; returns `false` if it was not there.
/// A room left empty must disappear from the table.
pub fn leave(table: &mut Table, id: ConnId, room: &str) -> bool {
    todo!()
}

/// `id` disconnected: returns the rooms it was in, sorted (what a
/// `disconnecting` handler sees), and removes it from all of them.
pub fn disconnect(table: &mut Table, id: ConnId) -> Vec<String> {
    todo!()
}

/// Every connection a broadcast to `target` reaches, each once:
/// - `target.rooms` empty: every id in `connected`;
/// - otherwise the members of any room in `target.rooms`;
/// - but none of the members of any room in `target.except`;
/// - and never `target.skip`, if any.
///
/// A room named by an id (`ConnId::to_hex`; `str::parse::<ConnId>` reads one
/// back) holds that one connection while it is in `connected`, and nobody
/// after; a room not in `table` holds nobody. The same goes for names in `except`.
pub fn recipients(table: &Table, connected: &[ConnId], target: &Target) -> BTreeSet<ConnId> {
    todo!()
}
