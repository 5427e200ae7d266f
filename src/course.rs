//! The course: the lesson table, lesson texts, and grading a student's exercise.
//!
//! Every lesson lives in `lessons/NN-topic/`: `README.md` (the lesson, embedded
//! here so `netlab lesson NN` works from anywhere), `exercise.rs` (functions
//! with placeholder bodies for the student to fill in) and `tests.rs` (the grader).
//! `tests/lessons.rs` runs every grader against the library — the reference
//! solution — and `tests/exercises.rs` (cargo feature `exercises`) runs it
//! against the student's file. `netlab check NN` runs the latter for one lesson.

use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One exercise: what the student writes, and the hint shown when the grader fails.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Exercise {
    /// What to implement, in one line.
    pub task: &'static str,
    /// What to look at when the grader fails.
    pub hint: &'static str,
    /// The exercise file as shipped, to tell an untouched file from one being worked on.
    #[serde(skip)]
    pub original: &'static str,
}

/// One numbered lesson of the course.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Lesson {
    /// Its number, 0 to 12.
    pub number: u8,
    /// Its folder under `lessons/`, e.g. `02-framing`.
    pub dir: &'static str,
    /// Its title.
    pub title: &'static str,
    /// The lesson text (Markdown), or `None` while it is still being written.
    #[serde(skip)]
    pub text: Option<&'static str>,
    /// The examples to run, as `cargo run --example NAME` names.
    pub examples: &'static [&'static str],
    /// The exercise, if the lesson has one yet.
    pub exercise: Option<Exercise>,
}

impl Lesson {
    /// Whether the lesson text exists yet.
    pub fn is_ready(&self) -> bool {
        self.text.is_some()
    }

    /// The name of the lesson's test module in `tests/exercises.rs`, e.g. `lesson_02`.
    pub fn test_module(&self) -> String {
        format!("lesson_{:02}", self.number)
    }
}

/// The course, in order. A lesson still being written has `text: None`.
pub const LESSONS: &[Lesson] = &[
    Lesson {
        number: 0,
        dir: "00-models",
        title: "Vocabulary and the layer models (OSI, TCP/IP)",
        text: Some(include_str!("../lessons/00-models/README.md")),
        examples: &["00_layers"],
        exercise: Some(Exercise {
            task: "place protocols and header fields into the OSI and TCP/IP layers",
            hint: "Ask what each protocol *addresses*: a MAC address moves a frame across one link (L2), an IP address moves a packet across the Internet (L3), a port picks a process (L4). Everything a program speaks itself (HTTP, DNS, WebSocket) is L7. Run `netlab layers` to see the picture.",
            original: include_str!("../lessons/00-models/exercise.rs"),
        }),
    },
    Lesson {
        number: 1,
        dir: "01-tcp",
        title: "TCP sockets and echo; a stream has no message boundaries",
        text: Some(include_str!("../lessons/01-tcp/README.md")),
        examples: &["01_no_boundaries", "01_echo"],
        exercise: Some(Exercise {
            task: "write_all and read_exact by hand: loop until every byte has moved",
            hint: "One call to read or write may move fewer bytes than you asked for. Keep a slice of what is left, shrink it by what each call moved, retry on ErrorKind::Interrupted, and treat 0 as the end: WriteZero for a writer, UnexpectedEof for a reader.",
            original: include_str!("../lessons/01-tcp/exercise.rs"),
        }),
    },
    Lesson {
        number: 2,
        dir: "02-framing",
        title: "Framing with a length prefix",
        text: Some(include_str!("../lessons/02-framing/README.md")),
        examples: &["02_framing"],
        exercise: Some(Exercise {
            task: "encode and decode length-prefixed frames, edge cases included",
            hint: "The length is 4 bytes, big-endian (u32::to_be_bytes). Fewer than 4 + length bytes is not an error: return Ok(None) and leave the buffer as it was. Check the announced length against the maximum *before* waiting for (or allocating) the payload.",
            original: include_str!("../lessons/02-framing/exercise.rs"),
        }),
    },
    Lesson {
        number: 3,
        dir: "03-chat",
        title: "Chat: broadcast to all, and to all but the sender",
        text: Some(include_str!("../lessons/03-chat/README.md")),
        examples: &["03_broadcast"],
        exercise: Some(Exercise {
            task: "who hears an emit to everyone, and the first checks on a client frame",
            hint: "For `everyone`, filter the list: drop the sender's id only when include_sender is false. For `event_header`, parse into serde_json::Value and check in the order the doc comment gives: JSON, object, ack (`as_u64`), event is a string, event is one of the six names.",
            original: include_str!("../lessons/03-chat/exercise.rs"),
        }),
    },
    Lesson {
        number: 4,
        dir: "04-rooms",
        title: "Rooms, the default room, disconnecting",
        text: Some(include_str!("../lessons/04-rooms/README.md")),
        examples: &["04_rooms"],
        exercise: Some(Exercise {
            task: "keep the membership table (join, leave, disconnect) and compute who a broadcast reaches",
            hint: "Delete a room when its last member leaves. For recipients: start from everyone (no target rooms) or the union of the target rooms' members — `room.parse::<ConnId>()` succeeds for an id room, which holds that connection only if it is in `connected` — then remove the except rooms' members and `skip`.",
            original: include_str!("../lessons/04-rooms/exercise.rs"),
        }),
    },
    Lesson {
        number: 5,
        dir: "05-udp",
        title: "UDP datagrams: loss made visible",
        text: Some(include_str!("../lessons/05-udp/README.md")),
        examples: &["05_loss_visible"],
        exercise: Some(Exercise {
            task: "track one sender's sequence numbers: in order, gaps, late arrivals, duplicates",
            hint: "Check `seen` first: a number seen before is a duplicate whatever its value. Otherwise compare with `next_expected`: equal is in order, above is a gap (missing next_expected..=seq-1), below is late. Only a new highest moves `next_expected` (to seq + 1); a late arrival never moves it back.",
            original: include_str!("../lessons/05-udp/exercise.rs"),
        }),
    },
    Lesson {
        number: 6,
        dir: "06-tcp-vs-udp",
        title: "TCP vs UDP under the same conditions",
        text: Some(include_str!("../lessons/06-tcp-vs-udp/README.md")),
        examples: &["06_tcp_vs_udp"],
        exercise: Some(Exercise {
            task: "RFC 3550's loss fraction and interarrival jitter",
            hint: "fraction_lost: return 0 when expected is 0 or received >= expected, else ((expected - received) << 8) / expected, capped at 255. Jitter: J + (|D| - J) / 16 in f64. Over samples: transit = arrival.wrapping_sub(sent); the first sample only sets the previous transit; D = transit.wrapping_sub(previous) as i32, so a wrapped clock still gives a small D.",
            original: include_str!("../lessons/06-tcp-vs-udp/exercise.rs"),
        }),
    },
    Lesson {
        number: 7,
        dir: "07-missed-events",
        title: "Missed events: acks, retries, heartbeats, replay",
        text: Some(include_str!("../lessons/07-missed-events/README.md")),
        examples: &["07_reliable_udp", "07_missed_events"],
        exercise: Some(Exercise {
            task: "the receiver's de-duplication and reordering buffer; the RFC 6298 RTO estimator",
            hint: "offer: below next_expected or already in `held` is a Duplicate (check that first); then `seq - next_expected >= window` is OutOfWindow (subtract, never add, so u64::MAX cannot overflow). pop: remove held[next_expected] and only then advance. RTO: first sample SRTT = r, RTTVAR = r / 2; later RTTVAR = (RTTVAR * 3 + |SRTT - r|) / 4 BEFORE SRTT = (SRTT * 7 + r) / 8; RTO = SRTT + max(granularity, RTTVAR * 4), then clamp(min, max). on_timeout: (rto * 2).min(max).",
            original: include_str!("../lessons/07-missed-events/exercise.rs"),
        }),
    },
    Lesson {
        number: 8,
        dir: "08-websocket-handshake",
        title: "HTTP and the WebSocket handshake",
        text: Some(include_str!("../lessons/08-websocket-handshake/README.md")),
        examples: &["08_handshake"],
        exercise: Some(Exercise {
            task: "compute Sec-WebSocket-Accept and find tokens in header lists",
            hint: "accept = base64(SHA-1(key + \"258EAFA5-E914-47DA-95CA-C5AB0DC85B11\")): hash the key as text (trimmed), do not base64-decode it first; encode the 20-byte digest with base64's STANDARD engine. For token lists, split on ',', trim each piece and compare with eq_ignore_ascii_case — whole tokens only.",
            original: include_str!("../lessons/08-websocket-handshake/exercise.rs"),
        }),
    },
    Lesson {
        number: 9,
        dir: "09-websocket-frames",
        title: "WebSocket frames",
        text: Some(include_str!("../lessons/09-websocket-frames/README.md")),
        examples: &["09_frames"],
        exercise: Some(Exercise {
            task: "decode and encode a frame header; unmask a payload",
            hint: "The header's length depends on byte 1: 7-bit length 126 adds 2 bytes, 127 adds 8, MASK adds 4 — compute the total before reading, and return Ok(None) while src is shorter. Lengths are big-endian (u16/u64::from_be_bytes); the 64-bit one must have its top bit clear. Encode with the shortest form: <=125, <=65535, else 64-bit. Masking: buf[i] ^= key[i % 4].",
            original: include_str!("../lessons/09-websocket-frames/exercise.rs"),
        }),
    },
    Lesson {
        number: 10,
        dir: "10-browser-socketio",
        title: "Chat in the browser, and what Socket.IO does on the wire",
        text: Some(include_str!("../lessons/10-browser-socketio/README.md")),
        examples: &["10_socketio"],
        exercise: Some(Exercise {
            task: "join and split HTTP long-polling payloads (\\x1e between packets, b + base64 for binary), and step the polling → WebSocket upgrade",
            hint: "A payload is the pieces between separators: work out what `split` hands you for an empty body or a separator at the end, and count pieces before you look inside one. Only a piece's first byte can make it binary, and the base64 has an alphabet and padding to get right. For the upgrade, draw the table (three states down, four events across) and fill the few allowed cells first; the capture in the lesson shows which requests a client still sends while its WebSocket is being probed.",
            original: include_str!("../lessons/10-browser-socketio/exercise.rs"),
        }),
    },
    Lesson {
        number: 11,
        dir: "11-inspector",
        title: "The packet inspector: every byte and its layer",
        text: Some(include_str!("../lessons/11-inspector/README.md")),
        examples: &["11_inspect"],
        exercise: Some(Exercise {
            task: "decode an IPv4 header and TCP flags; say which layer a byte of a frame belongs to",
            hint: "IPv4 byte 0 is two nibbles: version (>> 4) and IHL (& 0x0f, in 4-byte words). Multi-byte fields are big-endian (u16::from_be_bytes). Check the rules in the order the doc comment lists them. For the layer of a byte, walk the headers: Ethernet is 14 bytes, IPv4 is IHL × 4, TCP is (byte 12 >> 4) × 4, UDP is 8; what is left is the application's.",
            original: include_str!("../lessons/11-inspector/exercise.rs"),
        }),
    },
    Lesson {
        number: 12,
        dir: "12-many-servers",
        title: "Many servers: rooms across machines over Redis",
        text: Some(include_str!("../lessons/12-many-servers/README.md")),
        examples: &["12_many_servers"],
        exercise: Some(Exercise {
            task: "the channel a broadcast goes on, MessagePack string and array headers, and which local members a broadcast from another server reaches",
            hint: "Channels: how many rooms make a room worth a channel of its own, and what does a server with nobody in that room gain from it? MessagePack: the spec's \"str format family\" and \"array format family\" tables: the first byte says the type, and holds the length too while it fits (31 bytes for a string, 15 items for an array); past that a type byte and a 1-, 2- or 4-byte big-endian length, the smallest that holds it — and a string's length is in bytes, not characters. Recipients: what did this server already do with a broadcast it published itself, before Redis handed it back? The rest is lesson 04's recipients with nobody to skip; an id room is only someone here if that connection is connected here.",
            original: include_str!("../lessons/12-many-servers/exercise.rs"),
        }),
    },
];

/// The lesson with this number.
pub fn lesson(number: u8) -> Option<&'static Lesson> {
    LESSONS.iter().find(|l| l.number == number)
}

/// Where the student stands on one exercise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExerciseStatus {
    /// The file is still exactly as shipped.
    NotStarted,
    /// The file was edited but `netlab check` has not passed since the last edit.
    InProgress,
    /// `netlab check` passed on the file as it is now.
    Passed,
    /// The lessons folder was not found (netlab was run outside its source tree).
    Unknown,
}

impl ExerciseStatus {
    /// A short label for tables.
    pub fn label(self) -> &'static str {
        match self {
            ExerciseStatus::NotStarted => "not started",
            ExerciseStatus::InProgress => "in progress",
            ExerciseStatus::Passed => "passed",
            ExerciseStatus::Unknown => "-",
        }
    }
}

/// The source tree to grade in: `$NETLAB_ROOT`, else the nearest folder above
/// the current one holding `Cargo.toml` and `lessons/`, else the tree netlab was
/// built from, if it still exists.
pub fn project_root() -> Option<PathBuf> {
    if let Some(root) = std::env::var_os("NETLAB_ROOT") {
        return Some(PathBuf::from(root));
    }
    let is_root = |p: &Path| p.join("Cargo.toml").is_file() && p.join("lessons").is_dir();
    if let Ok(cwd) = std::env::current_dir() {
        if let Some(found) = cwd.ancestors().find(|p| is_root(p)) {
            return Some(found.to_path_buf());
        }
    }
    let built_from = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    is_root(&built_from).then_some(built_from)
}

/// The student's exercise file for `lesson` under `root`.
pub fn exercise_path(root: &Path, lesson: &Lesson) -> PathBuf {
    root.join("lessons").join(lesson.dir).join("exercise.rs")
}

/// Where `netlab check` remembers which exercise files passed.
fn progress_path(root: &Path) -> PathBuf {
    root.join("target").join("netlab-progress.json")
}

/// A fingerprint of a file's contents, so a pass is forgotten when the file changes.
fn fingerprint(text: &str) -> u64 {
    // FNV-1a: tiny, stable across runs and Rust versions, enough to notice an edit.
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    text.bytes()
        .fold(OFFSET, |h, b| (h ^ u64::from(b)).wrapping_mul(PRIME))
}

fn read_progress(root: &Path) -> serde_json::Map<String, serde_json::Value> {
    std::fs::read(progress_path(root))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Records that `lesson`'s exercise passed as its file is now (best effort).
pub fn record_pass(root: &Path, lesson: &Lesson) {
    let Ok(text) = std::fs::read_to_string(exercise_path(root, lesson)) else {
        return;
    };
    let mut progress = read_progress(root);
    progress.insert(lesson.dir.to_string(), fingerprint(&text).into());
    if let Ok(json) = serde_json::to_vec_pretty(&progress) {
        let _ = std::fs::create_dir_all(root.join("target"));
        let _ = std::fs::write(progress_path(root), json);
    }
}

/// Where the student stands on `lesson`'s exercise in the tree at `root`.
pub fn exercise_status(root: Option<&Path>, lesson: &Lesson) -> ExerciseStatus {
    let Some(root) = root else {
        return ExerciseStatus::Unknown;
    };
    let Ok(text) = std::fs::read_to_string(exercise_path(root, lesson)) else {
        return ExerciseStatus::Unknown;
    };
    let passed = read_progress(root)
        .get(lesson.dir)
        .and_then(|v| v.as_u64())
        .is_some_and(|fp| fp == fingerprint(&text));
    if passed {
        ExerciseStatus::Passed
    } else if lesson
        .exercise
        .is_some_and(|e| e.original.trim() == text.trim())
    {
        ExerciseStatus::NotStarted
    } else {
        ExerciseStatus::InProgress
    }
}

/// The command that grades one lesson's exercise (`cargo test` on the
/// `exercises` target, filtered to that lesson's module).
pub fn grader_command(root: &Path, lesson: &Lesson, color: bool) -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root).args([
        "test",
        "--quiet",
        "--features",
        "exercises",
        "--test",
        "exercises",
        "--color",
        if color { "always" } else { "never" },
        "--",
        &format!("{}::", lesson.test_module()),
        "--color",
        if color { "always" } else { "never" },
    ]);
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lessons_are_numbered_in_order_and_dirs_match() {
        for (i, l) in LESSONS.iter().enumerate() {
            assert_eq!(usize::from(l.number), i);
            assert!(l.dir.starts_with(&format!("{:02}-", l.number)), "{}", l.dir);
        }
    }

    #[test]
    fn ready_lessons_have_text_and_their_examples_exist() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        for l in LESSONS.iter().filter(|l| l.is_ready()) {
            assert!(root.join("lessons").join(l.dir).join("README.md").is_file());
            for ex in l.examples {
                assert!(
                    root.join("examples").join(format!("{ex}.rs")).is_file(),
                    "lesson {} names example {ex}, which is missing",
                    l.number
                );
            }
            if l.exercise.is_some() {
                assert!(exercise_path(root, l).is_file());
                assert!(root.join("lessons").join(l.dir).join("tests.rs").is_file());
            }
        }
    }

    #[test]
    fn fingerprint_notices_an_edit() {
        assert_ne!(fingerprint("a()"), fingerprint("a( )"));
        assert_eq!(fingerprint("same"), fingerprint("same"));
    }
}
