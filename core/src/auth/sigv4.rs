//! AWS Signature Version 4: the canonical request, the string to sign and the signature, checked
//! against a secret key, for the `Authorization` header form and the presigned-URL query form.
//!
//! Verification needs no network: the caller gives the request as it arrived (method, raw path,
//! raw query, headers, the body's SHA-256) and [`super::authenticate`] looks the key id up. The
//! rules follow AWS's SigV4 reference and its published test suite (`core/tests/sigv4.rs`):
//! non-S3 paths are normalised (dot segments, repeated slashes) and encoded once more; query
//! parameters are decoded, re-encoded and sorted; header values are trimmed, their inner runs of
//! spaces collapsed, repeated headers joined by commas. Signatures are compared in constant time.

use super::{AuthCode, AuthError};
use ring::{digest, hmac};
use std::borrow::Cow;

/// The signing algorithm keycard verifies.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The hash of an empty body.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// The payload hash of a body left unsigned (S3 only, and presigned URLs).
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// How far a header-signed request's `X-Amz-Date` may be from the clock (AWS: 15 minutes).
pub const MAX_SKEW_SECS: u64 = 15 * 60;
/// The longest a presigned URL may live (AWS: 7 days).
pub const MAX_PRESIGNED_SECS: u64 = 7 * 24 * 3600;

/// An HTTP request as it arrived, for signature verification (`signedRequest`,
/// `docs/http-api.md#signed-requests`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// `GET`, `POST` ...
    pub method: String,
    /// The path as sent on the wire (still percent-encoded), without the query.
    pub path: String,
    /// The raw query string, without `?`.
    pub query: String,
    /// Header lines in order; names in any case; a repeated header appears several times.
    pub headers: Vec<(String, String)>,
    /// Lowercase hex SHA-256 of the body as received (the default: the empty body's). The
    /// signature must be over it, and an `x-amz-content-sha256` header must equal it, else the
    /// request is refused with `XAmzContentSHA256Mismatch`; only S3 (`s3` in the credential
    /// scope) may sign `UNSIGNED-PAYLOAD` instead.
    ///
    /// `None` says the verifier has no body to hash (a proxy's auth subrequest): the payload hash
    /// signed is then the `x-amz-content-sha256` header's, else the empty body's, and the body is
    /// not bound by this check; whoever receives it must compare it with that header.
    pub body_sha256: Option<String>,
}

impl Default for SignedRequest {
    /// An empty `GET /` with the empty body (its hash is known: fail closed by default).
    fn default() -> SignedRequest {
        SignedRequest {
            method: String::new(),
            path: String::new(),
            query: String::new(),
            headers: Vec::new(),
            body_sha256: Some(EMPTY_SHA256.to_owned()),
        }
    }
}

/// The signature's claims, read from the `Authorization` header or the `X-Amz-*` query parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The access key id of `Credential=`.
    pub access_key_id: String,
    /// `X-Amz-Date` in seconds since the epoch.
    pub date: u64,
    /// `X-Amz-Date` as sent.
    pub amz_date: String,
    /// `DATE/REGION/SERVICE/aws4_request`.
    pub scope: String,
    /// The region of the scope.
    pub region: String,
    /// The service of the scope.
    pub service: String,
    /// Lowercase names, as `SignedHeaders=` lists them.
    pub signed_headers: Vec<String>,
    /// The signature bytes.
    pub signature: Vec<u8>,
    /// `X-Amz-Security-Token`, for temporary credentials.
    pub security_token: Option<String>,
    /// `X-Amz-Expires` of a presigned URL.
    pub expires: Option<u64>,
}

impl SignedRequest {
    /// The values of header `name` (case-insensitive), in order.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The decoded query parameters, in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        self.query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(k).into_owned(), decode(v).into_owned())
            })
            .collect()
    }

    /// Whether the request carries a SigV4 signature at all (header or query form).
    pub fn is_signed(&self) -> bool {
        self.header("authorization").is_some_and(|a| a.trim_start().starts_with("AWS4-"))
            || self.query.split('&').any(|p| p.starts_with("X-Amz-Algorithm="))
    }

    /// Reads the signature's claims.
    ///
    /// # Errors
    /// `MissingAuthenticationToken` without a signature, `IncompleteSignature` when a part is
    /// missing or malformed.
    pub fn signature(&self) -> Result<Signature, AuthError> {
        if let Some(auth) = self.header("authorization") {
            return self.header_signature(auth);
        }
        if self.query.split('&').any(|p| p.starts_with("X-Amz-Algorithm=")) {
            return self.query_signature();
        }
        Err(AuthError::new(AuthCode::MissingAuthenticationToken, "Request is missing Authentication Token"))
    }

    fn header_signature(&self, auth: &str) -> Result<Signature, AuthError> {
        let auth = auth.trim();
        let Some(rest) = auth.strip_prefix(ALGORITHM).filter(|r| r.starts_with(' ')) else {
            let alg = auth.split(' ').next().unwrap_or_default();
            return Err(incomplete(format!(
                "Unsupported authorization algorithm {alg:?}: keycard verifies {ALGORITHM}"
            )));
        };
        let (mut credential, mut signed, mut signature) = (None, None, None);
        for part in rest.split(',') {
            let part = part.trim();
            if let Some(v) = part.strip_prefix("Credential=") {
                credential = Some(v);
            } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
                signed = Some(v);
            } else if let Some(v) = part.strip_prefix("Signature=") {
                signature = Some(v);
            }
        }
        let missing = [
            ("Credential", credential.is_none()),
            ("SignedHeaders", signed.is_none()),
            ("Signature", signature.is_none()),
        ];
        if let Some((name, _)) = missing.iter().find(|(_, m)| *m) {
            return Err(incomplete(format!("Authorization header requires '{name}' parameter")));
        }
        let amz_date = self.header("x-amz-date").ok_or_else(|| {
            incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header")
        })?;
        self.claims(
            credential.unwrap_or_default(),
            signed.unwrap_or_default(),
            signature.unwrap_or_default(),
            amz_date.trim(),
            self.header("x-amz-security-token").map(|t| t.trim().to_owned()),
            None,
        )
    }

    fn query_signature(&self) -> Result<Signature, AuthError> {
        let pairs = self.query_pairs();
        let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        if get("X-Amz-Algorithm") != Some(ALGORITHM) {
            return Err(incomplete(format!("X-Amz-Algorithm must be {ALGORITHM}")));
        }
        let mut missing = ["X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Expires"]
            .into_iter()
            .filter(|n| get(n).is_none());
        if let Some(name) = missing.next() {
            return Err(incomplete(format!("AWS query-string parameters must include '{name}'")));
        }
        let expires = get("X-Amz-Expires")
            .and_then(|e| e.parse::<u64>().ok())
            .filter(|e| (1..=MAX_PRESIGNED_SECS).contains(e))
            .ok_or_else(|| incomplete("X-Amz-Expires must be a number of seconds from 1 to 604800"))?;
        self.claims(
            get("X-Amz-Credential").unwrap_or_default(),
            get("X-Amz-SignedHeaders").unwrap_or_default(),
            get("X-Amz-Signature").unwrap_or_default(),
            get("X-Amz-Date").unwrap_or_default(),
            get("X-Amz-Security-Token").map(str::to_owned),
            Some(expires),
        )
    }

    fn claims(
        &self,
        credential: &str,
        signed: &str,
        signature: &str,
        amz_date: &str,
        security_token: Option<String>,
        expires: Option<u64>,
    ) -> Result<Signature, AuthError> {
        let mut parts = credential.splitn(5, '/');
        let (Some(key), Some(day), Some(region), Some(service), Some(terminator)) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(incomplete(format!(
                "Credential should be scoped to a valid region, service and date: {credential:?} is not KEY/DATE/REGION/SERVICE/aws4_request"
            )));
        };
        if key.is_empty() || terminator != "aws4_request" || region.is_empty() || service.is_empty() {
            return Err(incomplete(format!(
                "Credential should be scoped with a valid terminator: 'aws4_request', found {credential:?}"
            )));
        }
        let date = crate::clock::parse_amz_date(amz_date).ok_or_else(|| {
            incomplete(format!("X-Amz-Date must be in the ISO8601 basic format (20150830T123600Z), found {amz_date:?}"))
        })?;
        if !amz_date.starts_with(day) || day.len() != 8 {
            return Err(AuthError::new(
                AuthCode::SignatureDoesNotMatch,
                format!("Credential should be scoped to a valid date: {day} is not the date of X-Amz-Date {amz_date}"),
            ));
        }
        let signed_headers: Vec<String> =
            signed.split(';').filter(|h| !h.is_empty()).map(str::to_ascii_lowercase).collect();
        if signed_headers.is_empty() {
            return Err(incomplete("SignedHeaders is empty"));
        }
        if !signed_headers.iter().any(|h| h == "host") {
            return Err(AuthError::new(AuthCode::SignatureDoesNotMatch, "'Host' must be a signed header"));
        }
        let signature = decode_hex(signature)
            .filter(|s| s.len() == 32)
            .ok_or_else(|| incomplete("Signature must be 64 hexadecimal characters"))?;
        Ok(Signature {
            access_key_id: key.to_owned(),
            date,
            amz_date: amz_date.to_owned(),
            scope: format!("{day}/{region}/{service}/aws4_request"),
            region: region.to_owned(),
            service: service.to_owned(),
            signed_headers,
            signature,
            security_token,
            expires,
        })
    }

    /// The canonical request for `sig` (AWS's "Task 1").
    ///
    /// # Errors
    /// `SignatureDoesNotMatch` when a signed header is absent from the request.
    pub fn canonical_request(&self, sig: &Signature) -> Result<String, AuthError> {
        let s3 = sig.service == "s3";
        let mut out = String::with_capacity(256);
        out.push_str(&self.method);
        out.push('\n');
        if s3 {
            out.push_str(if self.path.is_empty() { "/" } else { &self.path });
        } else {
            encode_into(&normalize_path(&self.path), &mut out, true);
        }
        out.push('\n');
        let mut params: Vec<(String, String)> = self
            .query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split_once('=').unwrap_or((p, "")))
            .filter(|(k, _)| !(sig.expires.is_some() && *k == "X-Amz-Signature"))
            .map(|(k, v)| (encode(&decode(k)), encode(&decode(v))))
            .collect();
        params.sort();
        for (i, (k, v)) in params.iter().enumerate() {
            if i > 0 {
                out.push('&');
            }
            out.push_str(k);
            out.push('=');
            out.push_str(v);
        }
        out.push('\n');
        for name in &sig.signed_headers {
            let mut values = self.header_values(name).peekable();
            if values.peek().is_none() {
                return Err(AuthError::new(
                    AuthCode::SignatureDoesNotMatch,
                    format!("The request signature we calculated does not match the signature you provided: signed header {name:?} is not in the request"),
                ));
            }
            out.push_str(name);
            out.push(':');
            for (i, v) in values.enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_trimmed(v, &mut out);
            }
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&sig.signed_headers.join(";"));
        out.push('\n');
        out.push_str(&self.payload_hash(sig)?);
        Ok(out)
    }

    /// The payload hash the signer declared, which the canonical request ends with: for a
    /// presigned URL its `X-Amz-Content-Sha256` parameter, else the header, else
    /// `UNSIGNED-PAYLOAD`; for the header form the `x-amz-content-sha256` header, else the hash
    /// of the body received (the empty body's when the verifier has none). Checked against the
    /// body by [`SignedRequest::verify`], once the signature is known to be over it.
    fn payload_hash(&self, sig: &Signature) -> Result<String, AuthError> {
        let mut headers = self.header_values("x-amz-content-sha256");
        let header = headers.next().map(str::trim);
        if headers.next().is_some() {
            return Err(mismatch("x-amz-content-sha256 is sent more than once"));
        }
        if sig.expires.is_some() {
            let param = self.query_pairs().into_iter().find(|(k, _)| k == "X-Amz-Content-Sha256").map(|(_, v)| v);
            return Ok(param.or_else(|| header.map(str::to_owned)).unwrap_or_else(|| UNSIGNED_PAYLOAD.to_owned()));
        }
        Ok(match (header, &self.body_sha256) {
            (Some(h), _) => h.to_owned(),
            (None, Some(body)) => body.clone(),
            (None, None) => EMPTY_SHA256.to_owned(),
        })
    }

    /// Refuses a declared payload hash that is not the body received (AWS's
    /// `XAmzContentSHA256Mismatch`): `UNSIGNED-PAYLOAD` outside S3 (a presigned URL's with an
    /// empty body aside), a streaming upload whose chunks keycard cannot verify, a value that is
    /// not a hash, or a hash of another body. For S3 the header must also be signed.
    fn check_payload(&self, sig: &Signature, declared: &str) -> Result<(), AuthError> {
        let s3 = sig.service == "s3";
        let presigned = sig.expires.is_some();
        let unsigned_header = self.header("x-amz-content-sha256").is_some()
            && !sig.signed_headers.iter().any(|h| h == "x-amz-content-sha256");
        if s3 && !presigned && unsigned_header {
            return Err(AuthError::new(
                AuthCode::SignatureDoesNotMatch,
                "There were headers present in the request which were not signed: x-amz-content-sha256",
            ));
        }
        let body = self.body_sha256.as_deref();
        if declared == UNSIGNED_PAYLOAD {
            // A presigned URL outside S3 signs no body: acceptable only when there is none.
            if s3 || (presigned && body.is_none_or(|b| b == EMPTY_SHA256)) {
                return Ok(());
            }
            return Err(mismatch(format!("UNSIGNED-PAYLOAD is accepted for s3 only, not for {}", sig.service)));
        }
        if declared.starts_with("STREAMING-") {
            // Chunk signatures are for whoever receives the body; with the body in hand keycard
            // would have to verify them, and does not.
            if s3 && body.is_none() {
                return Ok(());
            }
            return Err(mismatch(format!("{declared} payloads are not verified here")));
        }
        if declared.len() != 64 || !declared.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(mismatch("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-... or a SHA-256 in hex"));
        }
        match body {
            Some(b) if !b.eq_ignore_ascii_case(declared) => {
                Err(mismatch("The provided 'x-amz-content-sha256' header does not match what was computed."))
            }
            _ => Ok(()),
        }
    }

    /// The string to sign for `sig` (AWS's "Task 2").
    ///
    /// # Errors
    /// As [`SignedRequest::canonical_request`].
    pub fn string_to_sign(&self, sig: &Signature) -> Result<String, AuthError> {
        let creq = self.canonical_request(sig)?;
        let hash = digest::digest(&digest::SHA256, creq.as_bytes());
        Ok(format!("{ALGORITHM}\n{}\n{}\n{}", sig.amz_date, sig.scope, hex(hash.as_ref())))
    }

    /// Checks `sig` with `secret` (the signer's secret access key) and the time window at `now`
    /// (seconds since the epoch).
    ///
    /// # Errors
    /// `RequestExpired` outside the window, `SignatureDoesNotMatch` for a wrong signature.
    pub fn verify(&self, sig: &Signature, secret: &str, now: u64) -> Result<(), AuthError> {
        match sig.expires {
            Some(expires) => {
                if now >= sig.date.saturating_add(expires) {
                    return Err(AuthError::new(
                        AuthCode::RequestExpired,
                        format!("Request has expired: signed at {} for {expires} seconds", sig.amz_date),
                    ));
                }
                if sig.date > now + MAX_SKEW_SECS {
                    return Err(AuthError::new(AuthCode::RequestExpired, "Request is not yet valid"));
                }
            }
            None if now.abs_diff(sig.date) > MAX_SKEW_SECS => {
                return Err(AuthError::new(
                    AuthCode::RequestExpired,
                    format!(
                        "Signature expired: {} is outside the 15-minute window around {}",
                        sig.amz_date,
                        crate::clock::amz_date(now)
                    ),
                ));
            }
            None => {}
        }
        let sts = self.string_to_sign(sig)?;
        let key = signing_key(secret, &sig.scope);
        hmac::verify(&key, sts.as_bytes(), &sig.signature).map_err(|_| {
            AuthError::new(
                AuthCode::SignatureDoesNotMatch,
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
            )
        })?;
        // The signature is over the declared payload hash; the body received must be that body.
        self.check_payload(sig, &self.payload_hash(sig)?)
    }
}

/// The signing key: `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
fn signing_key(secret: &str, scope: &str) -> hmac::Key {
    let mut key = format!("AWS4{secret}").into_bytes();
    for part in scope.split('/') {
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key), part.as_bytes());
        key = tag.as_ref().to_vec();
    }
    hmac::Key::new(hmac::HMAC_SHA256, &key)
}

/// The signature of `string_to_sign` under `secret` and `scope` (what a client computes).
pub fn sign(secret: &str, scope: &str, string_to_sign: &str) -> String {
    hex(hmac::sign(&signing_key(secret, scope), string_to_sign.as_bytes()).as_ref())
}

fn mismatch(message: impl Into<String>) -> AuthError {
    AuthError::new(AuthCode::XAmzContentSHA256Mismatch, message)
}

fn incomplete(message: impl Into<String>) -> AuthError {
    AuthError::new(AuthCode::IncompleteSignature, message)
}

/// Removes `.` and `..` segments and empty segments, keeping a trailing slash.
fn normalize_path(path: &str) -> Cow<'_, str> {
    if path.is_empty() {
        return Cow::Borrowed("/");
    }
    let needs = path.contains("//") || path.split('/').any(|s| s == "." || s == "..") || !path.starts_with('/');
    if !needs {
        return Cow::Borrowed(path);
    }
    let mut segments: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::with_capacity(path.len());
    for s in &segments {
        out.push('/');
        out.push_str(s);
    }
    let trailing = path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..");
    if segments.is_empty() || trailing {
        out.push('/');
    }
    Cow::Owned(out)
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

fn encode_into(s: &str, out: &mut String, keep_slash: bool) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        if is_unreserved(b) || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
}

/// RFC 3986 encoding of everything but the unreserved characters, as SigV4 wants it.
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    encode_into(s, &mut out, false);
    out
}

/// Percent-decoding (`+` stays `+`); invalid UTF-8 is replaced.
pub(crate) fn decode(s: &str) -> Cow<'_, str> {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy()
}

/// A header value trimmed, with inner runs of spaces collapsed to one.
fn push_trimmed(v: &str, out: &mut String) {
    let mut space = false;
    for c in v.trim().chars() {
        if c == ' ' || c == '\t' {
            space = true;
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    }
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| char::from(c).to_digit(16).and_then(|d| u8::try_from(d).ok());
    s.as_bytes().chunks(2).map(|p| Some(digit(p[0])? << 4 | digit(p[1])?)).collect()
}

/// SHA-256 of `data`, lowercase hex.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, data).as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalise_like_the_test_suite() {
        assert_eq!(normalize_path("//example//"), "/example/");
        assert_eq!(normalize_path("/example/.."), "/");
        assert_eq!(normalize_path("/example/../.."), "/");
        assert_eq!(normalize_path("/./"), "/");
        assert_eq!(normalize_path("/example1/example2/../.."), "/");
        assert_eq!(normalize_path("/a/./b/../c"), "/a/c");
        assert_eq!(normalize_path(""), "/");
        assert_eq!(normalize_path("/"), "/");
    }

    #[test]
    fn encoding_keeps_only_unreserved() {
        assert_eq!(encode("a b+c/é~"), "a%20b%2Bc%2F%C3%A9~");
        assert_eq!(decode("a%20b+%2F"), "a b+/");
    }

    #[test]
    fn header_values_trim_and_collapse() {
        let mut out = String::new();
        push_trimmed("  \"a   b   c\"  ", &mut out);
        assert_eq!(out, "\"a b c\"");
    }
}
