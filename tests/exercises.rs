//! Every lesson's grader, run against the student's `lessons/NN-*/exercise.rs`.
//!
//! Built only with `--features exercises` (that is what `netlab check NN` runs),
//! so the unsolved exercises don't turn plain `cargo test` red.

mod lesson_00 {
    #[allow(unused)]
    mod subject {
        include!("../lessons/00-models/exercise.rs");
    }
    include!("../lessons/00-models/tests.rs");
}

mod lesson_01 {
    #[allow(unused)]
    mod subject {
        include!("../lessons/01-tcp/exercise.rs");
    }
    include!("../lessons/01-tcp/tests.rs");
}

mod lesson_02 {
    #[allow(unused)]
    mod subject {
        include!("../lessons/02-framing/exercise.rs");
    }
    include!("../lessons/02-framing/tests.rs");
}

mod lesson_11 {
    #[allow(unused)]
    mod subject {
        include!("../lessons/11-inspector/exercise.rs");
    }
    include!("../lessons/11-inspector/tests.rs");
}
