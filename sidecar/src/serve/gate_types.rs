//! The gateway's plain types: who connected ([`Peer`]), the gateway's options ([`Config`]) and
//! what it answered ([`GateDecision`]).
//!
//! They sit below `state` (which holds the [`Config`]), `metrics` (which counts each
//! [`GateDecision`]) and `gate` (which decides), so that neither `state` nor `metrics` imports
//! `gate`, which imports both of them.

use super::start_error::StartError;
use hyper::header::HeaderName;
use hyper::StatusCode;
use keycard::Decision;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// Who connected to keycard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Peer {
    /// A TCP peer.
    Ip(IpAddr),
    /// A Unix-socket peer: a process on this machine, trusted like loopback (`127.0.0.1`), with
    /// no address of its own to offer as `aws:SourceIp`.
    Local,
}

impl Peer {
    /// The peer's address, when it has one.
    pub(crate) fn ip(self) -> Option<IpAddr> {
        match self {
            Peer::Ip(ip) => Some(ip),
            Peer::Local => None,
        }
    }
}

/// An address block (`10.0.0.0/8`, `::1/128`; a bare address is a block of one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Cidr, String> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| format!("{s:?} is not an IP address or CIDR block"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|&p| p <= max)
                .ok_or_else(|| format!("{s:?}: the prefix length must be 0 to {max}"))?,
        };
        Ok(Cidr { addr, prefix })
    }
}

impl Cidr {
    /// Whether `ip` lies in the block (IPv4-mapped IPv6 addresses count as IPv4).
    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The gateway's options: `--trusted-proxy` and `--trust-principal-header`.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    trusted: Vec<Cidr>,
    pub(crate) principal_header: Option<HeaderName>,
}

impl Config {
    /// From the command line: `trusted` CIDRs (empty: loopback, `127.0.0.0/8` and `::1/128`) and
    /// the header an authenticating proxy sets, if any.
    pub(crate) fn new(trusted: &[String], principal_header: Option<&str>) -> Result<Config, StartError> {
        let mut blocks = Vec::with_capacity(trusted.len().max(2));
        for t in trusted {
            blocks.push(t.parse::<Cidr>().map_err(|e| StartError::option("--trusted-proxy", e))?);
        }
        if blocks.is_empty() {
            blocks.push(Cidr { addr: IpAddr::V4(Ipv4Addr::new(127, 0, 0, 0)), prefix: 8 });
            blocks.push(Cidr { addr: IpAddr::V6(Ipv6Addr::LOCALHOST), prefix: 128 });
        }
        let principal_header =
            match principal_header {
                None => None,
                Some(h) => Some(HeaderName::from_bytes(h.as_bytes()).map_err(|_| {
                    StartError::option("--trust-principal-header", format!("{h:?} is not a header name"))
                })?),
            };
        Ok(Config { trusted: blocks, principal_header })
    }

    pub(crate) fn trusts(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|c| c.contains(ip))
    }

    /// Whether `peer` is a trusted proxy, whose `X-Forwarded-*` and principal header count.
    pub(crate) fn trusts_peer(&self, peer: Peer) -> bool {
        match peer {
            Peer::Ip(ip) => self.trusts(ip),
            Peer::Local => self.trusts(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        }
    }
}

/// What the gateway answered (`x-keycard-decision`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GateDecision {
    Allowed,
    ExplicitDeny,
    ImplicitDeny,
    Unauthenticated,
    NoRoute,
    InvalidRequest,
}

impl GateDecision {
    pub(crate) const ALL: [GateDecision; 6] = [
        GateDecision::Allowed,
        GateDecision::ExplicitDeny,
        GateDecision::ImplicitDeny,
        GateDecision::Unauthenticated,
        GateDecision::NoRoute,
        GateDecision::InvalidRequest,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            GateDecision::Allowed => "allowed",
            GateDecision::ExplicitDeny => "explicitDeny",
            GateDecision::ImplicitDeny => "implicitDeny",
            GateDecision::Unauthenticated => "unauthenticated",
            GateDecision::NoRoute => "noRoute",
            GateDecision::InvalidRequest => "invalidRequest",
        }
    }

    pub(crate) fn status(self) -> StatusCode {
        match self {
            GateDecision::Allowed => StatusCode::OK,
            GateDecision::Unauthenticated => StatusCode::UNAUTHORIZED,
            _ => StatusCode::FORBIDDEN,
        }
    }
}

impl From<Decision> for GateDecision {
    fn from(d: Decision) -> GateDecision {
        match d {
            Decision::Allowed => GateDecision::Allowed,
            Decision::ExplicitDeny => GateDecision::ExplicitDeny,
            Decision::ImplicitDeny => GateDecision::ImplicitDeny,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn cidr(s: &str) -> Cidr {
        s.parse().unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn cidr_blocks() {
        assert!(cidr("10.0.0.0/8").contains(ip("10.255.1.2")));
        assert!(!cidr("10.0.0.0/8").contains(ip("11.0.0.1")));
        assert!(cidr("0.0.0.0/0").contains(ip("203.0.113.7")));
        assert!(cidr("192.0.2.7").contains(ip("192.0.2.7")));
        assert!(!cidr("192.0.2.7").contains(ip("192.0.2.8")));
        assert!(cidr("127.0.0.0/8").contains(ip("::ffff:127.0.0.1")));
        assert!(cidr("2001:db8::/32").contains(ip("2001:db8:1::1")));
        assert!(!cidr("2001:db8::/32").contains(ip("2001:db9::1")));
        assert!(cidr("::/0").contains(ip("::1")));
        assert!(!cidr("::1/128").contains(ip("127.0.0.1")));
        for bad in ["10.0.0.0/33", "::/129", "10.0.0/8", "x", "10.0.0.0/", "10.0.0.0/-1"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }
}
