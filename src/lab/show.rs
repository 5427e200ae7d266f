//! How `netlab compare` prints one scenario: the table of TCP, UDP and
//! reliable UDP side by side, the terminal plot, and one sentence on what it shows.

use super::plot;
use super::report::{ScenarioReport, TransportResult};
use crate::term;

fn ms(us: Option<u64>) -> String {
    us.map_or("—".into(), |u| format!("{:.1} ms", u as f64 / 1000.0))
}

fn opt(n: Option<u64>) -> String {
    n.map_or("—".into(), |n| n.to_string())
}

/// Prints one scenario's table (and plot).
pub fn print_report(rep: &ScenarioReport, plot_too: bool) {
    anstream::println!();
    anstream::println!("{}", term::heading(rep.scenario));
    anstream::println!("  {} {}", term::bold("stack:"), rep.stack);
    anstream::println!("  {} {}", term::bold("impairment:"), rep.impairment);
    anstream::println!(
        "  {} {} messages of {} bytes at {}/s",
        term::bold("workload:"),
        rep.workload.count,
        rep.workload.size,
        rep.workload.rate
    );
    let (t, u) = (&rep.tcp, &rep.udp);
    // TCP, UDP, and reliable UDP (lesson 07) where the scenario ran it.
    let runs: Vec<&TransportResult> = [Some(t), Some(u), rep.reliable.as_ref()]
        .into_iter()
        .flatten()
        .collect();
    let row = |name: &str, cells: Vec<String>| {
        // Styled cells arrive padded already; a width on them would count escape codes.
        let cells: Vec<String> = cells.iter().map(|c| format!("{c:>14}")).collect();
        anstream::println!("  {:<22} {}", name, cells.join(" "));
    };
    let each = |f: &dyn Fn(&TransportResult) -> String| runs.iter().map(|r| f(r)).collect();
    row(
        "",
        runs.iter()
            .map(|r| term::bold(format!("{:>14}", r.transport)))
            .collect(),
    );
    row("sent", each(&|r| r.sent.to_string()));
    row("delivered", each(&|r| r.delivered.to_string()));
    row(
        "lost",
        each(&|r| {
            let cell = format!("{:>14}", r.lost);
            if r.lost > 0 {
                term::bad(cell)
            } else {
                term::good(cell)
            }
        }),
    );
    row("duplicated", each(&|r| r.duplicated.to_string()));
    row("out of order", each(&|r| r.out_of_order.to_string()));
    row("p50 latency", each(&|r| ms(r.p50_latency_us)));
    row("p99 latency", each(&|r| ms(r.p99_latency_us)));
    row(
        "throughput",
        each(&|r| format!("{:.0} msg/s", r.throughput_msgs)),
    );
    row(
        "",
        each(&|r| format!("{:.1} KiB/s", r.throughput_bytes / 1024.0)),
    );
    row(
        "jitter (RFC 3550)",
        each(&|r| format!("{:.0} µs", r.jitter_us)),
    );
    // UDP resends nothing; TCP and reliable UDP count what they sent again.
    row(
        "TCP retransmissions",
        each(&|r| match r.transport {
            "TCP" => opt(r.retransmissions),
            _ => "—".into(),
        }),
    );
    if rep.reliable.is_some() {
        row(
            "reliable UDP resent",
            each(&|r| match r.transport {
                "reliable UDP" => opt(r.retransmissions),
                _ => "—".into(),
            }),
        );
    }
    if u.kernel_drops.is_some() {
        row(
            "kernel drops (UDP)",
            each(&|r| match r.transport {
                "UDP" => opt(r.kernel_drops),
                _ => "—".into(),
            }),
        );
    }
    if plot_too {
        let span = plot::span(rep);
        for r in [t, u] {
            anstream::println!(
                "  {} {}",
                term::bold(format!("{} seq ↑", r.transport)),
                term::dim(format!(
                    "time → 0–{:.0} ms; • arrived, × never arrived",
                    span as f64 / 1000.0
                ))
            );
            for line in plot::terminal(r, &rep.workload, span) {
                let line = line.replace('×', &term::bad("×"));
                anstream::println!("  │{line}");
            }
            anstream::println!("  └{}", "─".repeat(plot::TERM_COLS));
        }
    }
    anstream::println!("  {}", term::dim(takeaway(rep)));
}

/// One sentence saying what the table shows.
fn takeaway(rep: &ScenarioReport) -> String {
    let (t, u) = (&rep.tcp, &rep.udp);
    if t.delivered < rep.workload.count {
        return format!(
            "TCP delivered only {} of {} before the run's time limit: {} never left the sender (TCP does not lose data, but it cannot beat a wire that loses everything); UDP lost {}.",
            t.delivered,
            rep.workload.count,
            rep.workload.count - t.sent,
            u.lost
        );
    }
    match rep.scenario {
        "slow-receiver" => format!(
            "UDP: the kernel dropped {} datagrams its small buffer could not hold; TCP: lost {}, its window slowed the sender to {:.0} msg/s.",
            opt(u.kernel_drops), t.lost, t.throughput_msgs
        ),
        "reordering" => format!(
            "UDP handed {} messages to the program out of order; TCP put them back in order ({} out of order), but took the reordering for loss: {} spurious retransmissions.",
            u.out_of_order, t.out_of_order, opt(t.retransmissions)
        ),
        "duplication" => format!(
            "UDP delivered {} duplicate copies; TCP discarded the copies it received ({} duplicates delivered).",
            u.duplicated, t.duplicated
        ),
        _ => format!(
            "UDP lost {} of {}; TCP lost {} after {} retransmissions, paying p99 {} against UDP's {}.",
            u.lost, u.sent, t.lost, opt(t.retransmissions), ms(t.p99_latency_us), ms(u.p99_latency_us)
        ),
    }
}
