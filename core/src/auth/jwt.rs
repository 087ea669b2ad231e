//! JSON Web Tokens from OpenID Connect providers (RS256 and ES256), verified against the key set
//! the store holds for the issuer, as `AssumeRoleWithWebIdentity` and the gateway's bearer tokens
//! need them. Kubernetes service-account tokens (IRSA) are the model: `iss` names the provider,
//! `aud` one of its client ids, `sub` the workload.
//!
//! Only asymmetric algorithms are accepted: `none` and the HMAC family are refused outright, so a
//! token cannot pick a weaker check than the provider's keys give.

use super::{AuthCode, AuthError};
use crate::policy::json::Json;
use crate::store::credentials::{Jwk, Jwks};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde_json::Value;

/// A verified token's claims.
#[derive(Debug, Clone)]
pub struct Claims {
    /// `iss`.
    pub issuer: String,
    /// `sub`.
    pub subject: String,
    /// The `aud` value that names one of the provider's client ids.
    pub audience: String,
    /// `exp`, seconds since the epoch.
    pub expires: u64,
    /// Every claim, as sent.
    pub all: serde_json::Map<String, Value>,
}

fn invalid(message: impl Into<String>) -> AuthError {
    AuthError::new(AuthCode::InvalidIdentityToken, message)
}

/// A compact JWS, decoded but not checked.
struct Jws<'t> {
    header: Value,
    claims: serde_json::Map<String, Value>,
    signature: Vec<u8>,
    /// `header.payload`, as signed.
    signed: &'t str,
}

/// Splits and decodes a compact JWS without checking anything.
fn parts(token: &str) -> Result<Jws<'_>, AuthError> {
    let mut it = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (it.next(), it.next(), it.next(), it.next()) else {
        return Err(invalid("the token is not a JWT (three base64url parts separated by dots)"));
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| invalid("the token is not valid base64url"));
    // keycard's JSON reader first: a header or payload that repeats a key is ambiguous (readers
    // disagree on which one counts), so it is refused.
    let json = |part: &str, what: &str| -> Result<Value, AuthError> {
        let text = String::from_utf8(decode(part)?).map_err(|_| invalid(format!("the token's {what} is not JSON")))?;
        let tree = Json::parse(&text).map_err(|_| invalid(format!("the token's {what} is not JSON")))?;
        if let Some(pointer) = tree.first_duplicate("") {
            return Err(invalid(format!("the token's {what} repeats the key at {pointer}")));
        }
        serde_json::from_str(&text).map_err(|_| invalid(format!("the token's {what} is not JSON")))
    };
    let header = json(h, "header")?;
    let payload = json(p, "payload")?;
    let Value::Object(claims) = payload else { return Err(invalid("the token's payload is not a JSON object")) };
    let signed_len = h.len() + 1 + p.len();
    Ok(Jws { header, claims, signature: decode(s)?, signed: token.get(..signed_len).unwrap_or_default() })
}

/// A claim of the token before any check (`iss` picks the provider whose keys verify it).
pub(crate) fn unverified_claim(token: &str, name: &str) -> Result<String, AuthError> {
    parts(token)?
        .claims
        .get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| invalid(format!("the token has no {name} claim")))
}

/// Verifies `token` with `keys` for an issuer `issuer` and one of `audiences`, at `now`.
pub(crate) fn verify(
    token: &str,
    keys: &Jwks,
    issuer: &str,
    audiences: &[String],
    now: u64,
) -> Result<Claims, AuthError> {
    let Jws { header, claims, signature: sig, signed } = parts(token)?;
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    let kid = header.get("kid").and_then(Value::as_str);
    let candidates = keys.keys.iter().filter(|k| {
        let kind_ok = matches!((alg, k), ("RS256", Jwk::Rsa { .. }) | ("ES256", Jwk::P256 { .. }));
        kind_ok && (kid.is_none() || k.kid() == kid)
    });
    let mut verified = false;
    let mut tried = false;
    for key in candidates {
        tried = true;
        let ok = match key {
            Jwk::Rsa { n, e, .. } => RsaPublicKeyComponents { n, e }
                .verify(&signature::RSA_PKCS1_2048_8192_SHA256, signed.as_bytes(), &sig)
                .is_ok(),
            Jwk::P256 { point, .. } => UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(signed.as_bytes(), &sig)
                .is_ok(),
        };
        if ok {
            verified = true;
            break;
        }
    }
    if !matches!(alg, "RS256" | "ES256") {
        return Err(invalid(format!("unsupported token algorithm {alg:?} (RS256 and ES256 are accepted)")));
    }
    if !tried {
        return Err(invalid(format!("no key in the provider's key set matches the token (kid {kid:?}, alg {alg})")));
    }
    if !verified {
        return Err(invalid("the token's signature does not verify with the provider's keys"));
    }
    let iss = claims.get("iss").and_then(Value::as_str).unwrap_or_default();
    if iss.trim_end_matches('/') != issuer.trim_end_matches('/') {
        return Err(invalid(format!("issuer {iss:?} is not the provider's {issuer:?}")));
    }
    let auds: Vec<&str> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let Some(audience) = auds.iter().find(|a| audiences.iter().any(|c| c == *a)) else {
        return Err(invalid("Incorrect token audience: no aud value is a client id of the provider"));
    };
    let time = |name: &str| claims.get(name).and_then(|v| v.as_u64().or_else(|| v.as_f64().map(|f| f as u64)));
    let Some(expires) = time("exp") else { return Err(invalid("the token has no exp claim")) };
    if now >= expires {
        return Err(AuthError::new(AuthCode::ExpiredTokenException, "Token expired: the token's exp has passed"));
    }
    if time("nbf").is_some_and(|nbf| nbf > now + 60) {
        return Err(invalid("the token is not valid yet (nbf)"));
    }
    let Some(subject) = claims.get("sub").and_then(Value::as_str).map(str::to_owned) else {
        return Err(invalid("the token has no sub claim"));
    };
    Ok(Claims { issuer: iss.to_owned(), subject, audience: (*audience).to_owned(), expires, all: claims })
}
