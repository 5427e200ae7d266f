//! Mistake: a room named by an id reaches that id without asking whether it is connected here, so this server "delivers" to another server's connection.
//! Caught by: that server delivers it, not this one

use netlab::chat::id::ConnId;
pub use netlab::chat::routing::Table;
use netlab::cluster::message::{Broadcast, Channels};
pub use netlab::cluster::msgpack::{write_array_header, write_str};
use std::collections::BTreeSet;

fn members(table: &Table, room: &str) -> BTreeSet<ConnId> {
    match room.parse::<ConnId>() {
        Ok(id) => BTreeSet::from([id]), // should also check `connected.contains(&id)`
        Err(_) => table.get(room).cloned().unwrap_or_default(),
    }
}

pub fn local_recipients(
    me: &str,
    b: &Broadcast,
    table: &Table,
    connected: &[ConnId],
) -> BTreeSet<ConnId> {
    if b.uid == me {
        return BTreeSet::new();
    }
    let mut out: BTreeSet<ConnId> = if b.rooms.is_empty() {
        connected.iter().copied().collect()
    } else {
        b.rooms.iter().flat_map(|r| members(table, r)).collect()
    };
    for r in &b.except {
        for m in members(table, r) {
            out.remove(&m);
        }
    }
    out
}

// Right: as tests/lessons.rs makes it from the library.
pub fn channel_for(key: &str, nsp: &str, rooms: &[String]) -> String {
    Channels::new(key, nsp).for_rooms(rooms)
}
