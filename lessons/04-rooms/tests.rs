// Lesson 04 — the grader. Included by tests/lessons.rs (against the library)
// and exercises/tests/lesson_04.rs (against your lessons/04-rooms/exercise.rs), inside
// a module where `subject` is the code under test.

use self::subject::{disconnect, join, leave, recipients, Table};
use netlab::chat::id::ConnId;
use netlab::chat::rooms::Target;
use pretty_assertions::assert_eq;
use std::collections::BTreeSet;

const ANA: ConnId = ConnId(0xa);
const BOB: ConnId = ConnId(0xb);
const CY: ConnId = ConnId(0xc);
const DEE: ConnId = ConnId(0xd);

fn set(ids: &[ConnId]) -> BTreeSet<ConnId> {
    ids.iter().copied().collect()
}

/// The table from the lesson: lobby = {ana, bob}, dev = {bob, cy}; dee is in no room.
fn lesson_table() -> Table {
    let mut t = Table::new();
    assert!(join(&mut t, ANA, "lobby"), "ana joins lobby for the first time: join must return true");
    assert!(join(&mut t, BOB, "lobby"), "bob joins lobby for the first time: join must return true");
    assert!(join(&mut t, BOB, "dev"), "bob joins dev for the first time: join must return true");
    assert!(join(&mut t, CY, "dev"), "cy joins dev for the first time: join must return true");
    t
}

const ALL: [ConnId; 4] = [ANA, BOB, CY, DEE];

#[test]
fn joining_builds_the_table_and_twice_changes_nothing() {
    let mut t = lesson_table();
    assert!(!join(&mut t, ANA, "lobby"), "ana is already in lobby: joining again must return false");
    assert_eq!(t.get("lobby"), Some(&set(&[ANA, BOB])), "lobby holds ana and bob, ana once");
    assert_eq!(t.get("dev"), Some(&set(&[BOB, CY])), "dev holds bob and cy");
    assert_eq!(t.len(), 2, "two rooms were joined, so the table has exactly two rooms");
}

#[test]
fn leaving_removes_and_an_empty_room_disappears() {
    let mut t = lesson_table();
    assert!(leave(&mut t, ANA, "lobby"), "ana was in lobby: leaving must return true");
    assert!(!leave(&mut t, ANA, "lobby"), "ana is not in lobby any more: leaving again must return false");
    assert!(!leave(&mut t, ANA, "nowhere"), "leaving a room that does not exist must return false");
    assert_eq!(t.get("lobby"), Some(&set(&[BOB])), "after ana left, lobby holds only bob");
    assert!(leave(&mut t, BOB, "lobby"), "bob was in lobby: leaving must return true");
    assert_eq!(
        t.get("lobby"),
        None,
        "the last member left lobby: an empty room must be deleted from the table, as Socket.IO deletes it"
    );
}

#[test]
fn disconnect_reports_the_rooms_then_leaves_them_all() {
    let mut t = lesson_table();
    assert_eq!(
        disconnect(&mut t, BOB),
        vec!["dev".to_string(), "lobby".to_string()],
        "bob was in dev and lobby: disconnect reports both, sorted, before leaving them"
    );
    assert_eq!(t.get("lobby"), Some(&set(&[ANA])), "bob left lobby on disconnect; ana stays");
    assert_eq!(t.get("dev"), Some(&set(&[CY])), "bob left dev on disconnect; cy stays");
    assert_eq!(disconnect(&mut t, DEE), Vec::<String>::new(), "dee was in no room: nothing to report");
    assert_eq!(disconnect(&mut t, ANA), vec!["lobby".to_string()], "ana was in lobby only");
    assert_eq!(t.get("lobby"), None, "ana was lobby's last member: the empty room must be deleted");
}

#[test]
fn a_room_reaches_its_members_with_or_without_the_sender() {
    let t = lesson_table();
    assert_eq!(recipients(&t, &ALL, &Target::rooms(["dev"])), set(&[BOB, CY]), "a broadcast to dev reaches its members, bob and cy");
    assert_eq!(
        recipients(&t, &ALL, &Target::rooms(["dev"]).except_sender(BOB)),
        set(&[CY]),
        "socket.to(\"dev\").emit from bob leaves out the sender (target.skip): only cy"
    );
    assert_eq!(recipients(&t, &ALL, &Target::rooms(["empty"])), set(&[]), "a room nobody is in reaches nobody");
}

#[test]
fn several_rooms_reach_each_member_once() {
    let t = lesson_table();
    assert_eq!(
        recipients(&t, &ALL, &Target::rooms(["lobby", "dev"])),
        set(&[ANA, BOB, CY]),
        "two rooms reach the union of their members: bob, in both, once"
    );
}

#[test]
fn no_room_means_everyone_connected() {
    let t = lesson_table();
    assert_eq!(
        recipients(&t, &ALL, &Target::everyone()),
        set(&ALL),
        "no rooms means every connected id, dee (in no room) too"
    );
    assert_eq!(
        recipients(&t, &ALL, &Target::everyone().except_sender(DEE)),
        set(&[ANA, BOB, CY]),
        "a broadcast from dee to everyone leaves out the sender (target.skip)"
    );
}

#[test]
fn except_takes_out_the_members_of_a_room() {
    let t = lesson_table();
    assert_eq!(
        recipients(&t, &ALL, &Target::everyone().except_rooms(["dev"])),
        set(&[ANA, DEE]),
        "everyone except dev's members (bob and cy)"
    );
    assert_eq!(
        recipients(&t, &ALL, &Target::rooms(["lobby"]).except_rooms(["dev"])),
        set(&[ANA]),
        "lobby except dev's members: bob is in both, so he is left out"
    );
}

#[test]
fn an_id_is_a_room_holding_that_connection() {
    let t = lesson_table();
    let dee = format!("{:032x}", 0xd);
    assert_eq!(
        recipients(&t, &ALL, &Target::rooms([dee.clone()])),
        set(&[DEE]),
        "a room named by dee's id holds dee, though the table has no such room"
    );
    assert_eq!(
        recipients(&t, &ALL, &Target::rooms([dee.clone(), "dev".to_string()])),
        set(&[BOB, CY, DEE]),
        "dee's id room and dev: their union"
    );
    assert_eq!(
        recipients(&t, &ALL, &Target::everyone().except_rooms([dee.clone()])),
        set(&[ANA, BOB, CY]),
        "an id in except leaves out that connection, as a named room in except does"
    );
    // Gone connections are reached by no one's id.
    assert_eq!(
        recipients(&t, &[ANA, BOB, CY], &Target::rooms([dee])),
        set(&[]),
        "dee is not connected any more: dee's id room holds a connection only while it is connected"
    );
}
