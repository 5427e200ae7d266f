//! Two user-space TCP/IP stacks on a simulated wire, as a discrete-event
//! simulation: deterministic, no privileges, no sleeping.
//!
//! Each end is a [smoltcp](https://docs.rs/smoltcp) interface whose "network
//! card" is a [`Port`]: packets it transmits are real IPv4 packets (with real
//! TCP or UDP inside) and go into a [`Link`] — one per direction, so ACKs are
//! impaired too. The loop:
//!
//! 1. at virtual time `t`, the sender writes the messages due by `t` (TCP: as far
//!    as its send buffer allows — flow control; UDP: always);
//! 2. both interfaces are polled at `t`; what they transmit enters the links;
//! 3. packets the links deliver by `t` are handed to the other interface;
//! 4. the receiver reads what arrived and records each message at `t`;
//! 5. repeat until nothing moves, then jump `t` to the next event: the next
//!    message due, the next packet out of a link, or a stack's timer
//!    (retransmission, delayed ACK).
//!
//! TCP retransmissions are counted from the packets on the wire: a data
//! segment whose sequence range starts below the highest byte already sent.

use super::report::{Recorder, TransportResult, Workload};
use crate::link::{Impairment, Link};
use crate::reliable::{Receiver, Sender, SenderConfig};
use bytes::Bytes;
use smoltcp::iface::{Config, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::socket::{tcp, udp};
use smoltcp::time::Instant;
use smoltcp::wire::{
    HardwareAddress, IpAddress, IpCidr, IpProtocol, Ipv4Packet, TcpPacket, TcpSeqNumber,
};
use std::collections::VecDeque;
use std::time::Duration;

/// The sender's address on the simulated wire.
pub const SENDER: IpAddress = IpAddress::v4(10, 0, 0, 1);
/// The receiver's address on the simulated wire.
pub const RECEIVER: IpAddress = IpAddress::v4(10, 0, 0, 2);
/// The receiver's port, for both transports.
pub const PORT: u16 = 7000;
/// The wire's MTU: Ethernet's 1500 bytes.
pub const MTU: usize = 1500;
/// Each TCP socket buffer (send and receive): 64 KiB, a classic default window.
pub const TCP_BUFFER: usize = 64 * 1024;
/// Datagrams a UDP socket buffer holds (each up to one MTU).
pub const UDP_SLOTS: usize = 256;
/// The simulation gives up this much virtual time after the last message was
/// due (a wire that loses everything never finishes otherwise).
pub const TIME_LIMIT: Duration = Duration::from_secs(600);

/// One end's network card: packets in from the wire, packets out to it.
#[derive(Debug, Default)]
pub struct Port {
    rx: VecDeque<Bytes>,
    tx: VecDeque<Vec<u8>>,
}

/// A received packet handed to smoltcp.
pub struct RxToken(Bytes);

/// Room for one packet smoltcp transmits.
pub struct TxToken<'a>(&'a mut VecDeque<Vec<u8>>);

impl phy::RxToken for RxToken {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buf = vec![0; len];
        let r = f(&mut buf);
        self.0.push_back(buf);
        r
    }
}

impl Device for Port {
    type RxToken<'a> = RxToken;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _: Instant) -> Option<(RxToken, TxToken<'_>)> {
        let p = self.rx.pop_front()?;
        Some((RxToken(p), TxToken(&mut self.tx)))
    }

    fn transmit(&mut self, _: Instant) -> Option<TxToken<'_>> {
        Some(TxToken(&mut self.tx))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ip;
        caps.max_transmission_unit = MTU;
        caps
    }
}

/// One end: an interface, its card and its sockets.
struct Host {
    iface: Interface,
    port: Port,
    sockets: SocketSet<'static>,
}

impl Host {
    fn new(addr: IpAddress, seed: u64) -> Self {
        let mut port = Port::default();
        let mut config = Config::new(HardwareAddress::Ip);
        config.random_seed = seed;
        let mut iface = Interface::new(config, &mut port, Instant::ZERO);
        iface.update_ip_addrs(|a| {
            a.push(IpCidr::new(addr, 24)).expect("room for one address");
        });
        Self {
            iface,
            port,
            sockets: SocketSet::new(Vec::new()),
        }
    }

    fn poll(&mut self, now: Duration) {
        self.iface.poll(at(now), &mut self.port, &mut self.sockets);
    }

    fn next_timer(&mut self, now: Duration) -> Option<Duration> {
        self.iface
            .poll_delay(at(now), &self.sockets)
            .map(|d| now + Duration::from_micros(d.total_micros()))
    }
}

fn at(t: Duration) -> Instant {
    Instant::from_micros(t.as_micros() as i64)
}

/// Counts TCP segments that resend bytes already sent once.
#[derive(Debug, Default)]
pub struct RetransmissionCounter {
    highest_end: Option<TcpSeqNumber>,
    /// Segments seen resending data (or a SYN/FIN) already sent.
    pub retransmissions: u64,
    /// Segments that carried sequence space (data, SYN or FIN).
    pub segments: u64,
}

impl RetransmissionCounter {
    /// Looks at one IPv4 packet leaving the sender.
    pub fn observe(&mut self, packet: &[u8]) {
        let Ok(ip) = Ipv4Packet::new_checked(packet) else {
            return;
        };
        if ip.next_header() != IpProtocol::Tcp {
            return;
        }
        let Ok(tcp) = TcpPacket::new_checked(ip.payload()) else {
            return;
        };
        // SYN and FIN occupy one sequence number each (RFC 9293 §3.4).
        let len = tcp.payload().len() + usize::from(tcp.syn()) + usize::from(tcp.fin());
        if len == 0 {
            return; // a pure ACK carries no sequence space
        }
        self.segments += 1;
        let seq = tcp.seq_number();
        let end = seq + len;
        match self.highest_end {
            Some(h) if seq < h => {
                self.retransmissions += 1;
                self.highest_end = Some(h.max(end));
            }
            Some(h) => self.highest_end = Some(h.max(end)),
            None => self.highest_end = Some(end),
        }
    }
}

/// Which transport a simulation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// TCP: a stream of fixed-size messages.
    Tcp,
    /// UDP: one message per datagram.
    Udp,
}

/// The simulated wire: two hosts and a [`Link`] each way.
struct Wire {
    a: Host,
    b: Host,
    ab: Link,
    ba: Link,
    counter: RetransmissionCounter,
}

impl Wire {
    fn new(impairment: &Impairment) -> Self {
        let mut back = impairment.clone();
        back.seed = impairment.seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        Self {
            a: Host::new(SENDER, impairment.seed ^ 0xa),
            b: Host::new(RECEIVER, impairment.seed ^ 0xb),
            ab: Link::new(impairment.clone()),
            ba: Link::new(back),
            counter: RetransmissionCounter::default(),
        }
    }

    /// Polls both ends and moves packets across at `now`; true if anything moved.
    fn step(&mut self, now: Duration) -> bool {
        let mut moved = false;
        self.a.poll(now);
        while let Some(p) = self.a.port.tx.pop_front() {
            self.counter.observe(&p);
            self.ab.send(now, Bytes::from(p));
            moved = true;
        }
        self.b.poll(now);
        while let Some(p) = self.b.port.tx.pop_front() {
            self.ba.send(now, Bytes::from(p));
            moved = true;
        }
        while let Some(p) = self.ab.receive(now) {
            self.b.port.rx.push_back(p);
            moved = true;
        }
        while let Some(p) = self.ba.receive(now) {
            self.a.port.rx.push_back(p);
            moved = true;
        }
        moved
    }

    fn next_event(&mut self, now: Duration) -> Option<Duration> {
        [
            self.ab.next_due(),
            self.ba.next_due(),
            self.a.next_timer(now),
            self.b.next_timer(now),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// Runs `workload` over TCP on a simulated wire with `impairment` both ways.
/// `progress` is told the share of messages delivered (0.0–1.0) now and then.
pub fn run_tcp(
    workload: &Workload,
    impairment: &Impairment,
    progress: &mut dyn FnMut(f64),
) -> TransportResult {
    let mut wire = Wire::new(impairment);
    let mut tx = tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0; TCP_BUFFER]),
        tcp::SocketBuffer::new(vec![0; TCP_BUFFER]),
    );
    // No Nagle (TCP_NODELAY, as the kernel runs do): each message leaves in its
    // own segment, so TCP and UDP put the same packets on the wire.
    tx.set_nagle_enabled(false);
    let mut rx = tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0; TCP_BUFFER]),
        tcp::SocketBuffer::new(vec![0; TCP_BUFFER]),
    );
    rx.listen(PORT).expect("a fresh socket can listen");
    let rx_h = wire.b.sockets.add(rx);
    let tx_h = wire.a.sockets.add(tx);
    {
        let cx = wire.a.iface.context();
        let s = wire.a.sockets.get_mut::<tcp::Socket>(tx_h);
        s.connect(cx, (RECEIVER, PORT), 49152)
            .expect("a fresh socket can connect");
    }

    let mut rec = Recorder::new(workload.size);
    let mut next_seq = 0u64;
    let mut pending: Option<(Vec<u8>, usize)> = None; // a message partly written
    let mut inbox: Vec<u8> = Vec::with_capacity(TCP_BUFFER);
    let mut buf = vec![0u8; TCP_BUFFER];
    let mut now = Duration::ZERO;
    let mut spins = 0u32;
    let limit = workload.send_time(workload.count) + TIME_LIMIT;
    while rec.delivered() < workload.count && now <= limit {
        // 1. The sender writes what is due, as far as the send buffer allows.
        let mut wrote = false;
        {
            let s = wire.a.sockets.get_mut::<tcp::Socket>(tx_h);
            while s.may_send() {
                if pending.is_none()
                    && next_seq < workload.count
                    && workload.send_time(next_seq) <= now
                {
                    let due = workload.send_time(next_seq);
                    pending = Some((workload.message(next_seq, due), 0));
                    next_seq += 1;
                }
                let Some((msg, off)) = pending.as_mut() else {
                    break;
                };
                let n = s.send_slice(&msg[*off..]).unwrap_or(0);
                if n == 0 {
                    break;
                }
                wrote = true;
                *off += n;
                if *off == msg.len() {
                    pending = None;
                }
            }
        }
        // 2–3. Poll both ends, move packets.
        let moved = wire.step(now);
        // 4. The receiver reads; the stream is cut into fixed-size messages.
        let mut read = false;
        {
            let s = wire.b.sockets.get_mut::<tcp::Socket>(rx_h);
            while let Ok(n) = s.recv_slice(&mut buf) {
                if n == 0 {
                    break;
                }
                read = true;
                inbox.extend_from_slice(&buf[..n]);
            }
        }
        let whole = inbox.len() / workload.size * workload.size;
        for m in inbox[..whole].chunks_exact(workload.size) {
            rec.arrive(m, now);
        }
        inbox.drain(..whole);
        if read {
            progress(rec.delivered() as f64 / workload.count as f64);
        }
        // An ACK processed during the poll may have made room for a blocked writer.
        let room = {
            let s = wire.a.sockets.get::<tcp::Socket>(tx_h);
            s.may_send() && s.send_queue() < s.send_capacity()
        };
        let unblocked = room
            && (pending.is_some()
                || (next_seq < workload.count && workload.send_time(next_seq) <= now));
        if (moved || wrote || read || unblocked) && spins < 1000 {
            spins += 1;
            continue; // something changed at this instant: poll again
        }
        spins = 0;
        // 5. Jump to the next event.
        // Messages already due wait for room in the socket (an ACK event), not for time.
        let next_send = (pending.is_none() && next_seq < workload.count)
            .then(|| workload.send_time(next_seq))
            .filter(|&t| t > now);
        let next = [next_send, wire.next_event(now)]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(limit + Duration::from_micros(1));
        now = next.max(now + Duration::from_micros(1));
    }
    let sent = next_seq;
    let retrans = wire.counter.retransmissions;
    rec.finish("TCP", sent, Some(retrans), None)
}

/// Runs `workload` over UDP on a simulated wire with `impairment` both ways.
pub fn run_udp(
    workload: &Workload,
    impairment: &Impairment,
    progress: &mut dyn FnMut(f64),
) -> TransportResult {
    let mut wire = Wire::new(impairment);
    let new_socket = || {
        udp::Socket::new(
            udp::PacketBuffer::new(
                vec![udp::PacketMetadata::EMPTY; UDP_SLOTS],
                vec![0; UDP_SLOTS * MTU],
            ),
            udp::PacketBuffer::new(
                vec![udp::PacketMetadata::EMPTY; UDP_SLOTS],
                vec![0; UDP_SLOTS * MTU],
            ),
        )
    };
    let mut rx = new_socket();
    rx.bind(PORT).expect("a fresh socket can bind");
    let mut tx = new_socket();
    tx.bind(49152).expect("a fresh socket can bind");
    let rx_h: SocketHandle = wire.b.sockets.add(rx);
    let tx_h: SocketHandle = wire.a.sockets.add(tx);

    let mut rec = Recorder::new(workload.size);
    let mut next_seq = 0u64;
    let mut now = Duration::ZERO;
    let limit = workload.send_time(workload.count) + TIME_LIMIT;
    loop {
        let mut wrote = false;
        {
            let s = wire.a.sockets.get_mut::<udp::Socket>(tx_h);
            while next_seq < workload.count && workload.send_time(next_seq) <= now && s.can_send() {
                let m = workload.message(next_seq, workload.send_time(next_seq));
                if s.send_slice(&m, (RECEIVER, PORT)).is_err() {
                    break;
                }
                next_seq += 1;
                wrote = true;
            }
        }
        let moved = wire.step(now);
        let mut read = false;
        {
            let s = wire.b.sockets.get_mut::<udp::Socket>(rx_h);
            while let Ok((data, _)) = s.recv() {
                rec.arrive(data, now);
                read = true;
            }
        }
        if read {
            progress(next_seq as f64 / workload.count as f64);
        }
        if moved || wrote || read {
            continue;
        }
        let next_send = (next_seq < workload.count)
            .then(|| workload.send_time(next_seq))
            .filter(|&t| t > now);
        match [next_send, wire.next_event(now)]
            .into_iter()
            .flatten()
            .min()
        {
            Some(next) if now <= limit => now = next.max(now + Duration::from_micros(1)),
            _ => break, // everything sent and nothing left on the wire
        }
    }
    rec.finish("UDP", next_seq, None, None)
}

/// Runs `workload` over netlab's reliable UDP (lesson 07) through the same
/// impaired wire: sequence numbers, cumulative acks, the RFC 6298 RTO.
/// Each message is one segment, handed to the sender at its send time.
pub fn run_reliable(
    workload: &Workload,
    impairment: &Impairment,
    progress: &mut dyn FnMut(f64),
) -> TransportResult {
    let data: Vec<u8> = (0..workload.count)
        .flat_map(|seq| workload.message(seq, workload.send_time(seq)))
        .collect();
    let config = SenderConfig {
        mss: workload.size,
        ..SenderConfig::default()
    };
    let mut sender = Sender::new(data.into(), config);
    let mut receiver = Receiver::new(config.window);
    // The same two directions as the TCP and UDP runs' wire.
    let mut back_imp = impairment.clone();
    back_imp.seed = impairment.seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let (mut ab, mut ba) = (Link::new(impairment.clone()), Link::new(back_imp));
    let mut rec = Recorder::new(workload.size);
    let mut inbox = Vec::new();
    let mut released = 0u64;
    let mut now = Duration::ZERO;
    let limit = workload.send_time(workload.count) + TIME_LIMIT;
    while !sender.is_done() && now <= limit {
        while released < workload.count && workload.send_time(released) <= now {
            released += 1;
        }
        sender.release(released);
        sender.on_timeout(now);
        loop {
            let mut moved = false;
            while let Some(d) = sender.poll_transmit(now) {
                ab.send(now, d);
                moved = true;
            }
            while let Some(d) = ab.receive(now) {
                if let Ok(ack) = receiver.on_datagram(&d) {
                    ba.send(now, ack);
                }
                moved = true;
            }
            while let Some(d) = ba.receive(now) {
                let _ = sender.on_datagram(now, &d);
                moved = true;
            }
            if !moved {
                break;
            }
        }
        inbox.extend(receiver.take_delivered());
        let whole = inbox.len() / workload.size * workload.size;
        for m in inbox[..whole].chunks_exact(workload.size) {
            rec.arrive(m, now);
        }
        if whole > 0 {
            inbox.drain(..whole);
            progress(rec.delivered() as f64 / workload.count as f64);
        }
        let next_send = (released < workload.count).then(|| workload.send_time(released));
        match [next_send, ab.next_due(), ba.next_due(), sender.deadline()]
            .into_iter()
            .flatten()
            .min()
        {
            Some(t) => now = t.max(now),
            None => break,
        }
    }
    let retransmissions = sender.stats().retransmissions;
    rec.finish("reliable UDP", released, Some(retransmissions), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workload() -> Workload {
        Workload {
            count: 300,
            size: 100,
            rate: 1000,
        }
    }

    #[test]
    fn a_perfect_wire_delivers_everything_both_ways() {
        let perfect = Impairment {
            delay: Duration::from_millis(5),
            ..Impairment::default()
        };
        let t = run_tcp(&workload(), &perfect, &mut |_| {});
        let u = run_udp(&workload(), &perfect, &mut |_| {});
        for r in [&t, &u] {
            assert_eq!(
                (r.sent, r.delivered, r.lost, r.duplicated, r.out_of_order),
                (300, 300, 0, 0, 0),
                "{}",
                r.transport
            );
        }
        assert_eq!(t.retransmissions, Some(0));
        // 5 ms one way: UDP latency is exactly the wire's delay.
        assert_eq!(u.p50_latency_us, Some(5000));
    }

    #[test]
    fn the_retransmission_counter_reads_sequence_ranges() {
        use smoltcp::wire::{IpAddress, IpProtocol, Ipv4Address, Ipv4Repr, TcpControl, TcpRepr};
        let seg = |seq: i32, len: usize| -> Vec<u8> {
            let payload = vec![0u8; len];
            let tcp = TcpRepr {
                src_port: 1,
                dst_port: 2,
                control: TcpControl::None,
                seq_number: TcpSeqNumber(seq),
                ack_number: None,
                window_len: 100,
                window_scale: None,
                max_seg_size: None,
                sack_permitted: false,
                sack_ranges: [None; 3],
                timestamp: None,
                payload: &payload,
            };
            let ip = Ipv4Repr {
                src_addr: Ipv4Address::new(10, 0, 0, 1),
                dst_addr: Ipv4Address::new(10, 0, 0, 2),
                next_header: IpProtocol::Tcp,
                payload_len: tcp.buffer_len(),
                hop_limit: 64,
            };
            let mut buf = vec![0u8; ip.buffer_len() + tcp.buffer_len()];
            let mut p = Ipv4Packet::new_unchecked(&mut buf);
            ip.emit(&mut p, &smoltcp::phy::ChecksumCapabilities::default());
            let mut t = TcpPacket::new_unchecked(p.payload_mut());
            tcp.emit(
                &mut t,
                &IpAddress::Ipv4(ip.src_addr),
                &IpAddress::Ipv4(ip.dst_addr),
                &smoltcp::phy::ChecksumCapabilities::default(),
            );
            buf
        };
        let mut c = RetransmissionCounter::default();
        c.observe(&seg(1000, 100)); // 1000..1100
        c.observe(&seg(1100, 100)); // 1100..1200
        c.observe(&seg(1200, 0)); // a pure ACK: no sequence space
        assert_eq!(c.retransmissions, 0);
        c.observe(&seg(1000, 100)); // resent
        c.observe(&seg(1100, 200)); // resent, and new bytes after it
        assert_eq!(c.retransmissions, 2);
        c.observe(&seg(1300, 100));
        assert_eq!(c.retransmissions, 2, "new data is not a retransmission");
        c.observe(&seg(i32::MAX - 10, 5)); // far ahead (wraps later): new
        assert_eq!(c.retransmissions, 2);
    }
}

#[cfg(test)]
mod lossy {
    use super::*;

    #[test]
    fn a_wire_that_loses_everything_ends_at_the_time_limit_with_nothing_delivered() {
        let w = Workload {
            count: 20,
            size: 100,
            rate: 1000,
        };
        let dead = Impairment {
            loss: 1.0,
            ..Impairment::default()
        };
        let t = run_tcp(&w, &dead, &mut |_| {});
        let u = run_udp(&w, &dead, &mut |_| {});
        assert_eq!((t.delivered, u.delivered, u.lost), (0, 0, 20));
        assert!(t.retransmissions.unwrap() > 0, "the SYN was resent");
    }

    #[test]
    fn under_loss_udp_loses_and_tcp_retransmits_everything_in_order() {
        let w = Workload {
            count: 1000,
            size: 200,
            rate: 1000,
        };
        let lossy = Impairment {
            loss: 0.05,
            delay: Duration::from_millis(10),
            seed: 7,
            ..Impairment::default()
        };
        let t = run_tcp(&w, &lossy, &mut |_| {});
        let u = run_udp(&w, &lossy, &mut |_| {});
        assert_eq!(
            (t.delivered, t.lost, t.out_of_order, t.duplicated),
            (1000, 0, 0, 0)
        );
        assert!(t.retransmissions.unwrap() > 0);
        assert!((20..=80).contains(&u.lost), "about 5% of 1000: {}", u.lost);
        let again = run_udp(&w, &lossy, &mut |_| {});
        assert_eq!(again.timeline, u.timeline, "same seed, same run");
    }

    #[test]
    fn reliable_udp_delivers_every_message_in_order_through_duplication_and_reordering() {
        let w = Workload {
            count: 500,
            size: 200,
            rate: 1000,
        };
        let bad = Impairment {
            loss: 0.10,
            duplicate: 0.05,
            reorder: 0.10,
            delay: Duration::from_millis(10),
            seed: 3,
            ..Impairment::default()
        };
        let r = run_reliable(&w, &bad, &mut |_| {});
        assert_eq!(r.transport, "reliable UDP");
        assert_eq!(
            (r.sent, r.delivered, r.lost, r.out_of_order, r.duplicated),
            (500, 500, 0, 0, 0)
        );
        // The timeline is every message, each once, in order.
        assert!(r.timeline.iter().map(|p| p.1).eq(0..500));
        assert!(r.retransmissions.unwrap() > 0);
        // A dead wire: nothing arrives, and the run stops at the time limit.
        let dead = Impairment {
            loss: 1.0,
            ..Impairment::default()
        };
        let d = run_reliable(&Workload { count: 5, ..w }, &dead, &mut |_| {});
        assert_eq!((d.delivered, d.lost), (0, 5));
    }
}
