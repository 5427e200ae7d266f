//! Every lesson's grader, run against the library: proof that each exercise is
//! solvable and that the reference solution — the library itself — passes it.
//! (The `exercises/` crate runs the same graders against the students' files.)

mod lesson_00 {
    mod subject {
        pub use netlab::layers::{field_layer, osi_layer, tcpip_layer};
    }
    include!("../lessons/00-models/tests.rs");
}

mod lesson_01 {
    mod subject {
        pub use netlab::tcp::blocking_echo::{echo_connection, serve_echo};
        pub use netlab::tcp::partial_io::{read_exact, write_all};
    }
    include!("../lessons/01-tcp/tests.rs");
}

mod lesson_02 {
    mod subject {
        pub use netlab::framing::{decode_frame, encode_frame};
    }
    include!("../lessons/02-framing/tests.rs");
}

mod lesson_03 {
    mod subject {
        pub use netlab::chat::protocol::event_header;
        pub use netlab::chat::routing::everyone;
    }
    include!("../lessons/03-chat/tests.rs");
}

mod lesson_04 {
    mod subject {
        pub use netlab::chat::routing::{disconnect, join, leave, recipients, Table};
    }
    include!("../lessons/04-rooms/tests.rs");
}

mod lesson_08 {
    mod subject {
        pub use netlab::ws::blocking::accept_handshake;
        pub use netlab::ws::handshake::{accept_key, token_list_contains};
    }
    include!("../lessons/08-websocket-handshake/tests.rs");
}

mod lesson_09 {
    mod subject {
        pub use netlab::ws::frame::{decode_header, encode_header};
        pub use netlab::ws::mask::apply_mask;
    }
    include!("../lessons/09-websocket-frames/tests.rs");
}

mod lesson_05 {
    mod subject {
        pub use netlab::udp::ping::ping;
        pub use netlab::udp::ReceiveTracker;
    }
    include!("../lessons/05-udp/tests.rs");
}

mod lesson_06 {
    mod subject {
        pub use netlab::udp::tracker::{fraction_lost, interarrival_jitter, next_jitter};
    }
    include!("../lessons/06-tcp-vs-udp/tests.rs");
}

mod lesson_11 {
    mod subject {
        pub use netlab::inspect::ipv4::decode as decode_ipv4;
        pub use netlab::inspect::layer_at;
        pub use netlab::inspect::tcp::flag_names;
    }
    include!("../lessons/11-inspector/tests.rs");
}

mod lesson_07 {
    mod subject {
        pub use netlab::reliable::{Offer, ReorderBuffer, RtoConfig, RtoEstimator};
    }
    include!("../lessons/07-missed-events/tests.rs");
}

mod lesson_10 {
    mod subject {
        pub use netlab::web::engineio::{decode_payload, encode_payload, upgrade_step};
    }
    include!("../lessons/10-browser-socketio/tests.rs");
}

mod lesson_12 {
    mod subject {
        use netlab::chat::id::ConnId;
        use netlab::chat::routing::recipients;
        pub use netlab::chat::routing::Table;
        use netlab::cluster::message::{Broadcast, Channels};
        pub use netlab::cluster::msgpack::{write_array_header, write_str};
        use std::collections::BTreeSet;

        /// The library's channel naming (`Channels::for_rooms`) as the
        /// exercise's free function.
        pub fn channel_for(key: &str, nsp: &str, rooms: &[String]) -> String {
            Channels::new(key, nsp).for_rooms(rooms)
        }

        /// What `transport::redis` does with a broadcast from Redis
        /// (`Broadcast::local_target`), on lesson 04's table instead of the hub's.
        pub fn local_recipients(
            me: &str,
            b: &Broadcast,
            table: &Table,
            connected: &[ConnId],
        ) -> BTreeSet<ConnId> {
            b.local_target(me)
                .map_or_else(BTreeSet::new, |t| recipients(table, connected, &t))
        }
    }
    include!("../lessons/12-many-servers/tests.rs");
}
