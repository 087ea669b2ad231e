//! IP address blocks: the one CIDR type of the crate, read by policy conditions
//! (`IpAddress`/`NotIpAddress` against `aws:SourceIp`) and by the sidecar's `--trusted-proxy`.
//!
//! Public (hidden from the documentation) only so that the sidecar parses its trusted proxies
//! exactly as policies parse theirs.

use std::net::IpAddr;

/// An IPv4 or IPv6 network (`10.0.0.0/8`, `2001:db8::/32`; a bare address is a /32 or /128).
/// An IPv4 block never contains an IPv6 address: a caller that wants IPv4-mapped IPv6 addresses
/// (`::ffff:10.0.0.1`) to count as IPv4 passes [`IpAddr::to_canonical`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr(Block);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    V4 { net: u32, prefix: u8 },
    V6 { net: u128, prefix: u8 },
}

impl Cidr {
    /// Parses `ADDRESS` or `ADDRESS/PREFIX` (surrounding whitespace ignored; the prefix is
    /// decimal digits, at most 32 or 128); `None` for anything else.
    pub fn parse(s: &str) -> Option<Cidr> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => {
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                (a, Some(p.parse::<u8>().ok()?))
            }
            None => (s, None),
        };
        match addr.parse::<IpAddr>().ok()? {
            IpAddr::V4(a) => {
                let prefix = prefix.unwrap_or(32);
                (prefix <= 32).then(|| Cidr(Block::V4 { net: u32::from(a) & mask32(prefix), prefix }))
            }
            IpAddr::V6(a) => {
                let prefix = prefix.unwrap_or(128);
                (prefix <= 128).then(|| Cidr(Block::V6 { net: u128::from(a) & mask128(prefix), prefix }))
            }
        }
    }

    /// Whether `ip` lies in the block (an address of the other family never does).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.0, ip) {
            (Block::V4 { net, prefix }, IpAddr::V4(a)) => u32::from(a) & mask32(prefix) == net,
            (Block::V6 { net, prefix }, IpAddr::V6(a)) => u128::from(a) & mask128(prefix) == net,
            _ => false,
        }
    }
}

fn mask32(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

fn mask128(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn cidr(s: &str) -> Cidr {
        Cidr::parse(s).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn blocks_contain_their_addresses_only() {
        assert!(cidr("10.0.0.0/8").contains(ip("10.255.1.2")));
        assert!(!cidr("10.0.0.0/8").contains(ip("11.0.0.1")));
        assert!(cidr("10.1.2.3/8").contains(ip("10.9.9.9")), "host bits are masked off");
        assert!(cidr("0.0.0.0/0").contains(ip("203.0.113.7")));
        assert!(cidr(" 192.0.2.7 ").contains(ip("192.0.2.7")));
        assert!(!cidr("192.0.2.7").contains(ip("192.0.2.8")));
        assert!(cidr("2001:db8::/32").contains(ip("2001:db8:1::1")));
        assert!(!cidr("2001:db8::/32").contains(ip("2001:db9::1")));
        assert!(cidr("::/0").contains(ip("::1")));
        assert!(!cidr("::1/128").contains(ip("127.0.0.1")));
        assert!(!cidr("127.0.0.0/8").contains(ip("::ffff:127.0.0.1")), "the caller canonicalizes");
        assert!(cidr("127.0.0.0/8").contains(ip("::ffff:127.0.0.1").to_canonical()));
    }

    #[test]
    fn malformed_blocks_are_refused() {
        for bad in
            ["10.0.0.0/33", "::/129", "10.0.0/8", "x", "", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/8/8"]
        {
            assert_eq!(Cidr::parse(bad), None, "{bad}");
        }
    }
}
