//! Parsing of passive-mode replies (227 for PASV, 229 for EPSV) and the policy for where
//! the data connection goes.
//!
//! Pure functions over reply text. The policy lives here too: a 227 reply names an address,
//! and a hostile server could name any host on our network, so by default the data
//! connection goes to the control connection's peer and only the port is taken from the
//! reply ([`data_address`]).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Parses `227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)`: the six numbers anywhere in the
/// text, each 0..=255. Returns the address and port the server named.
///
/// ```
/// use ftp3700::ftp::pasv::parse_pasv;
/// let addr = parse_pasv("Entering Passive Mode (127,0,0,1,4,1).").unwrap();
/// assert_eq!(addr.to_string(), "127.0.0.1:1025");
/// ```
pub fn parse_pasv(text: &str) -> Option<SocketAddr> {
    // Find the first run of six comma-separated numbers; the parentheses are optional.
    let bytes = text.as_bytes();
    let mut start = 0;
    while start < bytes.len() {
        if bytes[start].is_ascii_digit() && (start == 0 || !bytes[start - 1].is_ascii_digit()) {
            if let Some(addr) = six_numbers(&text[start..]) {
                return Some(addr);
            }
        }
        start += 1;
    }
    None
}

fn six_numbers(s: &str) -> Option<SocketAddr> {
    let mut nums = [0u8; 6];
    let mut rest = s;
    for (i, slot) in nums.iter_mut().enumerate() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 3 {
            return None;
        }
        // A malicious or buggy server may send an octet over 255.
        *slot = rest[..digits].parse::<u8>().ok()?;
        rest = &rest[digits..];
        if i < 5 {
            rest = rest.strip_prefix(',')?.trim_start();
        }
    }
    let ip = Ipv4Addr::new(nums[0], nums[1], nums[2], nums[3]);
    let port = u16::from(nums[4]) << 8 | u16::from(nums[5]);
    // Port 0 is no port: the reply is malformed (as for EPSV).
    (port != 0).then(|| SocketAddr::new(IpAddr::V4(ip), port))
}

/// Parses `229 Entering Extended Passive Mode (|||port|)` (RFC 2428 §3): the delimiter is
/// any printable character, the same four times, with empty address fields.
///
/// ```
/// use ftp3700::ftp::pasv::parse_epsv;
/// assert_eq!(parse_epsv("Entering Extended Passive Mode (|||6446|)"), Some(6446));
/// assert_eq!(parse_epsv("Entering Extended Passive Mode (!!!6446!)"), Some(6446));
/// ```
pub fn parse_epsv(text: &str) -> Option<u16> {
    let open = text.find('(')?;
    let inner = &text[open + 1..];
    let close = inner.find(')')?;
    let inner = &inner[..close];
    let mut chars = inner.chars();
    let d = chars.next()?;
    if !d.is_ascii_graphic() || d.is_ascii_digit() {
        return None;
    }
    let fields: Vec<&str> = inner.split(d).collect();
    // "|||6446|" splits into ["", "", "", "6446", ""].
    if fields.len() != 5 || !fields[0].is_empty() || !fields[4].is_empty() {
        return None;
    }
    let port: u16 = fields[3].parse().ok()?;
    (port != 0).then_some(port)
}

/// Where the data connection goes: the control peer's address with the port the server
/// gave, unless the user explicitly trusts the address in the reply.
pub fn data_address(
    control_peer: IpAddr,
    announced: SocketAddr,
    trust_announced: bool,
) -> SocketAddr {
    if trust_announced {
        announced
    } else {
        SocketAddr::new(control_peer, announced.port())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasv_variants() {
        let a = parse_pasv("Entering Passive Mode (192,168,1,2,200,10)").unwrap();
        assert_eq!(a, "192.168.1.2:51210".parse().unwrap());
        // Without parentheses, as some servers send it.
        let a = parse_pasv("Entering Passive Mode 10,0,0,1,0,21").unwrap();
        assert_eq!(a.port(), 21);
        // Spaces after commas.
        let a = parse_pasv("=127, 0, 0, 1, 1, 2").unwrap();
        assert_eq!(a.port(), 258);
    }

    #[test]
    fn pasv_with_octet_over_255_is_an_error() {
        assert_eq!(parse_pasv("(127,0,0,1,256,1)"), None);
        assert_eq!(parse_pasv("(1270,0,0,1,1,1)"), None);
        assert_eq!(parse_pasv("no numbers here"), None);
        assert_eq!(parse_pasv("(127,0,0,1,1)"), None);
        assert_eq!(parse_pasv("(127,0,0,1,0,0)"), None, "port 0");
    }

    #[test]
    fn epsv_variants_and_errors() {
        assert_eq!(parse_epsv("Extended Passive (|||65535|)"), Some(65535));
        assert_eq!(parse_epsv("(|||0|)"), None);
        assert_eq!(parse_epsv("(|||65536|)"), None);
        // The address fields should be empty; we ignore them anyway.
        assert_eq!(parse_epsv("(|2|::1|21|)"), Some(21));
        assert_eq!(parse_epsv("(||21|)"), None);
        assert_eq!(parse_epsv("no parens"), None);
        assert_eq!(parse_epsv("(1112)"), None);
    }

    #[test]
    fn data_goes_to_the_control_peer_unless_trusted() {
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        let announced: SocketAddr = "10.9.8.7:4000".parse().unwrap();
        assert_eq!(
            data_address(peer, announced, false),
            "127.0.0.1:4000".parse().unwrap()
        );
        assert_eq!(data_address(peer, announced, true), announced);
    }
}
