//! `netlab lessons`, `lesson NN`, `check [NN]`, `watch`, `hint NN`, `reset NN`
//! and `predict NN`: the course as a student meets it — the list with
//! progress, one lesson's text, a grade, a grade on every save, hints one at
//! a time, a fresh start, and predictions checked against a real run.

use super::CliResult;
use crate::course::grade::{self, GradeConfig};
use crate::course::predict::{self, Predictions};
use crate::course::progress::{self, ExerciseStatus, Progress};
use crate::course::report::{self, Context};
use crate::course::{self, hints, watch, Lesson};
use crate::term;
use std::error::Error;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

pub(super) fn lessons(json: bool) -> CliResult {
    let root = course::project_root();
    if json {
        let rows: Vec<serde_json::Value> = course::LESSONS
            .iter()
            .map(|l| {
                serde_json::json!({
                    "lesson": l,
                    "ready": l.is_ready(),
                    "exercise_status": l.exercise.map(|_| progress::status(root.as_deref(), l)),
                    "hints_shown": root.as_deref().map(|r| Progress::load(r).lesson(l).map_or(0, |p| p.hints_shown)),
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
            (true, Some(_)) => match progress::status(root.as_deref(), l) {
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
    let exercises: Vec<&Lesson> = course::LESSONS
        .iter()
        .filter(|l| l.exercise.is_some())
        .collect();
    let passed = exercises
        .iter()
        .filter(|l| progress::status(root.as_deref(), l) == ExerciseStatus::Passed)
        .count();
    anstream::println!("{passed}/{} lessons passed.", exercises.len());
    anstream::println!(
        "Read one with {}, grade your exercise with {} (or {} to grade on every save).",
        term::bold("netlab lesson NN"),
        term::bold("netlab check NN"),
        term::bold("netlab watch")
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
    if let Some(p) = l.predict.map(Predictions::parse).transpose()? {
        anstream::println!();
        anstream::println!("{}", term::bold("Predict, then run"));
        show_questions(&p);
        anstream::println!(
            "Answer them, then run {} to see which held.",
            term::bold(format!("netlab predict {:02}", l.number))
        );
    }
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

/// The source tree, or the error that says how to get into one.
fn root() -> Result<PathBuf, Box<dyn Error>> {
    course::project_root().ok_or_else(|| {
        "the course commands work on the files of your netlab clone: run them inside it (or set NETLAB_ROOT)".into()
    })
}

/// The lesson, if it has an exercise.
fn with_exercise(number: u8) -> Result<&'static Lesson, Box<dyn Error>> {
    let l = find_lesson(number)?;
    if l.exercise.is_none() {
        return Err(format!("lesson {:02} has no exercise", l.number).into());
    }
    Ok(l)
}

/// Whether what we print is coloured (the `--color` flag, `NO_COLOR`, a terminal).
fn colored() -> bool {
    anstream::AutoStream::choice(&std::io::stdout()) != anstream::ColorChoice::Never
}

pub(super) fn check(number: Option<u8>, json: bool, timeout: Duration) -> CliResult {
    let root = root()?;
    let targets: Vec<&Lesson> = match number {
        Some(n) => vec![with_exercise(n)?],
        None => course::LESSONS
            .iter()
            .filter(|l| l.exercise.is_some())
            .collect(),
    };
    let config = GradeConfig {
        color: !json && colored(),
        timeout,
    };
    let mut failed = Vec::new();
    let mut verdicts = Vec::new();
    for l in &targets {
        let ex = l.exercise.expect("filtered above");
        if !json {
            anstream::println!(
                "{} lesson {:02}: {}  {}",
                term::bold("Grading"),
                l.number,
                ex.task,
                term::dim(course::exercise_path(&root, l).display())
            );
        }
        let show_build = !json;
        let compiling = move |krate: &str| {
            if show_build {
                anstream::eprintln!("  {}", term::dim(format!("compiling {krate}")));
            }
        };
        let verdict = grade::run(&root, l, &config, compiling, || false)?;
        let content = std::fs::read(course::exercise_path(&root, l))?;
        if verdict.passed() {
            progress::record_pass(&root, l, &content)?;
        } else {
            failed.push(l.number);
        }
        if json {
            verdicts.push(serde_json::json!({
                "lesson": l.number,
                "passed": verdict.passed(),
                "status": progress::status(Some(&root), l),
                "result": verdict,
            }));
            continue;
        }
        let grader = std::fs::read_to_string(root.join("lessons").join(l.dir).join("tests.rs"))
            .unwrap_or_default();
        let shown = Progress::load(&root).lesson(l).map_or(0, |p| p.hints_shown);
        let lines = report::render(
            &verdict,
            &Context {
                lesson: l.number,
                exercise: &String::from_utf8_lossy(&content),
                grader: &grader,
                hints: (shown, hints::parse(ex.hints).len()),
            },
        );
        for line in lines {
            anstream::println!("{line}");
        }
        if targets.len() > 1 {
            anstream::println!();
        }
    }
    if json {
        let out = if number.is_some() {
            verdicts.pop().unwrap_or_default()
        } else {
            serde_json::Value::Array(verdicts)
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else if failed.is_empty() {
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
                None => anstream::println!("That is the last lesson. Well done!"),
            }
        }
    } else if targets.len() > 1 {
        let list: Vec<String> = failed.iter().map(|n| format!("{n:02}")).collect();
        anstream::println!(
            "{} {} of {} exercises pass; not yet: {}",
            term::bad("✗"),
            targets.len() - failed.len(),
            targets.len(),
            list.join(", ")
        );
    }
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

pub(super) fn watch(number: Option<u8>, poll: bool, timeout: Duration) -> CliResult {
    let root = root()?;
    if let Some(n) = number {
        with_exercise(n)?;
    }
    watch::run(
        &root,
        &watch::WatchConfig {
            start: number,
            grade: GradeConfig {
                color: colored(),
                timeout,
            },
            poll: watch::DEFAULT_POLL,
            poll_only: poll,
        },
    )?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn hint(number: u8, all: bool) -> CliResult {
    let root = root()?;
    let l = with_exercise(number)?;
    let list = hints::parse(l.exercise.expect("checked").hints);
    if list.is_empty() {
        return Err(format!("lesson {:02} has no hints yet", l.number).into());
    }
    let mut kept = Progress::load(&root);
    let entry = kept.lesson_mut(l);
    let already = entry.hints_shown.min(list.len());
    let upto = if all {
        already.max(1)
    } else {
        (already + 1).min(list.len())
    };
    entry.hints_shown = entry.hints_shown.max(upto);
    kept.save(&root)?;
    for (i, h) in list.iter().enumerate().take(upto) {
        let title = format!("Hint {} of {} — {}", i + 1, list.len(), h.title);
        let fresh = i + 1 == upto && (all || upto > already);
        if fresh {
            anstream::println!("{}", term::bold(title));
            anstream::print!("{}", term::render_markdown(h.text));
        } else {
            anstream::println!("{}", term::dim(title));
            anstream::println!("{}", term::dim(h.text.lines().next().unwrap_or("")));
        }
        anstream::println!();
    }
    if upto == list.len() && already == list.len() && !all {
        anstream::println!(
            "That was the last hint. The lesson's text has the rest: {}",
            term::bold(format!("netlab lesson {:02}", l.number))
        );
    } else if upto < list.len() {
        anstream::println!(
            "{}",
            term::dim(format!(
                "Ask again for hint {} of {}.",
                upto + 1,
                list.len()
            ))
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn reset(number: u8, yes: bool) -> CliResult {
    let root = root()?;
    let l = with_exercise(number)?;
    let file = course::exercise_path(&root, l);
    let blob =
        progress::shipped_blob(l).ok_or("this build has no record of the shipped exercise")?;
    if progress::status(Some(&root), l) == ExerciseStatus::NotStarted {
        anstream::println!(
            "lessons/{}/exercise.rs is already as shipped; nothing to do.",
            l.dir
        );
        return Ok(ExitCode::SUCCESS);
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err("netlab reset asks before it overwrites your exercise; add --yes to reset without asking".into());
        }
        anstream::print!(
            "Put lessons/{}/exercise.rs back as shipped? Your version is kept as exercise.rs.bak. [y/N] ",
            l.dir
        );
        std::io::stdout().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            anstream::println!("Left as it is.");
            return Ok(ExitCode::SUCCESS);
        }
    }
    let shipped = shipped_content(&root, blob)?;
    if progress::blob_id(&shipped) != blob {
        return Err(
            format!("git gave content that is not blob {blob}; nothing was changed").into(),
        );
    }
    std::fs::copy(&file, file.with_extension("rs.bak"))?;
    std::fs::write(&file, shipped)?;
    anstream::println!(
        "{} lessons/{}/exercise.rs is as shipped again (yours: exercise.rs.bak).",
        term::good("✓"),
        l.dir
    );
    Ok(ExitCode::SUCCESS)
}

/// The shipped exercise, read from git's object store by its blob id.
fn shipped_content(root: &Path, blob: &str) -> Result<Vec<u8>, Box<dyn Error>> {
    let out = std::process::Command::new("git")
        .current_dir(root)
        .args(["cat-file", "blob", blob])
        .output()
        .map_err(|e| {
            format!("netlab reset restores the shipped file with git, which could not run: {e}")
        })?;
    if !out.status.success() {
        return Err(format!(
            "git does not have the shipped exercise (blob {blob}): is this a git clone of netlab? {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    Ok(out.stdout)
}

fn show_questions(p: &Predictions) {
    for (i, q) in p.questions.iter().enumerate() {
        anstream::println!("{}. {}", i + 1, q.ask);
        for (c, choice) in q.choices.iter().enumerate() {
            anstream::println!("   {}) {choice}", predict::letter(c));
        }
    }
}

pub(super) fn predict(number: u8, answers: Vec<String>) -> CliResult {
    let root = root()?;
    let l = find_lesson(number)?;
    let Some(p) = l.predict.map(Predictions::parse).transpose()? else {
        return Err(format!("lesson {:02} has no predictions yet", l.number).into());
    };
    anstream::println!(
        "{} lesson {:02}: {}",
        term::heading("Predict, then run"),
        l.number,
        p.experiment.says
    );
    anstream::println!();
    let mut chosen = Vec::new();
    for (i, q) in p.questions.iter().enumerate() {
        anstream::println!("{}. {}", i + 1, q.ask);
        for (c, choice) in q.choices.iter().enumerate() {
            anstream::println!("   {}) {choice}", predict::letter(c));
        }
        let pick = match answers.get(i) {
            Some(a) => predict::choice_of(a, q.choices.len()).ok_or_else(|| {
                format!(
                    "answer {:?} for question {} is not one of its letters",
                    a,
                    i + 1
                )
            })?,
            None => ask_choice(q.choices.len())?,
        };
        chosen.push(pick);
    }
    let mut kept = Progress::load(&root);
    kept.lesson_mut(l).predictions = chosen
        .iter()
        .map(|&c| predict::letter(c).to_string())
        .collect();
    kept.save(&root)?;

    anstream::println!();
    anstream::println!("{} {}", term::bold("Running:"), experiment_line(&p));
    let output = run_experiment(&root, &p)?;
    if !p.needs_json() {
        // Line by line: the lines stay lines, anything else a line holds is shown escaped.
        for line in output.lines() {
            anstream::println!("{}", term::peer_text(line));
        }
    }
    anstream::println!();
    let mut held = 0;
    for (i, (q, pick)) in p.questions.iter().zip(&chosen).enumerate() {
        let outcome = q.settle(&output);
        let measured = outcome
            .measured
            .map_or(String::new(), |m| format!(" (this run measured {m})"));
        match outcome.truth {
            Some(t) if t == *pick => {
                held += 1;
                anstream::println!(
                    "{} {}. you said {}) {} — it held{measured}.",
                    term::good("✓"),
                    i + 1,
                    predict::letter(*pick),
                    q.choices[*pick]
                );
            }
            Some(t) => anstream::println!(
                "{} {}. you said {}) {}; the run says {}) {}{measured}.",
                term::bad("✗"),
                i + 1,
                predict::letter(*pick),
                q.choices[*pick],
                predict::letter(t),
                q.choices[t]
            ),
            None => anstream::println!(
                "? {}. the run did not settle it{measured}: run it again, or look at its output above.",
                i + 1
            ),
        }
        anstream::println!("   {}", term::dim(&q.why));
    }
    anstream::println!();
    anstream::println!("{held} of {} predictions held.", p.questions.len());
    Ok(ExitCode::SUCCESS)
}

/// Reads one choice letter from the terminal, asking again on a bad one.
fn ask_choice(count: usize) -> Result<usize, Box<dyn Error>> {
    let stdin = std::io::stdin();
    loop {
        anstream::print!("   your answer (a–{}): ", predict::letter(count - 1));
        std::io::stdout().flush()?;
        let mut line = String::new();
        if stdin.lock().read_line(&mut line)? == 0 {
            return Err("no answer given (stdin ended); pass them with --answers a,b".into());
        }
        if let Some(c) = predict::choice_of(&line, count) {
            return Ok(c);
        }
    }
}

fn experiment_line(p: &Predictions) -> String {
    match &p.experiment.example {
        Some(ex) => format!(
            "cargo run --release --example {ex} -- {}",
            p.experiment.args.join(" ")
        ),
        None => format!("netlab {}", p.experiment.netlab.join(" ")),
    }
}

/// Runs the experiment and returns what it printed on stdout.
fn run_experiment(root: &Path, p: &Predictions) -> Result<String, Box<dyn Error>> {
    let mut cmd = match &p.experiment.example {
        Some(ex) => {
            let mut c = std::process::Command::new(
                std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()),
            );
            c.args(["run", "--quiet", "--release", "--example", ex, "--"])
                .args(&p.experiment.args);
            c
        }
        None => {
            let mut c = std::process::Command::new(std::env::current_exe()?);
            c.args(["--color", "never"]).args(&p.experiment.netlab);
            c
        }
    };
    let out = cmd
        .current_dir(root)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "the experiment failed ({}): {}",
            out.status,
            experiment_line(p)
        )
        .into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
