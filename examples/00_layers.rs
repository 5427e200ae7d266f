//! Lesson 00: where does each protocol and header field live?
//!
//! Run: `cargo run --example 00_layers`
//!
//! Notice: the OSI model has seven layers and the TCP/IP model four, but they
//! agree where it matters — IP is the layer that crosses networks, TCP and UDP
//! the layer that picks a process by port, and everything a program speaks
//! (HTTP, WebSocket, Socket.IO) sits on top.

use netlab::layers::{field_layer, osi_layer, HeaderField, OsiLayer, Protocol};

fn main() {
    println!("What a request to a Socket.IO chat looks like, from the wire up:\n");
    let stack = [
        Protocol::Ethernet,
        Protocol::Ipv4,
        Protocol::Tcp,
        Protocol::Http,
        Protocol::WebSocket,
        Protocol::SocketIo,
    ];
    for (depth, p) in stack.iter().enumerate() {
        let l = osi_layer(*p);
        println!(
            "{:indent$}{:<10} OSI {} {:<12} TCP/IP {}",
            "",
            p.name(),
            l.number(),
            l.name(),
            l.tcpip(),
            indent = depth * 2
        );
    }
    println!("\nHTTP, WebSocket and Socket.IO are all layer 7: one application protocol");
    println!("can ride on another. Only Ethernet, IP and TCP add the layers below.\n");

    println!("Which layer each header field belongs to:");
    for f in HeaderField::ALL {
        println!("  {:<24} {}", f.name(), field_layer(f));
    }
    let addresses = [
        ("MAC address", HeaderField::DestinationMac),
        ("IP address", HeaderField::DestinationIp),
        ("port", HeaderField::DestinationPort),
    ];
    println!("\nEach layer has its own address:");
    for (what, f) in addresses {
        let l: OsiLayer = field_layer(f);
        println!("  {what:<12} → layer {} ({})", l.number(), l.name());
    }
}
