//! Lesson 12's grader, run against your `lessons/12-many-servers/exercise.rs` (`netlab check 12`).

// While a function that appends to a Vec is still todo!(), clippy cannot see
// that it does.
#[allow(unused, clippy::ptr_arg)]
mod subject {
    include!("../../lessons/12-many-servers/exercise.rs");
}
include!("../../lessons/12-many-servers/tests.rs");
