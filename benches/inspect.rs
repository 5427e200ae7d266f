//! Dissection speed per packet kind (criterion). The side-by-side comparison
//! with tshark on a 100,000+ packet file is `scripts/bench-inspect`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use netlab::inspect::build::{tcp_frame, udp_frame};
use netlab::inspect::dissect::{Dissection, Dissector};
use netlab::inspect::pcap::{Reader, Writer};
use netlab::inspect::render::{self, Meta};
use netlab::inspect::tcp::{FLG_ACK, FLG_PSH, FLG_SYN};
use netlab::inspect::LinkType;
use std::net::Ipv4Addr;

fn packets() -> Vec<(&'static str, Vec<u8>)> {
    let event = br#"{"type":"message","room":"lobby","text":"hello world"}"#;
    let mut framed = (event.len() as u32).to_be_bytes().to_vec();
    framed.extend_from_slice(event);
    let a = (Ipv4Addr::LOCALHOST, 40000);
    let b = (Ipv4Addr::LOCALHOST, 7000);
    vec![
        ("tcp_syn", tcp_frame(a, b, 1, 0, FLG_SYN, b"")),
        ("tcp_netlab_frame_chat_event", tcp_frame(a, b, 1, 1, FLG_PSH | FLG_ACK, &framed)),
        ("udp_dns", udp_frame(a, (Ipv4Addr::LOCALHOST, 53), b"\xbe\xef\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x06netlab\x04test\x00\x00\x01\x00\x01")),
    ]
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("dissect");
    g.throughput(Throughput::Elements(1));
    for (name, p) in packets() {
        let mut dis = Dissector::new();
        let mut d = Dissection::default();
        g.bench_function(name, |bch| {
            bch.iter(|| {
                dis.dissect(LinkType::Ethernet, std::hint::black_box(&p), &mut d);
                d.nodes.len()
            })
        });
        let meta = Meta::default();
        g.bench_function(format!("{name}+summary"), |bch| {
            bch.iter(|| {
                dis.dissect(LinkType::Ethernet, std::hint::black_box(&p), &mut d);
                render::summary(&d, &meta).len()
            })
        });
    }
    g.finish();

    let mut file = Writer::new(Vec::new(), LinkType::Ethernet).unwrap();
    let (_, p) = &packets()[1];
    for i in 0..10_000u32 {
        file.write(u64::from(i), 0, p.len() as u32, p).unwrap();
    }
    let file = file.finish().unwrap();
    let mut g = c.benchmark_group("pcap");
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("read_10k_records", |bch| {
        bch.iter(|| {
            let mut r = Reader::new(&file[..]).unwrap();
            let mut n = 0;
            while let Some(rec) = r.next().unwrap() {
                n += rec.data.len();
            }
            n
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
