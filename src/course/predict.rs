//! Predict, then run: questions a student answers before an experiment,
//! checked against what the experiment then shows.
//!
//! Each lesson's `predict.json` names one experiment (a `netlab` command, or
//! one of the lesson's examples) and one to three multiple-choice questions.
//! A question is settled in one of two ways:
//! - **measured**: the experiment prints JSON, and a value in it (a JSON
//!   pointer, RFC 6901) falls in the range of exactly one choice — what held
//!   is what this run measured, not what a textbook says;
//! - **shown**: the answer is fixed, and the experiment's output shows it
//!   (the explanation says where to look).

use serde::Deserialize;

/// A lesson's predictions: the experiment and the questions about it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Predictions {
    /// What to run.
    pub experiment: Experiment,
    /// One to three questions, answered before the run.
    pub questions: Vec<Question>,
}

/// The experiment that settles the questions.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// `netlab` arguments, e.g. `["compare", "--loss", "20", "--json"]`.
    #[serde(default)]
    pub netlab: Vec<String>,
    /// Or an example to run with `cargo run --example`.
    #[serde(default)]
    pub example: Option<String>,
    /// Arguments after `--` for the example.
    #[serde(default)]
    pub args: Vec<String>,
    /// One line saying what the experiment does, shown before it runs.
    pub says: String,
}

/// One multiple-choice question.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// The question.
    pub ask: String,
    /// The choices, shown as a), b), c), …
    pub choices: Vec<String>,
    /// How the run settles it.
    pub settled: Settled,
    /// Why the right answer is right, shown after the run.
    pub why: String,
}

/// How a question is settled.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum Settled {
    /// By a number the experiment prints in its JSON output.
    Measured {
        /// Where the number is (RFC 6901 JSON pointer), e.g. `/udp/delivered`.
        pointer: String,
        /// One inclusive `[low, high]` range per choice.
        ranges: Vec<[f64; 2]>,
    },
    /// By a fixed answer the experiment's output shows.
    Shown {
        /// The right choice, counted from 0.
        answer: usize,
    },
}

/// Why a `predict.json` is not usable.
#[derive(Debug, thiserror::Error)]
pub enum PredictError {
    /// Not valid JSON of the expected shape.
    #[error("predict.json does not parse: {0}")]
    Json(#[from] serde_json::Error),
    /// Valid JSON, but the questions don't add up.
    #[error("predict.json: {0}")]
    Invalid(String),
}

/// What one question turned out to be after the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The right choice, if the run settled it.
    pub truth: Option<usize>,
    /// The number the run measured, for measured questions.
    pub measured: Option<f64>,
}

impl Predictions {
    /// Parses and checks a `predict.json`.
    pub fn parse(json: &str) -> Result<Self, PredictError> {
        let p: Predictions = serde_json::from_str(json)?;
        p.validate()?;
        Ok(p)
    }

    fn validate(&self) -> Result<(), PredictError> {
        let bad = |m: String| Err(PredictError::Invalid(m));
        if !(1..=3).contains(&self.questions.len()) {
            return bad(format!(
                "{} questions; a lesson asks 1 to 3",
                self.questions.len()
            ));
        }
        if self.experiment.netlab.is_empty() == self.experiment.example.is_none() {
            return bad("the experiment needs exactly one of `netlab` and `example`".into());
        }
        for (i, q) in self.questions.iter().enumerate() {
            if q.choices.len() < 2 {
                return bad(format!("question {} has fewer than 2 choices", i + 1));
            }
            match &q.settled {
                Settled::Shown { answer } if *answer >= q.choices.len() => {
                    return bad(format!(
                        "question {}'s answer is not one of its choices",
                        i + 1
                    ));
                }
                Settled::Measured { ranges, .. } if ranges.len() != q.choices.len() => {
                    return bad(format!("question {} needs one range per choice", i + 1));
                }
                Settled::Measured { ranges, .. } => {
                    for (a, r) in ranges.iter().enumerate() {
                        if r[0] > r[1] {
                            return bad(format!(
                                "question {} choice {} has low > high",
                                i + 1,
                                a + 1
                            ));
                        }
                        if ranges[a + 1..].iter().any(|s| s[0] <= r[1] && r[0] <= s[1]) {
                            return bad(format!("question {}'s ranges overlap", i + 1));
                        }
                    }
                }
                Settled::Shown { .. } => {}
            }
        }
        Ok(())
    }

    /// Whether the experiment's output must be JSON (some question is measured).
    pub fn needs_json(&self) -> bool {
        self.questions
            .iter()
            .any(|q| matches!(q.settled, Settled::Measured { .. }))
    }
}

impl Question {
    /// What the run says of this question, given the experiment's output.
    pub fn settle(&self, output: &str) -> Outcome {
        match &self.settled {
            Settled::Shown { answer } => Outcome {
                truth: Some(*answer),
                measured: None,
            },
            Settled::Measured { pointer, ranges } => {
                let measured = last_json(output)
                    .and_then(|v| v.pointer(pointer).and_then(serde_json::Value::as_f64));
                Outcome {
                    truth: measured
                        .and_then(|m| ranges.iter().position(|r| r[0] <= m && m <= r[1])),
                    measured,
                }
            }
        }
    }
}

/// The last JSON value in a command's output (commands may print progress first).
fn last_json(output: &str) -> Option<serde_json::Value> {
    if let Ok(v) = serde_json::from_str(output.trim()) {
        return Some(v);
    }
    // A pretty-printed object starts at a line holding just `{`.
    output
        .match_indices("\n{")
        .map(|(i, _)| &output[i + 1..])
        .chain(std::iter::once(output))
        .filter_map(|tail| serde_json::from_str(tail.trim()).ok())
        .last()
}

/// The letter of a choice: 0 → `a`.
pub fn letter(choice: usize) -> char {
    (b'a' + (choice % 26) as u8) as char
}

/// The choice a letter names, if it is one of `count`.
pub fn choice_of(answer: &str, count: usize) -> Option<usize> {
    let c = answer.trim().chars().next()?.to_ascii_lowercase();
    let i = (c as usize).checked_sub('a' as usize)?;
    (i < count && answer.trim().len() == 1).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"{
      "experiment": { "netlab": ["compare", "--json"], "says": "runs both" },
      "questions": [
        { "ask": "How many of 100 arrive?", "choices": ["all", "about 80", "none"],
          "settled": { "measured": { "pointer": "/udp/delivered", "ranges": [[100, 100], [60, 99], [0, 59]] } },
          "why": "loss" },
        { "ask": "Does TCP lose any?", "choices": ["yes", "no"],
          "settled": { "shown": { "answer": 1 } }, "why": "retransmission" }
      ]
    }"#;

    #[test]
    fn measured_questions_take_the_truth_from_the_run() {
        let p = Predictions::parse(EXAMPLE).expect("valid");
        assert!(p.needs_json());
        let out = "progress...\n{\n  \"udp\": { \"delivered\": 81 }\n}\n";
        assert_eq!(
            p.questions[0].settle(out),
            Outcome {
                truth: Some(1),
                measured: Some(81.0)
            }
        );
        let none = p.questions[0].settle("no json here");
        assert_eq!(none.truth, None, "nothing measured: nothing settled");
        assert_eq!(p.questions[1].settle("").truth, Some(1));
    }

    #[test]
    fn bad_files_are_refused_with_a_reason() {
        let overlapping = EXAMPLE.replace("[60, 99]", "[60, 100]");
        assert!(Predictions::parse(&overlapping)
            .unwrap_err()
            .to_string()
            .contains("overlap"));
        let wrong_answer = EXAMPLE.replace("\"answer\": 1", "\"answer\": 2");
        assert!(Predictions::parse(&wrong_answer).is_err());
        assert!(Predictions::parse("{").is_err());
    }

    #[test]
    fn letters_name_choices() {
        assert_eq!(letter(0), 'a');
        assert_eq!(choice_of("B", 3), Some(1));
        assert_eq!(choice_of("d", 3), None);
        assert_eq!(choice_of("ab", 3), None);
        assert_eq!(choice_of("", 3), None);
    }
}
