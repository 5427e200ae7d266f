//! placeholder for --real
use super::report::{ScenarioReport, Workload};
use crate::cli::CliResult;
/// Runs lossy-wire for real.
pub fn run(
    _w: &Workload,
    _loss: f64,
    _show: bool,
) -> Result<ScenarioReport, Box<dyn std::error::Error>> {
    Err("--real is not built yet".into())
}
/// Runs one end inside a namespace.
pub fn peer_main(_args: &[String]) -> CliResult {
    Err("not yet".into())
}
