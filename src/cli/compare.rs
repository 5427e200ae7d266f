//! `netlab compare`: the TCP vs UDP lab on the command line.

use super::CliResult;
use crate::lab::progress::Progress;
use crate::lab::report::{ScenarioReport, Workload, DEFAULT_COUNT, DEFAULT_RATE, DEFAULT_SIZE};
use crate::lab::scenario::{simulate, Scenario};
use crate::lab::show::print_report;
use crate::lab::{netns, plot, slow};
use crate::link::Impairment;
use crate::term;
use crate::units::{parse_duration, parse_percent, parse_size};
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::Args;
use std::process::ExitCode;
use std::time::Duration;

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
    #[arg(value_name = "SCENARIO", value_parser = scenario_parser())]
    pub scenarios: Vec<Scenario>,
    /// Messages each transport sends.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_COUNT)]
    pub count: u64,
    /// Bytes per message, 8-byte sequence header included (8 to 1472).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value_t = DEFAULT_SIZE)]
    pub size: usize,
    /// Messages per second the sender offers.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_RATE)]
    pub rate: u64,
    /// Seed of the simulated wire: the same seed gives the same run.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// Loss on the lossy wire, each direction.
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent, default_value = "5%")]
    pub loss: f64,
    /// One-way delay of the simulated wire.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "10ms")]
    pub delay: Duration,
    /// Share of packets held back in the reordering scenario.
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent, default_value = "10%")]
    pub reorder: f64,
    /// Share of packets sent twice in the duplication scenario.
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent, default_value = "10%")]
    pub duplicate: f64,
    /// Pause between reads of the slow receiver.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, default_value = "2ms")]
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

/// The scenario names clap offers (with their descriptions in `--help`).
fn scenario_parser() -> impl TypedValueParser<Value = Scenario> {
    let names = Scenario::ALL.map(|s| PossibleValue::new(s.name()).help(s.description()));
    PossibleValuesParser::new(names).try_map(|name| name.parse::<Scenario>())
}

/// Runs `netlab compare`.
pub fn run(args: CompareArgs) -> CliResult {
    if let Some(peer) = args.peer {
        netns::peer_main(&peer)?;
        return Ok(ExitCode::SUCCESS);
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
            Scenario::ALL.to_vec()
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
