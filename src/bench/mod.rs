//! Load generators (`netlab bench ...`) and what they report; `soak` is the
//! long, churning one whose verdict is not a speed but "nothing lost, nothing
//! twice, memory flat".
//!
//! A benchmark here never asserts a time: it prints throughput, latency
//! percentiles and — when given the server's process id — the server's CPU time
//! per message, so two servers measured in the same run can be compared as a ratio.

pub mod chat;
pub mod soak;
pub mod tcp;
pub mod udp_chat;
pub mod window;
pub mod ws;

use serde::Serialize;
use std::time::Duration;

/// Throughput and latency of one load run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// What was measured, e.g. `tcp 127.0.0.1:7000`.
    pub target: String,
    /// Concurrent connections.
    pub conns: usize,
    /// Payload bytes per message.
    pub size: usize,
    /// Messages each connection keeps in flight.
    pub pipeline: usize,
    /// Length of the measured window in seconds (after the warm-up).
    pub secs: f64,
    /// Round trips completed in the window.
    pub messages: u64,
    /// `messages / secs`.
    pub msgs_per_sec: f64,
    /// Median round-trip time in microseconds.
    pub p50_us: f64,
    /// 99th-percentile round-trip time in microseconds.
    pub p99_us: f64,
    /// 99.9th-percentile round-trip time in microseconds.
    pub p999_us: f64,
    /// Slowest round trip in microseconds.
    pub max_us: f64,
    /// How evenly the connections were served (none when no connection reported).
    pub fairness: Option<Fairness>,
    /// Server CPU time (user + system) per message in microseconds, if `--server-pid` was given.
    pub server_cpu_us_per_msg: Option<f64>,
    /// Connections that failed (refused, reset, wrong echo).
    pub failed_conns: usize,
}

impl Report {
    /// The report as the lines `netlab bench` prints.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{}: {} conns x {} B, pipeline {}, {:.1} s\n  {:>12} msgs/s   ({} round trips)\n  latency p50 {:.1} µs   p99 {:.1} µs   p99.9 {:.1} µs   max {:.1} µs\n",
            self.target,
            self.conns,
            self.size,
            self.pipeline,
            self.secs,
            group_thousands(self.msgs_per_sec as u64),
            group_thousands(self.messages),
            self.p50_us,
            self.p99_us,
            self.p999_us,
            self.max_us
        );
        if let Some(f) = &self.fairness {
            s.push_str(&format!("  {f}\n"));
        }
        if let Some(cpu) = self.server_cpu_us_per_msg {
            s.push_str(&format!("  server CPU {cpu:.2} µs per message\n"));
        }
        if self.failed_conns > 0 {
            s.push_str(&format!("  {} connections failed\n", self.failed_conns));
        }
        s
    }

    /// Prints the report (one JSON object with `json`, else the text lines)
    /// and says how `netlab bench` exits: failure if any connection failed.
    pub fn print(&self, json: bool) -> Result<std::process::ExitCode, serde_json::Error> {
        if json {
            println!("{}", serde_json::to_string(self)?);
        } else {
            anstream::print!("{}", self.to_text());
        }
        Ok(if self.failed_conns == 0 {
            std::process::ExitCode::SUCCESS
        } else {
            std::process::ExitCode::FAILURE
        })
    }
}

/// How evenly a server shared itself among connections: the round trips each
/// connection completed in the measured window.
///
/// A server can have a fine median latency while a few connections wait and
/// others are served again and again; the spread of per-connection counts and
/// Jain's fairness index show it where a latency percentile hides it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fairness {
    /// Fewest round trips any connection completed.
    pub min: u64,
    /// The median connection's round trips.
    pub median: u64,
    /// Most round trips any connection completed.
    pub max: u64,
    /// Jain's index, (Σx)² / (n·Σx²) (R. Jain, D. Chiu, W. Hawe, DEC-TR-301,
    /// 1984): 1 when every connection got the same, 1/n when one got everything.
    pub jain: f64,
}

impl Fairness {
    /// The fairness of these per-connection counts; `None` for no connections.
    pub fn of(counts: &[u64]) -> Option<Fairness> {
        if counts.is_empty() {
            return None;
        }
        let mut sorted = counts.to_vec();
        sorted.sort_unstable();
        let sum: f64 = sorted.iter().map(|&x| x as f64).sum();
        let squares: f64 = sorted.iter().map(|&x| (x as f64) * (x as f64)).sum();
        let jain = if squares == 0.0 {
            1.0 // nobody got anything: equally (un)served
        } else {
            sum * sum / (sorted.len() as f64 * squares)
        };
        Some(Fairness {
            min: sorted[0],
            median: sorted[sorted.len() / 2],
            max: sorted[sorted.len() - 1],
            jain,
        })
    }
}

impl std::fmt::Display for Fairness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "fairness: round trips per connection min {} / median {} / max {}, Jain's index {:.3}",
            group_thousands(self.min),
            group_thousands(self.median),
            group_thousands(self.max),
            self.jain
        )
    }
}

/// `1234567` → `1,234,567`.
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// CPU time (user + system) a process has used so far, read from `/proc/PID/stat` (Linux).
pub fn process_cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may contain spaces:
    // count fields from the last ')'. utime and stime are fields 14 and 15.
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_secs_f64(
        (utime + stime) as f64 / clock_ticks_per_sec(),
    ))
}

/// The kernel's clock tick rate for `/proc` CPU times (`getconf CLK_TCK`, almost always 100).
fn clock_ticks_per_sec() -> f64 {
    /// The value on every mainstream Linux architecture.
    const USUAL_CLK_TCK: f64 = 100.0;
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(USUAL_CLK_TCK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1000), "1,000");
        assert_eq!(group_thousands(1234567), "1,234,567");
    }

    #[test]
    fn fairness_is_one_when_even_and_one_over_n_when_one_connection_hogs() {
        let even = Fairness::of(&[10, 10, 10, 10]).unwrap();
        assert_eq!((even.min, even.median, even.max), (10, 10, 10));
        assert!((even.jain - 1.0).abs() < 1e-12);
        let hog = Fairness::of(&[0, 0, 0, 40]).unwrap();
        assert!((hog.jain - 0.25).abs() < 1e-12, "{hog:?}");
        assert_eq!((hog.min, hog.median, hog.max), (0, 0, 40));
        // Half the connections served twice as often: (3·2)² / (4·(4+4+1+1)) = 0.9
        let skewed = Fairness::of(&[2, 1, 2, 1]).unwrap();
        assert!((skewed.jain - 0.9).abs() < 1e-12, "{skewed:?}");
        assert_eq!(Fairness::of(&[]), None);
    }

    #[test]
    fn own_cpu_time_is_readable_and_grows() {
        let me = std::process::id();
        let before = process_cpu_time(me).expect("/proc/self/stat");
        let mut x = 0u64;
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_millis(60) {
            x = x.wrapping_add(std::hint::black_box(1));
        }
        std::hint::black_box(x);
        assert!(process_cpu_time(me).unwrap() > before);
    }
}
