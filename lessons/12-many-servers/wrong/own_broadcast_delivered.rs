//! Mistake: local_recipients never compares b.uid with `me`, so a server's own broadcast, handed back by Redis, is delivered to its members a second time.
//! Caught by: must not deliver it twice

use netlab::chat::id::ConnId;
use netlab::chat::rooms::Target;
use netlab::chat::routing::recipients;
pub use netlab::chat::routing::Table;
use netlab::cluster::message::{Broadcast, Channels};
pub use netlab::cluster::msgpack::{write_array_header, write_str};
use std::collections::BTreeSet;

pub fn local_recipients(
    _me: &str,
    b: &Broadcast,
    table: &Table,
    connected: &[ConnId],
) -> BTreeSet<ConnId> {
    // forgot: if b.uid == me { return BTreeSet::new(); }
    let target = Target {
        rooms: b.rooms.clone(),
        except: b.except.clone(),
        skip: None,
        local: true,
    };
    recipients(table, connected, &target)
}

// Right: as tests/lessons.rs makes it from the library.
pub fn channel_for(key: &str, nsp: &str, rooms: &[String]) -> String {
    Channels::new(key, nsp).for_rooms(rooms)
}
