//! Property tests for the Socket.IO packet parser: hostile text never panics,
//! and every EVENT a client can write is read back as written.

use netlab::web::socketio::{parse, Incoming};
use proptest::prelude::*;
use serde_json::{json, Value};

proptest! {
    #[test]
    fn hostile_text_never_panics(s in "\\PC{0,64}", prefix in prop::sample::select(vec!["", "4", "42", "43", "40/", "42/x,", "421"])) {
        let _ = parse(&format!("{prefix}{s}"));
    }

    #[test]
    fn an_event_reads_back_as_written(
        name in "[a-z]{1,12}",
        ack in prop::option::of(0u64..10_000_000_000_000_000_000),
        text in "\\PC{0,32}",
        n in any::<i64>(),
    ) {
        let args = vec![json!(text), json!(n), json!({"k": [1, null, true]})];
        let mut data = vec![Value::String(name.clone())];
        data.extend(args.clone());
        let wire = format!("42{}{}", ack.map(|a| a.to_string()).unwrap_or_default(), Value::Array(data));
        prop_assert_eq!(parse(&wire), Ok(Incoming::Event { ack, name, args }));
    }
}
