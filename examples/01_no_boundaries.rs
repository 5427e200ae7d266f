//! Lesson 01: a TCP stream has no message boundaries.
//!
//! Run: `cargo run --example 01_no_boundaries`
//!
//! Notice: three writes come out as one read when the reader reads late (a
//! *sleeping* reader), as three reads when the reader is already waiting and the
//! writes come 20 ms apart (an *eager* reader), and one big write comes out as
//! many reads of sizes you did not choose. A read returns whatever is queued
//! when it runs: the reads follow the timing, never the writes. TCP delivers
//! every byte, in order — but not your messages. That is why lesson 02 adds a
//! length prefix.

use netlab::tcp::boundaries::{
    one_write_many_reads, several_writes_eager_read, several_writes_one_read, SETTLE, WRITE_GAP,
};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let messages: [&[u8]; 3] = [b"GET", b" /chat", b" please"];
    println!(
        "Client: write({:?}), write({:?}), write({:?})",
        String::from_utf8_lossy(messages[0]),
        String::from_utf8_lossy(messages[1]),
        String::from_utf8_lossy(messages[2])
    );
    let seen = several_writes_one_read(&messages).await?;
    println!(
        "Sleeping server (first read {} ms later): {} read(s), sizes {:?}: {:?}",
        SETTLE.as_millis(),
        seen.read_sizes.len(),
        seen.read_sizes,
        String::from_utf8_lossy(&seen.received)
    );
    println!("  -> the server cannot tell where one write ended and the next began.");

    let eager = several_writes_eager_read(&messages, WRITE_GAP).await?;
    println!(
        "Client: the same 3 writes, {} ms apart; the server is already waiting in read",
        WRITE_GAP.as_millis()
    );
    println!(
        "Eager server: {} read(s), sizes {:?}",
        eager.read_sizes.len(),
        eager.read_sizes
    );
    println!("  -> a read returns what is queued when it runs: the same writes, other reads.\n");

    let size = 8 * 1024 * 1024;
    let seen = one_write_many_reads(size).await?;
    let distinct: std::collections::BTreeSet<usize> = seen.read_sizes.iter().copied().collect();
    println!("Client: one write_all of {size} bytes");
    println!(
        "Server: {} reads; first sizes {:?}; {} different sizes in all",
        seen.read_sizes.len(),
        &seen.read_sizes[..seen.read_sizes.len().min(6)],
        distinct.len()
    );
    println!(
        "  -> all {} bytes arrived, in order, in pieces the kernel chose.",
        seen.received.len()
    );
    Ok(())
}
