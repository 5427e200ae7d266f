//! Mistake: `except` is looked up in the table only, so an id in `except` (an id room) leaves nobody out.
//! Caught by: an id in except leaves out that connection

use netlab::chat::id::ConnId;
use netlab::chat::rooms::Target;
pub use netlab::chat::routing::{disconnect, join, leave, Table};
use std::collections::BTreeSet;

fn members(table: &Table, connected: &[ConnId], room: &str) -> BTreeSet<ConnId> {
    match room.parse::<ConnId>() {
        Ok(id) if connected.contains(&id) => BTreeSet::from([id]),
        Ok(_) => BTreeSet::new(),
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
            .flat_map(|r| members(table, connected, r))
            .collect()
    };
    for r in &target.except {
        // should be members(table, connected, r)
        for m in table.get(r).into_iter().flatten() {
            out.remove(m);
        }
    }
    if let Some(s) = target.skip {
        out.remove(&s);
    }
    out
}
