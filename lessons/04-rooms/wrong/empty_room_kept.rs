//! Mistake: leave takes the member out but keeps the room when it is left empty, so empty rooms pile up in the table.
//! Caught by: an empty room must be deleted from the table

use netlab::chat::id::ConnId;
pub use netlab::chat::routing::{disconnect, join, recipients, Table};

pub fn leave(table: &mut Table, id: ConnId, room: &str) -> bool {
    match table.get_mut(room) {
        Some(members) => members.remove(&id), // an empty set stays behind
        None => false,
    }
}
