//! Lesson 02's grader, run against your `lessons/02-framing/exercise.rs` (`netlab check 02`).

#[allow(unused)]
mod subject {
    include!("../../lessons/02-framing/exercise.rs");
}
include!("../../lessons/02-framing/tests.rs");
