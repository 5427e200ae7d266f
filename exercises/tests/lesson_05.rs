//! Lesson 05's grader, run against your `lessons/05-udp/exercise.rs` (`netlab check 05`).

#[allow(unused)]
mod subject {
    include!("../../lessons/05-udp/exercise.rs");
}
include!("../../lessons/05-udp/tests.rs");
