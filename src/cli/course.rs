//! `netlab lessons`, `netlab lesson NN` and `netlab check [NN]`: the course
//! as a student meets it — the list with progress, one lesson's text, a grade.

use super::CliResult;
use crate::course::{self, ExerciseStatus, Lesson};
use crate::term;
use std::error::Error;
use std::io::IsTerminal;
use std::process::ExitCode;

pub(super) fn lessons(json: bool) -> CliResult {
    let root = course::project_root();
    if json {
        let rows: Vec<serde_json::Value> = course::LESSONS
            .iter()
            .map(|l| {
                serde_json::json!({
                    "lesson": l,
                    "ready": l.is_ready(),
                    "exercise_status": l.exercise.map(|_| course::exercise_status(root.as_deref(), l)),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    anstream::println!("{}", term::heading("netlab — the course"));
    anstream::println!();
    for l in course::LESSONS {
        let status = match (l.is_ready(), l.exercise) {
            (false, _) => term::dim("coming"),
            (true, None) => term::dim("no exercise"),
            (true, Some(_)) => match course::exercise_status(root.as_deref(), l) {
                ExerciseStatus::Passed => term::good("✓ passed"),
                ExerciseStatus::InProgress => term::bold("in progress"),
                s => s.label().to_string(),
            },
        };
        // Pad before styling: escape codes must not count towards the width.
        let padded = format!("{:<60}", l.title);
        let title = if l.is_ready() {
            term::bold(padded)
        } else {
            term::dim(padded)
        };
        anstream::println!("  {:02}  {} {}", l.number, title, status);
        if l.is_ready() {
            let ex: Vec<String> = l
                .examples
                .iter()
                .map(|e| format!("cargo run --example {e}"))
                .collect();
            anstream::println!("      {}", term::dim(ex.join("  ·  ")));
        }
    }
    anstream::println!();
    anstream::println!(
        "Read one with {}, grade your exercise with {}.",
        term::bold("netlab lesson NN"),
        term::bold("netlab check NN")
    );
    Ok(ExitCode::SUCCESS)
}

fn find_lesson(number: u8) -> Result<&'static Lesson, Box<dyn Error>> {
    course::lesson(number).ok_or_else(|| {
        format!(
            "there is no lesson {number}: lessons are numbered 00 to {:02} (see `netlab lessons`)",
            course::LESSONS.len() - 1
        )
        .into()
    })
}

pub(super) fn lesson(number: u8) -> CliResult {
    let l = find_lesson(number)?;
    let Some(text) = l.text else {
        let ready: Vec<String> = course::LESSONS
            .iter()
            .filter(|l| l.is_ready())
            .map(|l| format!("{:02}", l.number))
            .collect();
        return Err(format!(
            "lesson {:02} ({}) is not written yet; ready now: {}",
            l.number,
            l.title,
            ready.join(", ")
        )
        .into());
    };
    anstream::print!("{}", term::render_markdown(text));
    if let Some(ex) = l.exercise {
        anstream::println!();
        anstream::println!(
            "{} {} — edit lessons/{}/exercise.rs, then run {}",
            term::bold("Exercise:"),
            ex.task,
            l.dir,
            term::bold(format!("netlab check {:02}", l.number))
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn check(number: Option<u8>) -> CliResult {
    let root = course::project_root().ok_or(
        "netlab check grades files in the netlab source tree: run it inside your clone of the project (or set NETLAB_ROOT)",
    )?;
    let targets: Vec<&Lesson> = match number {
        Some(n) => {
            let l = find_lesson(n)?;
            if l.exercise.is_none() {
                return Err(format!("lesson {:02} has no exercise yet", l.number).into());
            }
            vec![l]
        }
        None => course::LESSONS
            .iter()
            .filter(|l| l.exercise.is_some())
            .collect(),
    };
    let color = std::io::stdout().is_terminal();
    let mut failed = Vec::new();
    for l in &targets {
        let ex = l.exercise.expect("filtered above");
        anstream::println!(
            "{} lesson {:02}: {}  {}",
            term::bold("Grading"),
            l.number,
            ex.task,
            term::dim(course::exercise_path(&root, l).display())
        );
        let status = course::grader_command(&root, l, color).status()?;
        if status.success() {
            course::record_pass(&root, l);
            anstream::println!("{} lesson {:02} passes.", term::good("✓"), l.number);
        } else {
            failed.push(l.number);
            anstream::println!();
            anstream::println!(
                "{} lesson {:02} does not pass yet.",
                term::bad("✗"),
                l.number
            );
            anstream::println!("{} {}", term::bold("Hint:"), ex.hint);
            anstream::println!(
                "{}",
                term::dim("Read the first failing test above: the diff shows `left` (yours) against `right` (expected).")
            );
        }
    }
    if failed.is_empty() {
        if let [l] = targets.as_slice() {
            let next = course::LESSONS
                .iter()
                .find(|n| n.number > l.number && n.is_ready());
            match next {
                Some(n) => anstream::println!(
                    "Next: {} — {}",
                    term::bold(format!("netlab lesson {:02}", n.number)),
                    n.title
                ),
                None => anstream::println!("That is the last lesson ready so far. Well done!"),
            }
        }
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::FAILURE)
    }
}
