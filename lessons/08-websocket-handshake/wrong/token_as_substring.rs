//! Mistake: the token is searched for as a substring of the whole value, so `upgrades` or `x-websocket` count as listing it.
//! Caught by: not as a substring

// Part 2 done right: this fixture is about part 1.
pub use netlab::ws::blocking::accept_handshake;

pub use netlab::ws::handshake::accept_key;

pub fn token_list_contains(value: &str, token: &str) -> bool {
    value
        .to_ascii_lowercase()
        .contains(&token.to_ascii_lowercase())
}
