//! Running one lesson's grader on the student's file, and reading what it said.
//!
//! Two steps, each a child process: `cargo test -p netlab-exercises --test
//! lesson_NN --no-run --message-format json` compiles the exercise (its JSON
//! says whether it compiled, the errors if not, and where the test binary
//! is), then the test binary runs with `RUST_BACKTRACE=0` and `--color never`
//! and its plain output is read back into [`TestResult`]s. A grader that runs
//! longer than the timeout (a loop that never ends) is killed; the tests that
//! never reported are named.

use super::Lesson;
use serde::Serialize;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a grader may run before it is killed (`netlab check --timeout`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// How often a running grader is looked at (for the timeout and for `q` in watch).
const POLL: Duration = Duration::from_millis(20);

/// Why a check could not even start.
#[derive(Debug, thiserror::Error)]
pub enum GradeError {
    /// cargo or the test binary could not be started.
    #[error(
        "could not run {what}: {source} (is cargo on PATH? netlab check needs the Rust toolchain)"
    )]
    Spawn {
        /// What was being started.
        what: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// cargo finished without saying where the test binary is.
    #[error("cargo built no test binary for {target}; its output was:\n{output}")]
    NoBinary {
        /// The test target, e.g. `lesson_02`.
        target: String,
        /// What cargo printed on stderr.
        output: String,
    },
    /// The check was stopped (`q` in `netlab watch`).
    #[error("stopped")]
    Stopped,
}

/// One grader test and how it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestResult {
    /// The test's name, e.g. `decodes_a_split_frame`.
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// Why it failed, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
}

/// What a failing test said: its panic message and where it panicked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The panic message (an assertion's text and diff, or `not yet implemented`).
    pub message: String,
    /// The file it panicked in, as the compiler named it.
    pub file: Option<String>,
    /// The line it panicked at.
    pub line: Option<u32>,
}

impl Failure {
    /// Whether the panic came from the student's file (a placeholder body or a bug
    /// there) rather than from an assertion in the grader.
    pub fn in_exercise(&self) -> bool {
        self.file
            .as_deref()
            .is_some_and(|f| f.ends_with("exercise.rs"))
    }

    /// Whether this is a placeholder body (the `todo` or `unimplemented` macro) still in place.
    pub fn is_todo(&self) -> bool {
        self.in_exercise()
            && (self.message.starts_with("not yet implemented")
                || self.message.starts_with("not implemented"))
    }
}

/// What a check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Verdict {
    /// The exercise does not compile: the compiler's errors, as it rendered them.
    DoesNotCompile {
        /// One rendered diagnostic each.
        errors: Vec<String>,
    },
    /// The grader ran to the end.
    Ran {
        /// Every test, in the order the binary reported them.
        tests: Vec<TestResult>,
    },
    /// The grader was killed after the timeout.
    TimedOut {
        /// The tests that reported before the kill.
        tests: Vec<TestResult>,
        /// The tests still running (or never started) when it was killed.
        unfinished: Vec<String>,
        /// The timeout that ran out, in seconds.
        seconds: u64,
    },
}

impl Verdict {
    /// Whether the exercise passes: it compiled and every test passed.
    pub fn passed(&self) -> bool {
        match self {
            Verdict::Ran { tests } => !tests.is_empty() && tests.iter().all(|t| t.passed),
            _ => false,
        }
    }
}

/// How to run a check.
#[derive(Debug, Clone)]
pub struct GradeConfig {
    /// Colour the compiler's errors (and keep the grader's colours).
    pub color: bool,
    /// Kill the grader after this long.
    pub timeout: Duration,
}

impl Default for GradeConfig {
    fn default() -> Self {
        Self {
            color: false,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// Compiles and runs `lesson`'s grader on the exercise in the tree at `root`.
///
/// `progress` is told of each crate cargo compiles (the first check builds
/// the library once); `stop` is asked every few milliseconds whether the
/// student wants out, and a `true` kills whatever is running.
pub fn run(
    root: &Path,
    lesson: &Lesson,
    config: &GradeConfig,
    progress: impl FnMut(&str) + Send + 'static,
    mut stop: impl FnMut() -> bool,
) -> Result<Verdict, GradeError> {
    let target = lesson.test_target();
    let exe = match build(root, &target, config, progress, &mut stop)? {
        Build::Binary(exe) => exe,
        Build::Errors(errors) => return Ok(Verdict::DoesNotCompile { errors }),
    };
    let names = list_tests(&exe, root)?;
    let mut child = Command::new(&exe)
        .current_dir(root)
        .args(["--color", "never"])
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| GradeError::Spawn {
            what: exe.display().to_string(),
            source,
        })?;
    let out = collect(child.stdout.take());
    let err = collect(child.stderr.take());
    let timed_out = wait(&mut child, &mut stop, Some(config.timeout))?;
    let stdout = out.join().unwrap_or_default();
    let _ = err.join();
    let tests = parse_test_output(&stdout);
    if timed_out {
        let unfinished = names
            .into_iter()
            .filter(|n| !tests.iter().any(|t| &t.name == n))
            .collect();
        return Ok(Verdict::TimedOut {
            tests,
            unfinished,
            seconds: config.timeout.as_secs(),
        });
    }
    Ok(Verdict::Ran { tests })
}

/// What compiling the exercise gave.
enum Build {
    /// The test binary to run.
    Binary(PathBuf),
    /// The compiler's errors.
    Errors(Vec<String>),
}

fn build(
    root: &Path,
    target: &str,
    config: &GradeConfig,
    mut progress: impl FnMut(&str) + Send + 'static,
    stop: &mut impl FnMut() -> bool,
) -> Result<Build, GradeError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let format = if config.color {
        "--message-format=json-diagnostic-rendered-ansi"
    } else {
        "--message-format=json"
    };
    let mut child = Command::new(cargo)
        .current_dir(root)
        .args([
            "test",
            "-p",
            "netlab-exercises",
            "--test",
            target,
            "--no-run",
            format,
        ])
        .env("CARGO_TERM_COLOR", "never")
        .env("CARGO_TERM_PROGRESS_WHEN", "never")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| GradeError::Spawn {
            what: "cargo".into(),
            source,
        })?;
    let out = collect(child.stdout.take());
    // cargo's own lines ("Compiling netlab v0.1.0") go to progress as they come.
    let stderr_text = Arc::new(Mutex::new(String::new()));
    let err_thread = child.stderr.take().map(|stderr| {
        let keep = Arc::clone(&stderr_text);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(krate) = line.trim_start().strip_prefix("Compiling ") {
                    progress(krate);
                }
                if let Ok(mut k) = keep.lock() {
                    k.push_str(&line);
                    k.push('\n');
                }
            }
        })
    });
    wait(&mut child, stop, None)?;
    let stdout = out.join().unwrap_or_default();
    if let Some(t) = err_thread {
        let _ = t.join();
    }
    let (exe, errors) = read_cargo_messages(&stdout, target);
    if !errors.is_empty() {
        return Ok(Build::Errors(errors));
    }
    match exe {
        Some(exe) => Ok(Build::Binary(exe)),
        None => Err(GradeError::NoBinary {
            target: target.to_string(),
            output: stderr_text.lock().map(|s| s.clone()).unwrap_or_default(),
        }),
    }
}

/// Waits for a child to end. It is killed when `stop` says so (an error:
/// the student asked to stop) or once `limit` has passed (`Ok(true)`).
fn wait(
    child: &mut Child,
    stop: &mut impl FnMut() -> bool,
    limit: Option<Duration>,
) -> Result<bool, GradeError> {
    let started = Instant::now();
    loop {
        if child.try_wait().ok().flatten().is_some() {
            return Ok(false);
        }
        let stopped = stop();
        let late = limit.is_some_and(|l| started.elapsed() >= l);
        if stopped || late {
            let _ = child.kill();
            let _ = child.wait();
            return if stopped {
                Err(GradeError::Stopped)
            } else {
                Ok(true)
            };
        }
        std::thread::sleep(POLL);
    }
}

/// Reads a child's output to the end on a thread of its own, so a full pipe
/// never blocks the child while we wait on it.
fn collect(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut p) = pipe {
            let mut bytes = Vec::new();
            let _ = p.read_to_end(&mut bytes);
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        text
    })
}

/// The names of the tests in a test binary (`--list`).
fn list_tests(exe: &Path, root: &Path) -> Result<Vec<String>, GradeError> {
    let out = Command::new(exe)
        .current_dir(root)
        .args(["--list", "--format", "terse"])
        .stdin(Stdio::null())
        .output()
        .map_err(|source| GradeError::Spawn {
            what: exe.display().to_string(),
            source,
        })?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .map(str::to_string)
        .collect())
}

/// From cargo's JSON messages: the test binary of `target`, and every error
/// the compiler rendered (warnings are left out: a student's unused variable
/// is not what a check is about).
pub fn read_cargo_messages(json_lines: &str, target: &str) -> (Option<PathBuf>, Vec<String>) {
    let mut exe = None;
    let mut errors = Vec::new();
    for line in json_lines.lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        match msg["reason"].as_str() {
            Some("compiler-message") if msg["message"]["level"] == "error" => {
                if let Some(text) = msg["message"]["rendered"].as_str() {
                    errors.push(text.trim_end().to_string());
                }
            }
            Some("compiler-artifact") if msg["target"]["name"] == target => {
                if let Some(path) = msg["executable"].as_str() {
                    exe = Some(PathBuf::from(path));
                }
            }
            _ => {}
        }
    }
    (exe, errors)
}

/// Reads a libtest run's plain output (`--color never`): one
/// `test NAME ... ok|FAILED` line per test, then a `---- NAME stdout ----`
/// block per failure holding its panic.
pub fn parse_test_output(stdout: &str) -> Vec<TestResult> {
    let mut tests: Vec<TestResult> = Vec::new();
    for line in stdout.lines() {
        let Some(rest) = line.strip_prefix("test ") else {
            continue;
        };
        let (name, passed) = if let Some(n) = rest.strip_suffix(" ... ok") {
            (n, true)
        } else if let Some(n) = rest.strip_suffix(" ... FAILED") {
            (n, false)
        } else {
            continue;
        };
        tests.push(TestResult {
            name: name.to_string(),
            passed,
            failure: None,
        });
    }
    for (name, block) in failure_blocks(stdout) {
        if let Some(t) = tests.iter_mut().find(|t| t.name == name) {
            t.failure = Some(parse_panic(&block));
        }
    }
    tests
}

/// The `---- NAME stdout ----` blocks of a run's failures section.
fn failure_blocks(stdout: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in stdout.lines() {
        let header = line
            .strip_prefix("---- ")
            .and_then(|l| l.strip_suffix(" stdout ----"));
        if let Some(name) = header {
            blocks.extend(current.take());
            current = Some((name.to_string(), String::new()));
        } else if line == "failures:" || line.starts_with("test result:") {
            blocks.extend(current.take());
        } else if let Some((_, text)) = current.as_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    blocks.extend(current);
    blocks
}

/// The message and location of a panic, from `thread 'T' panicked at FILE:LINE:COL:`
/// (newer toolchains write `thread 'T' (ID) panicked at …`) and the lines
/// after it (the backtrace note left out).
fn parse_panic(block: &str) -> Failure {
    let is_head = |l: &&str| l.starts_with("thread '") && l.contains(" panicked at ");
    let mut lines = block.lines().skip_while(|l| !is_head(l));
    let Some(head) = lines.next() else {
        return Failure {
            message: block.trim().to_string(),
            file: None,
            line: None,
        };
    };
    let place = head
        .split(" panicked at ")
        .nth(1)
        .unwrap_or("")
        .trim_end_matches(':');
    let mut parts = place.rsplitn(3, ':');
    let (_col, line, file) = (parts.next(), parts.next(), parts.next());
    let message: Vec<&str> = lines
        .take_while(|l| !l.starts_with("note: run with `RUST_BACKTRACE=1`"))
        .collect();
    Failure {
        message: message.join("\n").trim_end().to_string(),
        file: file.map(str::to_string),
        line: line.and_then(|l| l.parse().ok()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    // Copied from a real run of `lesson_02` with one function done: the
    // format libtest prints with `--color never`.
    const RUN: &str = "
running 3 tests
test encodes_hello ... ok
test decodes_a_split_frame ... FAILED
test refuses_a_huge_header ... FAILED

failures:

---- decodes_a_split_frame stdout ----

thread 'decodes_a_split_frame' panicked at exercises/tests/../../lessons/02-framing/exercise.rs:41:5:
not yet implemented
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace

---- refuses_a_huge_header stdout ----

thread 'refuses_a_huge_header' (13648) panicked at exercises/tests/../../lessons/02-framing/tests.rs:88:9:
a header announcing 4 GiB must be refused from its 4 bytes
left: 1
right: 2


failures:
    decodes_a_split_frame
    refuses_a_huge_header

test result: FAILED. 1 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s
";

    #[test]
    fn a_run_is_read_test_by_test() {
        let tests = parse_test_output(RUN);
        assert_eq!(tests.len(), 3);
        assert!(tests[0].passed && tests[0].failure.is_none());
        let todo = tests[1].failure.as_ref().expect("a failure");
        assert_eq!(todo.message, "not yet implemented");
        assert_eq!(todo.line, Some(41));
        assert!(todo.is_todo());
        let assertion = tests[2].failure.as_ref().expect("a failure");
        assert_eq!(
            assertion.message,
            "a header announcing 4 GiB must be refused from its 4 bytes\nleft: 1\nright: 2"
        );
        assert!(!assertion.in_exercise());
        assert_eq!(assertion.line, Some(88));
    }

    #[test]
    fn cargo_json_gives_errors_and_the_binary() {
        let json = r#"{"reason":"compiler-message","message":{"level":"warning","rendered":"warning: unused"}}
{"reason":"compiler-message","message":{"level":"error","rendered":"error[E0308]: mismatched types\n"}}
{"reason":"compiler-artifact","target":{"name":"lesson_02"},"executable":"/t/lesson_02-abc"}
{"reason":"compiler-artifact","target":{"name":"netlab"},"executable":null}
not json at all"#;
        let (exe, errors) = read_cargo_messages(json, "lesson_02");
        assert_eq!(exe, Some(PathBuf::from("/t/lesson_02-abc")));
        assert_eq!(errors, vec!["error[E0308]: mismatched types".to_string()]);
    }

    #[test]
    fn only_all_passing_runs_pass() {
        let ok = TestResult {
            name: "a".into(),
            passed: true,
            failure: None,
        };
        assert!(Verdict::Ran {
            tests: vec![ok.clone()]
        }
        .passed());
        assert!(
            !Verdict::Ran { tests: vec![] }.passed(),
            "no tests ran: nothing was proven"
        );
        assert!(!Verdict::TimedOut {
            tests: vec![ok],
            unfinished: vec!["b".into()],
            seconds: 1
        }
        .passed());
    }
}
