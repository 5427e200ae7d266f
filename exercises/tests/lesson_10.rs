//! Lesson 10's grader, run against your `lessons/10-browser-socketio/exercise.rs` (`netlab check 10`).

#[allow(unused)]
mod subject {
    include!("../../lessons/10-browser-socketio/exercise.rs");
}
include!("../../lessons/10-browser-socketio/tests.rs");
