//! `netlab inspect`: dissect packets from a capture file, a pasted hex dump or
//! a live interface, and show every byte's layer.

use super::CliResult;
use crate::inspect::dissect::{Dissection, Dissector};
use crate::inspect::link::LinkType;
use crate::inspect::live::{Filter, LiveCapture};
use crate::inspect::pcap::{self, Reader};
use crate::inspect::render::{self, Meta};
use clap::{Args, ValueEnum};
use std::io::{BufWriter, Write};
use std::net::IpAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// `netlab inspect ...`
#[derive(Debug, Args)]
#[command(
    after_help = "Every field is shown with its byte range, its OSI layer (1-7) and its TCP/IP layer; the hex dump is coloured by layer.\n\nExamples:\n  netlab inspect lessons/11-inspector/sample.pcap\n  netlab inspect capture.pcapng --summary\n  netlab inspect capture.pcapng --json | jq .info\n  netlab inspect --hex '45 00 00 1c 00 01 00 00 40 01 7c de 7f 00 00 01 7f 00 00 01 08 00 f7 ff 00 00 00 00'\n  sudo netlab inspect --live lo --port 7000 -w out.pcap --count 20"
)]
pub struct InspectArgs {
    /// A pcap or pcapng file (`-` reads standard input).
    #[arg(conflicts_with_all = ["hex", "live"], required_unless_present_any = ["hex", "live"])]
    pub file: Option<String>,
    /// Dissect one packet given as hex (`-` reads the hex from standard input).
    #[arg(long, conflicts_with = "live")]
    pub hex: Option<String>,
    /// Capture live from this interface (Linux, needs root), e.g. `lo`.
    #[arg(long, value_name = "IFACE")]
    pub live: Option<String>,
    /// How the --hex bytes begin (auto: IP if the first byte says IPv4/IPv6, else Ethernet).
    #[arg(long, value_enum, default_value_t = LinkArg::Auto)]
    pub link: LinkArg,
    /// One JSON object per packet (every field with its range and both layers).
    #[arg(long, conflicts_with_all = ["summary", "layers"])]
    pub json: bool,
    /// One line per packet.
    #[arg(long, conflicts_with = "layers")]
    pub summary: bool,
    /// Draw each packet's encapsulation as nested boxes.
    #[arg(long)]
    pub layers: bool,
    /// Leave out the hex dump in the tree view.
    #[arg(long)]
    pub no_hex: bool,
    /// Stop after this many packets (after filtering).
    #[arg(long, short = 'c', value_name = "N")]
    pub count: Option<u64>,
    /// Keep only packets from or to this TCP/UDP port (repeat for several).
    #[arg(long)]
    pub port: Vec<u16>,
    /// Keep only packets from or to this IP address.
    #[arg(long)]
    pub host: Option<IpAddr>,
    /// Also dissect UDP datagrams on this port as DNS (like Wireshark's Decode As).
    #[arg(long, value_name = "PORT")]
    pub dns_port: Vec<u16>,
    /// Largest packet record accepted in a capture file (a bigger one means a corrupt file).
    #[arg(long, value_name = "SIZE", value_parser = super::parse_size, default_value_t = pcap::MAX_RECORD_LEN)]
    pub max_record: usize,
    /// Most TCP connections remembered for flow state (HTTP upgrade → WebSocket).
    #[arg(long, value_name = "N", default_value_t = crate::inspect::flow::MAX_FLOWS)]
    pub max_flows: usize,
    /// Live capture: also write what was kept to this pcap file (Wireshark opens it).
    #[arg(
        short = 'w',
        long = "write",
        value_name = "OUT.pcap",
        requires = "live"
    )]
    pub write: Option<String>,
    /// Live capture: stop after this many seconds.
    #[arg(long, requires = "live")]
    pub duration: Option<f64>,
}

/// Link types selectable for `--hex`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LinkArg {
    /// Guess from the first byte.
    Auto,
    /// Ethernet II.
    Ethernet,
    /// Raw IPv4/IPv6.
    Raw,
    /// Linux cooked v1.
    Sll,
    /// Linux cooked v2.
    Sll2,
    /// BSD loopback.
    Null,
}

impl LinkArg {
    fn resolve(self, data: &[u8]) -> LinkType {
        match self {
            LinkArg::Auto => match data.first() {
                Some(b) if (0x45..=0x4f).contains(b) || b >> 4 == 6 => LinkType::Raw,
                _ => LinkType::Ethernet,
            },
            LinkArg::Ethernet => LinkType::Ethernet,
            LinkArg::Raw => LinkType::Raw,
            LinkArg::Sll => LinkType::LinuxSll,
            LinkArg::Sll2 => LinkType::LinuxSll2,
            LinkArg::Null => LinkType::Null,
        }
    }
}

/// Output is written once this much has gathered.
const PENDING_FLUSH: usize = 64 * 1024;

enum Mode {
    Tree { hex: bool },
    Summary,
    Layers,
    Json,
}

struct Printer {
    mode: Mode,
    out: anstream::AutoStream<std::io::StdoutLock<'static>>,
    /// Whether colour codes survive to the terminal; when not, none are written.
    color: bool,
    /// Output gathered here and written in large pieces: one syscall per ~64 KiB, not per line.
    pending: Vec<u8>,
    legend_shown: bool,
    /// A reused line buffer for summaries.
    line: String,
}

impl Printer {
    fn new(args: &InspectArgs) -> Printer {
        let mode = if args.json {
            Mode::Json
        } else if args.summary {
            Mode::Summary
        } else if args.layers {
            Mode::Layers
        } else {
            Mode::Tree { hex: !args.no_hex }
        };
        let stdout = std::io::stdout();
        let choice = anstream::AutoStream::choice(&stdout);
        let color = !matches!(choice, anstream::ColorChoice::Never);
        Printer {
            color,
            mode,
            out: anstream::AutoStream::new(stdout.lock(), choice),
            pending: Vec::with_capacity(PENDING_FLUSH * 2),
            legend_shown: false,
            line: String::with_capacity(256),
        }
    }

    fn print(&mut self, d: &Dissection, packet: &[u8], meta: &Meta) -> std::io::Result<()> {
        let out = &mut self.pending;
        match self.mode {
            Mode::Json => {
                render::write_json(out, d, packet, meta)?;
                writeln!(out)?;
            }
            Mode::Summary => {
                let mut line = std::mem::take(&mut self.line);
                line.clear();
                render::write_summary(&mut line, d, meta, self.color);
                out.extend_from_slice(line.as_bytes());
                out.push(b'\n');
                self.line = line;
            }
            Mode::Layers => {
                writeln!(out, "{}", render::summary(d, meta))?;
                write!(out, "{}", render::layer_boxes(d, packet))?;
            }
            Mode::Tree { hex } => {
                write!(out, "{}", render::tree(d, packet, meta))?;
                if hex {
                    if !self.legend_shown {
                        writeln!(out, "{}", render::legend())?;
                        self.legend_shown = true;
                    }
                    write!(out, "{}", render::hex_dump(d, packet))?;
                }
                writeln!(out)?;
            }
        }
        if self.pending.len() >= PENDING_FLUSH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        // JSON never has colour codes, and summaries only when colour is on.
        let plain =
            matches!(self.mode, Mode::Json) || (matches!(self.mode, Mode::Summary) && !self.color);
        if !plain {
            self.out.write_all(&self.pending)?;
        } else {
            // Nothing to strip: write past anstream's filter.
            // (stdout's lock is reentrant, so this works while `out` holds it).
            std::io::stdout().write_all(&self.pending)?;
        }
        self.pending.clear();
        self.out.flush()
    }
}

/// Runs `netlab inspect`.
pub fn run(args: InspectArgs) -> CliResult {
    let filter = Filter {
        ports: args.port.clone(),
        host: args.host,
    };
    let mut printer = Printer::new(&args);
    let mut dissector = Dissector::with_max_flows(args.max_flows);
    for &p in &args.dns_port {
        dissector.add_dns_port(p);
    }
    let mut d = Dissection::default();
    let limit = args.count.unwrap_or(u64::MAX);
    if let Some(hex) = &args.hex {
        // Hex from stdin may be anything: read at most what one packet of
        // --max-record bytes can take as text, so a flood costs bounded memory.
        let max_text = args
            .max_record
            .saturating_mul(crate::inspect::HEX_TEXT_PER_BYTE)
            .saturating_add(1);
        let text = if hex == "-" {
            let mut text = String::new();
            std::io::Read::read_to_string(
                &mut std::io::Read::take(std::io::stdin(), max_text as u64),
                &mut text,
            )?;
            text
        } else {
            hex.clone()
        };
        if text.len() >= max_text {
            return Err(format!(
                "the hex is longer than one packet of --max-record {} bytes can be; pass one packet (or raise --max-record)",
                args.max_record
            )
            .into());
        }
        let data = crate::inspect::parse_hex_max(&text, args.max_record)?;
        let link = args.link.resolve(&data);
        dissector.dissect(link, &data, &mut d);
        let meta = Meta {
            number: 1,
            orig_len: data.len() as u32,
            ..Meta::default()
        };
        printer.print(&d, &data, &meta)?;
        printer.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(iface) = &args.live {
        return live(iface, &args, &filter, &mut printer);
    }
    let path = args.file.as_deref().unwrap_or("-");
    let input: Box<dyn std::io::Read> = if path == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(path).map_err(|e| format!("cannot open `{path}`: {e}"))?)
    };
    let mut reader = Reader::new(std::io::BufReader::with_capacity(1 << 16, input))
        .map_err(|e| format!("{path}: {e}"))?
        .with_max_record(args.max_record);
    let mut number = 0u64;
    let mut shown = 0u64;
    while shown < limit {
        let rec = match reader.next() {
            Ok(Some(r)) => r,
            Ok(None) => break,
            Err(e) => {
                printer.flush()?;
                return Err(format!("{path}: {e} (after {number} packets)").into());
            }
        };
        number += 1;
        dissector.dissect(rec.link, rec.data, &mut d);
        if !filter.matches(&d) {
            continue;
        }
        shown += 1;
        let meta = Meta {
            number,
            ts_sec: rec.ts_sec,
            ts_nsec: rec.ts_nsec,
            orig_len: rec.orig_len,
        };
        if let Err(e) = printer.print(&d, rec.data, &meta) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(ExitCode::SUCCESS);
            }
            return Err(e.into());
        }
    }
    printer.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn live(iface: &str, args: &InspectArgs, filter: &Filter, printer: &mut Printer) -> CliResult {
    let mut cap = LiveCapture::open(iface)?;
    let mut writer = match &args.write {
        Some(p) => Some(pcap::Writer::new(
            BufWriter::new(
                std::fs::File::create(p).map_err(|e| format!("cannot create `{p}`: {e}"))?,
            ),
            LinkType::Ethernet,
        )?),
        None => None,
    };
    // Ctrl-C ends the capture cleanly: the loop sees the flag within one read
    // timeout, flushes the file and says how many packets it kept.
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    std::thread::spawn(move || {
        if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            if rt.block_on(tokio::signal::ctrl_c()).is_ok() {
                flag.store(true, Ordering::Relaxed);
            }
        }
    });
    anstream::eprintln!("Capturing on {iface}");
    let deadline = args
        .duration
        .map(|s| Instant::now() + Duration::from_secs_f64(s.max(0.0)));
    let limit = args.count.unwrap_or(u64::MAX);
    let mut dissector = Dissector::with_max_flows(args.max_flows);
    for &p in &args.dns_port {
        dissector.add_dns_port(p);
    }
    let mut d = Dissection::default();
    let mut shown = 0u64;
    while shown < limit && deadline.is_none_or_past() && !interrupted.load(Ordering::Relaxed) {
        let Some(frame) = cap.next_frame()? else {
            printer.flush()?;
            continue;
        };
        dissector.dissect(LinkType::Ethernet, frame, &mut d);
        if !filter.matches(&d) {
            continue;
        }
        shown += 1;
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        if let Some(w) = writer.as_mut() {
            w.write(now.as_secs(), now.subsec_nanos(), frame.len() as u32, frame)?;
            w.flush()?;
        }
        let meta = Meta {
            number: shown,
            ts_sec: now.as_secs(),
            ts_nsec: now.subsec_nanos(),
            orig_len: frame.len() as u32,
        };
        printer.print(&d, frame, &meta)?;
        if args.count.is_some() || writer.is_some() {
            printer.flush()?;
        }
    }
    printer.flush()?;
    if let Some(w) = writer {
        w.finish()?;
    }
    anstream::eprintln!("{shown} packets captured");
    Ok(ExitCode::SUCCESS)
}

trait Deadline {
    fn is_none_or_past(&self) -> bool;
}

impl Deadline for Option<Instant> {
    /// True while capture should go on: no deadline, or not reached yet.
    fn is_none_or_past(&self) -> bool {
        self.map_or(true, |d| Instant::now() < d)
    }
}
