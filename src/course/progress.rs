//! Where a student stands on each exercise, kept across builds.
//!
//! Three states, each decided from the file's content, never from its date:
//! **not started** (the file is exactly as shipped: its git blob id is the
//! one `lessons/shipped.txt` records), **in progress** (edited, and this
//! content has not passed), **passed** (`netlab check` passed on exactly this
//! content). What passed, and how many hints were shown, is kept in
//! `.netlab-progress.json` in the project root — ignored by git and outside
//! `target/`, so `cargo clean` does not wipe a term's work.

use super::Lesson;
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The progress file's name, in the project root.
pub const PROGRESS_FILE: &str = ".netlab-progress.json";

/// The git blob id of every exercise as shipped, one `ID  DIR/exercise.rs`
/// line each. `scripts/ship-exercises` writes it; `scripts/check-exercises`
/// proves it matches the files in the repository.
pub const SHIPPED: &str = include_str!("../../lessons/shipped.txt");

/// Where the student stands on one exercise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExerciseStatus {
    /// The file is still exactly as shipped.
    NotStarted,
    /// The file was edited and `netlab check` has not passed on it as it is now.
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

/// What is remembered of one lesson.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LessonProgress {
    /// The git blob id of the exercise content that last passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passed: Option<String>,
    /// How many hints `netlab hint` has shown.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub hints_shown: usize,
    /// The answers given to `netlab predict`, by question, as choice letters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub predictions: Vec<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The whole progress file: one entry per lesson folder.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    /// Keyed by lesson folder, e.g. `02-framing`.
    #[serde(default)]
    pub lessons: BTreeMap<String, LessonProgress>,
}

impl Progress {
    /// The progress file of the tree at `root`.
    pub fn path(root: &Path) -> PathBuf {
        root.join(PROGRESS_FILE)
    }

    /// Reads the progress file; a missing or unreadable one is a fresh start.
    pub fn load(root: &Path) -> Self {
        std::fs::read(Self::path(root))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Writes the progress file (through a temporary file, so a crash
    /// mid-write never leaves half a file).
    pub fn save(&self, root: &Path) -> std::io::Result<()> {
        let path = Self::path(root);
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(self)?)?;
        std::fs::rename(tmp, path)
    }

    /// This lesson's entry, created empty if needed.
    pub fn lesson_mut(&mut self, lesson: &Lesson) -> &mut LessonProgress {
        self.lessons.entry(lesson.dir.to_string()).or_default()
    }

    /// This lesson's entry, if anything is remembered of it.
    pub fn lesson(&self, lesson: &Lesson) -> Option<&LessonProgress> {
        self.lessons.get(lesson.dir)
    }
}

/// Git's id for a file's content (`git hash-object`): SHA-1 over
/// `blob <len>\0` and the bytes. Using git's own id lets `netlab reset`
/// fetch the shipped file back with `git cat-file`.
pub fn blob_id(content: &[u8]) -> String {
    let mut h = Sha1::new();
    h.update(format!("blob {}\0", content.len()).as_bytes());
    h.update(content);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The blob id of `lesson`'s exercise as shipped, from [`SHIPPED`].
pub fn shipped_blob(lesson: &Lesson) -> Option<&'static str> {
    let want = format!("{}/exercise.rs", lesson.dir);
    SHIPPED
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(char::is_whitespace))
        .find(|(_, path)| path.trim() == want)
        .map(|(id, _)| id)
}

/// Where the student stands on `lesson`'s exercise in the tree at `root`.
pub fn status(root: Option<&Path>, lesson: &Lesson) -> ExerciseStatus {
    let Some(root) = root else {
        return ExerciseStatus::Unknown;
    };
    let Ok(content) = std::fs::read(super::exercise_path(root, lesson)) else {
        return ExerciseStatus::Unknown;
    };
    status_of(&content, Progress::load(root).lesson(lesson), lesson)
}

/// The state of an exercise with this content, given what is remembered.
pub fn status_of(content: &[u8], kept: Option<&LessonProgress>, lesson: &Lesson) -> ExerciseStatus {
    let id = blob_id(content);
    if kept.and_then(|k| k.passed.as_deref()) == Some(id.as_str()) {
        ExerciseStatus::Passed
    } else if shipped_blob(lesson) == Some(id.as_str()) {
        ExerciseStatus::NotStarted
    } else {
        ExerciseStatus::InProgress
    }
}

/// Remembers that `lesson`'s exercise passed with this content.
pub fn record_pass(root: &Path, lesson: &Lesson, content: &[u8]) -> std::io::Result<()> {
    let mut progress = Progress::load(root);
    progress.lesson_mut(lesson).passed = Some(blob_id(content));
    progress.save(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_id_is_gits() {
        // `printf 'hello\n' | git hash-object --stdin`
        assert_eq!(
            blob_id(b"hello\n"),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
        assert_eq!(blob_id(b""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
    }

    #[test]
    fn every_exercise_has_a_shipped_id() {
        for l in super::super::LESSONS
            .iter()
            .filter(|l| l.exercise.is_some())
        {
            let id = shipped_blob(l).unwrap_or_else(|| panic!("{} is not in shipped.txt", l.dir));
            assert_eq!(id.len(), 40, "{}", l.dir);
        }
    }

    #[test]
    fn states_follow_the_content() {
        let l = &super::super::LESSONS[2];
        let edited = b"fn main() {}".as_slice();
        assert_eq!(status_of(edited, None, l), ExerciseStatus::InProgress);
        let kept = LessonProgress {
            passed: Some(blob_id(edited)),
            ..Default::default()
        };
        assert_eq!(status_of(edited, Some(&kept), l), ExerciseStatus::Passed);
        assert_eq!(
            status_of(b"fn main() { }", Some(&kept), l),
            ExerciseStatus::InProgress,
            "one more byte is a new content: the pass no longer counts"
        );
    }
}
