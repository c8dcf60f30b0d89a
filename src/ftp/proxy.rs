//! Reaching the server through a proxy: SOCKS5 (RFC 1928, with RFC 1929 user/password)
//! and HTTP CONNECT, for the control connection and every data connection. Proxy
//! credentials are secrets like the FTP password: `Display` and `Debug` mask them.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use percent_encoding::percent_decode_str;

use crate::error::{describe_io, Error, Kind as ErrorKind, Result};
use crate::ftp::net::{self, WaitError};

/// The kind of proxy.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// `socks5://` (the proxy resolves the name: `socks5h` behaviour).
    Socks5,
    /// `http://`: HTTP CONNECT.
    Http,
}

/// A proxy to go through.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    /// SOCKS5 or HTTP.
    pub kind: Kind,
    /// The proxy's host.
    pub host: String,
    /// The proxy's port.
    pub port: u16,
    /// User and password for the proxy, when given.
    pub credentials: Option<(String, String)>,
}

impl std::fmt::Display for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = match self.kind {
            Kind::Socks5 => "socks5",
            Kind::Http => "http",
        };
        match &self.credentials {
            Some((user, _)) => write!(f, "{scheme}://{user}:****@{}:{}", self.host, self.port),
            None => write!(f, "{scheme}://{}:{}", self.host, self.port),
        }
    }
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Proxy({self})")
    }
}

/// Parses `socks5://[user:pass@]host:port`, `socks5h://…` or `http://[user:pass@]host:port`.
pub fn parse(text: &str) -> Result<Proxy> {
    // The text itself is not quoted: it may hold a password. The caller names the source.
    let bad = |why: &str| Error::usage(format!("bad proxy: {why}"));
    let url = ::url::Url::parse(text).map_err(|e| bad(&e.to_string()))?;
    let (kind, default_port) = match url.scheme() {
        "socks5" | "socks5h" => (Kind::Socks5, 1080),
        "http" => (Kind::Http, 3128),
        other => {
            return Err(bad(&format!(
                "unsupported scheme {other}:// (use socks5:// or http://)"
            )))
        }
    };
    let host = match url.host() {
        Some(::url::Host::Domain(d)) if !d.is_empty() => d.to_string(),
        Some(::url::Host::Ipv4(a)) => a.to_string(),
        Some(::url::Host::Ipv6(a)) => a.to_string(),
        _ => return Err(bad("no host")),
    };
    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    let credentials = (!url.username().is_empty())
        .then(|| (decode(url.username()), decode(url.password().unwrap_or(""))));
    Ok(Proxy {
        kind,
        host,
        port: url.port().unwrap_or(default_port),
        credentials,
    })
}

/// The proxy for `host`: `proxy` (given, or found in the environment by the caller:
/// this module reads no environment), unless `host` matches one of the `noproxy` patterns.
pub fn choose(proxy: Option<&Proxy>, noproxy: &[String], host: &str) -> Option<Proxy> {
    if noproxy.iter().any(|pattern| bypasses(pattern, host)) {
        return None;
    }
    proxy.cloned()
}

/// `*` matches every host; `example.org` matches it and its subdomains.
fn bypasses(pattern: &str, host: &str) -> bool {
    let p = pattern.trim_start_matches('.').to_ascii_lowercase();
    let h = host.to_ascii_lowercase();
    p == "*" || h == p || h.ends_with(&format!(".{p}"))
}

/// Opens a TCP connection to `host:port` through `proxy`: resolving the proxy, connecting
/// and the whole handshake end by `deadline` (or when `cancel` is set), however slowly the
/// proxy answers. The socket comes back with the tick timeouts set.
pub fn connect(
    proxy: &Proxy,
    host: &str,
    port: u16,
    deadline: Instant,
    cancel: &AtomicBool,
) -> Result<TcpStream> {
    let waited = |e: WaitError, doing: &str| match e {
        WaitError::Cancelled => Error::new(ErrorKind::Interrupted, "interrupted"),
        WaitError::TimedOut => Error::connection(format!("proxy {proxy}: timed out {doing}")),
        WaitError::Io(e) => {
            Error::connection(format!("proxy {proxy}: {doing}: {}", describe_io(&e)))
        }
    };
    let addrs = net::resolve(&proxy.host, proxy.port, deadline, cancel)
        .map_err(|e| waited(e, "resolving its name"))?;
    let mut last = None;
    let mut stream = None;
    for a in &addrs {
        match net::connect(*a, deadline, cancel) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(WaitError::Io(e)) => last = Some(e),
            Err(e) => return Err(waited(e, "connecting")),
        }
    }
    let stream = stream.ok_or_else(|| {
        Error::connection(format!(
            "cannot connect to the proxy {proxy}: {}",
            last.map_or("no address".into(), |e| describe_io(&e))
        ))
    })?;
    let mut timed = net::Timed::new(&stream, deadline, cancel);
    let shaken = match proxy.kind {
        Kind::Socks5 => socks5(&mut timed, proxy, host, port),
        Kind::Http => http_connect(&mut timed, proxy, host, port),
    };
    shaken.map_err(|e| match e {
        Step::Io(e) => waited(WaitError::from_io(e), "in the handshake"),
        Step::Refused(why) => Error::connection(format!("proxy {proxy}: {why}")),
    })?;
    Ok(stream)
}

enum Step {
    Io(std::io::Error),
    Refused(String),
}

impl From<std::io::Error> for Step {
    fn from(e: std::io::Error) -> Step {
        Step::Io(e)
    }
}

fn socks5(
    s: &mut (impl Read + Write),
    proxy: &Proxy,
    host: &str,
    port: u16,
) -> std::result::Result<(), Step> {
    let methods: &[u8] = if proxy.credentials.is_some() {
        &[0x00, 0x02]
    } else {
        &[0x00]
    };
    let mut hello = vec![5, methods.len() as u8];
    hello.extend_from_slice(methods);
    s.write_all(&hello)?;
    let mut choice = [0u8; 2];
    s.read_exact(&mut choice)?;
    if choice[0] != 5 {
        return Err(Step::Refused("not a SOCKS5 proxy".into()));
    }
    match choice[1] {
        0x00 => {}
        0x02 => {
            let (user, pass) = proxy
                .credentials
                .as_ref()
                .ok_or_else(|| Step::Refused("the proxy wants a user and password".into()))?;
            if user.len() > 255 || pass.len() > 255 {
                return Err(Step::Refused(
                    "proxy user or password longer than 255 bytes".into(),
                ));
            }
            let mut auth = vec![1, user.len() as u8];
            auth.extend_from_slice(user.as_bytes());
            auth.push(pass.len() as u8);
            auth.extend_from_slice(pass.as_bytes());
            s.write_all(&auth)?;
            let mut status = [0u8; 2];
            s.read_exact(&mut status)?;
            if status[1] != 0 {
                return Err(Step::Refused(
                    "the proxy refused the user and password".into(),
                ));
            }
        }
        _ => {
            return Err(Step::Refused(
                "the proxy accepts none of our authentication methods".into(),
            ))
        }
    }
    let mut req = vec![5, 1, 0];
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(a)) => {
            req.push(1);
            req.extend_from_slice(&a.octets());
        }
        Ok(std::net::IpAddr::V6(a)) => {
            req.push(4);
            req.extend_from_slice(&a.octets());
        }
        Err(_) => {
            if host.len() > 255 {
                return Err(Step::Refused("host name too long for SOCKS5".into()));
            }
            req.push(3);
            req.push(host.len() as u8);
            req.extend_from_slice(host.as_bytes());
        }
    }
    req.extend_from_slice(&port.to_be_bytes());
    s.write_all(&req)?;
    let mut head = [0u8; 4];
    s.read_exact(&mut head)?;
    if head[1] != 0 {
        let why = match head[1] {
            2 => "connection not allowed by its rules",
            3 => "network unreachable",
            4 => "host unreachable",
            5 => "connection refused",
            6 => "TTL expired",
            _ => "request failed",
        };
        return Err(Step::Refused(format!(
            "the proxy could not reach {host}:{port}: {why}"
        )));
    }
    let skip = match head[3] {
        1 => 4,
        4 => 16,
        3 => {
            let mut len = [0u8; 1];
            s.read_exact(&mut len)?;
            len[0] as usize
        }
        _ => return Err(Step::Refused("a malformed SOCKS5 reply".into())),
    };
    let mut rest = vec![0u8; skip + 2];
    s.read_exact(&mut rest)?;
    Ok(())
}

fn http_connect(
    s: &mut (impl Read + Write),
    proxy: &Proxy,
    host: &str,
    port: u16,
) -> std::result::Result<(), Step> {
    let target = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut req = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some((user, pass)) = &proxy.credentials {
        req.push_str(&format!(
            "Proxy-Authorization: Basic {}\r\n",
            base64(format!("{user}:{pass}").as_bytes())
        ));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    // Read the response head byte by byte, so nothing after it is consumed.
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 {
            return Err(Step::Refused("an oversized HTTP response".into()));
        }
        if s.read(&mut byte)? == 0 {
            return Err(Step::Refused("the proxy closed the connection".into()));
        }
        head.push(byte[0]);
    }
    let status_line = String::from_utf8_lossy(&head);
    let status_line = status_line.lines().next().unwrap_or("");
    let code = status_line.split_whitespace().nth(1).unwrap_or("");
    if !code.starts_with('2') {
        let shown: String = status_line
            .chars()
            .filter(|c| !c.is_control())
            .take(120)
            .collect();
        return Err(Step::Refused(format!(
            "CONNECT to {target} refused: {shown}"
        )));
    }
    Ok(())
}

/// Standard base64 (RFC 4648) for the Basic credentials.
fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_masks() {
        let p = parse("socks5://bob:s%40cret@127.0.0.1:1081").unwrap();
        assert_eq!((p.kind, p.port), (Kind::Socks5, 1081));
        assert_eq!(p.credentials, Some(("bob".into(), "s@cret".into())));
        assert_eq!(p.to_string(), "socks5://bob:****@127.0.0.1:1081");
        assert!(!format!("{p:?}").contains("cret"));
        assert_eq!(parse("http://proxy").unwrap().port, 3128);
        assert!(parse("ftp://proxy").is_err());
        let e = parse("gopher://u:s3cret@h").unwrap_err();
        assert!(!e.to_string().contains("s3cret"));
    }

    #[test]
    fn noproxy_patterns() {
        let p = parse("socks5://127.0.0.1:9").unwrap();
        let patterns = vec!["internal.example".to_string(), ".corp".to_string()];
        assert!(choose(Some(&p), &patterns, "ftp.example.org").is_some());
        assert!(choose(Some(&p), &patterns, "a.internal.example").is_none());
        assert!(choose(Some(&p), &patterns, "x.corp").is_none());
        assert!(choose(Some(&p), &["*".into()], "anything").is_none());
        assert!(choose(None, &[], "h").is_none());
    }

    #[test]
    fn base64_vectors() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(
            base64(b"Aladdin:open sesame"),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }
}

#[cfg(test)]
mod trickle_tests {
    use super::*;
    use std::net::TcpListener;
    use std::time::Duration;

    #[test]
    fn a_proxy_answering_a_byte_at_a_time_ends_by_the_deadline() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            for b in b"HTTP/1.1 200 Connection established, but slowly"
                .iter()
                .cycle()
            {
                if s.write_all(&[*b]).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(150));
            }
        });
        let proxy = parse(&format!("http://127.0.0.1:{port}")).unwrap();
        let start = Instant::now();
        let err = connect(
            &proxy,
            "127.0.0.1",
            21,
            start + Duration::from_secs(1),
            &AtomicBool::new(false),
        )
        .unwrap_err();
        assert!(err.to_string().contains("timed out"), "{err}");
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
    }
}
