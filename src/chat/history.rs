//! Lesson 07 — history: what a client that was away can still be told.
//!
//! Every recorded event (a message, a join, a leave) is stored under each
//! *history key* it was addressed to: a named room, a connection id (a
//! private message), or `*` (everyone). Each key numbers its events 1, 2, 3, …
//! (its `seq`) and keeps only the last N in a ring: memory is bounded, and a
//! client that was away longer than N events gets a `gap` notice saying what
//! is gone before the replay of what remains.
//!
//! One event addressed to two rooms is one [`Entry`] with a seq in each; a
//! global record number `n` puts replays from several keys back into the
//! order the events happened, each once.
//!
//! [`super::adapter::HistoryAdapter`] plugs this into the hub's broadcast seam: it stamps the seqs, records, then lets the inner
//! adapter deliver. With a file ([`History::open`]) every entry is also
//! appended to an append-only log ([`super::log`]) and the rings are rebuilt
//! from it when the server starts again.

use super::id::ConnId;
use super::log::{Log, LogError, Recovery, DEFAULT_MAX_RECORD};
use super::protocol::{SeqMap, ServerEvent};
use super::rooms::{Rooms, Target};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Events each history key keeps when `--history-file` is given without `--history`.
pub const DEFAULT_FILE_HISTORY: usize = 1000;
/// How long a disconnected session waits to be resumed (`--session-ttl`).
pub const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(120);
/// Resends of unconfirmed events before the peer is treated as dead (`--confirm-retries`).
pub const DEFAULT_CONFIRM_RETRIES: u32 = 3;

/// The missed-events features of a server (every field is a `netlab serve` flag).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryConfig {
    /// Events kept per history key; 0 turns history and sessions off (`--history`).
    pub len: usize,
    /// Where recorded events are appended and rebuilt from (`--history-file`).
    pub file: Option<PathBuf>,
    /// How long a detached session may be resumed (`--session-ttl`).
    pub session_ttl: Duration,
    /// Recorded events must be confirmed with `seen` within this; `None`: off (`--confirm-timeout`).
    pub confirm_timeout: Option<Duration>,
    /// Resends before the peer is treated as dead (`--confirm-retries`).
    pub confirm_retries: u32,
}

impl Default for HistoryConfig {
    fn default() -> Self {
        Self {
            len: 0,
            file: None,
            session_ttl: DEFAULT_SESSION_TTL,
            confirm_timeout: None,
            confirm_retries: DEFAULT_CONFIRM_RETRIES,
        }
    }
}

impl HistoryConfig {
    /// Whether the server keeps history (and so offers sessions).
    pub fn enabled(&self) -> bool {
        self.len > 0
    }
}

/// The history key of messages to everyone.
pub const KEY_EVERYONE: &str = "*";

/// One recorded event with what replay needs to know about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Global record number: replay across several keys sends in this order.
    pub n: u64,
    /// Rooms whose members did not get it (the message's `except`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub except: Vec<String>,
    /// The one connection left out (a sender that did not ask for `self`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip: Option<ConnId>,
    /// The event as sent, its `seq` map included.
    pub event: ServerEvent,
}

impl Entry {
    /// The seq of this entry in each key it was recorded under.
    pub fn seq(&self) -> &SeqMap {
        static EMPTY: SeqMap = SeqMap::new();
        self.event.seq().unwrap_or(&EMPTY)
    }

    /// Whether this entry was meant for `who` (it was not left out by `skip`
    /// or by an `except` room `who` is in).
    pub fn meant_for(&self, who: &Viewer<'_>) -> bool {
        if self.skip == Some(who.id) {
            return false;
        }
        !self
            .except
            .iter()
            .any(|r| *r == who.id.to_hex() || who.rooms.iter().any(|m| m == r))
    }
}

/// Who a replay is for: its id and the named rooms it is in.
#[derive(Debug, Clone, Copy)]
pub struct Viewer<'a> {
    /// The session's id.
    pub id: ConnId,
    /// Its named rooms.
    pub rooms: &'a [String],
}

/// One key's bounded ring: the last `len` entries and the last seq given out.
#[derive(Debug, Default)]
struct Ring {
    last: u64,
    kept: VecDeque<(u64, Arc<Entry>)>,
}

/// What a replay sends: `gap` notices first, then the events in record order.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Replay {
    /// A `gap` event for every key where the history no longer holds everything asked for.
    pub gaps: Vec<ServerEvent>,
    /// The events, each once, in the order they were recorded.
    pub events: Vec<Arc<ServerEvent>>,
}

impl Replay {
    /// Every event of the replay in the order it is sent (gaps first).
    pub fn into_events(self) -> impl Iterator<Item = Arc<ServerEvent>> {
        self.gaps.into_iter().map(Arc::new).chain(self.events)
    }
}

/// Why a history file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The log itself failed (I/O, or corruption before the last record).
    #[error("history file {path}: {source}")]
    Log {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: LogError,
    },
    /// A record passed its checksum but is not a history entry.
    #[error("history file {path}: record {index} is not a history entry ({detail}); was it written by another program?")]
    BadRecord {
        /// The file.
        path: PathBuf,
        /// Which record (0-based).
        index: u64,
        /// What the JSON parser said.
        detail: String,
    },
}

/// Per-key rings of recorded events, a global record counter, and optionally
/// the file every entry is appended to.
pub struct History {
    len: usize,
    rings: HashMap<String, Ring>,
    next_n: u64,
    log: Option<Log>,
    log_failed: bool,
}

impl std::fmt::Debug for History {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("History")
            .field("len", &self.len)
            .field("keys", &self.rings.len())
            .field("next_n", &self.next_n)
            .field("durable", &self.log.is_some())
            .finish()
    }
}

impl History {
    /// An in-memory history keeping the last `len` events of each key.
    pub fn new(len: usize) -> Self {
        Self {
            len: len.max(1),
            rings: HashMap::new(),
            next_n: 1,
            log: None,
            log_failed: false,
        }
    }

    /// A history backed by `path`: rebuilt from every complete record in it
    /// (a torn last record, from a crash mid-write, is cut off; a damaged
    /// record anywhere is refused), then appended to as events are recorded.
    pub fn open(len: usize, path: &Path) -> Result<(Self, Recovery), HistoryError> {
        let mut h = Self::new(len);
        let mut bad: Option<(u64, String)> = None;
        let mut index = 0u64;
        let (log, recovery) = Log::open(path, DEFAULT_MAX_RECORD, |payload| {
            if bad.is_none() {
                match serde_json::from_slice::<Entry>(payload) {
                    Ok(e) => h.insert(e),
                    Err(e) => bad = Some((index, e.to_string())),
                }
            }
            index += 1;
        })
        .map_err(|source| HistoryError::Log {
            path: path.to_path_buf(),
            source,
        })?;
        if let Some((index, detail)) = bad {
            return Err(HistoryError::BadRecord {
                path: path.to_path_buf(),
                index,
                detail,
            });
        }
        // Sessions do not survive a restart and ids are never reused: no one
        // can ask for an old connection's private key again, so keep none.
        h.rings.retain(|key, _| !ConnId::looks_like_id(key));
        h.log = Some(log);
        Ok((h, recovery))
    }

    /// Events kept per key.
    pub fn capacity(&self) -> usize {
        self.len
    }

    /// The last seq given out in `key` (0: none yet).
    pub fn last_seq(&self, key: &str) -> u64 {
        self.rings.get(key).map_or(0, |r| r.last)
    }

    /// The oldest seq `key` still keeps, if any.
    pub fn kept_from(&self, key: &str) -> Option<u64> {
        self.rings.get(key)?.kept.front().map(|(s, _)| *s)
    }

    /// How many entries have been recorded (the next record number minus one).
    pub fn recorded(&self) -> u64 {
        self.next_n - 1
    }

    /// Records `event` under `keys` (each gets its next seq), appends it to the
    /// file if there is one, and returns the event stamped with its seqs.
    pub fn record(
        &mut self,
        keys: &[String],
        except: &[String],
        skip: Option<ConnId>,
        event: &ServerEvent,
    ) -> Arc<ServerEvent> {
        let seq: SeqMap = keys
            .iter()
            .map(|k| (k.clone(), self.last_seq(k) + 1))
            .collect();
        let entry = Entry {
            n: self.next_n,
            except: except.to_vec(),
            skip,
            event: event.with_seq(seq),
        };
        if let Some(log) = &mut self.log {
            let payload = serde_json::to_vec(&entry).expect("entries always serialize");
            if let Err(e) = log.append(&payload) {
                // Memory keeps working; say it once rather than once per event.
                if !self.log_failed {
                    eprintln!("history file: append failed ({e}); history is kept in memory only from now on");
                    self.log_failed = true;
                }
            }
        }
        let stamped = Arc::new(entry.event.clone());
        self.insert(entry);
        stamped
    }

    /// Puts an entry (new, or read back from the file) into its keys' rings.
    fn insert(&mut self, entry: Entry) {
        self.next_n = self.next_n.max(entry.n + 1);
        let entry = Arc::new(entry);
        for (key, &s) in entry.seq() {
            let ring = self.rings.entry(key.clone()).or_default();
            ring.last = ring.last.max(s);
            ring.kept.push_back((s, entry.clone()));
            while ring.kept.len() > self.len {
                ring.kept.pop_front();
            }
        }
    }

    /// Drops a key's ring (a connection id whose session is gone: ids are never reused).
    pub fn forget(&mut self, key: &str) {
        self.rings.remove(key);
    }

    /// What `who` missed: for each `(key, after, upto)`, the entries with
    /// `after < seq <= upto` that were meant for it — each entry once even when it
    /// is in several keys, in the order they were recorded — and a `gap` for
    /// every key whose oldest kept seq is past `after + 1`.
    pub fn replay(&self, wants: &[(String, u64, u64)], who: &Viewer<'_>) -> Replay {
        let mut gaps = Vec::new();
        let mut picked: BTreeMap<u64, Arc<Entry>> = BTreeMap::new();
        for (key, after, upto) in wants {
            let (after, upto) = (*after, (*upto).min(self.last_seq(key)));
            if after >= upto {
                continue;
            }
            let Some(ring) = self.rings.get(key) else {
                continue;
            };
            let kept_from = ring.kept.front().map_or(upto + 1, |(s, _)| *s);
            if after + 1 < kept_from {
                let to = (kept_from - 1).min(upto);
                gaps.push(ServerEvent::Gap {
                    key: key.clone(),
                    from: after + 1,
                    to,
                    kept_from,
                    message: format!(
                        "you missed too much: {key} events {}-{to} are older than the last {} the server keeps; replaying {kept_from}-{upto}",
                        after + 1,
                        self.len
                    ),
                });
            }
            // The ring is sorted by seq: start at the first one after `after`.
            let start = ring.kept.partition_point(|(s, _)| *s <= after);
            for (s, e) in ring.kept.range(start..) {
                if *s > upto {
                    break;
                }
                if e.meant_for(who) {
                    picked.entry(e.n).or_insert_with(|| e.clone());
                }
            }
        }
        Replay {
            gaps,
            events: picked
                .into_values()
                .map(|e| Arc::new(e.event.clone()))
                .collect(),
        }
    }
}

/// The history keys a broadcast to `target` is recorded under: its named
/// rooms, the ids of live (or detached) connections it names, or `*` for
/// everyone. Ids that name no connection reach no one and are not recorded
/// (so a client cannot make the server keep rings for made-up keys).
pub fn keys_of(rooms: &Rooms, target: &Target) -> Vec<String> {
    if target.rooms.is_empty() {
        return vec![KEY_EVERYONE.to_string()];
    }
    let mut keys: Vec<String> = Vec::with_capacity(target.rooms.len());
    for r in &target.rooms {
        let live = match r.parse::<ConnId>() {
            Ok(id) => rooms.is_connected(id),
            Err(_) => true,
        };
        if live && !keys.contains(r) {
            keys.push(r.clone());
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(text: &str) -> ServerEvent {
        ServerEvent::Message {
            from: ConnId(1),
            nick: "ana".into(),
            to: vec![],
            text: text.into(),
            seq: SeqMap::new(),
        }
    }

    fn texts(r: &Replay) -> Vec<String> {
        r.events
            .iter()
            .map(|e| match &**e {
                ServerEvent::Message { text, .. } => text.clone(),
                other => format!("{other:?}"),
            })
            .collect()
    }

    const NOBODY: Viewer<'static> = Viewer {
        id: ConnId(99),
        rooms: &[],
    };

    #[test]
    fn each_key_counts_its_own_seqs() {
        let mut h = History::new(10);
        let a = h.record(&["a".into()], &[], None, &msg("1"));
        let ab = h.record(&["a".into(), "b".into()], &[], None, &msg("2"));
        assert_eq!(a.seq(), Some(&SeqMap::from([("a".into(), 1)])));
        assert_eq!(
            ab.seq(),
            Some(&SeqMap::from([("a".into(), 2), ("b".into(), 1)]))
        );
        assert_eq!(
            (h.last_seq("a"), h.last_seq("b"), h.last_seq("c")),
            (2, 1, 0)
        );
    }

    #[test]
    fn an_event_in_two_keys_is_replayed_once_in_record_order() {
        let mut h = History::new(10);
        h.record(&["b".into()], &[], None, &msg("b1"));
        h.record(&["a".into(), "b".into()], &[], None, &msg("ab"));
        h.record(&["a".into()], &[], None, &msg("a2"));
        let r = h.replay(&[("a".into(), 0, 2), ("b".into(), 0, 2)], &NOBODY);
        assert_eq!(texts(&r), ["b1", "ab", "a2"]);
        assert!(r.gaps.is_empty());
    }

    #[test]
    fn a_ring_of_three_keeps_the_last_three_and_says_what_is_gone() {
        let mut h = History::new(3);
        for i in 1..=7 {
            h.record(&["a".into()], &[], None, &msg(&format!("m{i}")));
        }
        assert_eq!(h.kept_from("a"), Some(5));
        let r = h.replay(&[("a".into(), 1, 7)], &NOBODY);
        assert_eq!(texts(&r), ["m5", "m6", "m7"]);
        match &r.gaps[..] {
            [ServerEvent::Gap {
                key,
                from,
                to,
                kept_from,
                ..
            }] => assert_eq!((key.as_str(), *from, *to, *kept_from), ("a", 2, 4, 5)),
            other => panic!("{other:?}"),
        }
        // Asking from seq 4: nothing is missing, no gap.
        let r = h.replay(&[("a".into(), 4, 7)], &NOBODY);
        assert!(r.gaps.is_empty());
        assert_eq!(texts(&r), ["m5", "m6", "m7"]);
    }

    #[test]
    fn replay_keeps_the_except_and_self_rules() {
        let mut h = History::new(10);
        let sender = ConnId(1);
        h.record(
            &["*".into()],
            &["quiet".into()],
            None,
            &msg("not for quiet"),
        );
        h.record(&["*".into()], &[], Some(sender), &msg("not for the sender"));
        let quiet_rooms = ["quiet".to_string()];
        let quiet = Viewer {
            id: ConnId(2),
            rooms: &quiet_rooms,
        };
        let wants = [("*".to_string(), 0, 2)];
        assert_eq!(texts(&h.replay(&wants, &quiet)), ["not for the sender"]);
        let me = Viewer {
            id: sender,
            rooms: &[],
        };
        assert_eq!(texts(&h.replay(&wants, &me)), ["not for quiet"]);
        assert_eq!(h.replay(&wants, &NOBODY).events.len(), 2);
    }
}
