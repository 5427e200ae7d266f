// Lesson 12 — the grader. Included by tests/lessons.rs (against the library)
// and exercises/tests/lesson_12.rs (against your lessons/12-many-servers/exercise.rs),
// inside a module where `subject` is the code under test.
//
// The expected channels and bytes come from outside: the channel names of
// `@socket.io/redis-adapter` 8.3, the MessagePack spec's formats, and one
// broadcast a Node Socket.IO server really published (`redis-cli monitor`,
// lesson 12).

use self::subject::{channel_for, local_recipients, write_array_header, write_str, Table};
use netlab::chat::id::ConnId;
use netlab::cluster::message::Broadcast;
use pretty_assertions::assert_eq;
use serde_json::json;
use std::collections::BTreeSet;

fn rooms(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// Bytes written by `write` into a fresh Vec.
fn written(write: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut out = Vec::new();
    write(&mut out);
    out
}

/// The pieces one after the other.
fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

#[test]
fn one_room_has_a_channel_of_its_own() {
    assert_eq!(
        channel_for("socket.io", "/", &rooms(&["lobby"])),
        "socket.io#/#lobby#",
        "socket.to(\"lobby\").emit(...) is published on key#nsp#room#"
    );
    // A private message goes to one connection's own room: one room too.
    assert_eq!(
        channel_for("socket.io", "/", &rooms(&["0f44b9c09c7549ba9ab107116f83ec8b"])),
        "socket.io#/#0f44b9c09c7549ba9ab107116f83ec8b#",
        "an id room is a room: one room, its own channel"
    );
}

#[test]
fn everyone_and_several_rooms_go_on_the_namespaces_channel() {
    assert_eq!(channel_for("socket.io", "/", &[]), "socket.io#/#", "no rooms means everyone: key#nsp#");
    assert_eq!(
        channel_for("socket.io", "/", &rooms(&["lobby", "dev"])),
        "socket.io#/#",
        "two rooms have no channel of their own: every server must read it and decide"
    );
}

#[test]
fn key_namespace_and_room_are_used_as_given() {
    assert_eq!(channel_for("chat", "/admin", &rooms(&["ops"])), "chat#/admin#ops#", "--redis-key chat, namespace /admin");
    assert_eq!(channel_for("chat", "/admin", &[]), "chat#/admin#", "--redis-key chat, namespace /admin, everyone: key#nsp#");
    assert_eq!(channel_for("socket.io", "/", &rooms(&["the lobby"])), "socket.io#/#the lobby#", "spaces stay");
    assert_eq!(
        channel_for("socket.io", "/", &rooms(&["a#b"])),
        "socket.io#/#a#b#",
        "a # inside a room name is not escaped (the adapter does not escape it either)"
    );
}

#[test]
fn short_strings_are_one_header_byte_then_the_bytes() {
    netlab::assert_bytes_eq!(written(|o| write_str("", o)), [0xa0], "the empty string is a fixstr of 0 bytes: 101 00000 = 0xa0");
    netlab::assert_bytes_eq!(
        written(|o| write_str("ana", o)),
        [0xa3, b'a', b'n', b'a'],
        "\"ana\" is a fixstr: 0xa0 | 3 = 0xa3, then its 3 bytes"
    );
    netlab::assert_bytes_eq!(
        written(|o| write_str("hello from A", o)),
        cat(&[&[0xac], b"hello from A"]),
        "12 bytes: 0xa0 | 12 = 0xac, then the bytes (the dump in the lesson)"
    );
    let longest = "x".repeat(31);
    netlab::assert_bytes_eq!(
        written(|o| write_str(&longest, o)),
        cat(&[&[0xbf], longest.as_bytes()]),
        "31 bytes is the longest fixstr, 0xa0 | 31 = 0xbf: the shortest format is the one to use, not str 8"
    );
}

#[test]
fn a_strings_length_counts_bytes_not_characters() {
    netlab::assert_bytes_eq!(
        written(|o| write_str("é", o)),
        [0xa2, 0xc3, 0xa9],
        "\"é\" is one character but two UTF-8 bytes (c3 a9): a fixstr of 2, because the header counts bytes"
    );
    // 11 characters of 3 bytes each: 33 bytes, too long for a fixstr.
    let euros = "€".repeat(11);
    netlab::assert_bytes_eq!(
        written(|o| write_str(&euros, o)),
        cat(&[&[0xd9, 33], euros.as_bytes()]),
        "11 characters of 3 bytes each are 33 bytes, too long for a fixstr: str 8, d9 21"
    );
}

#[test]
fn longer_strings_take_str_8_16_or_32() {
    // (length in bytes, the header the spec gives it)
    let cases: [(usize, &[u8]); 6] = [
        (32, &[0xd9, 0x20]),
        (255, &[0xd9, 0xff]),
        (256, &[0xda, 0x01, 0x00]),
        (65_535, &[0xda, 0xff, 0xff]),
        (65_536, &[0xdb, 0x00, 0x01, 0x00, 0x00]),
        (70_000, &[0xdb, 0x00, 0x01, 0x11, 0x70]),
    ];
    for (len, header) in cases {
        let s = "y".repeat(len);
        let out = written(|o| write_str(&s, o));
        netlab::assert_bytes_eq!(
            out[..header.len().min(out.len())],
            header,
            "a string of {len} bytes: fixstr holds 0 to 31, str 8 up to 255, str 16 up to 65,535, str 32 beyond; lengths big-endian"
        );
        assert_eq!(out.len(), header.len() + len, "{len} bytes: the header, then exactly the string's bytes");
        assert!(
            out[header.len()..] == *s.as_bytes(),
            "the string's {len} bytes must follow the header unchanged"
        );
    }
    // A netlab id (32 hex digits) is one byte too long for a fixstr.
    let id = "0f44b9c09c7549ba9ab107116f83ec8b";
    netlab::assert_bytes_eq!(
        written(|o| write_str(id, o)),
        cat(&[&[0xd9, 0x20], id.as_bytes()]),
        "a netlab id is 32 characters, one byte too long for a fixstr: d9 20, then the 32 bytes"
    );
}

#[test]
fn what_out_held_before_stays() {
    let mut out = vec![0x93];
    write_str("I8-jei", &mut out);
    netlab::assert_bytes_eq!(
        out,
        cat(&[&[0x93, 0xa6], b"I8-jei"]),
        "write_str appends: the 0x93 already there stays first"
    );
    write_array_header(1, &mut out);
    netlab::assert_bytes_eq!(
        out,
        cat(&[&[0x93, 0xa6], b"I8-jei", &[0x91]]),
        "write_array_header appends too: what was written before stays"
    );
}

#[test]
fn array_headers_are_fixarray_array16_or_array32() {
    let cases: [(usize, &[u8]); 8] = [
        (0, &[0x90]),
        (1, &[0x91]),
        (3, &[0x93]),
        (15, &[0x9f]),
        (16, &[0xdc, 0x00, 0x10]),
        (65_535, &[0xdc, 0xff, 0xff]),
        (65_536, &[0xdd, 0x00, 0x01, 0x00, 0x00]),
        (70_000, &[0xdd, 0x00, 0x01, 0x11, 0x70]),
    ];
    for (n, header) in cases {
        netlab::assert_bytes_eq!(
            written(|o| write_array_header(n, o)),
            header,
            "an array of {n} items: fixarray holds 0 to 15, array 16 up to 65,535, array 32 beyond; lengths big-endian; the items are not written here"
        );
    }
}

#[test]
fn your_functions_write_the_bytes_a_node_server_published() {
    // What `socket.to("lobby").emit("message", {...})` on a Node server with
    // @socket.io/redis-adapter 8.3 published (`redis-cli monitor`, 153 bytes).
    // Node's socket id has 20 characters: a fixstr (0xb4), not a str 8.
    let node = cat(&[
        &[0x93, 0xa6],
        b"I8-jei",
        &[0x83, 0xa4],
        b"type",
        &[0x02, 0xa4],
        b"data",
        &[0x92, 0xa7],
        b"message",
        &[0x84, 0xa4],
        b"from",
        &[0xb4],
        b"NYg9HYMZ4NVxepXhAAAA",
        &[0xa4],
        b"nick",
        &[0xa4],
        b"nora",
        &[0xa2],
        b"to",
        &[0x91, 0xa5],
        b"lobby",
        &[0xa4],
        b"text",
        &[0xaf],
        b"hello from node",
        &[0xa3],
        b"nsp",
        &[0xa1],
        b"/",
        &[0x83, 0xa5],
        b"rooms",
        &[0x91, 0xa5],
        b"lobby",
        &[0xa6],
        b"except",
        &[0x91, 0xb4],
        b"NYg9HYMZ4NVxepXhAAAA",
        &[0xa5],
        b"flags",
        &[0x80],
    ]);
    assert_eq!(node.len(), 153, "the captured message is 153 bytes (a check on this grader itself)");
    // The same message, written with your two functions; the map headers
    // (fixmap: 0x80 | pairs) and the number 2 (a positive fixint) by hand.
    let mut out = Vec::new();
    write_array_header(3, &mut out);
    write_str("I8-jei", &mut out);
    out.push(0x83);
    write_str("type", &mut out);
    out.push(0x02);
    write_str("data", &mut out);
    write_array_header(2, &mut out);
    write_str("message", &mut out);
    out.push(0x84);
    for (k, v) in [("from", "NYg9HYMZ4NVxepXhAAAA"), ("nick", "nora")] {
        write_str(k, &mut out);
        write_str(v, &mut out);
    }
    write_str("to", &mut out);
    write_array_header(1, &mut out);
    write_str("lobby", &mut out);
    write_str("text", &mut out);
    write_str("hello from node", &mut out);
    write_str("nsp", &mut out);
    write_str("/", &mut out);
    out.push(0x83);
    write_str("rooms", &mut out);
    write_array_header(1, &mut out);
    write_str("lobby", &mut out);
    write_str("except", &mut out);
    write_array_header(1, &mut out);
    write_str("NYg9HYMZ4NVxepXhAAAA", &mut out);
    write_str("flags", &mut out);
    out.push(0x80);
    netlab::assert_bytes_eq!(
        out,
        node,
        "byte for byte what Node's adapter (notepack) wrote: every other server must read your broadcasts as it reads Node's"
    );
    // And netlab reads it as the broadcast it is.
    let b = Broadcast::decode(&out, 1 << 20).expect("a broadcast netlab takes");
    assert_eq!(
        (b.uid.as_str(), b.rooms, b.except),
        ("I8-jei", rooms(&["lobby"]), rooms(&["NYg9HYMZ4NVxepXhAAAA"])),
        "netlab reads those bytes back as the broadcast they are: (uid, rooms, except)"
    );
}

// ---- which local members a broadcast from another server reaches ----------

const ME: &str = "AAAAAA";
const OTHER: &str = "BBBBBB";
const ANA: ConnId = ConnId(0xa);
const BOB: ConnId = ConnId(0xb);
const CY: ConnId = ConnId(0xc);
const DEE: ConnId = ConnId(0xd);
/// The sender, connected to the other server.
const REMOTE: ConnId = ConnId(0x99);
/// A Node Socket.IO socket's id (20 characters, not a netlab id).
const NODE_SOCKET: &str = "NYg9HYMZ4NVxepXhAAAA";
const HERE: [ConnId; 4] = [ANA, BOB, CY, DEE];

fn set(ids: &[ConnId]) -> BTreeSet<ConnId> {
    ids.iter().copied().collect()
}

/// This server's rooms: lobby = {ana, bob}, dev = {bob, cy}; dee is in no room.
fn table() -> Table {
    let mut t = Table::new();
    t.insert("lobby".into(), set(&[ANA, BOB]));
    t.insert("dev".into(), set(&[BOB, CY]));
    t
}

/// A broadcast of a message from server `uid` to `to`, except `except`.
fn broadcast(uid: &str, to: &[&str], except: &[&str]) -> Broadcast {
    Broadcast {
        uid: uid.into(),
        nsp: "/".into(),
        data: vec![json!("message"), json!({"nick": "ana", "text": "hi"})],
        rooms: rooms(to),
        except: rooms(except),
    }
}

fn reached(b: &Broadcast) -> BTreeSet<ConnId> {
    local_recipients(ME, b, &table(), &HERE)
}

#[test]
fn a_room_broadcast_reaches_this_servers_members_of_that_room() {
    let remote = REMOTE.to_hex();
    assert_eq!(
        reached(&broadcast(OTHER, &["lobby"], &[&remote])),
        set(&[ANA, BOB]),
        "lobby's members here; the sender's id in except is on the other server and leaves nobody out here"
    );
    assert_eq!(reached(&broadcast(OTHER, &["dev"], &[])), set(&[BOB, CY]), "dev's members here: bob and cy");
}

#[test]
fn two_rooms_reach_their_union() {
    assert_eq!(
        reached(&broadcast(OTHER, &["lobby", "dev"], &[])),
        set(&[ANA, BOB, CY]),
        "bob is in both rooms and is reached (once); dee is in neither"
    );
}

#[test]
fn no_rooms_is_everyone_here() {
    assert_eq!(reached(&broadcast(OTHER, &[], &[])), set(&HERE), "empty rooms: every connection, dee (in no room) too");
    assert_eq!(reached(&broadcast(OTHER, &[], &["dev"])), set(&[ANA, DEE]), "everyone but dev's members");
}

#[test]
fn except_leaves_out_rooms_and_ids() {
    assert_eq!(reached(&broadcast(OTHER, &["lobby", "dev"], &["dev"])), set(&[ANA]), "bob is in lobby but also in dev: left out");
    let ana = ANA.to_hex();
    assert_eq!(reached(&broadcast(OTHER, &["lobby", "dev"], &[&ana])), set(&[BOB, CY]), "an id in except leaves out that connection");
    assert_eq!(reached(&broadcast(OTHER, &["lobby"], &["nowhere"])), set(&[ANA, BOB]), "a room nobody here is in leaves out nobody");
    assert_eq!(reached(&broadcast(OTHER, &["lobby"], &[NODE_SOCKET])), set(&[ANA, BOB]), "a Node socket's id is no one here");
}

#[test]
fn an_id_room_holds_that_connection_only_where_it_is_connected() {
    let (cy, dee, remote) = (CY.to_hex(), DEE.to_hex(), REMOTE.to_hex());
    assert_eq!(reached(&broadcast(OTHER, &[&cy], &[])), set(&[CY]), "a private message to cy, who is connected here");
    assert_eq!(reached(&broadcast(OTHER, &[&dee], &[])), set(&[DEE]), "dee is in no named room, but always in its own");
    assert_eq!(
        reached(&broadcast(OTHER, &[&remote], &[])),
        set(&[]),
        "a connection of another server: that server delivers it, not this one"
    );
    assert_eq!(reached(&broadcast(OTHER, &[NODE_SOCKET], &[])), set(&[]), "a Node socket is not here");
    assert_eq!(reached(&broadcast(OTHER, &["nowhere"], &[])), set(&[]), "a room nobody here is in");
}

#[test]
fn a_servers_own_broadcast_reaches_nobody_when_it_comes_back() {
    assert_eq!(
        reached(&broadcast(ME, &["lobby"], &[])),
        set(&[]),
        "this server published it (uid {ME}) and delivered it when it was sent: hearing it back from Redis must not deliver it twice"
    );
    assert_eq!(
        reached(&broadcast(ME, &[], &[])),
        set(&[]),
        "its own broadcast to everyone comes back from Redis too, and must not be delivered twice either"
    );
    assert_eq!(
        local_recipients(OTHER, &broadcast(OTHER, &["lobby"], &[]), &table(), &HERE),
        set(&[]),
        "`me` is the uid to compare with, whatever it is"
    );
}
