//! Mistake: the lengths of str 16/32 and array 16/32 are written little-endian, though MessagePack is big-endian throughout.
//! Caught by: lengths big-endian

use netlab::chat::id::ConnId;
use netlab::chat::routing::recipients;
pub use netlab::chat::routing::Table;
use netlab::cluster::message::{Broadcast, Channels};
use std::collections::BTreeSet;

pub fn write_str(s: &str, out: &mut Vec<u8>) {
    let n = s.len();
    if n < 32 {
        out.push(0xa0 | n as u8);
    } else if n <= 0xff {
        out.extend_from_slice(&[0xd9, n as u8]);
    } else if n <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(n as u16).to_le_bytes()); // should be to_be_bytes
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(n as u32).to_le_bytes()); // here too
    }
    out.extend_from_slice(s.as_bytes());
}

pub fn write_array_header(n: usize, out: &mut Vec<u8>) {
    if n < 16 {
        out.push(0x90 | n as u8);
    } else if n <= 0xffff {
        out.push(0xdc);
        out.extend_from_slice(&(n as u16).to_le_bytes()); // should be to_be_bytes
    } else {
        out.push(0xdd);
        out.extend_from_slice(&(n as u32).to_le_bytes()); // here too
    }
}

// Right: as tests/lessons.rs makes them from the library.
pub fn channel_for(key: &str, nsp: &str, rooms: &[String]) -> String {
    Channels::new(key, nsp).for_rooms(rooms)
}

pub fn local_recipients(
    me: &str,
    b: &Broadcast,
    table: &Table,
    connected: &[ConnId],
) -> BTreeSet<ConnId> {
    b.local_target(me)
        .map_or_else(BTreeSet::new, |t| recipients(table, connected, &t))
}
