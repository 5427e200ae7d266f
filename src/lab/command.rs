//! `netlab compare`: the TCP vs UDP lab on the command line.

use super::plot;
use super::progress::Progress;
use super::report::{
    ScenarioReport, TransportResult, Workload, DEFAULT_COUNT, DEFAULT_RATE, DEFAULT_SIZE,
};
use super::{netns, sim, slow};
use crate::cli::CliResult;
use crate::link::Impairment;
use crate::term;
use crate::units::{parse_duration, parse_percent, parse_size};
use clap::{Args, ValueEnum};
use std::process::ExitCode;
use std::time::Duration;

/// The named scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// Packets dropped on the path (both directions).
    LossyWire,
    /// The receiver reads slowly: UDP overflows its buffer, TCP slows the sender.
    SlowReceiver,
    /// Some packets overtaken by later ones.
    Reordering,
    /// Some packets delivered twice.
    Duplication,
}

impl Scenario {
    /// The scenario's name as typed and shown.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::LossyWire => "lossy-wire",
            Scenario::SlowReceiver => "slow-receiver",
            Scenario::Reordering => "reordering",
            Scenario::Duplication => "duplication",
        }
    }
}

/// `netlab compare` options.
#[derive(Debug, Args)]
#[command(
    after_help = "Sends the same workload over TCP and over UDP and prints one table per scenario, then\n\
a plot of sequence number against arrival time (× = a message that never arrived).\n\n\
lossy-wire, reordering and duplication run two user-space TCP/IP stacks (smoltcp) on a\n\
simulated wire: deterministic for a --seed, no privileges. --real runs lossy-wire on the\n\
kernel's TCP/UDP in two network namespaces joined by a veth pair (Linux, root).\n\
slow-receiver runs on the kernel's sockets over loopback.\n\n\
Examples:\n  \
netlab compare\n  \
netlab compare lossy-wire --loss 10% --seed 3 --svg timeline.svg\n  \
netlab compare slow-receiver --count 2000 --rate 5000\n  \
sudo netlab compare lossy-wire --real\n  \
netlab compare reordering --json | jq '.[0].udp.out_of_order'"
)]
pub struct CompareArgs {
    /// Scenarios to run (default: all four; with --real, lossy-wire).
    #[arg(value_enum)]
    pub scenarios: Vec<Scenario>,
    /// Messages each transport sends.
    #[arg(long, default_value_t = DEFAULT_COUNT)]
    pub count: u64,
    /// Bytes per message, 8-byte sequence header included (8 to 1472).
    #[arg(long, value_parser = parse_size, default_value_t = DEFAULT_SIZE)]
    pub size: usize,
    /// Messages per second the sender offers.
    #[arg(long, default_value_t = DEFAULT_RATE)]
    pub rate: u64,
    /// Seed of the simulated wire: the same seed gives the same run.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Loss on the lossy wire, each direction.
    #[arg(long, value_parser = parse_percent, default_value = "5%")]
    pub loss: f64,
    /// One-way delay of the simulated wire.
    #[arg(long, value_parser = parse_duration, default_value = "10ms")]
    pub delay: Duration,
    /// Share of packets held back in the reordering scenario.
    #[arg(long, value_parser = parse_percent, default_value = "10%")]
    pub reorder: f64,
    /// Share of packets sent twice in the duplication scenario.
    #[arg(long, value_parser = parse_percent, default_value = "10%")]
    pub duplicate: f64,
    /// Pause between reads of the slow receiver.
    #[arg(long, value_parser = parse_duration, default_value = "2ms")]
    pub read_delay: Duration,
    /// Run lossy-wire on the kernel's TCP/UDP in network namespaces (Linux, root).
    #[arg(long)]
    pub real: bool,
    /// Print the reports as JSON (timelines included).
    #[arg(long)]
    pub json: bool,
    /// Write the timeline plot to this SVG file.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<std::path::PathBuf>,
    /// Leave out the terminal plot.
    #[arg(long)]
    pub no_plot: bool,
    /// Internal: run one end of a --real experiment inside a namespace.
    #[arg(long, hide = true, num_args = 1..)]
    pub peer: Option<Vec<String>>,
}

/// Runs `netlab compare`.
pub fn run(args: CompareArgs) -> CliResult {
    if let Some(peer) = args.peer {
        return netns::peer_main(&peer);
    }
    let workload = Workload {
        count: args.count,
        size: args.size,
        rate: args.rate,
    };
    workload.validate()?;
    if args.read_delay > slow::MAX_READ_DELAY {
        return Err(format!(
            "--read-delay {:?} is too long: at most {:?} between reads",
            args.read_delay,
            slow::MAX_READ_DELAY
        )
        .into());
    }
    let scenarios = if args.scenarios.is_empty() {
        if args.real {
            vec![Scenario::LossyWire]
        } else {
            vec![
                Scenario::LossyWire,
                Scenario::SlowReceiver,
                Scenario::Reordering,
                Scenario::Duplication,
            ]
        }
    } else {
        args.scenarios.clone()
    };
    let show = !args.json;
    let base = Impairment {
        delay: args.delay,
        seed: args.seed,
        ..Impairment::default()
    };
    let mut reports = Vec::new();
    for sc in scenarios {
        let rep = match sc {
            Scenario::LossyWire if args.real => netns::run(&workload, args.loss, args.delay, show)?,
            Scenario::SlowReceiver => {
                let mut p = Progress::new("slow receiver: TCP, then UDP", show);
                p.update(0.0);
                let tcp = slow::run_tcp(&workload, args.read_delay)?;
                p.update(0.5);
                let udp = slow::run_udp(&workload, args.read_delay)?;
                p.finish();
                ScenarioReport {
                    scenario: sc.name(),
                    stack: "the kernel's TCP and UDP on 127.0.0.1".into(),
                    impairment: format!(
                        "receiver reads one message every {:?}; SO_RCVBUF {} bytes",
                        args.read_delay,
                        slow::SMALL_RCVBUF
                    ),
                    workload,
                    tcp,
                    udp,
                    reliable: None,
                }
            }
            _ => {
                let imp = match sc {
                    Scenario::LossyWire => Impairment {
                        loss: args.loss,
                        ..base.clone()
                    },
                    Scenario::Reordering => Impairment {
                        reorder: args.reorder,
                        reorder_hold: args.delay.max(Duration::from_millis(1)),
                        ..base.clone()
                    },
                    _ => Impairment {
                        duplicate: args.duplicate,
                        ..base.clone()
                    },
                };
                imp.validate()?;
                simulate(sc, &workload, imp, show)
            }
        };
        if show {
            print_report(&rep, !args.no_plot);
        }
        reports.push(rep);
    }
    if let Some(path) = &args.svg {
        std::fs::write(path, plot::svg(&reports))
            .map_err(|e| format!("cannot write --svg {}: {e}", path.display()))?;
        if show {
            anstream::println!(
                "{}",
                term::dim(format!("timeline written to {}", path.display()))
            );
        }
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs one scenario on the simulated wire, both transports.
pub fn simulate(sc: Scenario, w: &Workload, imp: Impairment, show: bool) -> ScenarioReport {
    let mut p = Progress::new(format!("{}: TCP", sc.name()), show);
    let tcp = sim::run_tcp(w, &imp, &mut |f| p.update(f));
    p.finish();
    let mut p = Progress::new(format!("{}: UDP", sc.name()), show);
    let udp = sim::run_udp(w, &imp, &mut |f| p.update(f));
    p.finish();
    let mut p = Progress::new(format!("{}: reliable UDP", sc.name()), show);
    let reliable = sim::run_reliable(w, &imp, &mut |f| p.update(f));
    p.finish();
    ScenarioReport {
        scenario: sc.name(),
        stack: "smoltcp user-space TCP/IP on a simulated wire (virtual clock)".into(),
        impairment: format!("{}, each direction", imp.describe()),
        workload: *w,
        tcp,
        udp,
        reliable: Some(reliable),
    }
}

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
