//! Lesson 06 — TCP vs UDP under the same conditions.
//!
//! `netlab compare` sends one workload ([`Workload`]: count, size, rate) over
//! TCP and over UDP and measures both the same way ([`report::Recorder`]):
//! every message carries the [`crate::udp::DatagramHeader`] (sequence number
//! and send time), and the receiver's [`crate::udp::ReceiveTracker`] counts
//! what was lost, duplicated or out of order — for TCP too, which is how the
//! lab *shows* that TCP delivers everything in order.
//!
//! | scenario | where it runs | module |
//! |---|---|---|
//! | lossy wire, reordering, duplication | two user-space TCP/IP stacks (smoltcp) on a simulated wire through [`crate::link::Link`], on a virtual clock: deterministic, no privileges | [`sim`] |
//! | lossy wire `--real` | the kernel's TCP/UDP in two network namespaces joined by a veth pair, loss from netem or iptables | [`netns`] |
//! | slow receiver | the kernel's TCP/UDP on loopback, a small receive buffer and a slow reader | [`slow`] |
//!
//! [`scenario`] names the four experiments and runs one on the simulated wire;
//! [`plot`] draws sequence number against arrival time (SVG and terminal);
//! [`show`] prints a scenario's table, plot and takeaway in the terminal.
//!
//! One bench belongs to lesson 12: [`redis`] starts a throwaway
//! `redis-server` for its example and its tour step.

pub mod netns;
pub mod plot;
pub mod progress;
pub mod redis;
pub mod report;
pub mod scenario;
pub mod show;
pub mod sim;
pub mod slow;

pub use report::{Recorder, ScenarioReport, TransportResult, Workload};
