// Lesson 04 — exercise: the membership table and who a room broadcast reaches.
//
// Replace each `todo!()`, then run `netlab check 04`.
// `netlab lesson 04` explains every rule the grader checks.

use netlab::chat::id::ConnId;
use netlab::chat::rooms::Target;
use std::collections::{BTreeMap, BTreeSet};

/// Room name → members (own id rooms are not stored).
pub type Table = BTreeMap<String, BTreeSet<ConnId>>;

/// Puts `id` into `room`; returns `false` if it was already there.
pub fn join(table: &mut Table, id: ConnId, room: &str) -> bool {
    // TODO: table.entry(...).or_default().insert(...)
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

/// Every connection a broadcast to `target` reaches:
/// - `target.rooms` empty: every id in `connected`;
/// - otherwise the union of the members of each room in `target.rooms`,
///   where a room named by an id (`ConnId::to_hex`) holds that connection if it is connected;
/// - minus the members of every room in `target.except` (id rooms too);
/// - minus `target.skip`, if any.
pub fn recipients(table: &Table, connected: &[ConnId], target: &Target) -> BTreeSet<ConnId> {
    // TODO: `room.parse::<ConnId>()` tells an id room from a named one.
    todo!()
}
