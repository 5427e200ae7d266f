//! Mistake: a room named by an id holds that id whether or not it is still connected, so a broadcast reaches a connection that is gone.
//! Caught by: holds a connection only while it is connected

use netlab::chat::id::ConnId;
use netlab::chat::rooms::Target;
pub use netlab::chat::routing::{disconnect, join, leave, Table};
use std::collections::BTreeSet;

fn members(table: &Table, room: &str) -> BTreeSet<ConnId> {
    match room.parse::<ConnId>() {
        Ok(id) => BTreeSet::from([id]), // never asks whether `id` is connected
        Err(_) => table.get(room).cloned().unwrap_or_default(),
    }
}

pub fn recipients(table: &Table, connected: &[ConnId], target: &Target) -> BTreeSet<ConnId> {
    let mut out: BTreeSet<ConnId> = if target.rooms.is_empty() {
        connected.iter().copied().collect()
    } else {
        target
            .rooms
            .iter()
            .flat_map(|r| members(table, r))
            .collect()
    };
    for r in &target.except {
        for m in members(table, r) {
            out.remove(&m);
        }
    }
    if let Some(s) = target.skip {
        out.remove(&s);
    }
    out
}
