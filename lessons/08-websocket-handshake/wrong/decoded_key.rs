//! Mistake: the client's key is base64-decoded and its 16 bytes are hashed, instead of hashing the key's text as it was sent.
//! Caught by: base64(SHA-1(the key's text + the GUID))

// Part 2 done right: this fixture is about part 1.
pub use netlab::ws::blocking::accept_handshake;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
pub use netlab::ws::handshake::token_list_contains;
use netlab::ws::handshake::WEBSOCKET_GUID;
use sha1::{Digest, Sha1};

pub fn accept_key(key: &str) -> String {
    let nonce = STANDARD.decode(key.trim()).unwrap_or_default(); // the key is text: hash it as it is
    let mut sha = Sha1::new();
    sha.update(&nonce);
    sha.update(WEBSOCKET_GUID.as_bytes());
    STANDARD.encode(sha.finalize())
}
