//! Lesson 03's grader, run against your `lessons/03-chat/exercise.rs` (`netlab check 03`).

#[allow(unused)]
mod subject {
    include!("../../lessons/03-chat/exercise.rs");
}
include!("../../lessons/03-chat/tests.rs");
