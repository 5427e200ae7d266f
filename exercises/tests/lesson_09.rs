//! Lesson 09's grader, run against your `lessons/09-websocket-frames/exercise.rs` (`netlab check 09`).

// While a function that appends to a Vec is still todo!(), clippy cannot see
// that it does.
#[allow(unused, clippy::ptr_arg)]
mod subject {
    include!("../../lessons/09-websocket-frames/exercise.rs");
}
include!("../../lessons/09-websocket-frames/tests.rs");
