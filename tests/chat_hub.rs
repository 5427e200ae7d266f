//! The hub without sockets: every routing form, the lifecycle hooks, the id
//! rules and every limit at max and max + 1 — and a property test that runs
//! random joins, leaves, messages and disconnects against a simple model.

use netlab::chat::hub::{Hub, Output};
use netlab::chat::id::ConnId;
use netlab::chat::limits::Limits;
use netlab::chat::protocol::{ErrorCode, LeaveReason, ServerEvent};
use netlab::chat::rooms::Target;
use netlab::chat::routing;
use pretty_assertions::assert_eq;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Instant;

/// A hub plus names for its connections, so tests read like the lesson.
struct Lab {
    hub: Hub,
    ids: Vec<ConnId>,
    now: Instant,
}

impl Lab {
    fn new(limits: Limits) -> Self {
        Self {
            hub: Hub::new(limits),
            ids: Vec::new(),
            now: Instant::now(),
        }
    }

    fn roomy() -> Self {
        Self::new(Limits {
            burst: 1_000_000,
            rate: 1_000_000,
            max_strikes: 1_000_000,
            ..Limits::default()
        })
    }

    fn connect(&mut self) -> usize {
        let mut out = Vec::new();
        let id = self.hub.connect_at(self.now, &mut out).unwrap();
        self.ids.push(id);
        self.ids.len() - 1
    }

    fn idx(&self, id: ConnId) -> usize {
        self.ids.iter().position(|x| *x == id).expect("known id")
    }

    /// Sends raw JSON from connection `who`; returns what each connection got.
    fn send(&mut self, who: usize, json: &str) -> BTreeMap<usize, Vec<ServerEvent>> {
        let mut out = Vec::new();
        self.hub
            .handle_at(self.ids[who], json.as_bytes(), self.now, &mut out);
        self.collect(out)
    }

    fn disconnect(&mut self, who: usize) -> (Vec<Output>, BTreeMap<usize, Vec<ServerEvent>>) {
        let mut out = Vec::new();
        self.hub.disconnect(self.ids[who], "test", &mut out);
        let lifecycle = out
            .iter()
            .filter(|o| !matches!(o, Output::Deliver { .. }))
            .cloned()
            .collect();
        (lifecycle, self.collect(out))
    }

    fn collect(&self, out: Vec<Output>) -> BTreeMap<usize, Vec<ServerEvent>> {
        let mut got: BTreeMap<usize, Vec<ServerEvent>> = BTreeMap::new();
        for o in out {
            if let Output::Deliver { to, event } = o {
                let mut seen = BTreeSet::new();
                for id in to {
                    assert!(seen.insert(id), "{id:?} is listed twice for one event");
                    got.entry(self.idx(id)).or_default().push((*event).clone());
                }
            }
        }
        got
    }

    fn join(&mut self, who: usize, room: &str) {
        let got = self.send(
            who,
            &format!(r#"{{"event":"join","room":"{room}","ack":1}}"#),
        );
        assert_eq!(ack_of(&got, who), Ok(got_joined(&got, room)));
    }
}

/// Who received a `message` event.
fn message_recipients(got: &BTreeMap<usize, Vec<ServerEvent>>) -> BTreeSet<usize> {
    got.iter()
        .filter(|(_, evs)| evs.iter().any(|e| matches!(e, ServerEvent::Message { .. })))
        .map(|(i, _)| *i)
        .collect()
}

fn got_joined(got: &BTreeMap<usize, Vec<ServerEvent>>, room: &str) -> usize {
    got.values()
        .filter(|evs| {
            evs.iter()
                .any(|e| matches!(e, ServerEvent::Joined { room: r, .. } if r == room))
        })
        .count()
}

/// The outcome in `who`'s ack: Ok(reached) or Err(code).
fn ack_of(got: &BTreeMap<usize, Vec<ServerEvent>>, who: usize) -> Result<usize, ErrorCode> {
    for e in got.get(&who).into_iter().flatten() {
        if let ServerEvent::Ack {
            ok, reached, error, ..
        } = e
        {
            return if *ok {
                Ok(reached.unwrap())
            } else {
                Err(error.unwrap())
            };
        }
    }
    panic!("no ack for {who} in {got:?}")
}

fn error_of(got: &BTreeMap<usize, Vec<ServerEvent>>, who: usize) -> Option<ErrorCode> {
    got.get(&who)?.iter().find_map(|e| match e {
        ServerEvent::Error { code, .. } => Some(*code),
        _ => None,
    })
}

fn set(v: &[usize]) -> BTreeSet<usize> {
    v.iter().copied().collect()
}

/// Four connections: 0 and 1 in "lobby", 1 and 2 in "dev", 3 in no room.
fn four() -> Lab {
    let mut lab = Lab::roomy();
    for _ in 0..4 {
        lab.connect();
    }
    lab.join(0, "lobby");
    lab.join(1, "lobby");
    lab.join(1, "dev");
    lab.join(2, "dev");
    lab
}

#[test]
fn every_socketio_routing_form_reaches_exactly_the_right_connections() {
    let mut lab = four();
    let msg = |lab: &mut Lab, who: usize, fields: &str| {
        let got = lab.send(
            who,
            &format!(r#"{{"event":"message","text":"x","ack":9,{fields}}}"#),
        );
        let reached = ack_of(&got, who).unwrap();
        let to = message_recipients(&got);
        assert_eq!(reached, to.len(), "the ack counts the recipients");
        to
    };
    // io.emit: everyone, the sender too.
    assert_eq!(msg(&mut lab, 0, r#""self":true"#), set(&[0, 1, 2, 3]));
    // socket.broadcast.emit: everyone but the sender.
    assert_eq!(msg(&mut lab, 0, r#""self":false"#), set(&[1, 2, 3]));
    // io.to("lobby"): the room, sender included.
    assert_eq!(
        msg(&mut lab, 0, r#""to":["lobby"],"self":true"#),
        set(&[0, 1])
    );
    // socket.to("lobby"): the room but the sender.
    assert_eq!(msg(&mut lab, 0, r#""to":["lobby"]"#), set(&[1]));
    // io.to(["lobby","dev"]): 1 is in both and hears it once (collect() checks that).
    assert_eq!(
        msg(&mut lab, 1, r#""to":["lobby","dev"],"self":true"#),
        set(&[0, 1, 2])
    );
    // io.to(id): one connection, through its own room.
    let three = lab.ids[3].to_hex();
    assert_eq!(msg(&mut lab, 0, &format!(r#""to":["{three}"]"#)), set(&[3]));
    // io.except("dev"): everyone but the members of dev.
    assert_eq!(
        msg(&mut lab, 0, r#""except":["dev"],"self":true"#),
        set(&[0, 3])
    );
    // except can name an id too.
    assert_eq!(
        msg(&mut lab, 1, &format!(r#""except":["{three}"]"#)),
        set(&[0, 2])
    );
}

#[test]
fn the_message_carries_the_senders_real_id_whatever_the_client_writes() {
    let mut lab = four();
    let forged = lab.ids[2].to_hex();
    let got = lab.send(
        0,
        &format!(
            r#"{{"event":"message","to":["lobby"],"text":"hi","from":"{forged}","nick":"admin"}}"#
        ),
    );
    match &got[&1][0] {
        ServerEvent::Message { from, nick, .. } => {
            assert_eq!(*from, lab.ids[0]);
            assert_ne!(nick, "admin");
        }
        other => panic!("expected a message, got {other:?}"),
    }
}

#[test]
fn nobody_speaks_into_a_room_they_are_not_in_or_joins_someone_elses_id_room() {
    let mut lab = four();
    let got = lab.send(
        3,
        r#"{"event":"message","to":["lobby"],"text":"psst","ack":1}"#,
    );
    assert_eq!(ack_of(&got, 3), Err(ErrorCode::NotAMember));
    assert_eq!(got.len(), 1, "only the sender hears about it: {got:?}");
    let theirs = lab.ids[0].to_hex();
    let got = lab.send(
        3,
        &format!(r#"{{"event":"join","room":"{theirs}","ack":2}}"#),
    );
    assert_eq!(ack_of(&got, 3), Err(ErrorCode::ReservedRoom));
    let got = lab.send(
        0,
        &format!(r#"{{"event":"leave","room":"{theirs}","ack":3}}"#),
    );
    assert_eq!(
        ack_of(&got, 0),
        Err(ErrorCode::ReservedRoom),
        "not even one's own"
    );
    let got = lab.send(3, r#"{"event":"who","room":"lobby","ack":4}"#);
    assert_eq!(ack_of(&got, 3), Err(ErrorCode::NotAMember));
}

#[test]
fn the_server_may_address_any_room_from_outside() {
    let mut lab = four();
    let mut out = Vec::new();
    let n = lab.hub.emit(
        &Target::rooms(["dev"]).except_rooms(["lobby"]),
        ServerEvent::Dropped { count: 0 },
        &mut out,
    );
    assert_eq!(n, 1);
    assert_eq!(
        lab.collect(out).keys().copied().collect::<Vec<_>>(),
        vec![2]
    );
}

#[test]
fn join_and_leave_tell_the_room_and_disconnect_tells_every_room() {
    let mut lab = four();
    let got = lab.send(3, r#"{"event":"join","room":"dev","ack":1}"#);
    assert_eq!(ack_of(&got, 3), Ok(3), "1, 2 and the joiner hear it");
    assert_eq!(got_joined(&got, "dev"), 3);
    let got = lab.send(3, r#"{"event":"join","room":"dev","ack":2}"#);
    assert_eq!(ack_of(&got, 3), Ok(0), "joining twice tells no one");
    let got = lab.send(3, r#"{"event":"leave","room":"dev","ack":3}"#);
    assert_eq!(ack_of(&got, 3), Ok(3), "the leaver hears its own leave");

    let (lifecycle, got) = lab.disconnect(1);
    let mut lefts: Vec<(usize, String)> = got
        .iter()
        .flat_map(|(i, evs)| {
            evs.iter().filter_map(move |e| match e {
                ServerEvent::Left {
                    room,
                    reason: LeaveReason::Disconnect,
                    ..
                } => Some((*i, room.clone())),
                _ => None,
            })
        })
        .collect();
    lefts.sort();
    assert_eq!(
        lefts,
        vec![(0, "lobby".to_string()), (2, "dev".to_string())]
    );
    let one = lab.ids[1];
    assert_eq!(
        lifecycle,
        vec![
            Output::Disconnecting {
                id: one,
                rooms: vec![one.to_hex(), "dev".into(), "lobby".into()]
            },
            Output::Disconnected {
                id: one,
                reason: "test".into()
            },
        ],
        "disconnecting still sees the rooms; disconnect comes after they were left"
    );
    assert!(lab.hub.rooms_of(one).is_empty());
    assert_eq!(lab.hub.rooms().members("dev"), vec![lab.ids[2]]);
    let (again, _) = lab.disconnect(1);
    assert!(again.is_empty(), "a second disconnect does nothing");
}

#[test]
fn each_connection_has_its_own_room_named_by_its_random_id() {
    let mut lab = Lab::roomy();
    let a = lab.connect();
    let b = lab.connect();
    let (ia, ib) = (lab.ids[a], lab.ids[b]);
    assert_ne!(ia, ib);
    assert_eq!(lab.hub.rooms_of(ia), vec![ia.to_hex()]);
    assert_eq!(lab.hub.rooms().members(&ia.to_hex()), vec![ia]);
    assert!(ConnId::looks_like_id(&ia.to_hex()));
}

#[test]
fn a_live_id_is_never_handed_out_twice() {
    // A generator that repeats itself: 7, 7, 7, 9.
    let mut script = vec![9u128, 7, 7, 7];
    let mut hub = Hub::new(Limits::default()).with_id_source(Box::new(move || {
        Ok(ConnId(script.pop().expect("enough ids")))
    }));
    let mut out = Vec::new();
    let first = hub.connect(&mut out).unwrap();
    let second = hub.connect(&mut out).unwrap();
    assert_eq!((first, second), (ConnId(7), ConnId(9)));
}

#[test]
fn the_client_never_picks_its_id() {
    let mut lab = Lab::roomy();
    let a = lab.connect();
    let got = lab.send(
        a,
        r#"{"event":"nick","nick":"x","id":"00000000000000000000000000000001","ack":1}"#,
    );
    assert_eq!(ack_of(&got, a), Ok(1));
    assert_ne!(lab.ids[a], ConnId(1));
}

#[test]
fn nick_and_room_names_are_limited_at_max_and_max_plus_one() {
    let limits = Limits {
        max_nick: 5,
        max_room: 6,
        ..Limits::default()
    };
    let mut lab = Lab::new(limits);
    let a = lab.connect();
    let nick = |lab: &mut Lab, n: &str| {
        ack_of(
            &lab.send(a, &format!(r#"{{"event":"nick","nick":"{n}","ack":1}}"#)),
            a,
        )
    };
    assert_eq!(nick(&mut lab, "abcde"), Ok(1));
    assert_eq!(nick(&mut lab, "abcdef"), Err(ErrorCode::InvalidNick));
    assert_eq!(nick(&mut lab, "a b"), Err(ErrorCode::InvalidNick));
    assert_eq!(nick(&mut lab, ""), Err(ErrorCode::InvalidNick));
    let join = |lab: &mut Lab, r: &str| {
        ack_of(
            &lab.send(a, &format!(r#"{{"event":"join","room":"{r}","ack":1}}"#)),
            a,
        )
    };
    assert_eq!(join(&mut lab, "abcdef"), Ok(1));
    assert_eq!(join(&mut lab, "abcdefg"), Err(ErrorCode::InvalidRoom));
    assert_eq!(join(&mut lab, "a\\u0000"), Err(ErrorCode::InvalidRoom));
}

#[test]
fn rooms_per_connection_are_limited_at_max_and_max_plus_one() {
    let mut lab = Lab::new(Limits {
        max_rooms: 3,
        ..Limits::default()
    });
    let a = lab.connect();
    for r in ["r1", "r2", "r3"] {
        lab.join(a, r);
    }
    let got = lab.send(a, r#"{"event":"join","room":"r4","ack":1}"#);
    assert_eq!(ack_of(&got, a), Err(ErrorCode::TooManyRooms));
    assert_eq!(lab.hub.rooms_of(lab.ids[a]).len(), 1 + 3, "own room + 3");
}

#[test]
fn text_is_limited_at_max_and_max_plus_one() {
    let mut lab = Lab::new(Limits {
        max_text: 10,
        ..Limits::default()
    });
    let a = lab.connect();
    let got = lab.send(a, r#"{"event":"message","text":"0123456789","ack":1}"#);
    assert_eq!(ack_of(&got, a), Ok(0));
    let got = lab.send(a, r#"{"event":"message","text":"0123456789a","ack":1}"#);
    assert_eq!(ack_of(&got, a), Err(ErrorCode::TextTooLong));
}

#[test]
fn the_burst_is_allowed_at_max_and_refused_at_max_plus_one() {
    let mut lab = Lab::new(Limits {
        burst: 4,
        rate: 1,
        ..Limits::default()
    });
    let a = lab.connect();
    for _ in 0..4 {
        let got = lab.send(a, r#"{"event":"rooms","ack":1}"#);
        assert_eq!(ack_of(&got, a), Ok(1));
    }
    let got = lab.send(a, r#"{"event":"rooms","ack":1}"#);
    assert_eq!(error_of(&got, a), Some(ErrorCode::RateLimited), "{got:?}");
    // One second later one token is back.
    lab.now += std::time::Duration::from_millis(1001);
    let got = lab.send(a, r#"{"event":"rooms","ack":1}"#);
    assert_eq!(ack_of(&got, a), Ok(1));
}

#[test]
fn strikes_close_only_the_offender_at_the_limit() {
    let mut lab = Lab::new(Limits {
        max_strikes: 3,
        ..Limits::default()
    });
    let bad = lab.connect();
    let good = lab.connect();
    let closes = |got: &[Output]| {
        got.iter()
            .filter(|o| matches!(o, Output::Close { .. }))
            .count()
    };
    let send = |lab: &mut Lab, who: usize, json: &str| {
        let mut out = Vec::new();
        lab.hub
            .handle_at(lab.ids[who], json.as_bytes(), lab.now, &mut out);
        out
    };
    assert_eq!(closes(&send(&mut lab, bad, "nope")), 0);
    assert_eq!(
        closes(&send(&mut lab, bad, r#"{"event":"fly"}"#)),
        0,
        "2 strikes: still open"
    );
    // An accepted event in between resets the count: strikes are consecutive.
    assert_eq!(closes(&send(&mut lab, bad, r#"{"event":"rooms"}"#)), 0);
    assert_eq!(closes(&send(&mut lab, bad, "[]")), 0);
    assert_eq!(closes(&send(&mut lab, bad, "{}")), 0);
    let out = send(&mut lab, bad, "{");
    assert_eq!(
        out.last(),
        Some(&Output::Close { id: lab.ids[bad] }),
        "the 3rd in a row closes"
    );
    let bye = out.iter().find_map(|o| match o {
        Output::Deliver { event, .. } => match &**event {
            ServerEvent::Bye { code, .. } => Some(*code),
            _ => None,
        },
        _ => None,
    });
    assert_eq!(bye, Some(ErrorCode::TooManyStrikes));
    assert_eq!(closes(&send(&mut lab, good, r#"{"event":"rooms"}"#)), 0);
}

// ---- the model -------------------------------------------------------------

/// What the model says the hub must do, written without the hub's code:
/// plain sets, the Socket.IO rules read straight off the docs.
#[derive(Default)]
struct Model {
    alive: BTreeSet<usize>,
    rooms: HashMap<&'static str, BTreeSet<usize>>,
}

impl Model {
    fn members(&self, room: &str) -> BTreeSet<usize> {
        self.rooms.get(room).cloned().unwrap_or_default()
    }
}

const ROOMS: [&str; 3] = ["a", "b", "c"];

#[derive(Debug, Clone)]
enum Op {
    Connect,
    Disconnect(usize),
    Join(usize, usize),
    Leave(usize, usize),
    /// sender, named rooms, ids (indexes of connections), except rooms, include self
    Message(usize, Vec<usize>, Vec<usize>, Vec<usize>, bool),
}

fn op() -> impl Strategy<Value = Op> {
    let idx = 0usize..8;
    let room = 0usize..3;
    prop_oneof![
        2 => Just(Op::Connect),
        1 => idx.clone().prop_map(Op::Disconnect),
        3 => (idx.clone(), room.clone()).prop_map(|(i, r)| Op::Join(i, r)),
        2 => (idx.clone(), room.clone()).prop_map(|(i, r)| Op::Leave(i, r)),
        4 => (
            idx.clone(),
            proptest::collection::vec(room.clone(), 0..3),
            proptest::collection::vec(idx, 0..2),
            proptest::collection::vec(room, 0..2),
            any::<bool>()
        )
            .prop_map(|(i, to, ids, ex, me)| Op::Message(i, to, ids, ex, me)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn routing_matches_the_model(ops in proptest::collection::vec(op(), 1..60)) {
        let mut lab = Lab::roomy();
        let mut model = Model::default();
        for op in ops {
            match op {
                Op::Connect => {
                    let i = lab.connect();
                    model.alive.insert(i);
                }
                Op::Disconnect(i) => {
                    if !model.alive.contains(&i) { continue; }
                    let (_, got) = lab.disconnect(i);
                    model.alive.remove(&i);
                    let mut expect: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
                    for r in ROOMS {
                        if model.rooms.get_mut(r).is_some_and(|m| m.remove(&i)) {
                            for m in model.members(r) {
                                expect.entry(m).or_default().insert(format!("left {r}"));
                            }
                        }
                    }
                    let seen: BTreeMap<usize, BTreeSet<String>> = got.iter().map(|(k, evs)| {
                        (*k, evs.iter().map(|e| match e {
                            ServerEvent::Left { room, .. } => format!("left {room}"),
                            other => format!("{other:?}"),
                        }).collect())
                    }).collect();
                    prop_assert_eq!(seen, expect);
                }
                Op::Join(i, r) => {
                    if !model.alive.contains(&i) { continue; }
                    let room = ROOMS[r];
                    let got = lab.send(i, &format!(r#"{{"event":"join","room":"{room}","ack":1}}"#));
                    let already = model.members(room).contains(&i);
                    model.rooms.entry(room).or_default().insert(i);
                    let expect = if already { BTreeSet::new() } else { model.members(room) };
                    let joined: BTreeSet<usize> = got.iter().filter(|(_, evs)| evs.iter().any(|e| matches!(e, ServerEvent::Joined { .. }))).map(|(k, _)| *k).collect();
                    prop_assert_eq!(&joined, &expect);
                    prop_assert_eq!(ack_of(&got, i), Ok(expect.len()));
                }
                Op::Leave(i, r) => {
                    if !model.alive.contains(&i) { continue; }
                    let room = ROOMS[r];
                    let got = lab.send(i, &format!(r#"{{"event":"leave","room":"{room}","ack":1}}"#));
                    let before = model.members(room);
                    if before.contains(&i) {
                        model.rooms.get_mut(room).unwrap().remove(&i);
                        let left: BTreeSet<usize> = got.iter().filter(|(_, evs)| evs.iter().any(|e| matches!(e, ServerEvent::Left { .. }))).map(|(k, _)| *k).collect();
                        prop_assert_eq!(&left, &before);
                        prop_assert_eq!(ack_of(&got, i), Ok(before.len()));
                    } else {
                        prop_assert_eq!(ack_of(&got, i), Err(ErrorCode::NotAMember));
                        prop_assert_eq!(got.len(), 1);
                    }
                }
                Op::Message(i, to, ids, except, me) => {
                    if !model.alive.contains(&i) { continue; }
                    let ids: Vec<usize> = ids.into_iter().filter(|j| *j < lab.ids.len()).collect();
                    let mut targets: Vec<String> = to.iter().map(|r| ROOMS[*r].to_string()).collect();
                    targets.extend(ids.iter().map(|j| lab.ids[*j].to_hex()));
                    let except: Vec<&str> = except.iter().map(|r| ROOMS[*r]).collect();
                    let json = serde_json::json!({"event":"message","text":"m","to":targets,"except":except,"self":me,"ack":5});
                    let got = lab.send(i, &json.to_string());
                    if to.iter().any(|r| !model.members(ROOMS[*r]).contains(&i)) {
                        prop_assert_eq!(ack_of(&got, i), Err(ErrorCode::NotAMember));
                        prop_assert!(message_recipients(&got).is_empty());
                        continue;
                    }
                    let mut expect: BTreeSet<usize> = if targets.is_empty() {
                        model.alive.clone()
                    } else {
                        let mut s: BTreeSet<usize> = to.iter().flat_map(|r| model.members(ROOMS[*r])).collect();
                        s.extend(ids.iter().filter(|j| model.alive.contains(j)));
                        s
                    };
                    for r in &except {
                        for m in model.members(r) { expect.remove(&m); }
                    }
                    if !me { expect.remove(&i); }
                    // The lesson's plain-set rules and the hub's indexed table agree with the model too.
                    let table: routing::Table = model.rooms.iter().filter(|(_, m)| !m.is_empty())
                        .map(|(r, m)| (r.to_string(), m.iter().map(|i| lab.ids[*i]).collect())).collect();
                    let connected: Vec<ConnId> = model.alive.iter().map(|i| lab.ids[*i]).collect();
                    let target = Target { rooms: targets.clone(), except: except.iter().map(|s| s.to_string()).collect(), skip: (!me).then_some(lab.ids[i]), local: false };
                    let by_rules: BTreeSet<usize> = routing::recipients(&table, &connected, &target).into_iter().map(|id| lab.idx(id)).collect();
                    prop_assert_eq!(&by_rules, &expect);
                    let by_table: BTreeSet<usize> = lab.hub.rooms().recipients(&target).into_iter().map(|id| lab.idx(id)).collect();
                    prop_assert_eq!(&by_table, &expect);
                    prop_assert_eq!(message_recipients(&got), expect.clone());
                    prop_assert_eq!(ack_of(&got, i), Ok(expect.len()));
                }
            }
        }
        // The hub's table agrees with the model's at the end.
        for r in ROOMS {
            let hub: BTreeSet<usize> = lab.hub.rooms().members(r).into_iter().map(|id| lab.idx(id)).collect();
            prop_assert_eq!(hub, model.members(r));
        }
    }
}

/// An adapter that records every broadcast, then delivers like the in-memory one.
struct Recording {
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl netlab::chat::adapter::Adapter for Recording {
    fn broadcast(
        &mut self,
        rooms: &netlab::chat::rooms::Rooms,
        target: &Target,
        event: std::sync::Arc<ServerEvent>,
        out: &mut Vec<Output>,
    ) -> usize {
        let name = serde_json::to_value(&*event).unwrap()["event"]
            .as_str()
            .unwrap()
            .to_string();
        self.log
            .lock()
            .unwrap()
            .push(format!("{name} -> {:?}", target.rooms));
        netlab::chat::adapter::LocalAdapter.broadcast(rooms, target, event, out)
    }
}

#[test]
fn every_broadcast_goes_through_the_one_adapter_seam() {
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut hub = Hub::with_adapter(Limits::default(), Recording { log: log.clone() });
    let mut out = Vec::new();
    let a = hub.connect(&mut out).unwrap();
    let b = hub.connect(&mut out).unwrap();
    for (who, json) in [
        (a, r#"{"event":"join","room":"x"}"#),
        (b, r#"{"event":"join","room":"x"}"#),
        (a, r#"{"event":"join","room":"y"}"#),
        (a, r#"{"event":"message","to":["x"],"text":"hi"}"#),
        (b, r#"{"event":"leave","room":"x"}"#),
        (a, r#"{"event":"rooms"}"#),
    ] {
        hub.handle(who, json.as_bytes(), &mut out);
    }
    hub.disconnect(a, "gone", &mut out);
    assert_eq!(
        *log.lock().unwrap(),
        vec![
            r#"joined -> ["x"]"#,
            r#"joined -> ["x"]"#,
            r#"joined -> ["y"]"#,
            r#"message -> ["x"]"#,
            r#"left -> ["x"]"#,
            r#"left -> ["x"]"#,
            r#"left -> ["y"]"#,
        ],
        "replies to one's own request (rooms, acks, welcome) are not broadcasts"
    );
}

proptest! {
    /// Garbage and mangled frames never panic the hub, and whatever gets
    /// through is always attributed to the connection that sent it.
    #[test]
    fn hostile_frames_never_panic_and_never_speak_as_someone_else(
        frames in proptest::collection::vec(
            prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..64),
                (0usize..6, any::<usize>(), any::<u8>()).prop_map(|(which, at, byte)| {
                    let valid = [
                        r#"{"event":"message","to":["lobby"],"text":"hi","ack":1}"#,
                        r#"{"event":"join","room":"lobby","ack":2}"#,
                        r#"{"event":"leave","room":"lobby"}"#,
                        r#"{"event":"nick","nick":"zed"}"#,
                        r#"{"event":"who","room":"lobby","ack":3}"#,
                        r#"{"event":"message","text":"all","self":true}"#,
                    ];
                    let mut b = valid[which].as_bytes().to_vec();
                    let i = at % b.len();
                    b[i] = byte;
                    b
                }),
            ],
            1..40,
        )
    ) {
        let mut lab = Lab::roomy();
        let evil = lab.connect();
        let other = lab.connect();
        lab.join(other, "lobby");
        let evil_id = lab.ids[evil];
        for f in frames {
            let mut out = Vec::new();
            lab.hub.handle_at(evil_id, &f, lab.now, &mut out);
            for o in out {
                if let Output::Deliver { event, .. } = o {
                    match &*event {
                        ServerEvent::Message { from, .. } => prop_assert_eq!(*from, evil_id),
                        ServerEvent::Joined { id, .. } | ServerEvent::Left { id, .. } | ServerEvent::Nick { id, .. } => {
                            prop_assert_eq!(*id, evil_id)
                        }
                        _ => {}
                    }
                }
            }
        }
        // The other connection is untouched: still in lobby, still connected.
        prop_assert_eq!(lab.hub.rooms_of(lab.ids[other]).len(), 2);
    }
}

#[test]
fn guest_nicks_are_unique_even_when_ids_share_their_first_digits() {
    // Ids that agree on their first 4 (and 8) hex digits, then a nick
    // someone took by hand that the next guest nick would have been.
    let a = ConnId(0x3f2a_0000_0000_0000_0000_0000_0000_0001);
    let b = ConnId(0x3f2a_0000_0000_0000_0000_0000_0000_0002);
    let c = ConnId(0x3f2a_1111_0000_0000_0000_0000_0000_0003);
    let mut script = vec![c, b, a];
    let mut hub = Hub::new(Limits::default())
        .with_id_source(Box::new(move || Ok(script.pop().expect("enough ids"))));
    let mut out = Vec::new();
    let a = hub.connect(&mut out).unwrap();
    let b = hub.connect(&mut out).unwrap();
    assert_eq!(hub.nick(a), Some("guest-3f2a"));
    assert_eq!(hub.nick(b), Some("guest-3f2a0000"));
    hub.handle(b, br#"{"event":"nick","nick":"guest-3F2A1111"}"#, &mut out);
    let c = hub.connect(&mut out).unwrap();
    assert_eq!(hub.nick(c), Some("guest-3f2a111100000000"));
    let nicks: std::collections::BTreeSet<_> = [a, b, c]
        .iter()
        .map(|id| hub.nick(*id).unwrap().to_ascii_lowercase())
        .collect();
    assert_eq!(nicks.len(), 3);
}
