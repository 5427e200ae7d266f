//! What a student reads after a check, in the order they need it.
//!
//! The first failing assertion comes first, with its whole message (the
//! grader's sentence and its diff); functions whose body is still a placeholder are
//! named once, with their line, instead of one "not yet implemented" per
//! test; then one summary line (`3 of 9 tests pass`); and last a one-line
//! nudge. Nothing here prints: [`render`] returns lines, styled with
//! [`crate::term`], which the caller writes through `anstream` (so colours
//! vanish when stdout is not a terminal, or with `NO_COLOR`/`--color never`).

use super::grade::{Failure, TestResult, Verdict};
use crate::term;

/// What a report needs besides the verdict.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The lesson number, for commands in the nudge.
    pub lesson: u8,
    /// The student's exercise file, to name a function whose body is still a placeholder.
    pub exercise: &'a str,
    /// The grader (`tests.rs`), to put failures in the order the tests are written.
    pub grader: &'a str,
    /// Hints already shown, and how many there are.
    pub hints: (usize, usize),
}

/// The report of one check, as lines to print.
pub fn render(verdict: &Verdict, cx: &Context<'_>) -> Vec<String> {
    match verdict {
        Verdict::DoesNotCompile { errors } => does_not_compile(errors, cx),
        Verdict::Ran { tests } => ran(tests, None, cx),
        Verdict::TimedOut {
            tests,
            unfinished,
            seconds,
        } => ran(tests, Some((unfinished, *seconds)), cx),
    }
}

fn does_not_compile(errors: &[String], cx: &Context<'_>) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(first) = errors.first() {
        out.push(first.clone());
    }
    out.push(String::new());
    let more = match errors.len() {
        0 | 1 => String::new(),
        n => format!(" ({} more after it)", n - 1),
    };
    out.push(format!(
        "{} lesson {:02}: your exercise does not compile yet{more}.",
        term::bad("✗"),
        cx.lesson
    ));
    out.push(format!(
        "{} fix the first error: later ones often follow from it. The grader runs once it compiles.",
        term::bold("Nudge:")
    ));
    out
}

fn ran(
    tests: &[TestResult],
    timed_out: Option<(&Vec<String>, u64)>,
    cx: &Context<'_>,
) -> Vec<String> {
    let mut out = Vec::new();
    let passed = tests.iter().filter(|t| t.passed).count();
    let total = tests.len() + timed_out.map_or(0, |(u, _)| u.len());
    let mut failing: Vec<&TestResult> = tests.iter().filter(|t| !t.passed).collect();
    failing.sort_by_key(|t| position_in(cx.grader, &t.name));
    let (todos, others): (Vec<&TestResult>, Vec<&TestResult>) = failing
        .iter()
        .partition(|t| t.failure.as_ref().is_some_and(Failure::is_todo));

    if let Some(first) = others.first() {
        out.push(format!(
            "{} {}{}",
            term::bold("First failing test:"),
            first.name,
            grader_line(first).map_or(String::new(), |l| term::dim(format!(
                "  (tests.rs line {l})"
            )))
        ));
        out.push(indent(&failure_text(first, cx)));
        if others.len() > 1 {
            out.push(String::new());
            out.push(term::bold("Also failing:"));
            for t in &others[1..] {
                out.push(format!(
                    "  {} {} — {}",
                    term::bad("✗"),
                    t.name,
                    first_line(t, cx)
                ));
            }
        }
        out.push(String::new());
    }
    let unwritten = unwritten_functions(&todos, cx.exercise);
    if !unwritten.is_empty() {
        let list: Vec<String> = unwritten
            .iter()
            .map(|(f, line)| format!("`fn {f}` (exercise.rs line {line})"))
            .collect();
        out.push(format!(
            "{} {}  {}",
            term::bold("Not written yet:"),
            list.join(", "),
            term::dim(format!("— {} failing test(s) call it", todos.len()))
        ));
        out.push(String::new());
    }
    if let Some((unfinished, seconds)) = timed_out {
        out.push(format!(
            "{} the grader was stopped after {seconds} s; still running: {}",
            term::bad("Timed out:"),
            unfinished.join(", ")
        ));
        out.push(String::new());
    }

    let mark = if failing.is_empty() && timed_out.is_none() && total > 0 {
        term::good("✓")
    } else {
        term::bad("✗")
    };
    out.push(format!(
        "{mark} lesson {:02}: {passed} of {total} tests pass.",
        cx.lesson
    ));
    if let Some(nudge) = nudge(&others, &unwritten, timed_out.is_some(), cx) {
        out.push(format!("{} {nudge}", term::bold("Nudge:")));
    }
    out
}

/// The one-line nudge: the most useful next step for what failed.
fn nudge(
    others: &[&TestResult],
    unwritten: &[(String, usize)],
    timed_out: bool,
    cx: &Context<'_>,
) -> Option<String> {
    let (shown, total) = cx.hints;
    let hint = if shown < total {
        format!(
            " Stuck? `netlab hint {:02}` gives hint {} of {total}.",
            cx.lesson,
            shown + 1
        )
    } else {
        String::new()
    };
    if timed_out {
        return Some(format!(
            "a test that never ends is usually a loop whose condition never changes, or a read waiting for bytes that never come.{hint}"
        ));
    }
    if let Some(first) = others.first() {
        let f = first.failure.as_ref();
        if f.is_some_and(Failure::in_exercise) {
            return Some(format!(
                "your code panicked at exercise.rs line {}: look at what it indexes or unwraps there.{hint}",
                f.and_then(|f| f.line).unwrap_or(0)
            ));
        }
        return Some(format!(
            "the first failure's message says what was expected and why; fix that one first.{hint}"
        ));
    }
    if let Some((f, line)) = unwritten.first() {
        return Some(format!(
            "start with `fn {f}` (line {line}): its doc comment says what it must do.{hint}"
        ));
    }
    None
}

/// A failure's full text: the grader's message, or where the student's code panicked.
fn failure_text(t: &TestResult, cx: &Context<'_>) -> String {
    let Some(f) = &t.failure else {
        return "failed (no message)".into();
    };
    if f.in_exercise() {
        let line = f.line.unwrap_or(0);
        let within = function_at(cx.exercise, line as usize)
            .map_or(String::new(), |name| format!(" in `fn {name}`"));
        format!(
            "your code panicked at exercise.rs line {line}{within}: {}",
            f.message
        )
    } else {
        f.message.clone()
    }
}

/// The first line of a failure, for the "also failing" list.
fn first_line(t: &TestResult, cx: &Context<'_>) -> String {
    failure_text(t, cx).lines().next().unwrap_or("").to_string()
}

fn grader_line(t: &TestResult) -> Option<u32> {
    t.failure
        .as_ref()
        .filter(|f| !f.in_exercise())
        .and_then(|f| f.line)
}

/// The functions whose placeholder body the tests hit, each once, in file order.
fn unwritten_functions(todos: &[&TestResult], exercise: &str) -> Vec<(String, usize)> {
    let mut found: Vec<(String, usize)> = Vec::new();
    for t in todos {
        let Some(line) = t.failure.as_ref().and_then(|f| f.line) else {
            continue;
        };
        let line = line as usize;
        let name = function_at(exercise, line).unwrap_or_else(|| "?".into());
        if !found.iter().any(|(n, _)| *n == name) {
            found.push((name, line));
        }
    }
    found.sort_by_key(|(_, line)| *line);
    found
}

/// The name of the function whose body holds `line` (1-based): the nearest
/// `fn NAME` at or above it.
pub fn function_at(source: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = source.lines().collect();
    let upto = line.min(lines.len());
    lines[..upto].iter().rev().find_map(|l| {
        let after = l.split("fn ").nth(1)?;
        if !(l.trim_start().starts_with("fn ") || l.contains(" fn ")) {
            return None;
        }
        let name: String = after
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        (!name.is_empty()).then_some(name)
    })
}

/// Where a test is written in the grader, so failures are shown in the order
/// the lesson builds them up (libtest reports them alphabetically).
fn position_in(grader: &str, test_name: &str) -> usize {
    let short = test_name.rsplit("::").next().unwrap_or(test_name);
    grader.find(&format!("fn {short}(")).unwrap_or(usize::MAX)
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::course::grade::parse_test_output;

    /// An exercise file with two placeholder bodies (holes live in
    /// lessons/*/exercise.rs only, so the body here is just a line `HOLE`).
    const EXERCISE: &str = "/// Encodes.\npub fn encode(x: u8) -> u8 {\n    HOLE\n}\n\n/// Decodes.\npub fn decode(x: u8) -> u8 {\n    HOLE\n}\n";
    const GRADER: &str =
        "#[test]\nfn zeta_first() {}\n#[test]\nfn alpha_second() {}\n#[test]\nfn todo_one() {}\n";

    fn cx() -> Context<'static> {
        Context {
            lesson: 2,
            exercise: EXERCISE,
            grader: GRADER,
            hints: (0, 3),
        }
    }

    fn plain(lines: Vec<String>) -> String {
        // Styled text carries escape codes; compare what a reader sees.
        let text = lines.join("\n");
        let mut out = String::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                for d in chars.by_ref() {
                    if d.is_ascii_alphabetic() {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn function_at_finds_the_enclosing_fn() {
        assert_eq!(function_at(EXERCISE, 3).as_deref(), Some("encode"));
        assert_eq!(function_at(EXERCISE, 8).as_deref(), Some("decode"));
        assert_eq!(function_at(EXERCISE, 1), None);
    }

    #[test]
    fn first_failure_in_grader_order_then_todos_then_summary_then_nudge() {
        let run = "test alpha_second ... FAILED\ntest todo_one ... FAILED\ntest zeta_first ... FAILED\ntest other ... ok\n\nfailures:\n\n---- alpha_second stdout ----\nthread 'alpha_second' panicked at lessons/02-framing/tests.rs:4:5:\nsecond message\n---- todo_one stdout ----\nthread 'todo_one' panicked at lessons/02-framing/exercise.rs:8:5:\nnot yet implemented\n---- zeta_first stdout ----\nthread 'zeta_first' panicked at lessons/02-framing/tests.rs:2:5:\nfirst message\nleft: 1\n\nfailures:\n";
        let verdict = Verdict::Ran {
            tests: parse_test_output(run),
        };
        let text = plain(render(&verdict, &cx()));
        let first = text.find("First failing test: zeta_first").expect(&text);
        let diff = text.find("first message\n    left: 1").expect(&text);
        let also = text.find("alpha_second — second message").expect(&text);
        let todo = text
            .find("Not written yet: `fn decode` (exercise.rs line 8)")
            .expect(&text);
        let summary = text.find("lesson 02: 1 of 4 tests pass.").expect(&text);
        let nudge = text.find("Nudge:").expect(&text);
        assert!(first < diff && diff < also && also < todo && todo < summary && summary < nudge);
        assert!(text.contains("netlab hint 02` gives hint 1 of 3"), "{text}");
        assert!(
            !text.contains("not yet implemented"),
            "a placeholder is named once, as a function, not once per test: {text}"
        );
    }

    #[test]
    fn only_todos_nudge_towards_the_first_unwritten_function() {
        let run = "test a ... FAILED\ntest b ... FAILED\n\nfailures:\n\n---- a stdout ----\nthread 'a' panicked at x/exercise.rs:8:5:\nnot yet implemented\n---- b stdout ----\nthread 'b' panicked at x/exercise.rs:3:5:\nnot yet implemented\n";
        let text = plain(render(
            &Verdict::Ran {
                tests: parse_test_output(run),
            },
            &cx(),
        ));
        assert!(
            text.contains("`fn encode` (exercise.rs line 3), `fn decode` (exercise.rs line 8)"),
            "{text}"
        );
        assert!(text.contains("0 of 2 tests pass"), "{text}");
        assert!(
            text.contains("Nudge: start with `fn encode` (line 3)"),
            "{text}"
        );
        assert!(!text.contains("First failing test"), "{text}");
    }

    #[test]
    fn a_timeout_names_what_never_finished() {
        let text = plain(render(
            &Verdict::TimedOut {
                tests: vec![],
                unfinished: vec!["echo_many_clients".into()],
                seconds: 60,
            },
            &cx(),
        ));
        assert!(
            text.contains("stopped after 60 s; still running: echo_many_clients"),
            "{text}"
        );
        assert!(text.contains("0 of 1 tests pass"), "{text}");
    }
}
