//! Lesson 07's grader, run against your `lessons/07-missed-events/exercise.rs` (`netlab check 07`).

#[allow(unused)]
mod subject {
    include!("../../lessons/07-missed-events/exercise.rs");
}
include!("../../lessons/07-missed-events/tests.rs");
