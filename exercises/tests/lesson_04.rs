//! Lesson 04's grader, run against your `lessons/04-rooms/exercise.rs` (`netlab check 04`).

#[allow(unused)]
mod subject {
    include!("../../lessons/04-rooms/exercise.rs");
}
include!("../../lessons/04-rooms/tests.rs");
