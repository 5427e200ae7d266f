//! Live capture on Linux: an `AF_PACKET` raw socket (packet(7)) bound to one
//! interface sees every frame it sends and receives, link header included.
//! Needs root (or CAP_NET_RAW). Filtering is done here, in netlab, on the
//! dissected packet — no BPF.

use super::dissect::Dissection;
use socket2::{Domain, Protocol, Socket, Type};
use std::collections::hash_map::DefaultHasher;
use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::io::{self, Read};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// `ETH_P_ALL` from `<linux/if_ether.h>`: every protocol.
const ETH_P_ALL: u16 = 0x0003;
/// Receive buffer: larger than any frame on a 64 KiB-MTU loopback.
pub const LIVE_BUF_LEN: usize = 256 * 1024;
/// Kernel receive queue asked for (the kernel caps it at `net.core.rmem_max`):
/// a packet socket sees *all* traffic on the interface, and a small queue
/// drops packets when the interface is busy.
pub const LIVE_SOCKET_BUFFER: usize = 8 * 1024 * 1024;
/// How many recent loopback frames are remembered to drop the kernel's second copy.
pub const LOOPBACK_DEDUP_WINDOW: usize = 256;
/// The second copy of a loopback frame arrives within this time of the first.
pub const LOOPBACK_DEDUP_AGE: Duration = Duration::from_millis(50);

/// Which packets to keep: all given conditions must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Keep packets with one of these source or destination ports (empty: any).
    pub ports: Vec<u16>,
    /// Keep packets from or to this address.
    pub host: Option<IpAddr>,
}

impl Filter {
    /// Whether a dissected packet passes.
    pub fn matches(&self, d: &Dissection) -> bool {
        let port_ok = self.ports.is_empty()
            || d.ports
                .is_some_and(|(s, t)| self.ports.contains(&s) || self.ports.contains(&t));
        let host_ok = self
            .host
            .map_or(true, |h| d.addrs.is_some_and(|(s, t)| s == h || t == h));
        port_ok && host_ok
    }
}

/// An open capture on one interface.
pub struct LiveCapture {
    socket: Socket,
    buf: Vec<u8>,
    /// Fingerprints of recent loopback frames still waiting for their second copy.
    recent: VecDeque<(u64, Instant)>,
    loopback: bool,
}

impl LiveCapture {
    /// Opens a raw packet socket on `iface` (e.g. `lo`, `eth0`).
    pub fn open(iface: &str) -> io::Result<LiveCapture> {
        let proto = Protocol::from(i32::from(ETH_P_ALL.to_be()));
        let socket = Socket::new(Domain::PACKET, Type::RAW, Some(proto)).map_err(|e| {
            if e.kind() == io::ErrorKind::PermissionDenied {
                io::Error::new(
                    e.kind(),
                    "live capture needs root (or CAP_NET_RAW): try sudo, or inspect a file instead",
                )
            } else {
                e
            }
        })?;
        socket.bind_device(Some(iface.as_bytes())).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot capture on interface `{iface}`: {e} (see `ip link` for names)"),
            )
        })?;
        socket.set_read_timeout(Some(Duration::from_millis(200)))?;
        // Best effort: a bigger queue only lowers the chance of drops.
        let _ = socket.set_recv_buffer_size(LIVE_SOCKET_BUFFER);
        Ok(LiveCapture {
            socket,
            buf: vec![0; LIVE_BUF_LEN],
            recent: VecDeque::with_capacity(LOOPBACK_DEDUP_WINDOW),
            loopback: iface == "lo",
        })
    }

    /// The next frame (Ethernet link type), or `None` when the read timed out.
    ///
    /// On loopback the kernel hands a packet socket every frame twice (once
    /// leaving, once arriving), possibly with other frames in between; the
    /// second identical copy within [`LOOPBACK_DEDUP_AGE`] is dropped.
    pub fn next_frame(&mut self) -> io::Result<Option<&[u8]>> {
        loop {
            let n = match (&self.socket).read(&mut self.buf) {
                Ok(n) => n,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(None)
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if self.loopback && self.is_second_copy(n) {
                continue;
            }
            return Ok(Some(&self.buf[..n]));
        }
    }

    /// Whether the frame in `buf[..n]` is the second copy of one seen just before.
    fn is_second_copy(&mut self, n: usize) -> bool {
        let mut h = DefaultHasher::new();
        self.buf[..n].hash(&mut h);
        let fp = h.finish();
        let now = Instant::now();
        while self
            .recent
            .front()
            .is_some_and(|(_, t)| now.duration_since(*t) > LOOPBACK_DEDUP_AGE)
        {
            self.recent.pop_front();
        }
        if let Some(i) = self.recent.iter().position(|(f, _)| *f == fp) {
            self.recent.remove(i);
            return true;
        }
        if self.recent.len() == LOOPBACK_DEDUP_WINDOW {
            self.recent.pop_front();
        }
        self.recent.push_back((fp, now));
        false
    }
}
