//! Lesson 07's replay against a model, through the server every transport
//! uses ([`ChatServer`]), with the transports played by the test: clients
//! send, read, die (their unread events lost), resume — also while their old
//! connection is still open (half-open) and dies only later.
//!
//! The model is one list: the messages sent to the room, in the order the
//! server acknowledged them. Whatever the sequence of operations, after
//! everyone resumes and reads, every member has handled exactly that list,
//! and every room seq it saw was the one after the last (nothing twice,
//! nothing skipped).

use netlab::chat::history::HistoryConfig;
use netlab::chat::limits::Limits;
use netlab::chat::ConnId;
use netlab::transport::{ChatServer, Outbound, ServerConfig};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::sync::Arc;

const MEMBERS: usize = 3;

#[derive(Debug, Clone)]
enum Op {
    /// Member sends a message to the room (if connected).
    Send(usize),
    /// Member reads what is queued for it.
    Read(usize),
    /// Member's connection dies; unread events are lost.
    Kill(usize),
    /// Member reconnects and resumes; if its old connection is still open
    /// the server has not noticed (half-open): the old one lingers.
    Resume(usize),
    /// Lingering half-open connections finally close.
    ZombiesDie,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0..MEMBERS).prop_map(Op::Send),
        3 => (0..MEMBERS).prop_map(Op::Read),
        2 => (0..MEMBERS).prop_map(Op::Kill),
        2 => (0..MEMBERS).prop_map(Op::Resume),
        1 => Just(Op::ZombiesDie),
    ]
}

struct Member {
    conn: Option<(ConnId, Arc<Outbound>)>,
    id: String,
    token: String,
    ack: u64,
    last: u64,
    got: Vec<String>,
}

struct World {
    server: ChatServer,
    rt: tokio::runtime::Runtime,
    members: Vec<Member>,
    zombies: Vec<ConnId>,
    sent: Vec<String>,
}

impl World {
    fn new() -> World {
        let config = ServerConfig {
            limits: Limits {
                rate: 1_000_000,
                burst: 1_000_000,
                ..Limits::default()
            },
            history: HistoryConfig {
                len: 10_000,
                ..HistoryConfig::default()
            },
            ..ServerConfig::default()
        };
        let mut w = World {
            server: ChatServer::new(config),
            rt: tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap(),
            members: Vec::new(),
            zombies: Vec::new(),
            sent: Vec::new(),
        };
        for i in 0..MEMBERS {
            let (t, q) = w.server.connect("model").unwrap();
            let welcome = w.take(&q).remove(0);
            w.members.push(Member {
                conn: Some((t, q)),
                id: welcome["id"].as_str().unwrap().into(),
                token: welcome["session"].as_str().unwrap().into(),
                ack: 0,
                last: 0,
                got: Vec::new(),
            });
            w.frame(i, json!({"event":"join","room":"lobby"}));
        }
        // Each member starts after the joins before its own.
        for i in 0..MEMBERS {
            let events = w.take_of(i);
            let own = events
                .iter()
                .find(|e| e["event"] == "joined" && e["id"] == w.members[i].id.as_str())
                .unwrap();
            w.members[i].last = own["seq"]["lobby"].as_u64().unwrap() - 1;
            w.absorb(i, events);
        }
        w
    }

    fn take(&self, q: &Outbound) -> Vec<Value> {
        if q.is_empty() {
            return Vec::new();
        }
        let batch = self.rt.block_on(q.take());
        assert_eq!(batch.dropped, 0, "the queue never overflows here");
        batch
            .events
            .iter()
            .map(|b| serde_json::from_slice(b).unwrap())
            .collect()
    }

    fn take_of(&self, i: usize) -> Vec<Value> {
        match &self.members[i].conn {
            Some((_, q)) => self.take(q),
            None => Vec::new(),
        }
    }

    fn frame(&mut self, i: usize, mut v: Value) {
        let m = &mut self.members[i];
        m.ack += 1;
        v["ack"] = m.ack.into();
        let (t, _) = m.conn.as_ref().unwrap();
        self.server
            .handle_frames(*t, [serde_json::to_vec(&v).unwrap().as_slice()]);
    }

    fn absorb(&mut self, i: usize, events: Vec<Value>) {
        let m = &mut self.members[i];
        for e in events {
            assert_ne!(e["event"], "gap", "{e}");
            if e["event"] == "ack" {
                assert_eq!(e["ok"], true, "{e}");
            }
            if e["event"] == "resumed" {
                assert_eq!(e["id"], m.id.as_str());
                m.token = e["session"].as_str().unwrap().into();
            }
            if let Some(s) = e["seq"]["lobby"].as_u64() {
                assert_eq!(s, m.last + 1, "member {i} got {e} after {}", m.last);
                m.last = s;
                if e["event"] == "message" {
                    m.got.push(e["text"].as_str().unwrap().into());
                }
            }
        }
    }

    fn resume(&mut self, i: usize) {
        if let Some((old, _)) = self.members[i].conn.take() {
            self.zombies.push(old); // half-open: closes later
        }
        let (t, q) = self.server.connect("model").unwrap();
        self.take(&q); // the provisional welcome
        self.members[i].conn = Some((t, q));
        let (token, last) = (self.members[i].token.clone(), self.members[i].last);
        self.frame(
            i,
            json!({"event":"resume","session":token,"last":{"lobby":last}}),
        );
        let events = self.take_of(i);
        assert_eq!(events[0]["event"], "resumed", "{events:?}");
        self.absorb(i, events);
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::Send(i) if self.members[i].conn.is_some() => {
                let text = format!("m{}", self.sent.len());
                self.frame(
                    i,
                    json!({"event":"message","to":["lobby"],"text":text,"self":true}),
                );
                self.sent.push(text);
            }
            Op::Read(i) => {
                let events = self.take_of(i);
                self.absorb(i, events);
            }
            Op::Kill(i) => {
                if let Some((t, _)) = self.members[i].conn.take() {
                    self.server.disconnect(t, "killed");
                }
            }
            Op::Resume(i) => self.resume(i),
            Op::ZombiesDie => {
                for t in std::mem::take(&mut self.zombies) {
                    self.server
                        .disconnect(t, "half-open connection finally noticed");
                }
            }
            Op::Send(_) => {}
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn every_member_handles_every_message_once_in_order(ops in proptest::collection::vec(op(), 0..80)) {
        let mut w = World::new();
        for op in &ops {
            w.apply(op);
        }
        w.apply(&Op::ZombiesDie);
        for i in 0..MEMBERS {
            if w.members[i].conn.is_none() {
                w.resume(i);
            }
        }
        for i in 0..MEMBERS {
            let events = w.take_of(i);
            w.absorb(i, events);
            prop_assert_eq!(&w.members[i].got, &w.sent, "member {}", i);
        }
        // Nobody left the room on the way: it still has every member.
        prop_assert_eq!(w.server.conn_count(), MEMBERS);
    }
}

/// A repeated welcome (UDP's answer to a second hello) carries a new token;
/// the first one stops working, the new one resumes.
#[test]
fn a_welcome_said_again_rotates_the_token() {
    let mut w = World::new();
    let (t, _) = w.members[0].conn.clone().unwrap();
    let again = w.server.welcome_again(t).unwrap();
    let again = serde_json::to_value(&again).unwrap();
    let fresh = again["session"].as_str().unwrap().to_string();
    assert_ne!(fresh, w.members[0].token);
    assert_eq!(again["id"], w.members[0].id.as_str());
    // The old token is refused...
    let (p, q) = w.server.connect("model").unwrap();
    w.take(&q);
    let old = json!({"event":"resume","session":w.members[0].token,"ack":1});
    w.server
        .handle_frames(p, [serde_json::to_vec(&old).unwrap().as_slice()]);
    assert_eq!(w.take(&q)[0]["error"], "session_unknown");
    // ...the new one works.
    w.members[0].token = fresh;
    w.resume(0);
}
