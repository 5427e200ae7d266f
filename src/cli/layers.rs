//! `netlab layers`: the OSI and TCP/IP models side by side (lesson 00).

use super::CliResult;
use crate::layers;
use crate::term;
use std::process::ExitCode;

pub(super) fn run(json: bool) -> CliResult {
    let rows = layers::model_table();
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    anstream::println!(
        "{}   {}   {}   {}",
        term::bold(format!("{:<18}", "OSI model")),
        term::bold(format!("{:<14}", "TCP/IP model")),
        term::bold(format!("{:<42}", "protocols")),
        term::bold("unit of data")
    );
    let mut last_tcpip = None;
    for row in &rows {
        let style = term::osi_style(row.osi);
        let osi = term::paint(style, format!("{} {:<16}", row.number, row.name));
        // The TCP/IP name is printed once, on the first (top) row it covers.
        let tcpip = if last_tcpip == Some(row.tcpip) {
            term::paint(term::tcpip_style(row.tcpip), format!("{:<14}", "│"))
        } else {
            term::paint(
                term::tcpip_style(row.tcpip),
                format!("{:<14}", row.tcpip.name()),
            )
        };
        last_tcpip = Some(row.tcpip);
        let protocols = term::paint(style, format!("{:<42}", row.protocols.join(" ")));
        anstream::println!(
            "{}   {}   {}   {}",
            osi,
            tcpip,
            protocols,
            term::dim(row.data_unit)
        );
    }
    anstream::println!();
    for p in layers::Protocol::ALL {
        if let Some(note) = p.placement_note() {
            anstream::println!(
                "  {} {}",
                term::bold(format!("{}:", p.name())),
                term::dim(note)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
