//! Lessons 05–06 — an impaired link: loss, duplication, reordering, delay,
//! jitter, a rate limit and corruption, all reproducible from a seed.
//!
//! On loopback nothing is ever lost, so the lessons build the bad network
//! themselves. [`Impairment`] is the recipe, [`Link`] applies it to a stream of
//! packets on a virtual clock (so tests are exact and need no sleeping), and
//! [`relay`] puts a `Link` in each direction of a real UDP relay
//! (`netlab link --listen A --to B`); [`background`] runs that relay on a
//! thread of its own, for code without an async runtime (the lesson graders).

pub mod background;
pub mod impairment;
pub mod relay;
pub mod rng;

pub use impairment::{Counters, Impairment, Link};
