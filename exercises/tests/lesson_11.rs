//! Lesson 11's grader, run against your `lessons/11-inspector/exercise.rs` (`netlab check 11`).

#[allow(unused)]
mod subject {
    include!("../../lessons/11-inspector/exercise.rs");
}
include!("../../lessons/11-inspector/tests.rs");
