//! Fuzz the frame decoder and message assembler: any bytes, cut into chunks
//! of any size, for either role, must give messages or one typed error —
//! never a panic — and the verdict must not depend on how the bytes were cut.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use netlab::ws::frame::Role;
use netlab::ws::protocol::{Limits, Receiver};

fn run(role: Role, data: &[u8], chunk: usize) -> Vec<String> {
    let limits = Limits {
        max_frame: 4096,
        max_message: 8192,
    };
    let mut r = Receiver::new(role, limits);
    let mut inbox = BytesMut::new();
    let mut out = Vec::new();
    for piece in data.chunks(chunk.max(1)) {
        inbox.extend_from_slice(piece);
        loop {
            match r.read(&mut inbox) {
                Ok(Some(m)) => out.push(format!("{m:?}")),
                Ok(None) => break,
                Err(e) => {
                    assert!(matches!(e.close_code().as_u16(), 1002 | 1007 | 1009));
                    out.push(format!("error {e}"));
                    return out;
                }
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let role = if selector & 1 == 0 {
        Role::Server
    } else {
        Role::Client
    };
    let chunk = usize::from(selector >> 1) + 1;
    assert_eq!(run(role, rest, rest.len()), run(role, rest, chunk));
});
