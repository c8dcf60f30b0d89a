//! Proof that a transferred file is the file: the server's own checksum where it offers
//! one (FEAT `HASH`, or `XSHA256`/`XSHA1`/`XMD5`/`XCRC`), compared with a hash of the local
//! bytes computed while they stream; else the size. Choosing and parsing are pure.

use sha1::Digest;

/// `--verify`: which proof a transfer needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verify {
    /// The strongest the server offers, else the size.
    #[default]
    Auto,
    /// A server hash; a server without one is an error.
    Hash,
    /// The size only (SIZE).
    Size,
    /// Only the server's final reply.
    None,
}

impl std::str::FromStr for Verify {
    type Err = String;
    fn from_str(s: &str) -> Result<Verify, String> {
        match s {
            "auto" => Ok(Verify::Auto),
            "hash" => Ok(Verify::Hash),
            "size" => Ok(Verify::Size),
            "none" => Ok(Verify::None),
            _ => Err(format!("'{s}' is not one of auto, hash, size, none")),
        }
    }
}

/// A hash algorithm both sides can compute, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algo {
    /// SHA-256.
    Sha256,
    /// SHA-1.
    Sha1,
    /// MD5.
    Md5,
    /// CRC-32.
    Crc32,
}

impl Algo {
    /// All, strongest first.
    pub const ALL: [Algo; 4] = [Algo::Sha256, Algo::Sha1, Algo::Md5, Algo::Crc32];

    /// The name in FEAT `HASH` lines and `OPTS HASH`.
    pub fn name(self) -> &'static str {
        match self {
            Algo::Sha256 => "SHA-256",
            Algo::Sha1 => "SHA-1",
            Algo::Md5 => "MD5",
            Algo::Crc32 => "CRC32",
        }
    }

    /// The older single-purpose command.
    pub fn x_command(self) -> &'static str {
        match self {
            Algo::Sha256 => "XSHA256",
            Algo::Sha1 => "XSHA1",
            Algo::Md5 => "XMD5",
            Algo::Crc32 => "XCRC",
        }
    }

    fn hex_len(self) -> usize {
        match self {
            Algo::Sha256 => 64,
            Algo::Sha1 => 40,
            Algo::Md5 => 32,
            Algo::Crc32 => 8,
        }
    }
}

/// How the server is asked for a hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashCommand {
    /// `OPTS HASH <algo>` then `HASH path`.
    Hash,
    /// `XSHA256 path` and friends.
    X,
}

/// Picks the strongest hash the server's FEAT lines offer.
///
/// ```
/// use ftp3700::verify::{choose, Algo, HashCommand};
/// let feat = vec![" HASH SHA-1;SHA-256*;MD5".to_string(), " SIZE".to_string()];
/// assert_eq!(choose(&feat), Some((Algo::Sha256, HashCommand::Hash)));
/// assert_eq!(choose(&[" XMD5".into(), " XCRC".into()]), Some((Algo::Md5, HashCommand::X)));
/// ```
pub fn choose(feat_lines: &[String]) -> Option<(Algo, HashCommand)> {
    let words: Vec<String> = feat_lines
        .iter()
        .map(|l| l.trim().to_ascii_uppercase())
        .collect();
    let hash_line = words
        .iter()
        .find_map(|l| l.strip_prefix("HASH ").map(str::to_string));
    for algo in Algo::ALL {
        if let Some(list) = &hash_line {
            if list
                .split(';')
                .any(|a| a.trim_end_matches('*') == algo.name())
            {
                return Some((algo, HashCommand::Hash));
            }
        }
        if words
            .iter()
            .any(|l| l.split_whitespace().next() == Some(algo.x_command()))
        {
            return Some((algo, HashCommand::X));
        }
    }
    None
}

/// Finds the hash in a reply text (`SHA-256 0-49 ab12… name`, or just `ab12…`), lowercase.
///
/// ```
/// use ftp3700::verify::{parse_hash_reply, Algo};
/// assert_eq!(parse_hash_reply("SHA-1 0-3 A9993E364706816ABA3E25717850C26C9CD0D89D a.txt", Algo::Sha1).as_deref(),
///            Some("a9993e364706816aba3e25717850c26c9cd0d89d"));
/// ```
pub fn parse_hash_reply(text: &str, algo: Algo) -> Option<String> {
    text.split_whitespace()
        .find(|w| w.len() == algo.hex_len() && w.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(|w| w.to_ascii_lowercase())
}

/// A running hash of the bytes that went over the wire.
pub enum Hasher {
    /// SHA-256.
    Sha256(sha2::Sha256),
    /// SHA-1.
    Sha1(sha1::Sha1),
    /// MD5.
    Md5(md5::Md5),
    /// CRC-32.
    Crc32(crc32fast::Hasher),
}

impl Hasher {
    /// A fresh hasher for `algo`.
    pub fn new(algo: Algo) -> Hasher {
        match algo {
            Algo::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            Algo::Sha1 => Hasher::Sha1(sha1::Sha1::new()),
            Algo::Md5 => Hasher::Md5(md5::Md5::new()),
            Algo::Crc32 => Hasher::Crc32(crc32fast::Hasher::new()),
        }
    }

    /// Adds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Sha1(h) => h.update(bytes),
            Hasher::Md5(h) => h.update(bytes),
            Hasher::Crc32(h) => h.update(bytes),
        }
    }

    /// The hash in lowercase hex.
    pub fn finish(self) -> String {
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        match self {
            Hasher::Sha256(h) => hex(&h.finalize()),
            Hasher::Sha1(h) => hex(&h.finalize()),
            Hasher::Md5(h) => hex(&h.finalize()),
            Hasher::Crc32(h) => format!("{:08x}", h.finalize()),
        }
    }
}

/// A hasher on its own thread, so hashing overlaps with the network and the disk instead
/// of slowing the transfer (SHA-256 runs at about the speed of a loopback transfer). The
/// channel is bounded and buffers are recycled, so memory stays a few chunks.
pub struct PipedHasher {
    tx: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    recycled: std::sync::mpsc::Receiver<Vec<u8>>,
    worker: Option<std::thread::JoinHandle<String>>,
}

impl PipedHasher {
    /// Starts hashing with `algo` on a new thread.
    pub fn new(algo: Algo) -> PipedHasher {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
        let (back_tx, recycled) = std::sync::mpsc::channel();
        let worker = std::thread::spawn(move || {
            let mut hasher = Hasher::new(algo);
            for buf in rx {
                hasher.update(&buf);
                let _ = back_tx.send(buf);
            }
            hasher.finish()
        });
        PipedHasher {
            tx: Some(tx),
            recycled,
            worker: Some(worker),
        }
    }

    /// Hands bytes to the hashing thread (waits when it is four chunks behind).
    pub fn update(&mut self, bytes: &[u8]) {
        let mut buf = self.recycled.try_recv().unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(bytes);
        if let Some(tx) = &self.tx {
            let _ = tx.send(buf);
        }
    }

    /// The hash of everything handed over, in lowercase hex.
    pub fn finish(mut self) -> String {
        drop(self.tx.take());
        self.worker
            .take()
            .and_then(|w| w.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for PipedHasher {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_piped_hasher_matches_the_inline_one() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 31 % 251) as u8).collect();
        let mut inline = Hasher::new(Algo::Sha256);
        let mut piped = PipedHasher::new(Algo::Sha256);
        for chunk in data.chunks(65_536) {
            inline.update(chunk);
            piped.update(chunk);
        }
        assert_eq!(piped.finish(), inline.finish());
    }

    use super::*;

    #[test]
    fn known_digests_of_abc() {
        let digest = |algo| {
            let mut h = Hasher::new(algo);
            h.update(b"a");
            h.update(b"bc");
            h.finish()
        };
        assert_eq!(
            digest(Algo::Sha256),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            digest(Algo::Sha1),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(digest(Algo::Md5), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(digest(Algo::Crc32), "352441c2");
    }

    #[test]
    fn choosing_prefers_the_strongest() {
        assert_eq!(
            choose(&[" XCRC".into(), " XSHA1".into()]),
            Some((Algo::Sha1, HashCommand::X))
        );
        assert_eq!(choose(&[" SIZE".into(), " MDTM".into()]), None);
        assert_eq!(
            choose(&[" HASH MD5*".into(), " XSHA256".into()]),
            Some((Algo::Sha256, HashCommand::X))
        );
    }

    #[test]
    fn hash_replies() {
        assert_eq!(
            parse_hash_reply("352441C2", Algo::Crc32).as_deref(),
            Some("352441c2")
        );
        assert_eq!(parse_hash_reply("no hash here", Algo::Md5), None);
        assert_eq!(
            parse_hash_reply(
                "MD5 0-10 900150983cd24fb0d6963f7d28e17f72 my file.txt",
                Algo::Md5
            )
            .as_deref(),
            Some("900150983cd24fb0d6963f7d28e17f72")
        );
    }
}
