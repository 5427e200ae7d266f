//! The server's memory over the run: its resident set (`VmRSS`) sampled at
//! a steady pace while the load runs, and the one figure judged from it —
//! how much it grew after the warm-up.

use super::shared::stopped;
use crate::bench::chat::resident_bytes;
use serde::Serialize;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// One RSS sample.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct RssSample {
    /// Seconds since the run started.
    pub secs: f64,
    /// The server's `VmRSS` in bytes.
    pub bytes: u64,
}

/// The server's memory over the run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RssTrace {
    /// Every sample.
    pub samples: Vec<RssSample>,
    /// Where the warm-up ends (s).
    pub warmup_secs: f64,
    /// The first sample after the warm-up (bytes).
    pub after_warmup: Option<u64>,
    /// The largest sample after the warm-up (bytes).
    pub peak_after_warmup: Option<u64>,
    /// `peak_after_warmup − after_warmup` (bytes).
    pub growth: Option<u64>,
    /// Growth that fails the run (bytes).
    pub max_growth: u64,
    /// The process was sampled once and then gone (it died).
    pub server_gone: bool,
}

impl RssTrace {
    /// Works out the figures after the warm-up from the samples.
    pub(super) fn finish(&mut self) {
        let after: Vec<u64> = self
            .samples
            .iter()
            .filter(|s| s.secs >= self.warmup_secs)
            .map(|s| s.bytes)
            .collect();
        self.after_warmup = after.first().copied();
        self.peak_after_warmup = after.iter().copied().max();
        self.growth = match (self.after_warmup, self.peak_after_warmup) {
            (Some(a), Some(p)) => Some(p.saturating_sub(a)),
            _ => None,
        };
    }

    /// The trace as the report's `server RSS` lines.
    pub(super) fn to_text(&self) -> String {
        if self.samples.is_empty() {
            return "  server RSS   not sampled (give --server-pid)\n".into();
        }
        let mut s = format!(
            "  server RSS   {}  ({} samples; warm-up {:.0} s)\n",
            sparkline(&self.samples),
            self.samples.len(),
            self.warmup_secs
        );
        // At most ten rows, evenly spaced, the last sample always shown.
        let n = self.samples.len();
        let rows = n.min(10);
        let mut line = String::from("              ");
        for i in 0..rows {
            let at = if rows == 1 {
                0
            } else {
                i * (n - 1) / (rows - 1)
            };
            let x = self.samples[at];
            line.push_str(&format!("{:.0}s {}  ", x.secs, mib(x.bytes)));
        }
        s.push_str(line.trim_end());
        s.push('\n');
        if let (Some(a), Some(p), Some(gr)) =
            (self.after_warmup, self.peak_after_warmup, self.growth)
        {
            s.push_str(&format!(
                "               after warm-up {} -> peak {}: +{} (bound +{})\n",
                mib(a),
                mib(p),
                mib(gr),
                mib(self.max_growth)
            ));
        }
        s
    }
}

/// Samples the RSS of process `pid` every `every` until the load stops, and
/// once more then; the task's answer is the samples (seconds counted from
/// `start`) and whether the process disappeared after it had been seen.
pub(super) fn sample(
    pid: u32,
    every: Duration,
    start: Instant,
    mut running: watch::Receiver<bool>,
) -> JoinHandle<(Vec<RssSample>, bool)> {
    tokio::spawn(async move {
        let mut trace = Vec::new();
        let mut gone = false;
        let mut tick = tokio::time::interval(every);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stopped(&mut running) => break,
            }
            match resident_bytes(pid) {
                Some(bytes) => trace.push(RssSample {
                    secs: start.elapsed().as_secs_f64(),
                    bytes,
                }),
                None => gone = !trace.is_empty(),
            }
        }
        if let Some(bytes) = resident_bytes(pid) {
            trace.push(RssSample {
                secs: start.elapsed().as_secs_f64(),
                bytes,
            });
        }
        (trace, gone)
    })
}

/// Bytes as mebibytes with one decimal, e.g. `17.2 MiB`.
pub(super) fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / 1048576.0)
}

/// The samples as one line of block characters, lowest to highest sample,
/// squeezed to at most 60 characters.
fn sparkline(samples: &[RssSample]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let lo = samples.iter().map(|s| s.bytes).min().unwrap_or(0);
    let hi = samples.iter().map(|s| s.bytes).max().unwrap_or(0);
    let width = samples.len().min(60);
    let mut out = String::new();
    for i in 0..width {
        let from = i * samples.len() / width;
        let to = ((i + 1) * samples.len() / width).max(from + 1);
        let v = samples[from..to].iter().map(|s| s.bytes).max().unwrap_or(0);
        let k = if hi == lo {
            0
        } else {
            ((v - lo) as f64 / (hi - lo) as f64 * 7.0).round() as usize
        };
        out.push(BARS[k.min(7)]);
    }
    format!("{out}  {} .. {}", mib(lo), mib(hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sparkline_spans_lowest_to_highest() {
        let s: Vec<RssSample> = [1u64, 2, 3, 8]
            .iter()
            .map(|&b| RssSample {
                secs: 0.0,
                bytes: b << 20,
            })
            .collect();
        let line = sparkline(&s);
        // (v − lo) / (hi − lo) × 7 = 0, 1, 2, 7 for 1, 2, 3, 8 MiB.
        assert!(line.starts_with("▁▂▃█"), "{line}");
        assert!(line.ends_with("1.0 MiB .. 8.0 MiB"));
    }
}
