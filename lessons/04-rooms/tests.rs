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
    assert!(join(&mut t, ANA, "lobby"));
    assert!(join(&mut t, BOB, "lobby"));
    assert!(join(&mut t, BOB, "dev"));
    assert!(join(&mut t, CY, "dev"));
    t
}

const ALL: [ConnId; 4] = [ANA, BOB, CY, DEE];

#[test]
fn joining_builds_the_table_and_twice_changes_nothing() {
    let mut t = lesson_table();
    assert!(!join(&mut t, ANA, "lobby"), "already there");
    assert_eq!(t.get("lobby"), Some(&set(&[ANA, BOB])));
    assert_eq!(t.get("dev"), Some(&set(&[BOB, CY])));
    assert_eq!(t.len(), 2);
}

#[test]
fn leaving_removes_and_an_empty_room_disappears() {
    let mut t = lesson_table();
    assert!(leave(&mut t, ANA, "lobby"));
    assert!(!leave(&mut t, ANA, "lobby"), "not there any more");
    assert!(!leave(&mut t, ANA, "nowhere"));
    assert_eq!(t.get("lobby"), Some(&set(&[BOB])));
    assert!(leave(&mut t, BOB, "lobby"));
    assert_eq!(t.get("lobby"), None, "an empty room is deleted");
}

#[test]
fn disconnect_reports_the_rooms_then_leaves_them_all() {
    let mut t = lesson_table();
    assert_eq!(disconnect(&mut t, BOB), vec!["dev".to_string(), "lobby".to_string()]);
    assert_eq!(t.get("lobby"), Some(&set(&[ANA])));
    assert_eq!(t.get("dev"), Some(&set(&[CY])));
    assert_eq!(disconnect(&mut t, DEE), Vec::<String>::new(), "in no room");
    assert_eq!(disconnect(&mut t, ANA), vec!["lobby".to_string()]);
    assert_eq!(t.get("lobby"), None);
}

#[test]
fn a_room_reaches_its_members_with_or_without_the_sender() {
    let t = lesson_table();
    assert_eq!(recipients(&t, &ALL, &Target::rooms(["dev"])), set(&[BOB, CY]));
    assert_eq!(recipients(&t, &ALL, &Target::rooms(["dev"]).except_sender(BOB)), set(&[CY]));
    assert_eq!(recipients(&t, &ALL, &Target::rooms(["empty"])), set(&[]));
}

#[test]
fn several_rooms_reach_each_member_once() {
    let t = lesson_table();
    assert_eq!(recipients(&t, &ALL, &Target::rooms(["lobby", "dev"])), set(&[ANA, BOB, CY]));
}

#[test]
fn no_room_means_everyone_connected() {
    let t = lesson_table();
    assert_eq!(recipients(&t, &ALL, &Target::everyone()), set(&ALL));
    assert_eq!(recipients(&t, &ALL, &Target::everyone().except_sender(DEE)), set(&[ANA, BOB, CY]));
}

#[test]
fn except_takes_out_the_members_of_a_room() {
    let t = lesson_table();
    assert_eq!(recipients(&t, &ALL, &Target::everyone().except_rooms(["dev"])), set(&[ANA, DEE]));
    assert_eq!(recipients(&t, &ALL, &Target::rooms(["lobby"]).except_rooms(["dev"])), set(&[ANA]));
}

#[test]
fn an_id_is_a_room_holding_that_connection() {
    let t = lesson_table();
    let dee = format!("{:032x}", 0xd);
    assert_eq!(recipients(&t, &ALL, &Target::rooms([dee.clone()])), set(&[DEE]));
    assert_eq!(recipients(&t, &ALL, &Target::rooms([dee.clone(), "dev".to_string()])), set(&[BOB, CY, DEE]));
    assert_eq!(recipients(&t, &ALL, &Target::everyone().except_rooms([dee.clone()])), set(&[ANA, BOB, CY]));
    // Gone connections are reached by no one's id.
    assert_eq!(recipients(&t, &[ANA, BOB, CY], &Target::rooms([dee])), set(&[]));
}
