//! A one-line progress bar on standard error, drawn only on a terminal.

use std::io::{IsTerminal, Write};

/// Width of the bar in characters.
const BAR_WIDTH: usize = 30;

/// A progress bar for one labelled task; silent when stderr is not a terminal.
#[derive(Debug)]
pub struct Progress {
    label: String,
    enabled: bool,
    shown: Option<usize>,
}

impl Progress {
    /// A bar titled `label`, drawn if `wanted` and stderr is a terminal.
    pub fn new(label: impl Into<String>, wanted: bool) -> Self {
        Self {
            label: label.into(),
            enabled: wanted && std::io::stderr().is_terminal(),
            shown: None,
        }
    }

    /// Shows `done` (0.0–1.0); redraws only when the whole percent changes.
    pub fn update(&mut self, done: f64) {
        if !self.enabled {
            return;
        }
        let pct = (done.clamp(0.0, 1.0) * 100.0) as usize;
        if self.shown == Some(pct) {
            return;
        }
        self.shown = Some(pct);
        let filled = pct * BAR_WIDTH / 100;
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r  {:<28} [{}{}] {:>3}%",
            self.label,
            "#".repeat(filled),
            " ".repeat(BAR_WIDTH - filled),
            pct
        );
        let _ = err.flush();
    }

    /// Clears the bar's line.
    pub fn finish(&mut self) {
        if self.enabled && self.shown.is_some() {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r{}\r", " ".repeat(BAR_WIDTH + 40));
            let _ = err.flush();
        }
    }
}
