//! What a soak run reports: the totals of every part, the four figures that
//! must hold (nothing lost, nothing duplicated, every observer caught up,
//! RSS flat after the warm-up), and the lines `netlab bench soak` prints.

use super::plan::Fault;
use super::rss::{mib, RssTrace};
use crate::bench::group_thousands;
use serde::Serialize;

/// Connections over the whole run, every part together.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ConnTotals {
    /// TCP connections opened (each reconnect is one more).
    pub opened: u64,
    /// Most open at once.
    pub peak_open: u64,
    /// Connections that vanished with a reset (`SO_LINGER` 0).
    pub reset: u64,
    /// Connections abandoned without a word (the server learns on the next `resume`).
    pub abandoned: u64,
    /// Connections closed politely (`leave`, then FIN).
    pub closed_politely: u64,
    /// Connections the server closed.
    pub closed_by_server: u64,
    /// Sessions started (`welcome` without a resume).
    pub new_sessions: u64,
    /// Sessions taken back with `resume` and answered with `resumed`.
    pub resumed: u64,
    /// `resume` refused (`session_unknown`): the client joined again with `since`.
    pub resume_refused: u64,
    /// Connects that failed (refused, timed out, no `welcome`).
    pub connect_failures: u64,
}

/// What the observers saw of the sender's messages.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ObserverTotals {
    /// Observers.
    pub observers: usize,
    /// Times an observer vanished and came back with `resume`.
    pub resumes: u64,
    /// Accepted sender messages × observers: what should have arrived.
    pub expected: u64,
    /// Distinct sender messages that arrived.
    pub delivered: u64,
    /// Accepted sender messages an observer never got (must be 0).
    pub lost: u64,
    /// Sender messages that reached an observer more than once, counted on
    /// the wire before the client's seq check (must be 0).
    pub duplicated: u64,
    /// Events the client's seq check dropped as already seen.
    pub dropped_by_seq: u64,
    /// `gap` notices (the history no longer held what was missed).
    pub gaps: u64,
    /// Events the server dropped from an observer's full queue (`dropped`).
    pub queue_drops: u64,
    /// Observers that did not catch up within [`super::SoakConfig::drain_timeout`] after the load stopped.
    pub unfinished: usize,
}

/// Send → receive latency of live (not replayed) sender messages at the observers.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LatencyTotals {
    /// Messages timed.
    pub samples: u64,
    /// Median (µs).
    pub p50_us: f64,
    /// 99th percentile (µs).
    pub p99_us: f64,
    /// Slowest (µs).
    pub max_us: f64,
}

/// The sender's side.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SenderTotals {
    /// Messages sent.
    pub sent: u64,
    /// Accepted (ack ok).
    pub accepted: u64,
    /// Refused (ack not ok).
    pub refused: u64,
    /// Never answered.
    pub unanswered: u64,
}

/// The flooder's side.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FlooderTotals {
    /// Messages sent.
    pub sent: u64,
    /// `error` answers (rate limit) it got.
    pub refused: u64,
    /// Times the server closed it.
    pub closed: u64,
}

/// The UDP clients' side (lossy on purpose: reported, not judged).
#[derive(Debug, Clone, Default, Serialize)]
pub struct UdpTotals {
    /// UDP clients.
    pub clients: usize,
    /// Sessions opened (each client starts a new one now and then).
    pub sessions: u64,
    /// Session opens that got no answer (hello or heartbeat lost every try).
    pub session_failures: u64,
    /// Sender messages each session should have seen (from its first to its
    /// last one seen; approximate at the edges).
    pub expected: u64,
    /// Distinct sender messages that arrived.
    pub delivered: u64,
    /// `100 × (1 − delivered / expected)`.
    pub loss_percent: f64,
}

/// Everything a soak run measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SoakReport {
    /// What was soaked.
    pub target: String,
    /// Seconds the load ran.
    pub secs: f64,
    /// TCP connections held at once (asked for).
    pub conns: usize,
    /// The deliberate mistake, if any.
    pub fault: Fault,
    /// Connections.
    pub connections: ConnTotals,
    /// Observers: lost and duplicated.
    pub observers: ObserverTotals,
    /// Latency for the well-behaved observers.
    pub latency: LatencyTotals,
    /// The sender.
    pub sender: SenderTotals,
    /// The flooder.
    pub flooder: FlooderTotals,
    /// UDP clients, if any.
    pub udp: Option<UdpTotals>,
    /// The server's memory.
    pub rss: RssTrace,
    /// Things that went wrong in the driver itself (e.g. the sender's connection died).
    pub errors: Vec<String>,
}

impl SoakReport {
    /// Every must-be-zero figure that is not zero, and RSS growth past the
    /// bound, in words. Empty: the server held.
    pub fn failures(&self) -> Vec<String> {
        let mut f = Vec::new();
        let o = &self.observers;
        if o.lost > 0 {
            f.push(format!(
                "{} sender messages lost by resuming observers (must be 0)",
                o.lost
            ));
        }
        if o.duplicated > 0 {
            f.push(format!(
                "{} sender messages duplicated to resuming observers (must be 0)",
                o.duplicated
            ));
        }
        if o.unfinished > 0 {
            f.push(format!(
                "{} observers did not catch up with the sender after the load stopped",
                o.unfinished
            ));
        }
        if self.sender.accepted == 0 {
            f.push("the server accepted no sender message: nothing was checked".into());
        }
        if self.rss.server_gone {
            f.push("the server process disappeared during the run".into());
        }
        if let Some(g) = self.rss.growth {
            if g > self.rss.max_growth {
                f.push(format!(
                    "server RSS grew {} after the warm-up (bound {})",
                    mib(g),
                    mib(self.rss.max_growth)
                ));
            }
        }
        for e in &self.errors {
            f.push(e.clone());
        }
        f
    }

    /// The report as the lines `netlab bench soak` prints.
    pub fn to_text(&self) -> String {
        let c = &self.connections;
        let o = &self.observers;
        let g = |n: u64| group_thousands(n);
        let mut s = format!(
            "soak {}: {} connections held, {:.0} s{}\n",
            self.target,
            g(self.conns as u64),
            self.secs,
            match self.fault {
                Fault::None => String::new(),
                f => format!(" (fault injected: {f:?})"),
            }
        );
        s.push_str(&format!(
            "  connections  {} opened (peak {} open), {} reset, {} abandoned, {} closed politely, {} closed by the server, {} connect failures\n",
            g(c.opened), g(c.peak_open), g(c.reset), g(c.abandoned), g(c.closed_politely), g(c.closed_by_server), g(c.connect_failures)
        ));
        s.push_str(&format!(
            "  sessions     {} new, {} resumed, {} resumes refused\n",
            g(c.new_sessions),
            g(c.resumed),
            g(c.resume_refused)
        ));
        s.push_str(&format!(
            "  sender       {} sent, {} accepted, {} refused, {} unanswered\n",
            g(self.sender.sent),
            g(self.sender.accepted),
            g(self.sender.refused),
            g(self.sender.unanswered)
        ));
        s.push_str(&format!(
            "  observers    {} observers resumed {} times: {} lost, {} duplicated  (of {} expected; {} dropped by the seq check, {} gaps, {} queue drops)\n",
            o.observers, g(o.resumes), g(o.lost), g(o.duplicated), g(o.expected), g(o.dropped_by_seq), g(o.gaps), g(o.queue_drops)
        ));
        s.push_str(&format!(
            "  latency      p50 {:.1} ms   p99 {:.1} ms   max {:.1} ms   ({} live messages at the observers)\n",
            self.latency.p50_us / 1000.0,
            self.latency.p99_us / 1000.0,
            self.latency.max_us / 1000.0,
            g(self.latency.samples)
        ));
        s.push_str(&format!(
            "  flooder      {} sent, {} refused, closed {} times; one slow reader never read\n",
            g(self.flooder.sent),
            g(self.flooder.refused),
            self.flooder.closed
        ));
        if let Some(u) = &self.udp {
            s.push_str(&format!(
                "  udp          {} clients, {} sessions ({} failed to open): {} of {} sender messages arrived ({:.1}% lost; UDP loses, not judged)\n",
                u.clients, u.sessions, u.session_failures, g(u.delivered), g(u.expected), u.loss_percent
            ));
        }
        s.push_str(&self.rss.to_text());
        let failures = self.failures();
        if failures.is_empty() {
            s.push_str(if self.rss.samples.is_empty() {
                "  verdict      held: 0 lost, 0 duplicated\n"
            } else {
                "  verdict      held: 0 lost, 0 duplicated, RSS flat within the bound after the warm-up\n"
            });
        } else {
            for f in failures {
                s.push_str(&format!("  FAILED       {f}\n"));
            }
        }
        s
    }

    /// Prints the report (JSON with `json`) and says how `netlab bench soak`
    /// exits: failure if [`SoakReport::failures`] is not empty.
    pub fn print(&self, json: bool) -> Result<std::process::ExitCode, serde_json::Error> {
        if json {
            println!("{}", serde_json::to_string(self)?);
        } else {
            anstream::print!("{}", self.to_text());
        }
        Ok(if self.failures().is_empty() {
            std::process::ExitCode::SUCCESS
        } else {
            std::process::ExitCode::FAILURE
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::soak::RssSample;

    fn report() -> SoakReport {
        SoakReport {
            sender: SenderTotals {
                sent: 10,
                accepted: 10,
                ..Default::default()
            },
            rss: RssTrace {
                warmup_secs: 10.0,
                max_growth: 1000,
                samples: [
                    (0.0, 100),
                    (5.0, 5000),
                    (10.0, 6000),
                    (20.0, 6500),
                    (30.0, 6200),
                ]
                .iter()
                .map(|&(secs, bytes)| RssSample { secs, bytes })
                .collect(),
                ..Default::default()
            },
            ..Default::default()
        }
    }

    #[test]
    fn rss_growth_counts_from_the_first_sample_after_the_warm_up_to_the_peak() {
        let mut r = report();
        r.rss.finish();
        assert_eq!(r.rss.after_warmup, Some(6000));
        assert_eq!(r.rss.peak_after_warmup, Some(6500));
        assert_eq!(
            r.rss.growth,
            Some(500),
            "the warm-up's growth does not count"
        );
        assert!(r.failures().is_empty(), "{:?}", r.failures());
        r.rss.max_growth = 499;
        assert_eq!(r.failures().len(), 1);
        assert!(r.failures()[0].contains("RSS grew"));
    }

    #[test]
    fn every_must_be_zero_figure_fails_the_run() {
        let mut r = report();
        r.rss.finish();
        r.observers.lost = 1;
        r.observers.duplicated = 2;
        r.rss.server_gone = true;
        r.errors.push("the sender's connection failed".into());
        let f = r.failures();
        assert_eq!(f.len(), 4, "{f:?}");
        assert!(f[0].contains("1 sender messages lost"));
        assert!(f[1].contains("2 sender messages duplicated"));
        assert!(r.to_text().contains("FAILED"));
        let nothing = SoakReport::default();
        assert!(
            nothing.failures()[0].contains("accepted no sender message"),
            "a run that checked nothing is not a pass"
        );
    }
}
