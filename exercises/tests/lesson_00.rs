//! Lesson 00's grader, run against your `lessons/00-models/exercise.rs` (`netlab check 00`).

#[allow(unused)]
mod subject {
    include!("../../lessons/00-models/exercise.rs");
}
include!("../../lessons/00-models/tests.rs");
