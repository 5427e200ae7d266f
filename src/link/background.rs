//! The `netlab link` relay on a thread of its own, for code with no async
//! runtime: lesson graders and plain `std::net` programs put a bad network in
//! front of a server with [`BackgroundRelay::start`] and read what the link
//! did to each packet from [`BackgroundRelay::stop`].

use super::relay::{self, RelayConfig, RelayReport};
use std::io::{self, ErrorKind};
use std::net::{SocketAddr, UdpSocket};
use std::thread::{self, JoinHandle};
use tokio::sync::oneshot;

/// A relay ([`relay::run`]) running on its own thread and runtime until stopped.
#[derive(Debug)]
pub struct BackgroundRelay {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<io::Result<RelayReport>>>,
}

impl BackgroundRelay {
    /// Starts relaying datagrams that arrive on `listen` (port 0: any free
    /// port; see [`BackgroundRelay::addr`]) to `config.to` and back, impaired.
    ///
    /// An unusable `config` is `InvalidInput`, before any socket is opened.
    pub fn start(listen: SocketAddr, config: RelayConfig) -> io::Result<Self> {
        let invalid = |e: String| io::Error::new(ErrorKind::InvalidInput, e);
        config.validate().map_err(|e| invalid(e.to_string()))?;
        config
            .impairment
            .validate()
            .map_err(|e| invalid(e.to_string()))?;
        // Bound here, not on the thread, so a taken port is the caller's error
        // and the address is known before the first datagram is sent.
        let front = UdpSocket::bind(listen)?;
        front.set_nonblocking(true)?;
        let addr = front.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let thread = thread::Builder::new()
            .name(format!("netlab-link {addr}"))
            .spawn(move || {
                runtime.block_on(async move {
                    let front = tokio::net::UdpSocket::from_std(front)?;
                    let stop = async {
                        let _ = stop_rx.await;
                    };
                    relay::run(front, config, stop, |_| {}).await
                })
            })?;
        Ok(Self {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// Where clients send to reach the server through the link.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the relay and returns what its links did, client → server
    /// (`forward`) and server → client (`backward`), over its whole life.
    pub fn stop(mut self) -> io::Result<RelayReport> {
        self.finish()
    }

    fn finish(&mut self) -> io::Result<RelayReport> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .map_err(|_| io::Error::other("the relay's thread panicked"))?,
            None => Err(io::Error::other("the relay was already stopped")),
        }
    }
}

impl Drop for BackgroundRelay {
    /// A relay dropped without [`BackgroundRelay::stop`] stops too; its thread ends.
    fn drop(&mut self) {
        if self.thread.is_some() {
            let _ = self.finish();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::Impairment;
    use pretty_assertions::assert_eq;
    use std::time::Duration;

    #[test]
    fn relays_both_ways_and_reports_what_its_links_did() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let server_addr = server.local_addr().unwrap();
        thread::spawn(move || {
            let mut buf = [0u8; 64];
            while let Ok((n, from)) = server.recv_from(&mut buf) {
                let _ = server.send_to(&buf[..n], from);
            }
        });
        let relay = BackgroundRelay::start(
            "127.0.0.1:0".parse().unwrap(),
            RelayConfig::new(server_addr, Impairment::default()),
        )
        .unwrap();
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        for word in ["one", "two"] {
            client.send_to(word.as_bytes(), relay.addr()).unwrap();
            let mut buf = [0u8; 64];
            let (n, from) = client.recv_from(&mut buf).unwrap();
            assert_eq!((&buf[..n], from), (word.as_bytes(), relay.addr()));
        }
        let report = relay.stop().unwrap();
        assert_eq!(
            (report.forward.delivered, report.backward.delivered),
            (2, 2)
        );
    }

    #[test]
    fn an_unusable_config_is_refused_before_any_socket() {
        let lossy = Impairment {
            loss: 1.5,
            ..Impairment::default()
        };
        let err = BackgroundRelay::start(
            "127.0.0.1:0".parse().unwrap(),
            RelayConfig::new("127.0.0.1:9".parse().unwrap(), lossy),
        )
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }
}
