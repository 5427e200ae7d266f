//! `netlab predict NN` end to end: the real binary takes the answers, runs the
//! lesson's experiment, and says which predictions held — and its verdict on a
//! measured question must follow from the number the run measured and the
//! question's ranges. Also the two commands lessons' experiments added:
//! `netlab tcp boundaries` and `netlab tour --step`.

mod support;

use netlab::course::predict::{self, Predictions, Settled};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A folder that passes for a netlab tree (`Cargo.toml` and `lessons/`), so
/// that `netlab predict` keeps its progress file there, not in the repository.
struct Sandbox(PathBuf);

impl Sandbox {
    fn new(name: &str) -> Sandbox {
        let dir =
            std::env::temp_dir().join(format!("netlab-predict-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("lessons")).unwrap();
        std::fs::write(dir.join("Cargo.toml"), "").unwrap();
        Sandbox(dir)
    }

    fn predict(&self, lesson: u8, answers: &str) -> Output {
        Command::new(support::netlab_bin())
            .args([
                "--color",
                "never",
                "predict",
                &format!("{lesson:02}"),
                "--answers",
                answers,
            ])
            .env("NETLAB_ROOT", &self.0)
            .output()
            .expect("run netlab predict")
    }

    /// The answers kept for `lesson` in the sandbox's progress file.
    fn kept_answers(&self, lesson: u8) -> Vec<String> {
        let dir = netlab::course::lesson(lesson).unwrap().dir;
        let text = std::fs::read_to_string(self.0.join(".netlab-progress.json"))
            .expect("netlab predict writes the progress file into NETLAB_ROOT");
        let v: Value = serde_json::from_str(&text).unwrap();
        v["lessons"][dir]["predictions"]
            .as_array()
            .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn netlab(args: &[&str]) -> Output {
    Command::new(support::netlab_bin())
        .args(["--color", "never"])
        .args(args)
        .output()
        .expect("run netlab")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The lesson's questions, as the binary embeds them (read from the source tree).
fn predictions(lesson: u8) -> Predictions {
    let dir = netlab::course::lesson(lesson).unwrap().dir;
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("lessons")
        .join(dir)
        .join("predict.json");
    Predictions::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The verdict line of question `n` (from 1): `✓ n. …`, `✗ n. …` or `? n. …`.
fn verdict_line(out: &str, n: usize) -> &str {
    out.lines()
        .find(|l| {
            ["✓", "✗", "?"]
                .iter()
                .any(|m| l.starts_with(&format!("{m} {n}. ")))
        })
        .unwrap_or_else(|| panic!("no verdict for question {n} in:\n{out}"))
}

/// The number in `… (this run measured N)…`.
fn measured_in(line: &str) -> f64 {
    let tail = line
        .split("(this run measured ")
        .nth(1)
        .unwrap_or_else(|| panic!("no measured number in {line:?}"));
    tail[..tail.find(')').unwrap()].parse().unwrap()
}

/// Runs `netlab predict` with `answers` and checks every verdict against the
/// questions: a measured question must be settled, and ✓ exactly when the
/// measured number falls in the range of the chosen answer. Returns what each
/// question measured (None for shown ones) and how many held.
fn predict_and_check(lesson: u8, answers: &[char]) -> (Vec<Option<f64>>, usize) {
    let sandbox = Sandbox::new(&format!("{lesson:02}"));
    let p = predictions(lesson);
    assert_eq!(answers.len(), p.questions.len());
    let joined: Vec<String> = answers.iter().map(char::to_string).collect();
    let o = sandbox.predict(lesson, &joined.join(","));
    let out = text(&o);
    assert!(
        o.status.success(),
        "netlab predict {lesson:02} failed:\n{out}"
    );
    assert!(
        !out.contains("did not settle it"),
        "every question of lesson {lesson:02} must be settled by the run:\n{out}"
    );
    let mut measured = Vec::new();
    let mut held = 0;
    for (i, (q, &answer)) in p.questions.iter().zip(answers).enumerate() {
        let pick = predict::choice_of(&answer.to_string(), q.choices.len()).unwrap();
        let line = verdict_line(&out, i + 1);
        let truth = match &q.settled {
            Settled::Measured { ranges, .. } => {
                let m = measured_in(line);
                measured.push(Some(m));
                ranges
                    .iter()
                    .position(|r| r[0] <= m && m <= r[1])
                    .unwrap_or_else(|| {
                        panic!("{m} is in none of {ranges:?}, yet the run said {line:?}")
                    })
            }
            Settled::Shown { answer } => {
                measured.push(None);
                *answer
            }
        };
        if truth == pick {
            held += 1;
            assert!(
                line.starts_with(&format!("✓ {}. ", i + 1)) && line.contains("it held"),
                "question {} of lesson {lesson:02}: {answer}) is the right answer, yet: {line}",
                i + 1
            );
        } else {
            assert!(
                line.starts_with(&format!("✗ {}. ", i + 1))
                    && line.contains(&format!(
                        "the run says {}) {}",
                        predict::letter(truth),
                        q.choices[truth]
                    )),
                "question {} of lesson {lesson:02}: the run's answer is {}), yet: {line}",
                i + 1,
                predict::letter(truth)
            );
        }
    }
    assert!(
        out.contains(&format!(
            "{held} of {} predictions held.",
            p.questions.len()
        )),
        "{out}"
    );
    assert_eq!(sandbox.kept_answers(lesson), joined, "the answers are kept");
    (measured, held)
}

#[test]
fn lesson_06_verdicts_follow_the_seeded_run() {
    // Seed 1 makes the run the same everywhere: TCP delivers all 100, its p99
    // latency passes 100 ms, and reordering alone makes it retransmit. So a)
    // is right, b) wrong (it says 20 to 100 ms), b) right.
    let (measured, held) = predict_and_check(6, &['a', 'b', 'b']);
    assert_eq!(held, 2);
    assert_eq!(measured[0], Some(100.0), "TCP delivers all 100");
    assert!(measured[1].unwrap() > 100_000.0, "{measured:?}");
    assert!(measured[2].unwrap() >= 1.0, "{measured:?}");
}

#[test]
fn lesson_01_verdicts_follow_the_reads_this_run_counted() {
    // "one read per write" and "one read for 1 MiB": both wrong on any run.
    let (measured, held) = predict_and_check(1, &['a', 'a']);
    assert_eq!(held, 0);
    assert!(
        measured[0].unwrap() < 3.0,
        "three writes, fewer reads: {measured:?}"
    );
    assert!(
        measured[1].unwrap() >= 16.0,
        "1 MiB in 64 KiB reads: {measured:?}"
    );
}

#[test]
fn lesson_05_verdicts_follow_the_losses_this_run_measured() {
    // The slow receiver runs on the kernel's own UDP: the count differs from
    // run to run, and the verdict must follow whatever it was.
    let (measured, held) = predict_and_check(5, &['b', 'a', 'b']);
    assert!(held <= 3);
    assert!(
        measured[1].unwrap() < 100.0,
        "a full buffer drops: {measured:?}"
    );
}

#[test]
fn shown_questions_print_the_experiment_then_the_fixed_answer() {
    let sandbox = Sandbox::new("02");
    let o = sandbox.predict(2, "b,a,c");
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    // The experiment's output comes through line by line, where the answer can be read.
    assert!(
        out.lines().any(|l| l.trim()
            == "on the wire, \"hello\" is 00 00 00 05 68 65 6c 6c 6f = length 5, then the bytes"),
        "{out}"
    );
    assert!(verdict_line(&out, 1).starts_with("✓ 1. "), "{out}");
    assert!(
        verdict_line(&out, 2).contains("the run says c) three messages, the empty one too"),
        "{out}"
    );
    assert!(verdict_line(&out, 3).starts_with("✓ 3. "), "{out}");
    assert!(out.contains("2 of 3 predictions held."), "{out}");
}

#[test]
fn a_wrong_letter_is_refused_before_anything_runs() {
    let sandbox = Sandbox::new("bad");
    let o = sandbox.predict(6, "a,z,a");
    assert!(!o.status.success());
    assert!(
        text(&o).contains("answer \"z\" for question 2 is not one of its letters"),
        "{}",
        text(&o)
    );
    assert!(!text(&o).contains("Running:"));
}

#[test]
fn the_lesson_text_ends_with_its_questions() {
    let o = netlab(&["lesson", "06"]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    let p = predictions(6);
    assert!(out.contains("Predict, then run"), "{out}");
    for q in &p.questions {
        assert!(out.contains(&q.ask), "missing {:?}", q.ask);
    }
    assert!(out.contains("netlab predict 06"), "{out}");
}

#[test]
fn tcp_boundaries_counts_the_reads_of_several_writes_and_of_one_big_write() {
    let o = netlab(&[
        "tcp",
        "boundaries",
        "--writes",
        "4",
        "--size",
        "3",
        "--big",
        "300000",
        "--json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let sizes: Vec<u64> = v["small"]["read_sizes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .collect();
    assert_eq!(sizes.iter().sum::<u64>(), 12, "4 writes of 3 bytes: {v}");
    assert_eq!(v["small"]["reads"].as_u64(), Some(sizes.len() as u64));
    assert!(sizes.len() < 4, "the writes were glued together: {v}");
    let buffer = v["read_buffer"].as_u64().unwrap();
    let reads = v["big"]["reads"].as_u64().unwrap();
    assert!(reads >= 300_000u64.div_ceil(buffer), "{v}");
    assert!(v["big"]["largest_read"].as_u64().unwrap() <= buffer, "{v}");
    assert_eq!(v["every_byte_in_order"], true);

    let o = netlab(&["tcp", "boundaries"]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains("client: 3 separate write(s) of 5 bytes: \"aaaaa\" \"bbbbb\" \"ccccc\""),
        "{out}"
    );
    assert!(out.contains("every byte arrived, in order"), "{out}");

    let o = netlab(&["tcp", "boundaries", "--size", "0"]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("--size 0 is out of range"),
        "{}",
        text(&o)
    );
}

#[test]
fn tour_step_runs_only_the_steps_named() {
    let steps = netlab::tour::STEPS;
    let o = netlab(&["tour", "--step", "1,3"]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains(&format!("1. {}", steps[0].title)), "{out}");
    assert!(out.contains(&format!("3. {}", steps[2].title)), "{out}");
    assert!(
        !out.contains(steps[1].title),
        "step 2 was not asked for:\n{out}"
    );
    assert!(!out.contains("Tour complete"), "{out}");

    for bad in ["0", &(steps.len() + 1).to_string()] {
        let o = netlab(&["tour", "--step", bad]);
        assert!(!o.status.success());
        assert!(
            text(&o).contains(&format!(
                "there is no tour step {bad}: the steps are 1 to {}",
                steps.len()
            )),
            "{}",
            text(&o)
        );
    }
}

#[test]
/// Every lesson's predict.json parses, and its experiment is a netlab command
/// line that parses (tour steps that exist, files that exist, `--json` exactly
/// when a question is measured).
fn every_lesson_asks_valid_predictions_about_a_runnable_experiment() {
    use clap::Parser;
    use netlab::cli::{Cli, Command};

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for l in netlab::course::LESSONS {
        let json = l
            .predict
            .unwrap_or_else(|| panic!("lesson {:02} has no predict.json", l.number));
        let p = Predictions::parse(json)
            .unwrap_or_else(|e| panic!("lessons/{}/predict.json: {e}", l.dir));
        let ex = &p.experiment;
        // Hermetic and quick: a netlab command, never an example to build first.
        assert!(
            ex.example.is_none(),
            "lesson {:02}: use a netlab command",
            l.number
        );
        let argv = std::iter::once("netlab").chain(ex.netlab.iter().map(String::as_str));
        let cli = Cli::try_parse_from(argv)
            .unwrap_or_else(|e| panic!("lesson {:02}'s experiment does not parse: {e}", l.number));
        match &cli.command {
            Command::Predict { .. } => {
                panic!("lesson {:02}: an experiment cannot predict", l.number)
            }
            Command::Tour { step } => assert!(
                !step.is_empty()
                    && step
                        .iter()
                        .all(|n| (1..=netlab::tour::STEPS.len()).contains(n)),
                "lesson {:02}: name the tour steps to run, among 1 to {}: {step:?}",
                l.number,
                netlab::tour::STEPS.len()
            ),
            _ => {}
        }
        for file in ex.netlab.iter().filter(|a| a.starts_with("lessons/")) {
            assert!(
                root.join(file).is_file(),
                "lesson {:02} reads {file}, which is missing",
                l.number
            );
        }
        let json_out = ex.netlab.iter().any(|a| a == "--json");
        assert_eq!(
            p.needs_json(),
            json_out,
            "lesson {:02}: measured questions need --json, and --json output needs a measured question",
            l.number
        );
        for (i, q) in p.questions.iter().enumerate() {
            assert!(
                !q.why.trim().is_empty(),
                "lesson {:02} question {}",
                l.number,
                i + 1
            );
            if let Settled::Measured { pointer, ranges } = &q.settled {
                assert!(
                    pointer.starts_with('/'),
                    "lesson {:02}: {pointer}",
                    l.number
                );
                // Every count the run can print lands in some choice: no gaps between the ranges.
                let mut sorted = ranges.clone();
                sorted.sort_by(|a, b| a[0].total_cmp(&b[0]));
                assert_eq!(
                    sorted[0][0],
                    0.0,
                    "lesson {:02} question {}: start at 0",
                    l.number,
                    i + 1
                );
                for w in sorted.windows(2) {
                    assert!(
                        w[1][0] <= w[0][1] + 1.0,
                        "lesson {:02} question {}: nothing settles values between {} and {}",
                        l.number,
                        i + 1,
                        w[0][1],
                        w[1][0]
                    );
                }
            }
        }
    }
}
