//! Lesson 06's grader, run against your `lessons/06-tcp-vs-udp/exercise.rs` (`netlab check 06`).

#[allow(unused)]
mod subject {
    include!("../../lessons/06-tcp-vs-udp/exercise.rs");
}
include!("../../lessons/06-tcp-vs-udp/tests.rs");
