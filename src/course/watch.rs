//! `netlab watch`: the exercise checked again on every save.
//!
//! The loop: show where the course stands (a bar over the lessons passed),
//! check the current exercise, show the report, then wait — for the file to
//! change (inotify through the `notify` crate; where that is missing, the
//! file is polled), or for a key: `h` the next hint, `r` check again, `n`
//! the next lesson, `q` or Ctrl-C to quit. When the exercise passes, the
//! next unfinished one becomes current. Only plain text and a few standard
//! escape codes are written, so it works over SSH and in tmux.

use super::grade::{self, GradeConfig, GradeError};
use super::progress::{self, ExerciseStatus, Progress};
use super::report::{self, Context};
use super::{hints, Lesson, LESSONS};
use crate::term;
use crossterm::event::{Event as TermEvent, KeyCode, KeyEventKind, KeyModifiers};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

/// How often the file is compared when no change notification comes
/// (inotify missing, or a file system that does not report changes).
pub const DEFAULT_POLL: Duration = Duration::from_millis(500);

/// Editors write a file in several steps: wait this long for the last one.
const SETTLE: Duration = Duration::from_millis(150);

/// How `netlab watch` runs.
#[derive(Debug, Clone)]
pub struct WatchConfig {
    /// The lesson to start with; `None`: the first exercise not passed.
    pub start: Option<u8>,
    /// How each check runs.
    pub grade: GradeConfig,
    /// Compare the file this often even without a notification.
    pub poll: Duration,
    /// Never use inotify: only poll (`--poll`).
    pub poll_only: bool,
}

/// What woke the loop up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wake {
    /// Something in the lesson folder changed.
    Changed,
    /// `q`, Esc or Ctrl-C.
    Quit,
    /// `h`.
    Hint,
    /// `r`.
    Recheck,
    /// `n`.
    Next,
}

/// Runs the watch loop until the student quits or every exercise passes.
pub fn run(root: &Path, config: &WatchConfig) -> std::io::Result<()> {
    let exercises: Vec<&'static Lesson> = LESSONS.iter().filter(|l| l.exercise.is_some()).collect();
    let mut current = match config.start {
        Some(n) => exercises
            .iter()
            .position(|l| l.number == n)
            .ok_or_else(|| {
                std::io::Error::other(format!("lesson {n:02} has no exercise to watch"))
            })?,
        None => first_unfinished(root, &exercises, 0).unwrap_or(0),
    };
    let (tx, rx) = mpsc::channel();
    let keys = Keys::start(tx.clone());
    let screen = Screen { raw: keys.raw };
    let mut watcher = None;
    let mut watching: Option<PathBuf> = None;
    let mut outcome = Ok(());
    'lessons: loop {
        let lesson = exercises[current];
        let file = super::exercise_path(root, lesson);
        let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        if watching.as_ref() != Some(&dir) {
            watcher = if config.poll_only {
                None
            } else {
                notify_on_change(&dir, tx.clone())
            };
            watching = Some(dir);
        }
        let mut seen = std::fs::read(&file).ok();
        let mut note: Option<String> = None;
        loop {
            screen.clear();
            screen.show(&header(root, lesson, &exercises, watcher.is_some()));
            screen.show(&[term::dim("checking…")]);
            let drained = drain(&rx);
            if drained.contains(&Wake::Quit) {
                break 'lessons;
            }
            let mut quit = false;
            let compiling = move |krate: &str| {
                // The first check builds the library once: show it moving.
                print!("\r  compiling {krate}\x1b[K");
                let _ = std::io::stdout().flush();
            };
            let verdict = grade::run(root, lesson, &config.grade, compiling, || {
                quit = quit || drain(&rx).contains(&Wake::Quit);
                quit
            });
            screen.clear();
            screen.show(&header(root, lesson, &exercises, watcher.is_some()));
            let verdict = match verdict {
                Ok(v) => v,
                Err(GradeError::Stopped) => break 'lessons,
                Err(e) => {
                    outcome = Err(std::io::Error::other(e.to_string()));
                    break 'lessons;
                }
            };
            let content = std::fs::read(&file).unwrap_or_default();
            let grader =
                std::fs::read_to_string(root.join("lessons").join(lesson.dir).join("tests.rs"))
                    .unwrap_or_default();
            let kept = Progress::load(root);
            let shown = kept.lesson(lesson).map_or(0, |p| p.hints_shown);
            let all_hints = lesson.exercise.map_or(0, |e| hints::parse(e.hints).len());
            screen.show(&report::render(
                &verdict,
                &Context {
                    lesson: lesson.number,
                    exercise: &String::from_utf8_lossy(&content),
                    grader: &grader,
                    hints: (shown, all_hints),
                },
            ));
            if let Some(n) = note.take() {
                screen.show(&[String::new(), n]);
            }
            if verdict.passed() {
                let _ = progress::record_pass(root, lesson, &content);
                match first_unfinished(root, &exercises, current + 1) {
                    Some(next) => {
                        screen.show(&[
                            String::new(),
                            format!(
                                "{} On to lesson {:02}: {} (any key, or wait 3 s)",
                                term::good("Well done!"),
                                exercises[next].number,
                                exercises[next].title
                            ),
                        ]);
                        if wait_key(&rx, Duration::from_secs(3)) == Some(Wake::Quit) {
                            break 'lessons;
                        }
                        current = next;
                        continue 'lessons;
                    }
                    None => {
                        screen.show(&[
                            String::new(),
                            term::good(
                                "Every exercise passes. That is the whole course — well done!",
                            ),
                        ]);
                        break 'lessons;
                    }
                }
            }
            screen.show(&[
                String::new(),
                term::dim(format!(
                    "watching lessons/{}/exercise.rs — save to check again · h hint · r recheck · n next lesson · q quit",
                    lesson.dir
                )),
            ]);
            match wait_for_change(&rx, &file, &mut seen, config.poll) {
                Wake::Quit => break 'lessons,
                Wake::Changed | Wake::Recheck => {}
                Wake::Next => {
                    current = (current + 1) % exercises.len();
                    continue 'lessons;
                }
                Wake::Hint => note = Some(next_hint(root, lesson)),
            }
        }
    }
    drop(watcher);
    keys.stop();
    outcome
}

/// The course bar and the lesson being watched.
fn header(root: &Path, lesson: &Lesson, exercises: &[&Lesson], notified: bool) -> Vec<String> {
    let passed = exercises
        .iter()
        .filter(|l| progress::status(Some(root), l) == ExerciseStatus::Passed)
        .count();
    let width = 26;
    let filled = passed * width / exercises.len().max(1);
    let bar = format!(
        "{}{}",
        term::good("━".repeat(filled)),
        term::dim("─".repeat(width - filled))
    );
    let how = if notified { "" } else { " (polling the file)" };
    vec![
        format!(
            "{}  {bar} {passed}/{} lessons passed{}",
            term::heading("netlab watch"),
            exercises.len(),
            term::dim(how)
        ),
        format!(
            "{} lesson {:02} — {}",
            term::bold("Now:"),
            lesson.number,
            lesson.exercise.map_or("", |e| e.task)
        ),
        String::new(),
    ]
}

/// Shows the next hint and remembers it was shown.
fn next_hint(root: &Path, lesson: &Lesson) -> String {
    let all = lesson
        .exercise
        .map(|e| hints::parse(e.hints))
        .unwrap_or_default();
    let mut kept = Progress::load(root);
    let entry = kept.lesson_mut(lesson);
    let Some(hint) = all.get(entry.hints_shown.min(all.len().saturating_sub(1))) else {
        return "This lesson has no hints.".into();
    };
    let number = entry.hints_shown.min(all.len() - 1) + 1;
    entry.hints_shown = number.max(entry.hints_shown);
    let _ = kept.save(root);
    format!(
        "{} {}\n{}",
        term::bold(format!("Hint {number} of {} — {}:", all.len(), hint.title)),
        "",
        hint.text
    )
}

/// The first exercise from `from` on (then from the start) that has not passed.
fn first_unfinished(root: &Path, exercises: &[&Lesson], from: usize) -> Option<usize> {
    (from..exercises.len())
        .chain(0..from)
        .find(|&i| progress::status(Some(root), exercises[i]) != ExerciseStatus::Passed)
}

/// Everything waiting in the channel.
fn drain(rx: &Receiver<Wake>) -> Vec<Wake> {
    rx.try_iter().collect()
}

/// Waits for a key (any key counts as "go on"), at most `limit`.
fn wait_key(rx: &Receiver<Wake>, limit: Duration) -> Option<Wake> {
    let deadline = std::time::Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(Wake::Changed) => continue,
            Ok(w) => return Some(w),
            Err(_) => return None,
        }
    }
}

/// Waits until the file's content differs from `seen` (a notification, or
/// the poll finding it), or a key asks for something.
fn wait_for_change(
    rx: &Receiver<Wake>,
    file: &Path,
    seen: &mut Option<Vec<u8>>,
    poll: Duration,
) -> Wake {
    loop {
        match rx.recv_timeout(poll) {
            Ok(Wake::Changed) | Err(RecvTimeoutError::Timeout) => {
                // Let an editor finish writing, then compare the content:
                // a save that changed nothing (or a touch) is not a new try.
                std::thread::sleep(SETTLE);
                if let Some(key) = drain_changes(rx).into_iter().next() {
                    return key;
                }
                let now = std::fs::read(file).ok();
                if now != *seen {
                    *seen = now;
                    return Wake::Changed;
                }
            }
            Ok(other) => return other,
            Err(RecvTimeoutError::Disconnected) => return Wake::Quit,
        }
    }
}

/// Takes everything queued: the change notifications are dropped (the file
/// is compared next anyway), the keys are returned.
fn drain_changes(rx: &Receiver<Wake>) -> Vec<Wake> {
    let mut keys = Vec::new();
    for w in rx.try_iter() {
        if w != Wake::Changed {
            keys.push(w);
        }
    }
    keys
}

/// Asks the OS to tell us when something in `dir` changes; `None` where it
/// can't (then the file is polled).
fn notify_on_change(dir: &Path, tx: Sender<Wake>) -> Option<notify::RecommendedWatcher> {
    use notify::Watcher;
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        // Reading the file (ours included) is an event too; only writes,
        // creations (an editor's rename) and removals can change it.
        if event.is_ok_and(|e| !e.kind.is_access() && !e.kind.is_other()) {
            let _ = tx.send(Wake::Changed);
        }
    })
    .ok()?;
    watcher
        .watch(dir, notify::RecursiveMode::NonRecursive)
        .ok()?;
    Some(watcher)
}

/// The keyboard, read on a thread of its own in raw mode (single keys, no Enter).
struct Keys {
    raw: bool,
}

impl Keys {
    fn start(tx: Sender<Wake>) -> Self {
        if !std::io::stdin().is_terminal() || crossterm::terminal::enable_raw_mode().is_err() {
            return Keys { raw: false };
        }
        std::thread::spawn(move || loop {
            let Ok(TermEvent::Key(key)) = crossterm::event::read() else {
                continue;
            };
            if key.kind != KeyEventKind::Press {
                continue;
            }
            let wake = match key.code {
                KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => Wake::Quit,
                KeyCode::Char('q') | KeyCode::Esc => Wake::Quit,
                KeyCode::Char('h') => Wake::Hint,
                KeyCode::Char('r') | KeyCode::Enter => Wake::Recheck,
                KeyCode::Char('n') => Wake::Next,
                _ => continue,
            };
            if tx.send(wake).is_err() {
                return;
            }
        });
        Keys { raw: true }
    }

    fn stop(self) {
        if self.raw {
            let _ = crossterm::terminal::disable_raw_mode();
        }
    }
}

impl Drop for Keys {
    fn drop(&mut self) {
        if self.raw {
            let _ = crossterm::terminal::disable_raw_mode();
        }
    }
}

/// Where the loop writes: in raw mode a line ends with `\r\n`.
struct Screen {
    raw: bool,
}

impl Screen {
    fn clear(&self) {
        if std::io::stdout().is_terminal() {
            let mut out = std::io::stdout();
            let _ = crossterm::execute!(
                out,
                crossterm::terminal::Clear(crossterm::terminal::ClearType::All),
                crossterm::cursor::MoveTo(0, 0)
            );
        } else {
            println!("\n――――――――");
        }
    }

    fn show(&self, lines: &[String]) {
        let mut out = anstream::stdout();
        for line in lines {
            for l in line.split('\n') {
                let _ = if self.raw {
                    write!(out, "{l}\r\n")
                } else {
                    writeln!(out, "{l}")
                };
            }
        }
        let _ = out.flush();
    }
}
