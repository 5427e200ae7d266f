//! Lesson 08's grader, run against your `lessons/08-websocket-handshake/exercise.rs` (`netlab check 08`).

#[allow(unused)]
mod subject {
    include!("../../lessons/08-websocket-handshake/exercise.rs");
}
include!("../../lessons/08-websocket-handshake/tests.rs");
