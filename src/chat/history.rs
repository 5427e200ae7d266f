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
//! Memory is bounded twice: by count (`len` events per key, at most
//! `max_keys` keys) and, once [`History::with_budget`] attaches it, by
//! bytes: what the kept events take is charged to the server's memory budget
//! (`--max-memory`), and the history may hold at most
//! [`HISTORY_BUDGET_PERCENT`] of it. Past that — or when live connections
//! have spent the budget — the **oldest recorded events are evicted, of any
//! key, until the rest fits**. A history is a cache of the past: losing its
//! oldest events costs a client that was away a `gap` notice, while refusing
//! a live frame to keep them would cost everyone now.
//!
//! [`super::adapter::HistoryAdapter`] plugs this into the hub's broadcast seam: it stamps the seqs, records, then lets the inner
//! adapter deliver. With a file ([`History::open`]) every entry is also
//! appended to an append-only log ([`super::log`]) and the rings are rebuilt
//! from it when the server starts again.

use super::id::ConnId;
use super::log::{Log, LogError, Recovery, DEFAULT_MAX_RECORD};
use super::protocol::{SeqMap, ServerEvent};
use super::rooms::{Rooms, Target};
use crate::guard::Reservation;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Events each history key keeps when `--history-file` is given without `--history`.
pub const DEFAULT_FILE_HISTORY: usize = 1000;
/// How long a disconnected session waits to be resumed (`--session-ttl`).
pub const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(120);
/// Resends of unconfirmed events before the peer is treated as dead (`--confirm-retries`).
pub const DEFAULT_CONFIRM_RETRIES: u32 = 3;

/// Default most history keys that keep a ring (`--history-keys`): rooms and
/// connection ids; `*` (everyone) is always kept.
///
/// Why a bound: a room's ring outlives the room, because its seqs must go on
/// for whoever comes back, so a client that names room after room would make
/// the server keep a ring for every room ever named (30,000 rooms joined and
/// left held +49 MB after the client was gone). 4,096 is far above the rooms
/// and private-message partners of a class, and holds that flood near 12 MB
/// however long it goes on.
/// Past the bound the least recently recorded key is dropped; its last seq is
/// remembered (so its seqs go on), and a client that asks for its events gets
/// `gap`.
pub const DEFAULT_HISTORY_KEYS: usize = 4096;

/// The most of the server's memory budget (`--max-memory`) the history may
/// hold, in percent: 50. The history is a cache of the past; whatever it
/// holds, live traffic (frames arriving, outbound queues) always has the
/// other half. With the default 256 MiB budget that is 128 MiB of history.
pub const HISTORY_BUDGET_PERCENT: usize = 50;

/// What one kept event is charged beyond its JSON text: 640 bytes, for the
/// shared entry, its strings' allocations, its seq map's tree node and the
/// ring slots pointing at it. Measured, not derived: resident memory grew
/// ~785 B per kept event with a 20-byte text (~130 B of JSON) and ~960 B
/// with a 200-byte text (~310 B of JSON) over 20,000 events in one room.
pub const ENTRY_OVERHEAD: usize = 640;

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
    /// Most history keys with a ring; the least recently recorded one is
    /// dropped past it (`--history-keys`).
    pub max_keys: usize,
}

impl Default for HistoryConfig {
    fn default() -> Self {
        Self {
            len: 0,
            max_keys: DEFAULT_HISTORY_KEYS,
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
    /// The last seq before this ring's first entry (above 0 when the key was
    /// dropped once and came back: what came before is gone).
    start: u64,
    /// The record number of the last entry put in: how recently it was used.
    touched: u64,
    /// The highest seq of this key evicted to keep within the memory budget
    /// (0: none), so a `gap` can say why those events are gone.
    evicted_upto: u64,
    kept: VecDeque<(u64, Arc<Entry>)>,
}

/// One entry some ring still keeps: what it is charged, and by how many
/// rings it is kept (it is freed, and its bytes given back, when the last
/// one lets it go).
#[derive(Debug)]
struct Kept {
    entry: Arc<Entry>,
    size: usize,
    rings: usize,
}

/// What the history holds now, and what it gave up to stay within the
/// server's memory budget (`netlab serve --json` reports it when it stops).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct HistoryUsage {
    /// Bytes charged for the events kept now (their JSON plus
    /// [`ENTRY_OVERHEAD`] each; an event in several keys counts once).
    pub bytes: usize,
    /// The most `bytes` has been after any recording.
    pub peak_bytes: usize,
    /// The most the history may hold: [`HISTORY_BUDGET_PERCENT`] of the
    /// budget (`None`: no budget, or a budget without limit).
    pub max_bytes: Option<usize>,
    /// Events kept now (each once, whatever its keys).
    pub events: usize,
    /// Events evicted, oldest first, to stay within the budget.
    pub evicted: u64,
    /// Keys with a ring now (`*` included).
    pub keys: usize,
}

/// What is left of a dropped key: its last seq, so seqs go on where they
/// were and a client asking for what it missed is told it is gone.
#[derive(Debug, Clone, Copy)]
struct Dropped {
    last: u64,
    /// Its place in the order dropped room keys are forgotten in (`None` for
    /// a connection id: those go when their session does).
    order: Option<u64>,
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
/// the file every entry is appended to and the memory budget it is charged to.
///
/// At most `max_keys` keys keep a ring (`*` besides): recording into one more
/// drops the least recently recorded one. Of a dropped key only its last seq
/// is kept (for as many dropped rooms as `max_keys`; beyond that only the
/// highest such seq, `floor`, which every room key new to the history then
/// starts above), so a seq is never handed out twice for a key and a client
/// that missed a dropped key's events gets a `gap`, never a silent nothing.
///
/// With a budget ([`History::with_budget`]) the kept events' bytes are
/// charged to it; when they would pass [`HISTORY_BUDGET_PERCENT`] of it, or
/// the budget is spent, the oldest kept events (of any key) are evicted
/// until the rest fits. Seqs are not affected: a client asking for an
/// evicted event gets a `gap` saying they were evicted for memory.
pub struct History {
    len: usize,
    max_keys: usize,
    rings: HashMap<String, Ring>,
    /// The keys that may be dropped (all but `*`), least recently recorded first.
    lru: BTreeSet<(u64, String)>,
    /// Dropped keys, with their last seq.
    dropped: HashMap<String, Dropped>,
    /// Dropped room keys in the order they were dropped.
    dropped_order: BTreeMap<u64, String>,
    /// Drops so far (numbers `dropped_order`).
    drops: u64,
    /// The highest last seq of a dropped room key that is no longer remembered.
    floor: u64,
    next_n: u64,
    log: Option<Log>,
    log_failed: bool,
    /// Every entry some ring keeps, by record number (oldest first).
    kept: BTreeMap<u64, Kept>,
    /// Bytes charged for `kept` (the sum of their sizes).
    bytes: usize,
    /// The most `bytes` has been after a recording.
    peak_bytes: usize,
    /// The history's share of the server's memory budget, if it has one.
    budget: Option<Reservation>,
    /// The most bytes the history may keep ([`HISTORY_BUDGET_PERCENT`] of the budget).
    max_bytes: Option<usize>,
    /// Entries evicted to stay within the budget.
    evicted: u64,
}

impl std::fmt::Debug for History {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("History")
            .field("len", &self.len)
            .field("keys", &self.rings.len())
            .field("max_keys", &self.max_keys)
            .field("dropped", &self.dropped.len())
            .field("next_n", &self.next_n)
            .field("durable", &self.log.is_some())
            .field("bytes", &self.bytes)
            .field("max_bytes", &self.max_bytes)
            .field("evicted", &self.evicted)
            .finish()
    }
}

impl History {
    /// An in-memory history keeping the last `len` events of each key, for
    /// at most [`DEFAULT_HISTORY_KEYS`] keys (see [`History::with_max_keys`]).
    pub fn new(len: usize) -> Self {
        Self {
            len: len.max(1),
            max_keys: DEFAULT_HISTORY_KEYS,
            rings: HashMap::new(),
            lru: BTreeSet::new(),
            dropped: HashMap::new(),
            dropped_order: BTreeMap::new(),
            drops: 0,
            floor: 0,
            next_n: 1,
            log: None,
            log_failed: false,
            kept: BTreeMap::new(),
            bytes: 0,
            peak_bytes: 0,
            budget: None,
            max_bytes: None,
            evicted: 0,
        }
    }

    /// Charges the kept events to `held`'s budget (the server's
    /// `--max-memory`) and keeps them within [`HISTORY_BUDGET_PERCENT`] of
    /// it, evicting the oldest (of any key) when they would not fit — at
    /// once, if what was read back from a file does not.
    pub fn with_budget(mut self, held: Reservation) -> Self {
        self.max_bytes = match held.budget().max() {
            0 => None, // no limit: still counted, never evicted for memory
            max => Some(max.saturating_mul(HISTORY_BUDGET_PERCENT) / 100),
        };
        self.budget = Some(held);
        self.fit();
        self.peak_bytes = self.bytes;
        self
    }

    /// What the history holds now, and what it evicted.
    pub fn usage(&self) -> HistoryUsage {
        HistoryUsage {
            bytes: self.bytes,
            peak_bytes: self.peak_bytes,
            max_bytes: self.max_bytes,
            events: self.kept.len(),
            evicted: self.evicted,
            keys: self.rings.len(),
        }
    }

    /// A history backed by `path`: rebuilt from every complete record in it
    /// (a torn last record, from a crash mid-write, is cut off; a damaged
    /// record anywhere is refused), then appended to as events are recorded.
    pub fn open(
        len: usize,
        max_keys: usize,
        path: &Path,
    ) -> Result<(Self, Recovery), HistoryError> {
        let mut h = Self::new(len).with_max_keys(max_keys);
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
        let ids: Vec<String> = h
            .rings
            .keys()
            .chain(h.dropped.keys())
            .filter(|k| ConnId::looks_like_id(k))
            .cloned()
            .collect();
        for key in ids {
            h.forget(&key);
        }
        h.log = Some(log);
        Ok((h, recovery))
    }

    /// Events kept per key.
    pub fn capacity(&self) -> usize {
        self.len
    }

    /// At most this many keys keep a ring (`*` besides); at least 1.
    pub fn with_max_keys(mut self, max_keys: usize) -> Self {
        self.max_keys = max_keys.max(1);
        self
    }

    /// The most keys that keep a ring (`*` besides).
    pub fn max_keys(&self) -> usize {
        self.max_keys
    }

    /// How many keys keep a ring now (`*` included).
    pub fn key_count(&self) -> usize {
        self.rings.len()
    }

    /// How many dropped keys are remembered (by their last seq).
    pub fn dropped_count(&self) -> usize {
        self.dropped.len()
    }

    /// The last seq given out in `key` (0: none yet). For a room the history
    /// has no trace of, that is the floor: the highest last seq of a dropped
    /// room it no longer remembers (0 until that happens).
    pub fn last_seq(&self, key: &str) -> u64 {
        if let Some(r) = self.rings.get(key) {
            return r.last;
        }
        if let Some(d) = self.dropped.get(key) {
            return d.last;
        }
        if key == KEY_EVERYONE || ConnId::looks_like_id(key) {
            0 // never dropped without a trace (ids go with their session)
        } else {
            self.floor
        }
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

    /// Puts an entry (new, or read back from the file) into its keys' rings,
    /// then drops the least recently recorded keys past `max_keys`, then
    /// evicts the oldest entries past the memory budget.
    fn insert(&mut self, entry: Entry) {
        self.next_n = self.next_n.max(entry.n + 1);
        let size = json_len(&entry) + ENTRY_OVERHEAD;
        let entry = Arc::new(entry);
        let mut let_go = Vec::new();
        for (key, &s) in entry.seq() {
            if !self.rings.contains_key(key) {
                // New, or back after being dropped: its seqs go on.
                let start = self.last_seq(key);
                self.undrop(key);
                let ring = Ring {
                    last: start,
                    start,
                    ..Ring::default()
                };
                self.rings.insert(key.clone(), ring);
            }
            let ring = self.rings.get_mut(key).expect("inserted above");
            if key != KEY_EVERYONE {
                self.lru.remove(&(ring.touched, key.clone()));
                self.lru.insert((entry.n, key.clone()));
            }
            ring.touched = entry.n;
            ring.last = ring.last.max(s);
            ring.kept.push_back((s, entry.clone()));
            while ring.kept.len() > self.len {
                if let Some((_, old)) = ring.kept.pop_front() {
                    let_go.push(old.n);
                }
            }
        }
        let rings = entry.seq().len();
        if rings > 0 {
            self.kept.insert(
                entry.n,
                Kept {
                    entry: entry.clone(),
                    size,
                    rings,
                },
            );
            self.bytes += size;
        }
        for n in let_go {
            self.let_go(n);
        }
        // The entry's own keys are the most recent: they are dropped last
        // (only if one entry alone names more keys than the limit, they stay).
        while self.lru.len() > self.max_keys {
            match self.lru.first() {
                Some((touched, _)) if *touched < entry.n => {}
                _ => break,
            }
            let Some((_, key)) = self.lru.pop_first() else {
                break;
            };
            if let Some(last) = self.remove_ring(&key) {
                self.bury(key, last);
            }
        }
        self.fit();
        self.peak_bytes = self.peak_bytes.max(self.bytes);
    }

    /// Removes `key`'s ring, letting go of its entries; returns its last seq.
    fn remove_ring(&mut self, key: &str) -> Option<u64> {
        let ring = self.rings.remove(key)?;
        for (_, e) in &ring.kept {
            self.let_go(e.n);
        }
        Some(ring.last)
    }

    /// One ring no longer keeps entry `n`; when none does, it is freed and
    /// its bytes are no longer charged.
    fn let_go(&mut self, n: u64) {
        if let Some(k) = self.kept.get_mut(&n) {
            k.rings -= 1;
            if k.rings == 0 {
                self.bytes -= k.size;
                self.kept.remove(&n);
            }
        }
    }

    /// Evicts the oldest kept entries until the rest is within `max_bytes`
    /// and within what the budget grants; then charges the budget for what
    /// is kept (growing, or giving back). Like an outbound queue, the history
    /// gives way when the budget is spent: it never refuses an event.
    fn fit(&mut self) {
        while self.max_bytes.is_some_and(|max| self.bytes > max) && self.evict_oldest() {}
        let Some(mut held) = self.budget.take() else {
            return;
        };
        if held.hold(self.bytes).is_err() {
            while !held.covers(self.bytes) && self.evict_oldest() {}
            // Now within what is charged already: this only gives back.
            let _ = held.hold(self.bytes);
        }
        self.budget = Some(held);
    }

    /// Evicts the oldest entry still kept from every ring that keeps it (it
    /// is the front of each: rings are in record order); `false` if none is kept.
    fn evict_oldest(&mut self) -> bool {
        let Some((n, kept)) = self.kept.pop_first() else {
            return false;
        };
        for (key, &s) in kept.entry.seq() {
            let Some(ring) = self.rings.get_mut(key) else {
                continue;
            };
            if ring.kept.front().is_some_and(|(_, e)| e.n == n) {
                ring.kept.pop_front();
                ring.evicted_upto = ring.evicted_upto.max(s);
            }
        }
        self.bytes -= kept.size;
        self.evicted += 1;
        true
    }

    /// Remembers a dropped key's last seq; past `max_keys` dropped rooms, the
    /// oldest is forgotten into the floor.
    fn bury(&mut self, key: String, last: u64) {
        let order = if ConnId::looks_like_id(&key) {
            None
        } else {
            self.drops += 1;
            self.dropped_order.insert(self.drops, key.clone());
            Some(self.drops)
        };
        self.dropped.insert(key, Dropped { last, order });
        while self.dropped_order.len() > self.max_keys {
            let Some((_, old)) = self.dropped_order.pop_first() else {
                break;
            };
            if let Some(d) = self.dropped.remove(&old) {
                self.floor = self.floor.max(d.last);
            }
        }
    }

    /// Forgets that `key` was dropped (it has a ring again, or is gone for good).
    fn undrop(&mut self, key: &str) {
        if let Some(d) = self.dropped.remove(key) {
            if let Some(order) = d.order {
                self.dropped_order.remove(&order);
            }
        }
    }

    /// Drops a key's ring and any trace of it (a connection id whose session
    /// is gone: ids are never reused).
    pub fn forget(&mut self, key: &str) {
        if let Some(ring) = self.rings.get(key) {
            self.lru.remove(&(ring.touched, key.to_string()));
            self.remove_ring(key);
            self.fit();
        }
        self.undrop(key);
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
            // A key without a ring was dropped: everything after `after` is gone.
            let ring = self.rings.get(key);
            let kept_from = ring
                .and_then(|r| r.kept.front())
                .map_or(upto + 1, |(s, _)| *s);
            if after + 1 < kept_from {
                let (from, to) = (after + 1, (kept_from - 1).min(upto));
                let replaying = if kept_from <= upto {
                    format!("replaying {kept_from}-{upto}")
                } else {
                    "nothing of it is left to replay".to_string()
                };
                let why = if ring.map_or(true, |r| to <= r.start) {
                    format!(
                        "are gone: the server keeps the history of at most {} keys and dropped this one's (it had not been used for longest)",
                        self.max_keys
                    )
                } else if ring.is_some_and(|r| from <= r.evicted_upto) {
                    "were evicted, oldest first, to keep the history within its share of the server's memory (--max-memory)".to_string()
                } else {
                    format!("are older than the last {} the server keeps", self.len)
                };
                gaps.push(ServerEvent::Gap {
                    key: key.clone(),
                    from,
                    to,
                    kept_from,
                    message: format!(
                        "you missed too much: {key} events {from}-{to} {why}; {replaying}"
                    ),
                });
            }
            let Some(ring) = ring else {
                continue;
            };
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

/// Bytes of `entry` as JSON, counted without building the text.
fn json_len(entry: &Entry) -> usize {
    /// A writer that only counts what it is given.
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    serde_json::to_writer(&mut count, entry).expect("entries always serialize");
    count.0
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

    fn gap_of(r: &Replay) -> (String, u64, u64, u64, String) {
        match &r.gaps[..] {
            [ServerEvent::Gap {
                key,
                from,
                to,
                kept_from,
                message,
            }] => (key.clone(), *from, *to, *kept_from, message.clone()),
            other => panic!("one gap expected: {other:?}"),
        }
    }

    #[test]
    fn past_the_key_limit_the_least_recently_recorded_key_is_dropped_and_its_seqs_go_on() {
        let mut h = History::new(10).with_max_keys(2);
        h.record(&["a".into()], &[], None, &msg("a1"));
        h.record(&["b".into()], &[], None, &msg("b1"));
        h.record(&["a".into()], &[], None, &msg("a2")); // a is now the most recent
        h.record(&["*".into()], &[], None, &msg("all")); // `*` is not counted
        h.record(&["c".into()], &[], None, &msg("c1")); // drops b
        assert_eq!(h.key_count(), 3, "a, c and *");
        assert_eq!((h.kept_from("b"), h.last_seq("b")), (None, 1));
        // Who missed b's event is told it is gone, and why.
        let r = h.replay(&[("b".into(), 0, 1)], &NOBODY);
        let (key, from, to, kept_from, message) = gap_of(&r);
        assert_eq!((key.as_str(), from, to, kept_from), ("b", 1, 1, 2));
        assert!(message.contains("at most 2 keys"), "{message}");
        assert!(message.contains("nothing of it is left"), "{message}");
        assert!(r.events.is_empty());
        // b comes back: its seqs go on (2, not 1 again), and a replay from 0
        // tells the dropped part apart from what is kept.
        let b2 = h.record(&["b".into()], &[], None, &msg("b2")); // drops a
        assert_eq!(b2.seq(), Some(&SeqMap::from([("b".into(), 2)])));
        let r = h.replay(&[("b".into(), 0, 2)], &NOBODY);
        assert_eq!(gap_of(&r).1..=gap_of(&r).2, 1..=1);
        assert!(gap_of(&r).4.contains("replaying 2-2"), "{}", gap_of(&r).4);
        assert_eq!(texts(&r), ["b2"]);
        assert_eq!(h.last_seq("a"), 2, "a's last seq is remembered");
        assert!(h.replay(&[("a".into(), 2, 2)], &NOBODY).gaps.is_empty());
    }

    #[test]
    fn one_event_to_more_rooms_than_the_limit_keeps_them_all_until_the_next() {
        let mut h = History::new(10).with_max_keys(1);
        h.record(&["x".into(), "y".into()], &[], None, &msg("both"));
        assert_eq!(h.key_count(), 2);
        assert_eq!(texts(&h.replay(&[("y".into(), 0, 1)], &NOBODY)), ["both"]);
        h.record(&["z".into()], &[], None, &msg("z"));
        assert_eq!(h.key_count(), 1);
    }

    #[test]
    fn forgotten_dropped_rooms_raise_the_floor_new_rooms_start_above() {
        let mut h = History::new(10).with_max_keys(1);
        for _ in 0..3 {
            h.record(&["a".into()], &[], None, &msg("a"));
        }
        h.record(&["b".into()], &[], None, &msg("b")); // drops a (last 3)
        h.record(&["c".into()], &[], None, &msg("c")); // drops b; a forgotten: floor 3
        assert_eq!(h.dropped_count(), 1, "only b's last seq is remembered");
        assert_eq!(h.last_seq("a"), 3, "a is under the floor");
        assert_eq!(h.last_seq("never-seen"), 3);
        let d = h.record(&["d".into()], &[], None, &msg("d"));
        assert_eq!(d.seq(), Some(&SeqMap::from([("d".into(), 4)])));
        // A client that saw a's seq 1 is told 2..3 may be gone.
        let (_, from, to, kept_from, _) = gap_of(&h.replay(&[("a".into(), 1, 3)], &NOBODY));
        assert_eq!((from, to, kept_from), (2, 3, 4));
        // Ids are never under the floor: theirs is their own, until forgotten.
        let id = ConnId(5).to_hex();
        h.record(std::slice::from_ref(&id), &[], None, &msg("psst"));
        h.record(&["e".into()], &[], None, &msg("e")); // drops the id key
        h.record(&["f".into()], &[], None, &msg("f"));
        h.record(&["g".into()], &[], None, &msg("g"));
        assert_eq!(h.last_seq(&id), 1, "a dropped id keeps its last seq");
        h.forget(&id);
        assert_eq!(h.last_seq(&id), 0);
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

    // --- the memory budget -------------------------------------------------

    use crate::guard::memory::{GRANULE, UNCHARGED};
    use crate::guard::MemoryBudget;

    const KIB: usize = 1024;

    /// A message whose text is `fill` bytes long, tagged `tag` at the front.
    fn big(tag: &str, fill: usize) -> ServerEvent {
        let mut text = format!("{tag} ");
        text.push_str(&".".repeat(fill));
        msg(&text)
    }

    fn tags(r: &Replay) -> Vec<String> {
        texts(r)
            .iter()
            .map(|t| t.split(' ').next().unwrap_or_default().to_string())
            .collect()
    }

    #[test]
    fn past_its_share_of_the_budget_the_oldest_events_of_any_key_go_and_seqs_go_on() {
        // 256 KiB of budget: the history may keep 128 KiB, about 31 events of 4 KiB.
        let budget = MemoryBudget::new(256 * KIB);
        let mut h = History::new(1000).with_budget(budget.reservation());
        let max = h.usage().max_bytes.expect("a budget with a limit");
        assert_eq!(max, 256 * KIB * HISTORY_BUDGET_PERCENT / 100);
        // 100 events of 4 KiB, alternating between two rooms: far past the share,
        // far below --history, so only the budget evicts.
        for i in 1..=100 {
            let room = if i % 2 == 0 { "even" } else { "odd" };
            h.record(&[room.into()], &[], None, &big(&format!("m{i}"), 4 * KIB));
            let u = h.usage();
            assert!(u.bytes <= max, "after {i}: {} > {max}", u.bytes);
            assert!(
                budget.used() <= u.bytes,
                "the budget is charged at most what is kept"
            );
        }
        let u = h.usage();
        assert!(u.evicted > 0 && u.events > 0, "{u:?}");
        assert_eq!(
            u.evicted + u.events as u64,
            100,
            "each event kept or evicted, once"
        );
        assert!(u.peak_bytes <= max);
        // What is kept is the newest, in both rooms, with its own seqs.
        let kept_from_even = h.kept_from("even").unwrap();
        let kept_from_odd = h.kept_from("odd").unwrap();
        assert_eq!(h.last_seq("even"), 50);
        assert_eq!(h.last_seq("odd"), 50);
        // m(2s) is even's seq s, m(2s-1) odd's: the oldest kept of both rooms are
        // neighbours in record order (eviction went by age, not by room).
        let oldest_even = 2 * kept_from_even;
        let oldest_odd = 2 * kept_from_odd - 1;
        assert_eq!(
            oldest_even.abs_diff(oldest_odd),
            1,
            "{oldest_even} {oldest_odd}"
        );
        let r = h.replay(&[("even".into(), 0, 50)], &NOBODY);
        let expected: Vec<String> = (kept_from_even..=50)
            .map(|s| format!("m{}", 2 * s))
            .collect();
        assert_eq!(tags(&r), expected, "the newest, in order");
        // Who asks for the evicted part gets a gap saying why, then the rest.
        let (key, from, to, kept_from, message) = gap_of(&r);
        assert_eq!(
            (key.as_str(), from, to, kept_from),
            ("even", 1, kept_from_even - 1, kept_from_even)
        );
        assert!(message.contains("evicted"), "{message}");
        assert!(message.contains("--max-memory"), "{message}");
        // Seqs go on where they were.
        let next = h.record(&["even".into()], &[], None, &msg("next"));
        assert_eq!(next.seq(), Some(&SeqMap::from([("even".into(), 51)])));
        // A client that saw everything but the last event needs no gap.
        let r = h.replay(&[("even".into(), 50, 51)], &NOBODY);
        assert!(r.gaps.is_empty());
        assert_eq!(texts(&r), ["next"]);
    }

    #[test]
    fn when_connections_have_spent_the_budget_the_history_gives_way_and_grows_back() {
        let budget = MemoryBudget::new(64 * KIB);
        let mut h = History::new(1000).with_budget(budget.reservation());
        // A connection holds a frame of 60 KiB: 4 KiB of the budget are left.
        let mut frame = budget.reservation();
        frame.hold(UNCHARGED + 60 * KIB).unwrap();
        for i in 0..20 {
            h.record(&["a".into()], &[], None, &big(&format!("m{i}"), 2 * KIB));
            assert!(budget.used() <= 64 * KIB);
        }
        // What fits: the uncharged 4 KiB and the one free granule.
        let squeezed = h.usage();
        assert!(squeezed.bytes <= UNCHARGED + GRANULE, "{squeezed:?}");
        assert!(squeezed.events >= 1, "the newest is kept: {squeezed:?}");
        assert_eq!(tags(&h.replay(&[("a".into(), 19, 20)], &NOBODY)), ["m19"]);
        // The frame is done: the history may grow again, up to its share.
        drop(frame);
        for i in 20..40 {
            h.record(&["a".into()], &[], None, &big(&format!("m{i}"), 2 * KIB));
        }
        let grown = h.usage();
        assert!(grown.bytes > squeezed.bytes * 4, "{grown:?}");
        assert!(grown.bytes <= 32 * KIB);
        assert_eq!(h.last_seq("a"), 40);
    }

    #[test]
    fn a_history_read_back_past_the_budget_is_trimmed_to_it_at_once() {
        let mut h = History::new(1000);
        for i in 0..50 {
            h.record(
                &["a".into(), "b".into()],
                &[],
                None,
                &big(&format!("m{i}"), KIB),
            );
        }
        let unbounded = h.usage();
        assert_eq!(
            (unbounded.max_bytes, unbounded.evicted, unbounded.events),
            (None, 0, 50)
        );
        let budget = MemoryBudget::new(32 * KIB);
        let h = h.with_budget(budget.reservation());
        let u = h.usage();
        assert!(u.bytes <= 16 * KIB && u.evicted > 0, "{u:?}");
        assert_eq!(
            budget.used(),
            (u.bytes.saturating_sub(UNCHARGED)).div_ceil(GRANULE) * GRANULE
        );
        // The entry in two keys was charged once and left both rings together.
        assert_eq!(h.kept_from("a"), h.kept_from("b"));
        // Dropping the history gives its budget back.
        drop(h);
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn ring_overflow_dropped_keys_and_forgotten_ids_give_their_bytes_back() {
        let mut h = History::new(2).with_max_keys(1);
        h.record(&["a".into()], &[], None, &msg("a1"));
        let one = h.usage().bytes;
        h.record(&["a".into()], &[], None, &msg("a2"));
        h.record(&["a".into()], &[], None, &msg("a3")); // a1 leaves the ring of 2
        assert_eq!((h.usage().events, h.usage().bytes), (2, 2 * one));
        h.record(&["b".into()], &[], None, &msg("b1")); // drops a
        assert_eq!((h.usage().events, h.usage().bytes), (1, one));
        let id = ConnId(7).to_hex();
        h.record(std::slice::from_ref(&id), &[], None, &msg("id"));
        h.forget(&id);
        assert_eq!(
            (h.usage().events, h.usage().bytes, h.usage().evicted),
            (0, 0, 0)
        );
    }
}
