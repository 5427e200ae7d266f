//! Mistake: tokens are compared with `==`, so `Connection: Upgrade` does not list `upgrade`, though header tokens ignore case.
//! Caught by: tokens compare without regard to case

// Part 2 done right: this fixture is about part 1.
pub use netlab::ws::blocking::accept_handshake;

pub use netlab::ws::handshake::accept_key;

pub fn token_list_contains(value: &str, token: &str) -> bool {
    value.split(',').any(|t| t.trim() == token) // should be eq_ignore_ascii_case
}
