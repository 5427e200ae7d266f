//! `netlab tour`: one command that shows everything built so far working for
//! real, on loopback, with short explanations.
//!
//! The tour is a list of [`Step`]s. Each lesson area adds its own step in its
//! own file (`tour/tcp.rs`, ...) and one line to [`STEPS`]; a step prints what
//! it does and returns an error if what it shows did not actually happen.

mod chat;
mod cluster;
mod inspect;
mod missed;
mod reliable;
mod tcp;
mod udp;
mod udp_chat;
mod web;
mod ws;

use crate::term;
use std::future::Future;
use std::pin::Pin;

/// Why a tour step failed.
#[derive(Debug, thiserror::Error)]
pub enum TourError {
    /// A socket operation failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// Something the step demonstrates did not happen as explained.
    #[error("{0}")]
    Unexpected(String),
}

/// What a step's `run` returns.
pub type StepFuture = Pin<Box<dyn Future<Output = Result<(), TourError>> + Send>>;

/// One step of the tour.
pub struct Step {
    /// The step's title.
    pub title: &'static str,
    /// The lesson to read for more.
    pub lesson: u8,
    /// Runs the step, printing as it goes.
    pub run: fn() -> StepFuture,
}

/// The tour, in order.
pub const STEPS: &[Step] = &[
    Step {
        title: "A TCP stream has no message boundaries",
        lesson: 1,
        run: || Box::pin(tcp::no_boundaries()),
    },
    Step {
        title: "A length prefix puts the boundaries back",
        lesson: 2,
        run: || Box::pin(tcp::framed_echo()),
    },
    Step {
        title: "A hostile client cannot hurt the others",
        lesson: 2,
        run: || Box::pin(tcp::hostile_header()),
    },
    Step {
        title: "A chat hub: ids, a room, a broadcast, a disconnect",
        lesson: 4,
        run: || Box::pin(chat::rooms_and_broadcast()),
    },
    Step {
        title: "UDP loses messages and says which; TCP does not",
        lesson: 5,
        run: || Box::pin(udp_chat::loss_made_visible()),
    },
    Step {
        title: "UDP loses messages on a lossy wire; TCP over the same wire does not",
        lesson: 6,
        run: || Box::pin(udp::lossy_wire()),
    },
    Step {
        title: "Reliable delivery over UDP: acks and retries repair a 20% lossy link",
        lesson: 7,
        run: || Box::pin(reliable::repaired_loss()),
    },
    Step {
        title: "A client cut off misses what was said; a hub with history replays exactly that",
        lesson: 7,
        run: || Box::pin(missed::missed_then_replayed()),
    },
    Step {
        title: "A WebSocket starts as an HTTP request",
        lesson: 8,
        run: || Box::pin(ws::upgrade()),
    },
    Step {
        title: "WebSocket frames: fragments, pings, and a rule-breaker",
        lesson: 9,
        run: || Box::pin(ws::frames()),
    },
    Step {
        title: "Chat in the browser: the page, and Socket.IO's framing on a WebSocket",
        lesson: 10,
        run: || Box::pin(web::page_and_socketio()),
    },
    Step {
        title: "Socket.IO starts over HTTP: long-polling, then the upgrade to WebSocket",
        lesson: 10,
        run: || Box::pin(web::polling_then_upgrade()),
    },
    Step {
        title: "Every byte of the tour's own traffic, labelled with its layer",
        lesson: 11,
        run: || Box::pin(inspect::own_traffic_by_layer()),
    },
    Step {
        title: "Many servers, one room: a broadcast crosses Redis to the other server",
        lesson: 12,
        run: || Box::pin(cluster::rooms_across_servers()),
    },
];

/// Runs every step in order; stops at the first that fails.
pub async fn run() -> Result<(), TourError> {
    run_steps(&[]).await
}

/// Runs the steps numbered `only` (from 1, as the whole tour numbers them;
/// empty: every step) in order; stops at the first that fails.
pub async fn run_steps(only: &[usize]) -> Result<(), TourError> {
    anstream::println!(
        "{}",
        term::heading("netlab tour — everything below runs for real on 127.0.0.1")
    );
    for (i, step) in STEPS.iter().enumerate() {
        if !only.is_empty() && !only.contains(&(i + 1)) {
            continue;
        }
        anstream::println!();
        anstream::println!(
            "{} {}  {}",
            term::bold(format!("{}.", i + 1)),
            term::bold(step.title),
            term::dim(format!(
                "(lesson {:02}: netlab lesson {:02})",
                step.lesson, step.lesson
            ))
        );
        (step.run)().await?;
    }
    anstream::println!();
    if only.is_empty() {
        anstream::println!(
            "{} {}",
            term::good("✓"),
            "Tour complete. Next: `netlab lessons` to start the course, `netlab layers` for the models."
        );
    } else {
        anstream::println!("{}", term::dim("`netlab tour` runs every step."));
    }
    Ok(())
}

/// Prints one indented result line with a check mark.
pub(crate) fn ok(text: impl std::fmt::Display) {
    anstream::println!("   {} {}", term::good("✓"), text);
}

/// Prints one indented explanation line.
pub(crate) fn explain(text: impl std::fmt::Display) {
    anstream::println!("     {}", term::dim(text));
}

/// Prints one indented plain line.
pub(crate) fn say(text: impl std::fmt::Display) {
    anstream::println!("   {text}");
}
