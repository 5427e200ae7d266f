//! The echo server over real loopback sockets: many clients at once, and
//! hostile clients that must not disturb anyone else.

use bytes::{Bytes, BytesMut};
use netlab::framing::{decode_frame, encode_frame, FrameCodec, FrameError};
use netlab::tcp::client::FramedClient;
use netlab::tcp::echo::{self, EchoConfig, EchoEvent};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Starts an echo server on port 0; returns its address and a log of failures.
async fn start(config: EchoConfig) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let failures = Arc::new(Mutex::new(Vec::new()));
    let log = failures.clone();
    tokio::spawn(echo::serve(listener, config, move |e| {
        if let EchoEvent::Failed { error, .. } = e {
            log.lock().unwrap().push(error.to_string());
        }
    }));
    (addr, failures)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_clients_times_a_hundred_frames_nothing_lost_or_reordered() {
    let (addr, failures) = start(EchoConfig::default()).await;
    let mut clients = Vec::new();
    for c in 0..200u32 {
        clients.push(tokio::spawn(async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            // Frames of varying sizes carrying (client, index), sent in bursts
            // so that frames get split and glued on the way.
            let mut out = BytesMut::new();
            let mut expected = Vec::new();
            for i in 0..100u32 {
                let mut p = format!("client {c} frame {i} ").into_bytes();
                p.resize(p.len() + (i as usize * 37 + c as usize) % 700, b'.');
                encode_frame(&p, &mut out, 1 << 20).unwrap();
                expected.push(p);
            }
            let (mut rd, mut wr) = stream.split();
            let writer = async {
                for chunk in out.chunks(1013) {
                    wr.write_all(chunk).await.unwrap();
                }
            };
            let reader = async {
                let mut inbox = BytesMut::new();
                let mut got = Vec::new();
                while got.len() < expected.len() {
                    assert!(
                        rd.read_buf(&mut inbox).await.unwrap() > 0,
                        "server closed early"
                    );
                    while let Some(f) = decode_frame(&mut inbox, 1 << 20).unwrap() {
                        got.push(f.to_vec());
                    }
                }
                got
            };
            let ((), got) = tokio::join!(writer, reader);
            assert!(
                got == expected,
                "client {c}: echoes lost, changed or reordered"
            );
        }));
    }
    for c in clients {
        c.await.unwrap();
    }
    assert!(
        failures.lock().unwrap().is_empty(),
        "{:?}",
        failures.lock().unwrap()
    );
}

/// A well-behaved client that keeps echoing while `hostile` runs.
async fn assert_others_unaffected(
    addr: SocketAddr,
    hostile: impl std::future::Future<Output = ()>,
) {
    let mut good = FramedClient::connect(&addr.to_string(), FrameCodec::new())
        .await
        .unwrap();
    let before = good
        .exchange(&[Bytes::from_static(b"before")])
        .await
        .unwrap();
    assert_eq!(before[0].received, Bytes::from_static(b"before"));
    hostile.await;
    let after = good
        .exchange(&[Bytes::from_static(b"after"), Bytes::from_static(b"")])
        .await
        .unwrap();
    assert_eq!(after[0].received, Bytes::from_static(b"after"));
    assert_eq!(after[1].received, Bytes::new());
}

#[tokio::test]
async fn a_4_gib_header_closes_only_that_connection() {
    let (addr, failures) = start(EchoConfig::default()).await;
    assert_others_unaffected(addr, async {
        let mut evil = TcpStream::connect(addr).await.unwrap();
        // A good frame first: it must still be echoed before the bad header is refused.
        let mut out = BytesMut::new();
        encode_frame(b"ok", &mut out, 10).unwrap();
        out.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        evil.write_all(&out).await.unwrap();
        let mut back = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), evil.read_to_end(&mut back))
            .await
            .expect("the server must close the hostile connection, not wait for 4 GiB")
            .ok();
        assert_eq!(
            back,
            vec![0, 0, 0, 2, b'o', b'k'],
            "the good frame before the bad header is echoed"
        );
    })
    .await;
    let log = failures.lock().unwrap().clone();
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(
        log[0].contains("4294967295") && log[0].contains("--max-frame"),
        "{log:?}"
    );
}

#[tokio::test]
async fn half_a_frame_then_hanging_up_is_reported_as_truncated() {
    let (addr, failures) = start(EchoConfig::default()).await;
    assert_others_unaffected(addr, async {
        let mut evil = TcpStream::connect(addr).await.unwrap();
        evil.write_all(&[0, 0, 0, 10, b'h', b'a', b'l', b'f'])
            .await
            .unwrap();
        evil.shutdown().await.unwrap();
        let mut back = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), evil.read_to_end(&mut back)).await;
        assert!(back.is_empty());
    })
    .await;
    // The server logs the failure just after closing; give it a moment.
    for _ in 0..100 {
        if !failures.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let log = failures.lock().unwrap().clone();
    assert_eq!(
        log,
        vec![
            "the peer closed the connection in the middle of a frame: 8 of 14 bytes had arrived"
                .to_string()
        ]
    );
}

#[tokio::test]
async fn the_max_frame_limit_is_exact() {
    let config = EchoConfig {
        max_frame: 1024,
        ..EchoConfig::default()
    };
    let (addr, failures) = start(config).await;
    // Exactly the limit is echoed.
    let mut ok = FramedClient::connect(&addr.to_string(), FrameCodec::with_max_frame(1 << 20))
        .await
        .unwrap();
    let at_max = Bytes::from(vec![b'm'; 1024]);
    assert_eq!(
        ok.exchange(std::slice::from_ref(&at_max)).await.unwrap()[0].received,
        at_max
    );
    // One byte more: the connection is closed and the reason logged.
    let mut over = FramedClient::connect(&addr.to_string(), FrameCodec::with_max_frame(1 << 20))
        .await
        .unwrap();
    let err = over
        .exchange(&[Bytes::from(vec![b'm'; 1025])])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            netlab::tcp::client::ClientError::ClosedEarly {
                got: 0,
                expected: 1
            } | netlab::tcp::client::ClientError::Frame(FrameError::Io(_))
        ),
        "{err:?}"
    );
    let log = failures.lock().unwrap().clone();
    assert_eq!(log.len(), 1);
    assert!(
        log[0].contains("1025") && log[0].contains("1024"),
        "{log:?}"
    );
}
