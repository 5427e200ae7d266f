//! Lesson 07's history log read from arbitrary bytes: it must never panic,
//! never accept a record over the limit, and never report more good bytes
//! than it was given.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netlab::chat::log::{read_log, MAGIC};

/// Small on purpose, so the fuzzer reaches the limit checks.
const MAX_RECORD: usize = 256;

fuzz_target!(|data: &[u8]| {
    // Half the inputs start with the real magic, so records get read.
    let mut bytes = Vec::with_capacity(MAGIC.len() + data.len());
    if data.first().is_some_and(|b| b & 1 == 0) {
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&data[1..]);
    } else {
        bytes.extend_from_slice(data);
    }
    let size = bytes.len() as u64;
    if let Ok((_, good)) = read_log(&mut &bytes[..], size, MAX_RECORD, |p| {
        assert!(p.len() <= MAX_RECORD)
    }) {
        assert!(good <= size);
    }
});
