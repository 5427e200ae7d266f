//! The exercises crate holds no code of its own: each `tests/lesson_NN.rs`
//! compiles one student's `lessons/NN-*/exercise.rs` as the module `subject`
//! and includes that lesson's grader next to it.
//!
//! One test target per lesson keeps a save cheap (only that lesson compiles)
//! and keeps a lesson that does not compile yet from blocking the others.
