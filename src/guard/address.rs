//! Connections per source address (`--max-per-ip`).
//!
//! `--max-connections` protects the server, not its users: one machine
//! opening 10,000 connections fills every slot and locks everyone else out.
//! With a cap per source address, one address gets at most its share and the
//! rest of the slots stay open for others. At the cap, a new connection from
//! that address gets its protocol's refusal and is closed; the slot comes
//! back when one of that address's connections ends (an [`AddressSlot`] is
//! released when dropped, however the connection ended).
//!
//! IPv6 hosts usually own a whole /64, so IPv6 addresses are counted per /64
//! prefix; an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) counts as IPv4.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use thiserror::Error;

/// Default connections one source address may hold at once: 256. A
/// classroom behind one NAT address (30 students, a few tabs each) fits;
/// one client cannot take the 10,000–16,384 slots of a server alone.
pub const DEFAULT_MAX_PER_IP: usize = 256;

/// A connection refused because its address holds its maximum already.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("{ip} already has {max} connections open, the most one address may have (--max-per-ip); close one and try again")]
pub struct AddressFull {
    /// The address (for IPv6, its /64 prefix).
    pub ip: IpAddr,
    /// The cap.
    pub max: usize,
}

/// Counts connections per source address for one server.
#[derive(Debug)]
pub struct AddressCap {
    max: usize,
    counts: Mutex<HashMap<IpAddr, usize>>,
}

impl AddressCap {
    /// A cap of `max` connections per address; 0 means no cap.
    pub fn new(max: usize) -> Arc<AddressCap> {
        Arc::new(AddressCap {
            max,
            counts: Mutex::new(HashMap::new()),
        })
    }

    /// The cap (0: none).
    pub fn max(&self) -> usize {
        self.max
    }

    /// A slot for a new connection from `ip`, or the refusal at the cap.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<AddressSlot, AddressFull> {
        if self.max == 0 {
            return Ok(AddressSlot { held: None });
        }
        let key = address_key(ip);
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        let n = counts.entry(key).or_insert(0);
        if *n >= self.max {
            return Err(AddressFull {
                ip: key,
                max: self.max,
            });
        }
        *n += 1;
        Ok(AddressSlot {
            held: Some((self.clone(), key)),
        })
    }

    /// Connections from `ip` (or its /64) now.
    pub fn count(&self, ip: IpAddr) -> usize {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts.get(&address_key(ip)).copied().unwrap_or(0)
    }

    fn release(&self, key: IpAddr) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = counts.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                // Forget the address: the table never grows with addresses gone.
                counts.remove(&key);
            }
        }
    }
}

/// One connection's place in its address's count; dropping it frees the place.
#[derive(Debug)]
pub struct AddressSlot {
    held: Option<(Arc<AddressCap>, IpAddr)>,
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        if let Some((cap, key)) = self.held.take() {
            cap.release(key);
        }
    }
}

/// The address a connection is counted under: IPv4 as it is (IPv4-mapped
/// IPv6 too), IPv6 by its /64 prefix.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn max_per_address_is_admitted_and_max_plus_one_refused() {
        let cap = AddressCap::new(2);
        let a = cap.admit(ip("127.0.0.1")).unwrap();
        let _b = cap.admit(ip("127.0.0.1")).unwrap();
        assert_eq!(
            cap.admit(ip("127.0.0.1")).unwrap_err(),
            AddressFull {
                ip: ip("127.0.0.1"),
                max: 2
            }
        );
        let _other = cap.admit(ip("127.0.0.2")).expect("another address");
        drop(a);
        let _again = cap.admit(ip("127.0.0.1")).expect("a slot came back");
        assert_eq!(cap.count(ip("127.0.0.1")), 2);
    }

    #[test]
    fn gone_addresses_are_forgotten() {
        let cap = AddressCap::new(1);
        for i in 0..100u8 {
            drop(cap.admit(IpAddr::from([10, 0, 0, i])).unwrap());
        }
        assert!(cap.counts.lock().unwrap().is_empty());
    }

    #[test]
    fn zero_means_no_cap() {
        let cap = AddressCap::new(0);
        let slots: Vec<_> = (0..1000)
            .map(|_| cap.admit(ip("127.0.0.1")).unwrap())
            .collect();
        assert_eq!(slots.len(), 1000);
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(
            address_key(ip("2001:db8:1:2:aaaa::1")),
            ip("2001:db8:1:2::")
        );
        assert_eq!(
            address_key(ip("2001:db8:1:2:bbbb::9")),
            address_key(ip("2001:db8:1:2:aaaa::1"))
        );
        assert_ne!(address_key(ip("2001:db8:1:3::1")), ip("2001:db8:1:2::"));
        assert_eq!(address_key(ip("::ffff:10.1.2.3")), ip("10.1.2.3"));
        let cap = AddressCap::new(1);
        let _a = cap.admit(ip("::ffff:10.1.2.3")).unwrap();
        assert!(cap.admit(ip("10.1.2.3")).is_err());
    }
}
