//! Encode + decode throughput of netlab's frame codec and tokio-util's
//! `LengthDelimitedCodec`, side by side on the same inputs.
//!
//! Run: `cargo bench --bench framing`. Each input is a batch of frames of one
//! size (16 B, 1 KiB, 64 KiB) encoded into one buffer and decoded back, as an
//! echo server does with a pipelined client. Compare the two lines of each group.

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use netlab::framing::FrameCodec;
use std::hint::black_box;
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec};

/// Bytes of payload per batch: enough frames to amortise the loop, small enough for cache.
const BATCH_BYTES: usize = 256 * 1024;

fn roundtrip(c: &mut Criterion) {
    for size in [16usize, 1024, 64 * 1024] {
        let count = (BATCH_BYTES / size).max(4);
        let payload = Bytes::from(vec![0x5a; size]);
        let mut group = c.benchmark_group(format!("frame_roundtrip/{size}B"));
        group.throughput(Throughput::Bytes((count * size) as u64));

        group.bench_function(BenchmarkId::new("netlab", count), |b| {
            let mut codec = FrameCodec::with_max_frame(1 << 20);
            let mut buf = BytesMut::with_capacity(count * (size + 4));
            b.iter(|| {
                for _ in 0..count {
                    codec.encode(&payload, &mut buf).unwrap();
                }
                let mut n = 0;
                while let Some(f) = codec.decode(&mut buf).unwrap() {
                    n += f.len();
                }
                black_box(n)
            })
        });

        group.bench_function(BenchmarkId::new("LengthDelimitedCodec", count), |b| {
            let mut codec = LengthDelimitedCodec::builder()
                .length_field_length(4)
                .max_frame_length(1 << 20)
                .new_codec();
            let mut buf = BytesMut::with_capacity(count * (size + 4));
            b.iter(|| {
                for _ in 0..count {
                    codec.encode(payload.clone(), &mut buf).unwrap();
                }
                let mut n = 0;
                while let Some(f) = codec.decode(&mut buf).unwrap() {
                    n += f.len();
                }
                black_box(n)
            })
        });
        group.finish();
    }
}

criterion_group!(benches, roundtrip);
criterion_main!(benches);
