//! Lesson 00: where does each protocol and header field live?
//!
//! Run: `cargo run --example 00_layers`
//!
//! Notice: the OSI model has seven layers and the TCP/IP model four, but they
//! agree where it matters — IP is the layer that crosses networks, TCP and UDP
//! the layer that picks a process by port, and everything a program speaks
//! (HTTP, WebSocket, Engine.IO, Socket.IO) sits on top. Those do not all nest:
//! a WebSocket starts as one HTTP request and answer, and its frames then
//! *follow* HTTP on the same TCP connection, beside it, not inside it.

use netlab::layers::{field_layer, osi_layer, HeaderField, OsiLayer, Protocol};

/// One row of the drawing: a protocol's name, the protocol whose layer it
/// has, how deep it is nested, and what it carries in a Socket.IO chat.
struct Row {
    name: &'static str,
    layer_of: Protocol,
    depth: usize,
    note: &'static str,
}

fn main() {
    println!("What a Socket.IO chat looks like, from the wire up:\n");
    let rows = [
        Row {
            name: "Ethernet",
            layer_of: Protocol::Ethernet,
            depth: 0,
            note: "frames on the link",
        },
        Row {
            name: "IPv4",
            layer_of: Protocol::Ipv4,
            depth: 1,
            note: "packets between hosts",
        },
        Row {
            name: "TCP",
            layer_of: Protocol::Tcp,
            depth: 2,
            note: "a byte stream; it carries HTTP first, then (after a 101) WebSocket",
        },
        Row {
            name: "HTTP",
            layer_of: Protocol::Http,
            depth: 3,
            note: "first: long-polling GETs and POSTs, then GET …transport=websocket → 101",
        },
        Row {
            name: "Engine.IO",
            layer_of: Protocol::SocketIo,
            depth: 4,
            note: "in the polling bodies: 0 open, 4 message, 2 ping / 3 pong",
        },
        Row {
            name: "Socket.IO",
            layer_of: Protocol::SocketIo,
            depth: 5,
            note: "inside an Engine.IO 4: 2 EVENT, 3 ACK …",
        },
        Row {
            name: "WebSocket",
            layer_of: Protocol::WebSocket,
            depth: 3,
            note: "then: after the 101, frames on the same TCP connection (not inside HTTP)",
        },
        Row {
            name: "Engine.IO",
            layer_of: Protocol::SocketIo,
            depth: 4,
            note: "one packet per frame",
        },
        Row {
            name: "Socket.IO",
            layer_of: Protocol::SocketIo,
            depth: 5,
            note: "42[\"message\",…] inside Engine.IO's 4",
        },
    ];
    for r in &rows {
        let l = osi_layer(r.layer_of);
        println!(
            "{:indent$}{:<w$} OSI {} {:<12} TCP/IP {:<12} {}",
            "",
            r.name,
            l.number(),
            l.name(),
            l.tcpip().to_string(),
            r.note,
            indent = r.depth * 2,
            w = 22 - r.depth * 2
        );
    }
    println!("\nHTTP and WebSocket are siblings on one TCP connection: HTTP first (the");
    println!("upgrade request and its 101 answer), WebSocket frames after it. Engine.IO");
    println!("(the connection: session id, heartbeat, transports) rides in HTTP bodies or");
    println!("WebSocket messages, and Socket.IO (events, namespaces, acks) inside Engine.IO.");
    println!("All of them are layer 7: one application protocol can ride on another.");
    println!("Only Ethernet, IP and TCP add the layers below.\n");
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
