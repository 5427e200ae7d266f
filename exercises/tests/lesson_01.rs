//! Lesson 01's grader, run against your `lessons/01-tcp/exercise.rs` (`netlab check 01`).

#[allow(unused)]
mod subject {
    include!("../../lessons/01-tcp/exercise.rs");
}
include!("../../lessons/01-tcp/tests.rs");
