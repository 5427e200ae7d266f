//! Parsing the quantities people type on the command line: sizes (`64KiB`),
//! percentages (`5%`), durations (`20ms`) and link rates (`10Mbit`).

/// Parses a byte size: `4096`, `64KiB`, `8MiB`, `1GiB` (also `k`, `KB`, `M`, `MB`, as powers of 1024).
pub fn parse_size(text: &str) -> Result<usize, String> {
    let (n, unit) = split_number(text)?;
    let mult: f64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "unknown size unit `{other}`: use B, KiB, MiB or GiB"
            ))
        }
    };
    let bytes = n * mult;
    if bytes.fract() != 0.0 || bytes > usize::MAX as f64 {
        return Err(format!("`{text}` is not a whole number of bytes that fits"));
    }
    Ok(bytes as usize)
}

/// Parses a probability: `5%`, `0.5%` or a fraction such as `0.05`.
pub fn parse_percent(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let p = match t.strip_suffix('%') {
        Some(pct) => {
            pct.trim()
                .parse::<f64>()
                .map_err(|_| format!("`{text}` is not a percentage like 5%"))?
                / 100.0
        }
        None => t
            .parse::<f64>()
            .map_err(|_| format!("`{text}` is not a percentage like 5% or a fraction like 0.05"))?,
    };
    if !(0.0..=1.0).contains(&p) {
        return Err(format!("`{text}` is outside 0%–100%"));
    }
    Ok(p)
}

/// Parses a duration: `20ms`, `1.5s`, `250us`, `0` (a bare number is milliseconds).
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let (n, unit) = split_number(text)?;
    let secs = match unit.to_ascii_lowercase().as_str() {
        "" | "ms" => n / 1e3,
        "s" | "sec" => n,
        "us" | "µs" => n / 1e6,
        "ns" => n / 1e9,
        "m" | "min" => n * 60.0,
        other => {
            return Err(format!(
                "unknown time unit `{other}`: use ns, us, ms, s or min"
            ))
        }
    };
    std::time::Duration::try_from_secs_f64(secs).map_err(|e| format!("`{text}`: {e}"))
}

/// Parses a link rate into bytes per second: `10Mbit`, `512kbit`, `1Gbit` (bits, powers of
/// 1000 as networks count), or `100KB/s`, `2MiB/s` (bytes), or a bare number of bytes/s.
pub fn parse_rate(text: &str) -> Result<u64, String> {
    let (n, unit) = split_number(text)?;
    let bytes_per_sec = match unit.to_ascii_lowercase().trim_end_matches("/s") {
        "" | "b" => n,
        "bit" | "bps" => n / 8.0,
        "kbit" | "kbps" => n * 1e3 / 8.0,
        "mbit" | "mbps" => n * 1e6 / 8.0,
        "gbit" | "gbps" => n * 1e9 / 8.0,
        "kb" | "kib" => n * 1024.0,
        "mb" | "mib" => n * 1024.0 * 1024.0,
        "gb" | "gib" => n * 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "unknown rate unit `{other}`: use kbit, Mbit, Gbit, or KiB/s, MiB/s"
            ))
        }
    };
    if bytes_per_sec < 1.0 {
        return Err(format!("`{text}` is below 1 byte per second"));
    }
    Ok(bytes_per_sec.round() as u64)
}

/// Splits `12.5MiB` into `(12.5, "MiB")`.
fn split_number(text: &str) -> Result<(f64, &str), String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: f64 = digits
        .parse()
        .map_err(|_| format!("`{text}` does not start with a number"))?;
    Ok((n, unit.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn sizes_parse_with_binary_units() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64KiB"), Ok(65536));
        assert_eq!(parse_size("8MiB"), Ok(8 << 20));
        assert_eq!(parse_size("1k"), Ok(1024));
        assert_eq!(parse_size("1.5KiB"), Ok(1536));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("3 parsecs").is_err());
        assert!(parse_size("0.3B").is_err());
        assert!(parse_size("99999999999999999999GiB").is_err());
    }

    #[test]
    fn percentages_and_fractions() {
        assert_eq!(parse_percent("5%"), Ok(0.05));
        assert_eq!(parse_percent("0.05"), Ok(0.05));
        assert_eq!(parse_percent("100%"), Ok(1.0));
        assert!(parse_percent("101%").is_err());
        assert!(parse_percent("-1%").is_err());
        assert!(parse_percent("half").is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("20ms"), Ok(Duration::from_millis(20)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("250us"), Ok(Duration::from_micros(250)));
        assert_eq!(parse_duration("7"), Ok(Duration::from_millis(7)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("3h").is_err());
    }

    #[test]
    fn rates_in_bits_or_bytes() {
        assert_eq!(parse_rate("8Mbit"), Ok(1_000_000));
        assert_eq!(parse_rate("512kbit"), Ok(64_000));
        assert_eq!(parse_rate("1MiB/s"), Ok(1 << 20));
        assert_eq!(parse_rate("1000"), Ok(1000));
        assert!(parse_rate("4bit").is_err(), "below a byte per second");
        assert!(parse_rate("fast").is_err());
    }
}
