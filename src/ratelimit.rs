//! `--limit-rate`: a token bucket shared by every transfer of a run (so with `-j N` the cap
//! applies to the total), refilled continuously and spent in small chunks so the rate is
//! smooth rather than a whole buffer every few seconds.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A shared byte-rate cap.
#[derive(Debug)]
pub struct Limiter {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl Limiter {
    /// A cap of `bytes_per_sec`.
    pub fn new(bytes_per_sec: u64) -> Limiter {
        let rate = bytes_per_sec.max(1) as f64;
        let burst = (rate / 10.0).max(1024.0);
        Limiter {
            rate,
            burst,
            state: Mutex::new((0.0, Instant::now())),
        }
    }

    /// The cap, in bytes per second.
    pub fn rate(&self) -> u64 {
        self.rate as u64
    }

    /// The size of one read or write under this cap: a tenth of a second's worth, at most `max`.
    pub fn chunk(&self, max: usize) -> usize {
        (self.burst as usize).clamp(1024, max.max(1024))
    }

    /// Waits until `n` bytes may go.
    pub fn take(&self, n: usize) {
        let need = n as f64;
        loop {
            let wait = {
                let mut state = self.state.lock().expect("limiter lock");
                let now = Instant::now();
                let (tokens, last) = *state;
                let tokens = (tokens + now.duration_since(last).as_secs_f64() * self.rate)
                    .min(self.burst.max(need));
                if tokens >= need {
                    *state = (tokens - need, now);
                    return;
                }
                *state = (tokens, now);
                (need - tokens) / self.rate
            };
            std::thread::sleep(Duration::from_secs_f64(wait.min(0.25)));
        }
    }
}

/// Parses a rate as curl writes it: `500K`, `2M`, `1G` (powers of 1024) or plain bytes.
///
/// ```
/// use ftp3700::ratelimit::parse_rate;
/// assert_eq!(parse_rate("500K"), Ok(512_000));
/// assert_eq!(parse_rate("2m"), Ok(2 * 1024 * 1024));
/// ```
pub fn parse_rate(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (digits, unit) = match t
        .char_indices()
        .find(|(_, c)| !c.is_ascii_digit() && *c != '.')
    {
        Some((i, _)) => (&t[..i], &t[i..]),
        None => (t, ""),
    };
    let value: f64 = digits
        .parse()
        .map_err(|_| format!("'{text}' is not a rate like 500K or 2M"))?;
    let scale = match unit.to_ascii_uppercase().trim_end_matches('B') {
        "" => 1.0,
        "K" => 1024.0,
        "M" => 1024.0 * 1024.0,
        "G" => 1024.0 * 1024.0 * 1024.0,
        _ => return Err(format!("'{text}' is not a rate like 500K or 2M")),
    };
    let rate = (value * scale) as u64;
    if rate == 0 {
        return Err(format!("'{text}' must be more than 0"));
    }
    Ok(rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        assert_eq!(parse_rate("1000"), Ok(1000));
        assert_eq!(parse_rate("1.5K"), Ok(1536));
        assert_eq!(parse_rate("1G"), Ok(1 << 30));
        assert!(parse_rate("fast").is_err());
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("5X").is_err());
    }

    #[test]
    fn the_bucket_paces_without_bursting() {
        let l = Limiter::new(200_000);
        let start = Instant::now();
        for _ in 0..10 {
            l.take(10_000);
        }
        // 100 KB at 200 KB/s is about half a second; the first tenth comes free.
        let t = start.elapsed().as_secs_f64();
        assert!(t > 0.3 && t < 2.0, "{t}");
    }
}
