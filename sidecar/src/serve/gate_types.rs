//! The gateway's plain types: who connected ([`Peer`]), the gateway's options ([`Config`]) and
//! what it answered ([`GateDecision`]).
//!
//! They sit below `state` (which holds the [`Config`]), `metrics` (which counts each
//! [`GateDecision`]) and `gate` (which decides), so that neither `state` nor `metrics` imports
//! `gate`, which imports both of them.

use super::start_error::StartError;
use hyper::header::HeaderName;
use hyper::StatusCode;
use keycard::net::Cidr;
use keycard::Decision;
use std::net::{IpAddr, Ipv4Addr};

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
            blocks.push(Cidr::parse(t).ok_or_else(|| {
                StartError::option(
                    "--trusted-proxy",
                    format!("{t:?} is not an IP address or CIDR block (prefix 0 to 32, or 0 to 128 for IPv6)"),
                )
            })?);
        }
        if blocks.is_empty() {
            blocks.extend(["127.0.0.0/8", "::1/128"].iter().filter_map(|b| Cidr::parse(b)));
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

    /// Whether `ip` is in a trusted block (IPv4-mapped IPv6 addresses count as IPv4).
    pub(crate) fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
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

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn trusted_proxies() {
        let loopback = Config::new(&[], None).unwrap();
        for trusted in ["127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1"] {
            assert!(loopback.trusts(ip(trusted)), "{trusted}");
        }
        for untrusted in ["10.0.0.1", "::2", "::ffff:10.0.0.1"] {
            assert!(!loopback.trusts(ip(untrusted)), "{untrusted}");
        }
        let lan = Config::new(&["10.0.0.0/8".into(), "2001:db8::/32".into()], None).unwrap();
        assert!(lan.trusts(ip("10.1.2.3")) && lan.trusts(ip("::ffff:10.1.2.3")) && lan.trusts(ip("2001:db8::7")));
        assert!(!lan.trusts(ip("127.0.0.1")));
        for bad in ["10.0.0.0/33", "::/129", "10.0.0/8", "x", "10.0.0.0/", "10.0.0.0/-1"] {
            let e = Config::new(&[bad.into()], None).unwrap_err();
            assert!(matches!(&e, StartError::Option { option: "--trusted-proxy", .. }), "{e}");
            assert!(e.to_string().starts_with(&format!("--trusted-proxy {bad:?} ")), "{e}");
        }
    }
}
