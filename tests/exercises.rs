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

mod lesson_03 {
    #[allow(unused)]
    mod subject {
        include!("../lessons/03-chat/exercise.rs");
    }
    include!("../lessons/03-chat/tests.rs");
}

mod lesson_04 {
    #[allow(unused)]
    mod subject {
        include!("../lessons/04-rooms/exercise.rs");
    }
    include!("../lessons/04-rooms/tests.rs");
}

mod lesson_08 {
    #[allow(unused)]
    mod subject {
        include!("../lessons/08-websocket-handshake/exercise.rs");
    }
    include!("../lessons/08-websocket-handshake/tests.rs");
}

mod lesson_09 {
    // While encode_header is still todo!(), clippy cannot see that it appends to the Vec.
    #[allow(unused, clippy::ptr_arg)]
    mod subject {
        include!("../lessons/09-websocket-frames/exercise.rs");
    }
    include!("../lessons/09-websocket-frames/tests.rs");
}

mod lesson_05 {
    #[allow(unused)]
    mod subject {
        include!("../lessons/05-udp/exercise.rs");
    }
    include!("../lessons/05-udp/tests.rs");
}

mod lesson_06 {
    #[allow(unused)]
    mod subject {
        include!("../lessons/06-tcp-vs-udp/exercise.rs");
    }
    include!("../lessons/06-tcp-vs-udp/tests.rs");
}

mod lesson_11 {
    #[allow(unused)]
    mod subject {
        include!("../lessons/11-inspector/exercise.rs");
    }
    include!("../lessons/11-inspector/tests.rs");
}

mod lesson_07 {
    #[allow(unused)]
    mod subject {
        include!("../lessons/07-missed-events/exercise.rs");
    }
    include!("../lessons/07-missed-events/tests.rs");
}

mod lesson_10 {
    #[allow(unused)]
    mod subject {
        include!("../lessons/10-browser-socketio/exercise.rs");
    }
    include!("../lessons/10-browser-socketio/tests.rs");
}

mod lesson_12 {
    // While write_str and write_array_header are still todo!(), clippy cannot
    // see that they append to the Vec.
    #[allow(unused, clippy::ptr_arg)]
    mod subject {
        include!("../lessons/12-many-servers/exercise.rs");
    }
    include!("../lessons/12-many-servers/tests.rs");
}
