//! Session tokens: a temporary credential's whole session (who, which role, session policies and
//! tags, MFA, issue time, expiry, chain depth, and the secret key itself), sealed with AES-256-GCM
//! under a key of `--sts-key-file`. Tokens are stateless: any replica holding the key file opens
//! any replica's tokens, and a token altered by one bit does not open at all.
//!
//! The key file holds one key per line (at least 32 characters of secret text; `#` comments and
//! blank lines ignored). The first key seals; every key opens, so a new key goes first and the old
//! one stays below it until the sessions it sealed have expired.

use super::session::Session;
use super::{AuthCode, AuthError};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::digest;
use ring::rand::{SecureRandom, SystemRandom};
use std::fmt;
use std::path::Path;

/// The token format's version byte.
const VERSION: u8 = 1;
/// The shortest secret line accepted in a key file.
pub const MIN_KEY_CHARS: usize = 32;

/// Why a key file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// A line is not a usable key.
    #[error("{path}:{line}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// No key at all.
    #[error("{path}: no key (one secret of at least {MIN_KEY_CHARS} characters per line)")]
    Empty {
        /// The file.
        path: String,
    },
}

struct SealKey {
    id: [u8; 4],
    key: LessSafeKey,
}

/// The keys that seal and open session tokens.
pub struct SealKeys {
    keys: Vec<SealKey>,
    rng: SystemRandom,
}

impl fmt::Debug for SealKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealKeys").field("keys", &self.keys.len()).finish_non_exhaustive()
    }
}

fn derive(secret: &[u8]) -> Option<SealKey> {
    let mut material = b"keycard-sts-token-key-v1\0".to_vec();
    material.extend_from_slice(secret);
    let key = digest::digest(&digest::SHA256, &material);
    let mut tag = b"keycard-sts-token-id-v1\0".to_vec();
    tag.extend_from_slice(secret);
    let idh = digest::digest(&digest::SHA256, &tag);
    let id = idh.as_ref().get(..4).and_then(|b| <[u8; 4]>::try_from(b).ok())?;
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key.as_ref()).ok()?);
    Some(SealKey { id, key })
}

impl SealKeys {
    /// A random key that lives as long as the process (no `--sts-key-file`).
    ///
    /// # Errors
    /// When the system's random source fails.
    pub fn random() -> Result<SealKeys, AuthError> {
        let rng = SystemRandom::new();
        let mut secret = [0u8; 32];
        rng.fill(&mut secret).map_err(|_| AuthError::internal("no system randomness"))?;
        let key = derive(&secret).ok_or_else(|| AuthError::internal("cannot build a sealing key"))?;
        Ok(SealKeys { keys: vec![key], rng })
    }

    /// Reads a key file.
    ///
    /// # Errors
    /// A [`KeyFileError`] naming the file (and line).
    pub fn from_file(path: &Path) -> Result<SealKeys, KeyFileError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| KeyFileError::Io { path: name.clone(), source })?;
        SealKeys::parse(&text, &name)
    }

    /// Reads key-file text; `name` names it in errors.
    ///
    /// # Errors
    /// A [`KeyFileError`] for a short line or no key.
    pub fn parse(text: &str, name: &str) -> Result<SealKeys, KeyFileError> {
        let mut keys = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.chars().count() < MIN_KEY_CHARS {
                return Err(KeyFileError::Invalid {
                    path: name.to_owned(),
                    line: i + 1,
                    message: format!("a key must be at least {MIN_KEY_CHARS} characters of secret text"),
                });
            }
            let key = derive(line.as_bytes()).ok_or_else(|| KeyFileError::Invalid {
                path: name.to_owned(),
                line: i + 1,
                message: "cannot build a key".to_owned(),
            })?;
            keys.push(key);
        }
        if keys.is_empty() {
            return Err(KeyFileError::Empty { path: name.to_owned() });
        }
        Ok(SealKeys { keys, rng: SystemRandom::new() })
    }

    /// Fills `buf` with random bytes.
    pub(crate) fn random_bytes(&self, buf: &mut [u8]) -> Result<(), AuthError> {
        self.rng.fill(buf).map_err(|_| AuthError::internal("no system randomness"))
    }

    /// Seals `session` into a token.
    pub(crate) fn seal(&self, session: &Session) -> Result<String, AuthError> {
        let key = self.keys.first().ok_or_else(|| AuthError::internal("no sealing key"))?;
        let mut nonce = [0u8; NONCE_LEN];
        self.random_bytes(&mut nonce)?;
        let mut header = vec![VERSION];
        header.extend_from_slice(&key.id);
        let mut body = serde_json::to_vec(session).map_err(|_| AuthError::internal("cannot encode the session"))?;
        key.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(&header), &mut body)
            .map_err(|_| AuthError::internal("cannot seal the session"))?;
        let mut out = header;
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&body);
        Ok(STANDARD.encode(out))
    }

    /// Opens a token sealed by any of the keys.
    ///
    /// # Errors
    /// `InvalidClientTokenId` for a token that is not one of ours, altered, or sealed by a key
    /// no longer held.
    pub(crate) fn open(&self, token: &str) -> Result<Session, AuthError> {
        let invalid =
            || AuthError::new(AuthCode::InvalidClientTokenId, "The security token included in the request is invalid.");
        let raw = STANDARD.decode(token.trim()).map_err(|_| invalid())?;
        if raw.len() < 5 + NONCE_LEN + 16 || raw.first() != Some(&VERSION) {
            return Err(invalid());
        }
        let (header, rest) = raw.split_at(5);
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let key = self.keys.iter().find(|k| header.get(1..) == Some(&k.id[..])).ok_or_else(invalid)?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| invalid())?;
        let mut buf = sealed.to_vec();
        let plain = key.key.open_in_place(nonce, Aad::from(header), &mut buf).map_err(|_| invalid())?;
        serde_json::from_slice(plain).map_err(|_| invalid())
    }
}
