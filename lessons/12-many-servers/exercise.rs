// Lesson 12 — exercise: what one server tells the others over Redis, and
// what it does with what they tell it. The channel a broadcast is published
// on, the MessagePack headers of its strings and arrays, and which of *this*
// server's members a broadcast from another server reaches.
//
// Replace each `todo!()`, then run `netlab check 12`.
// `netlab lesson 12` has one real broadcast dissected byte by byte.

use netlab::chat::id::ConnId;
use netlab::cluster::message::Broadcast;
use std::collections::{BTreeMap, BTreeSet};

/// Room name → this server's members of it (own id rooms are not stored),
/// lesson 04's table.
pub type Table = BTreeMap<String, BTreeSet<ConnId>>;

/// The Redis channel on which a broadcast to `rooms` in namespace `nsp` is
/// published, under the key `key` (`--redis-key`; `socket.io` by default),
/// named as `@socket.io/redis-adapter` 8.x names it:
///
/// - exactly one room: that room's own channel, `key#nsp#room#`, so that a
///   server with no member in the room can skip the message unread;
/// - no rooms (everyone) or several: the namespace's channel, `key#nsp#`.
///
/// `channel_for("socket.io", "/", &["lobby".into()])` is `socket.io#/#lobby#`.
/// Names are used exactly as given (no escaping, no trimming).
pub fn channel_for(key: &str, nsp: &str, rooms: &[String]) -> String {
    todo!()
}

/// Appends the MessagePack string `s` to `out` (whatever `out` held before
/// stays): a header, then the UTF-8 bytes of `s`. The header gives the
/// length in **bytes**, in the shortest format the MessagePack spec allows
/// ("Formats" → "str format family"):
///
/// | bytes in `s` | format |
/// |---|---|
/// | 0 to 31 | fixstr |
/// | 32 to 255 | str 8 |
/// | 256 to 65,535 | str 16 |
/// | 65,536 to 4,294,967,295 | str 32 |
///
/// `"ana"` is `a3 61 6e 61`; a 32-character netlab id is `d9 20` and its 32 bytes.
pub fn write_str(s: &str, out: &mut Vec<u8>) {
    todo!()
}

/// Appends the header of a MessagePack array of `n` items to `out` (whatever
/// `out` held before stays; the items follow, written by the caller), in the
/// shortest format the spec allows ("Formats" → "array format family"):
///
/// | `n` | format |
/// |---|---|
/// | 0 to 15 | fixarray |
/// | 16 to 65,535 | array 16 |
/// | 65,536 to 4,294,967,295 | array 32 |
///
/// A broadcast starts with `93`: an array of three, `[uid, packet, opts]`.
pub fn write_array_header(n: usize, out: &mut Vec<u8>) {
    todo!()
}

/// Which of this server's connections a broadcast `b` that arrived from
/// Redis reaches. `me` is this server's uid; `table` and `connected` are its
/// own rooms and connections (it knows nobody else's).
///
/// - A broadcast this server published itself (`b.uid == me`) reaches
///   nobody: its members had it when it was sent, and Redis hands every
///   message to every subscriber, the publisher included.
/// - Otherwise, lesson 04's rules with nobody to skip:
///   `b.rooms` empty is every connection in `connected`; else every member
///   of every room in `b.rooms`, once each, where a room named by an id
///   (`ConnId::to_hex`; `str::parse::<ConnId>` reads one back) holds that
///   connection if it is connected *here* (an id from elsewhere holds
///   nobody); then the members of every room in `b.except` (ids too) are
///   left out.
pub fn local_recipients(me: &str, b: &Broadcast, table: &Table, connected: &[ConnId]) -> BTreeSet<ConnId> {
    todo!()
}
