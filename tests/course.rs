//! The exercise loop from the outside: the real `netlab` binary in a copy of
//! the source tree (a git repository of its own, as a student's clone is).
//!
//! - `check` fails a hole naming its unwritten functions, fails a wrong
//!   answer with the grader's message and diff first, refuses code that does
//!   not compile, kills a grader that never ends, and passes a solution;
//!   piped output carries no escape codes and no backtraces, even with
//!   `RUST_BACKTRACE=1` set;
//! - `lessons --json` follows not started → in progress → passed → in
//!   progress (after an edit) → not started (after `reset`), and `cargo clean`
//!   does not wipe it;
//! - `hint` gives one more hint each time;
//! - `watch`, driven through a real terminal (tmux), sees a save and shows
//!   the new verdict, then quits on `q`.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Copies the parts of the source tree the exercises build needs.
fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if [
            "target",
            "node_modules",
            ".git",
            "fuzz",
            ".netlab-progress.json",
        ]
        .contains(&name.as_ref())
        {
            continue;
        }
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// A copy of the tree, committed to a git repository of its own (so
/// `netlab reset` finds the shipped files by their blob ids, as in a clone).
fn student_tree(tag: &str) -> PathBuf {
    let tmp = std::env::temp_dir().join(format!("netlab-course-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    copy_tree(Path::new(env!("CARGO_MANIFEST_DIR")), &tmp);
    for args in [
        &["init", "-q"][..],
        &["add", "-A"],
        &[
            "-c",
            "user.name=student",
            "-c",
            "user.email=student@example.org",
            "commit",
            "-q",
            "-m",
            "clone",
        ],
    ] {
        let ok = Command::new("git")
            .args(args)
            .current_dir(&tmp)
            .status()
            .unwrap();
        assert!(ok.success(), "git {args:?} in the copy");
    }
    tmp
}

/// Where the copies build: shared between runs of this test, never the network.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("course-check")
}

fn netlab_in(root: &Path, args: &[&str]) -> Output {
    Command::new(support::netlab_bin())
        .args(args)
        .current_dir(root)
        .env("NETLAB_ROOT", root)
        .env("CARGO_TARGET_DIR", target_dir())
        .env("CARGO_NET_OFFLINE", "true")
        // A student's shell may have it set; the grader must not print backtraces anyway.
        .env("RUST_BACKTRACE", "1")
        .env_remove("NO_COLOR")
        .output()
        .unwrap()
}

/// stdout and stderr, checked to be free of escape codes (they are piped here).
fn text_of(out: &Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !text.contains('\u{1b}'),
        "piped output must carry no escape codes:\n{text:?}"
    );
    assert!(
        !text.contains("stack backtrace") && !text.contains("RUST_BACKTRACE"),
        "the grader runs without backtraces:\n{text}"
    );
    text
}

/// The `P of T` of a report's summary line `lesson NN: P of T tests pass.`
fn pass_count(text: &str, lesson: u8) -> (usize, usize) {
    let head = format!("lesson {lesson:02}: ");
    let at = text.rfind(&head).expect(text) + head.len();
    let words: Vec<&str> = text[at..].split_whitespace().take(3).collect();
    (words[0].parse().expect(text), words[2].parse().expect(text))
}

fn statuses(root: &Path) -> Vec<String> {
    let list = netlab_in(root, &["lessons", "--json"]);
    let rows: Vec<Value> = serde_json::from_slice(&list.stdout).unwrap();
    rows.iter()
        .map(|r| r["exercise_status"].as_str().unwrap_or("none").to_string())
        .collect()
}

const LESSON_00_SOLVED: &str = r#"
use netlab::layers::{HeaderField, OsiLayer, Protocol, TcpIpLayer};
pub fn osi_layer(p: Protocol) -> OsiLayer {
    use Protocol::*;
    match p {
        Ethernet | Arp | LinuxCooked | Loopback => OsiLayer::DataLink,
        Ipv4 | Ipv6 | Icmp | Icmpv6 => OsiLayer::Network,
        Tcp | Udp => OsiLayer::Transport,
        Tls => OsiLayer::Presentation,
        Dns | Http | WebSocket | SocketIo | NetlabFrame | AppData => OsiLayer::Application,
    }
}
pub fn tcpip_layer(l: OsiLayer) -> TcpIpLayer {
    match l.number() {
        1 | 2 => TcpIpLayer::Link,
        3 => TcpIpLayer::Internet,
        4 => TcpIpLayer::Transport,
        _ => TcpIpLayer::Application,
    }
}
pub fn field_layer(f: HeaderField) -> OsiLayer {
    osi_layer(f.protocol())
}
"#;

/// Lesson 02 solved, with the length prefix written in `ORDER` (`be` is right).
fn lesson_02(order: &str) -> String {
    r#"
use bytes::{Buf, BufMut, BytesMut};
use netlab::framing::FrameError;
pub fn encode_frame(payload: &[u8], dst: &mut BytesMut, max: usize) -> Result<(), FrameError> {
    if payload.len() > max {
        return Err(FrameError::TooLong { announced: payload.len() as u64, max });
    }
    dst.put_slice(&(payload.len() as u32).to_ORDER_bytes());
    dst.put_slice(payload);
    Ok(())
}
pub fn decode_frame(src: &mut BytesMut, max: usize) -> Result<Option<BytesMut>, FrameError> {
    if src.len() < 4 {
        return Ok(None);
    }
    let len = u32::from_ORDER_bytes([src[0], src[1], src[2], src[3]]) as usize;
    if len > max {
        return Err(FrameError::TooLong { announced: len as u64, max });
    }
    if src.len() < 4 + len {
        return Ok(None);
    }
    src.advance(4);
    Ok(Some(src.split_to(len)))
}
"#
    .replace("ORDER", order)
}

#[test]
fn the_exercise_loop_from_hole_to_pass_to_reset() {
    let root = student_tree("loop");
    let ex02 = root.join("lessons/02-framing/exercise.rs");
    let shipped_02 = std::fs::read(&ex02).unwrap();
    assert!(
        statuses(&root)[..3].iter().all(|s| s == "not-started"),
        "{:?}",
        statuses(&root)
    );

    // The hole: functions named once, one summary line, a nudge last.
    let hole = netlab_in(&root, &["check", "02"]);
    let text = text_of(&hole);
    assert!(
        !hole.status.success(),
        "an untouched exercise must not pass"
    );
    assert!(
        text.contains("Not written yet: `fn encode_frame` (exercise.rs line")
            && text.contains("`fn decode_frame` (exercise.rs line"),
        "{text}"
    );
    assert!(
        !text.contains("not yet implemented"),
        "todo!() is reported as a function to write, not once per test:\n{text}"
    );
    let summary = text.find("lesson 02: 0 of ").expect(&text);
    let nudge = text
        .find("Nudge: start with `fn encode_frame`")
        .expect(&text);
    assert!(summary < nudge, "the nudge comes last:\n{text}");
    let stdout = String::from_utf8_lossy(&hole.stdout);
    assert!(
        stdout
            .trim_end()
            .lines()
            .last()
            .unwrap()
            .starts_with("Nudge:"),
        "the nudge is the last line:\n{stdout}"
    );

    // A plausible wrong answer: the grader's message and its diff come first.
    std::fs::write(&ex02, lesson_02("le")).unwrap();
    let wrong = netlab_in(&root, &["check", "02"]);
    let text = text_of(&wrong);
    assert!(
        !wrong.status.success(),
        "a little-endian prefix must not pass:\n{text}"
    );
    let first = text.find("First failing test:").expect(&text);
    let summary = text.find(" tests pass.").expect(&text);
    assert!(first < summary, "{text}");
    assert!(!text.contains("Not written yet"), "{text}");
    assert_eq!(statuses(&root)[2], "in-progress");

    // Code that does not compile: the compiler's first error, and no grader run.
    std::fs::write(&ex02, lesson_02("be").replace("Ok(())", "42")).unwrap();
    let broken = netlab_in(&root, &["check", "02"]);
    let text = text_of(&broken);
    assert!(!broken.status.success());
    assert!(
        text.contains("error[E0308]") && text.contains("your exercise does not compile yet"),
        "{text}"
    );

    // The right answer passes, and says what to read next.
    std::fs::write(&ex02, lesson_02("be")).unwrap();
    let solved = netlab_in(&root, &["check", "02"]);
    let text = text_of(&solved);
    assert!(solved.status.success(), "{text}");
    let (passed, total) = pass_count(&text, 2);
    assert!(passed == total && total > 0, "{text}");
    assert!(text.contains("Next: netlab lesson 03"), "{text}");
    assert_eq!(statuses(&root)[2], "passed");
    assert!(
        root.join(".netlab-progress.json").is_file(),
        "progress is kept in the project root"
    );

    // cargo clean empties target/, not the term's work.
    let clean = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .args(["clean", "-p", "netlab-exercises"])
        .current_dir(&root)
        .env("CARGO_TARGET_DIR", target_dir())
        .env("CARGO_NET_OFFLINE", "true")
        .output()
        .unwrap();
    assert!(
        clean.status.success(),
        "{}",
        String::from_utf8_lossy(&clean.stderr)
    );
    assert_eq!(
        statuses(&root)[2],
        "passed",
        "cargo clean must keep progress"
    );

    // An edit forgets the pass.
    let edited = lesson_02("be") + "\n// tidied up\n";
    std::fs::write(&ex02, &edited).unwrap();
    assert_eq!(statuses(&root)[2], "in-progress");

    // reset asks (and refuses without a terminal), then restores what was shipped.
    let asked = netlab_in(&root, &["reset", "02"]);
    assert!(!asked.status.success());
    assert!(text_of(&asked).contains("--yes"));
    assert_eq!(
        std::fs::read_to_string(&ex02).unwrap(),
        edited,
        "nothing changed without a yes"
    );
    let reset = netlab_in(&root, &["reset", "02", "--yes"]);
    assert!(reset.status.success(), "{}", text_of(&reset));
    assert_eq!(
        std::fs::read(&ex02).unwrap(),
        shipped_02,
        "the file is as shipped again"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("lessons/02-framing/exercise.rs.bak")).unwrap(),
        edited,
        "the student's version is kept"
    );
    assert_eq!(statuses(&root)[2], "not-started");

    // Hints: one more each time.
    let first = text_of(&netlab_in(&root, &["hint", "02"]));
    assert!(
        first.contains("Hint 1 of ") && !first.contains("Hint 2 of "),
        "{first}"
    );
    let second = text_of(&netlab_in(&root, &["hint", "02"]));
    assert!(
        second.contains("Hint 1 of ") && second.contains("Hint 2 of "),
        "{second}"
    );
    let list = netlab_in(&root, &["lessons", "--json"]);
    let rows: Vec<Value> = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(rows[2]["hints_shown"], 2);

    // Lesson 00 solved as a student would: it passes and the count moves.
    std::fs::write(root.join("lessons/00-models/exercise.rs"), LESSON_00_SOLVED).unwrap();
    assert!(netlab_in(&root, &["check", "00"]).status.success());
    let list = netlab_in(&root, &["lessons"]);
    assert!(text_of(&list).contains("1/13 lessons passed."));

    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_grader_that_never_ends_is_stopped_and_named() {
    let root = student_tree("hang");
    let hanging = LESSON_00_SOLVED.replace(
        "    osi_layer(f.protocol())",
        "    loop {\n        std::thread::sleep(std::time::Duration::from_millis(50));\n    }",
    );
    std::fs::write(root.join("lessons/00-models/exercise.rs"), hanging).unwrap();
    let started = Instant::now();
    let out = netlab_in(&root, &["check", "00", "--timeout", "3s"]);
    let text = text_of(&out);
    assert!(!out.status.success());
    assert!(
        text.contains("Timed out: the grader was stopped after 3 s; still running: "),
        "{text}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(600),
        "the check must end (it builds first, then is killed 3 s into the run)"
    );
    let _ = std::fs::remove_dir_all(&root);
}

/// A tmux server of this test's own, so it never touches a user's sessions.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap()
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "watch"]).stdout)
            .into_owned()
    }

    /// Waits until the screen shows `text`; panics with the screen if it never does.
    fn wait_for(&self, text: &str, limit: Duration) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                start.elapsed() < limit,
                "the watch screen never showed {text:?}; it shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

#[test]
fn watch_sees_a_save_through_a_real_terminal_and_quits_on_q() {
    if !support::peer_available("tmux", Command::new("tmux").arg("-V")) {
        return;
    }
    let root = student_tree("watch");
    // Build once first, so the watch below waits for a save, not for cargo.
    let _ = netlab_in(&root, &["check", "02"]);
    let tmux = Tmux {
        socket: format!("netlab-watch-{}", std::process::id()),
    };
    let bin = support::netlab_bin();
    let command = format!("{} watch 02; echo WATCH-EXITED-$?; sleep 60", bin.display());
    let root_env = format!("NETLAB_ROOT={}", root.display());
    let target_env = format!("CARGO_TARGET_DIR={}", target_dir().display());
    let started = tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "watch",
        "-x",
        "200",
        "-y",
        "60",
        "-e",
        &root_env,
        "-e",
        &target_env,
        "-e",
        "CARGO_NET_OFFLINE=true",
        &command,
    ]);
    assert!(
        started.status.success(),
        "{}",
        String::from_utf8_lossy(&started.stderr)
    );

    let screen = tmux.wait_for("lesson 02: 0 of ", Duration::from_secs(300));
    assert!(
        screen.contains("netlab watch") && screen.contains("0/13 lessons passed"),
        "{screen}"
    );
    assert!(
        screen.contains("Not written yet: `fn encode_frame`"),
        "{screen}"
    );

    // The student saves a solution; the watch notices and shows the new verdict.
    std::fs::write(root.join("lessons/02-framing/exercise.rs"), lesson_02("be")).unwrap();
    let screen = tmux.wait_for("Well done!", Duration::from_secs(120));
    assert!(
        screen.contains("tests pass.") && screen.contains("On to lesson 03"),
        "{screen}"
    );

    // Moved on to the next unfinished exercise, and the bar counts the pass.
    let screen = tmux.wait_for("Now: lesson 03", Duration::from_secs(120));
    assert!(screen.contains("1/13 lessons passed"), "{screen}");
    tmux.wait_for("q quit", Duration::from_secs(120));
    tmux.run(&["send-keys", "-t", "watch", "q"]);
    tmux.wait_for("WATCH-EXITED-0", Duration::from_secs(20));

    let progress: Value =
        serde_json::from_slice(&std::fs::read(root.join(".netlab-progress.json")).unwrap())
            .unwrap();
    assert!(
        progress["lessons"]["02-framing"]["passed"].is_string(),
        "{progress}"
    );
    let _ = std::fs::remove_dir_all(&root);
}
