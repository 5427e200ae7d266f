//! The course: the lesson table, lesson texts, and grading a student's exercise.
//!
//! Every lesson lives in `lessons/NN-topic/`: `README.md` (the lesson, embedded
//! here so `netlab lesson NN` works from anywhere), `exercise.rs` (functions
//! with placeholder bodies for the student to fill in), `tests.rs` (the
//! grader) and `hints.md`. `tests/lessons.rs` runs every grader against the
//! library — the reference solution — and the `exercises/` crate runs each
//! one against the student's file, one test target per lesson, so a save
//! recompiles that lesson alone. The library never embeds a student's file.
//!
//! | module | what it does |
//! |---|---|
//! | [`progress`] | not started / in progress / passed, kept in `.netlab-progress.json` |
//! | [`grade`] | runs one lesson's grader and reads its results |
//! | [`hexdiff`] | byte strings compared in hex with offsets, for graders (`assert_bytes_eq!`) |
//! | [`report`] | what a student reads after a check: first failure first, then a summary and a nudge |
//! | [`hints`] | the hint levels of a lesson |
//! | [`predict`] | questions to answer before running an experiment, and which answers held |
//! | [`watch`] | `netlab watch`: check on every save |

pub mod grade;
pub mod hexdiff;
pub mod hints;
pub mod predict;
pub mod progress;
pub mod report;
pub mod watch;

use serde::Serialize;
use std::path::{Path, PathBuf};

/// One exercise: what the student writes, and the hints for when they are stuck.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Exercise {
    /// What to implement, in one line.
    pub task: &'static str,
    /// The lesson's `hints.md`: hints from a question to the approach, shown
    /// one more at a time by `netlab hint NN` (see [`hints`]).
    #[serde(skip)]
    pub hints: &'static str,
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
    /// The lesson's `predict.json`: questions to answer before its
    /// experiment runs (see [`predict`]).
    #[serde(skip)]
    pub predict: Option<&'static str>,
}

impl Lesson {
    /// Whether the lesson text exists yet.
    pub fn is_ready(&self) -> bool {
        self.text.is_some()
    }

    /// The name of the lesson's test target in the `exercises/` crate, e.g. `lesson_02`.
    pub fn test_target(&self) -> String {
        format!("lesson_{:02}", self.number)
    }
}

/// The course, in order. A lesson still being written has `text: None`.
pub const LESSONS: &[Lesson] = &[
    Lesson {
        number: 0,
        dir: "00-models",
        title: "Vocabulary and the layer models (OSI, TCP/IP)",
        text: Some(include_str!("../../lessons/00-models/README.md")),
        examples: &["00_layers", "00_both_ways", "00_push_vs_poll"],
        predict: Some(include_str!("../../lessons/00-models/predict.json")),
        exercise: Some(Exercise {
            task: "place protocols and header fields into the OSI and TCP/IP layers",
            hints: include_str!("../../lessons/00-models/hints.md"),
        }),
    },
    Lesson {
        number: 1,
        dir: "01-tcp",
        title: "TCP sockets and echo; a stream has no message boundaries",
        text: Some(include_str!("../../lessons/01-tcp/README.md")),
        examples: &["01_no_boundaries", "01_echo"],
        predict: Some(include_str!("../../lessons/01-tcp/predict.json")),
        exercise: Some(Exercise {
            task: "write_all and read_exact by hand: loop until every byte has moved; then a TCP echo server on a real socket",
            hints: include_str!("../../lessons/01-tcp/hints.md"),
        }),
    },
    Lesson {
        number: 2,
        dir: "02-framing",
        title: "Framing with a length prefix",
        text: Some(include_str!("../../lessons/02-framing/README.md")),
        examples: &["02_framing"],
        predict: Some(include_str!("../../lessons/02-framing/predict.json")),
        exercise: Some(Exercise {
            task: "encode and decode length-prefixed frames, edge cases included",
            hints: include_str!("../../lessons/02-framing/hints.md"),
        }),
    },
    Lesson {
        number: 3,
        dir: "03-chat",
        title: "Chat: broadcast to all, and to all but the sender",
        text: Some(include_str!("../../lessons/03-chat/README.md")),
        examples: &["03_broadcast"],
        predict: Some(include_str!("../../lessons/03-chat/predict.json")),
        exercise: Some(Exercise {
            task: "who hears an emit to everyone, and the first checks on a client frame",
            hints: include_str!("../../lessons/03-chat/hints.md"),
        }),
    },
    Lesson {
        number: 4,
        dir: "04-rooms",
        title: "Rooms, the default room, disconnecting",
        text: Some(include_str!("../../lessons/04-rooms/README.md")),
        examples: &["04_rooms"],
        predict: Some(include_str!("../../lessons/04-rooms/predict.json")),
        exercise: Some(Exercise {
            task: "keep the membership table (join, leave, disconnect) and compute who a broadcast reaches",
            hints: include_str!("../../lessons/04-rooms/hints.md"),
        }),
    },
    Lesson {
        number: 5,
        dir: "05-udp",
        title: "UDP datagrams: loss made visible",
        text: Some(include_str!("../../lessons/05-udp/README.md")),
        examples: &["05_loss_visible"],
        predict: Some(include_str!("../../lessons/05-udp/predict.json")),
        exercise: Some(Exercise {
            task: "track one sender's sequence numbers: in order, gaps, late arrivals, duplicates; then a UDP pinger that reports loss and RTT",
            hints: include_str!("../../lessons/05-udp/hints.md"),
        }),
    },
    Lesson {
        number: 6,
        dir: "06-tcp-vs-udp",
        title: "TCP vs UDP under the same conditions",
        text: Some(include_str!("../../lessons/06-tcp-vs-udp/README.md")),
        examples: &["06_tcp_vs_udp"],
        predict: Some(include_str!("../../lessons/06-tcp-vs-udp/predict.json")),
        exercise: Some(Exercise {
            task: "RFC 3550's loss fraction and interarrival jitter",
            hints: include_str!("../../lessons/06-tcp-vs-udp/hints.md"),
        }),
    },
    Lesson {
        number: 7,
        dir: "07-missed-events",
        title: "Missed events: acks, retries, heartbeats, replay",
        text: Some(include_str!("../../lessons/07-missed-events/README.md")),
        examples: &["07_reliable_udp", "07_missed_events", "07_try_catch"],
        predict: Some(include_str!("../../lessons/07-missed-events/predict.json")),
        exercise: Some(Exercise {
            task: "the receiver's de-duplication and reordering buffer; the RFC 6298 RTO estimator",
            hints: include_str!("../../lessons/07-missed-events/hints.md"),
        }),
    },
    Lesson {
        number: 8,
        dir: "08-websocket-handshake",
        title: "HTTP and the WebSocket handshake",
        text: Some(include_str!("../../lessons/08-websocket-handshake/README.md")),
        examples: &["08_handshake"],
        predict: Some(include_str!("../../lessons/08-websocket-handshake/predict.json")),
        exercise: Some(Exercise {
            task: "compute Sec-WebSocket-Accept and find tokens in header lists; then the server's side of the handshake on a real socket",
            hints: include_str!("../../lessons/08-websocket-handshake/hints.md"),
        }),
    },
    Lesson {
        number: 9,
        dir: "09-websocket-frames",
        title: "WebSocket frames",
        text: Some(include_str!("../../lessons/09-websocket-frames/README.md")),
        examples: &["09_frames"],
        predict: Some(include_str!("../../lessons/09-websocket-frames/predict.json")),
        exercise: Some(Exercise {
            task: "decode and encode a frame header; unmask a payload",
            hints: include_str!("../../lessons/09-websocket-frames/hints.md"),
        }),
    },
    Lesson {
        number: 10,
        dir: "10-browser-socketio",
        title: "Chat in the browser, and what Socket.IO does on the wire",
        text: Some(include_str!("../../lessons/10-browser-socketio/README.md")),
        examples: &["10_socketio"],
        predict: Some(include_str!("../../lessons/10-browser-socketio/predict.json")),
        exercise: Some(Exercise {
            task: "join and split HTTP long-polling payloads (\\x1e between packets, b + base64 for binary), and step the polling → WebSocket upgrade",
            hints: include_str!("../../lessons/10-browser-socketio/hints.md"),
        }),
    },
    Lesson {
        number: 11,
        dir: "11-inspector",
        title: "The packet inspector: every byte and its layer",
        text: Some(include_str!("../../lessons/11-inspector/README.md")),
        examples: &["11_inspect"],
        predict: Some(include_str!("../../lessons/11-inspector/predict.json")),
        exercise: Some(Exercise {
            task: "decode an IPv4 header and TCP flags; say which layer a byte of a frame belongs to",
            hints: include_str!("../../lessons/11-inspector/hints.md"),
        }),
    },
    Lesson {
        number: 12,
        dir: "12-many-servers",
        title: "Many servers: rooms across machines over Redis",
        text: Some(include_str!("../../lessons/12-many-servers/README.md")),
        examples: &["12_many_servers"],
        predict: Some(include_str!("../../lessons/12-many-servers/predict.json")),
        exercise: Some(Exercise {
            task: "the channel a broadcast goes on, MessagePack string and array headers, and which local members a broadcast from another server reaches",
            hints: include_str!("../../lessons/12-many-servers/hints.md"),
        }),
    },
];

/// The lesson with this number.
pub fn lesson(number: u8) -> Option<&'static Lesson> {
    LESSONS.iter().find(|l| l.number == number)
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
}
