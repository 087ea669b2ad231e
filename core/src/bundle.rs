//! Bundles: a store packed into one deterministic, signed `tar.gz`, so that one build can be
//! published once and served by any number of sidecars, none of which trusts the transport.
//!
//! A bundle holds the store's `*.json` files under their paths relative to the store, plus two
//! entries of its own:
//! - `.manifest.json`: `{"format": 1, "revision": R, "files": [{"path", "sha256", "size"}]}`,
//!   every store file with its SHA-256, sorted by path;
//! - `.signature.json` (when signed): `{"algorithm": "ed25519", "keyId", "signature"}`, an Ed25519
//!   signature over the manifest's exact bytes.
//!
//! [`build`] writes the same bytes for the same store: entries sorted, mtime 0, uid/gid 0, mode
//! 0644, no user names, a gzip header without name or time. [`open`] accepts a bundle only when
//! every check passes, in this order: size limits, gzip and tar structure (regular files only, no
//! absolute or `..` paths, no duplicates, no bytes after the end), the signature over the manifest
//! (before the manifest is even parsed), then every file against the manifest (none missing,
//! none extra, every hash equal). Documents are named by their path inside the bundle, so every
//! replica that opens the same bundle computes the same snapshot id.
//!
//! Keys are Ed25519, as PEM: the private key PKCS#8 (`PRIVATE KEY`, what `openssl genpkey
//! -algorithm ed25519` writes), the public key SubjectPublicKeyInfo (`PUBLIC KEY`). A key's id is
//! the first 16 hex digits of the SHA-256 of its 32 raw bytes; the signature names the key that
//! made it, so several trusted keys (a rotation) cost one lookup.

use crate::error::{LoadError, Problem, ProblemKind};
use crate::store::Store;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ring::signature::{Ed25519KeyPair, KeyPair as _, UnparsedPublicKey, ED25519};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Component, Path};

/// The manifest's name inside a bundle.
pub const MANIFEST: &str = ".manifest.json";
/// The signature's name inside a bundle.
pub const SIGNATURE: &str = ".signature.json";
/// gzip level 3: on the 99,000-statement store (27.5 MB of JSON) 2.7 MB in 0.26 s of CPU, where
/// level 6 gives 2.4 MB in 0.59 s and level 1 4.7 MB in 0.10 s.
const GZIP_LEVEL: u32 = 3;
/// The manifest format this version writes and reads.
const FORMAT: u32 = 1;
/// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the 32 key bytes follow.
const SPKI_ED25519: [u8; 12] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00];

/// Why a bundle, or a key, was refused. Each message names the entry, the manifest or the
/// signature at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BundleError {
    /// The bundle or a key could not be read.
    #[error("{0}")]
    Read(String),
    /// Not a well-formed gzip/tar stream (truncated, corrupt, trailing bytes).
    #[error("corrupt bundle: {0}")]
    Corrupt(String),
    /// Larger than the limits allow.
    #[error("bundle too large: {0}")]
    TooLarge(String),
    /// One entry is refused: its path, and why.
    #[error("{path}: {reason}")]
    Entry {
        /// The entry's path inside the bundle.
        path: String,
        /// Why it is refused.
        reason: String,
    },
    /// The signature is missing, made by an unknown key, or does not verify.
    #[error("signature: {0}")]
    Signature(String),
    /// A key file is not a usable Ed25519 key.
    #[error("key: {0}")]
    Key(String),
}

impl BundleError {
    /// As a store load error naming `source` (the bundle's file or URL), for [`crate::live`].
    pub fn into_load_error(self, source: &str) -> LoadError {
        LoadError::new(vec![Problem::of(ProblemKind::Bundle, source, self.to_string())])
    }
}

/// Size limits on a bundle, checked before and while it is decompressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The bundle file (compressed), in bytes.
    pub max_compressed: u64,
    /// All entries together, decompressed, in bytes.
    pub max_uncompressed: u64,
    /// Entries in the archive.
    pub max_entries: usize,
}

impl Default for Limits {
    /// 64 MiB compressed, 1 GiB decompressed, 100,000 entries (the 99,000-statement benchmark
    /// store is about 1 MiB compressed).
    fn default() -> Self {
        Limits { max_compressed: 64 << 20, max_uncompressed: 1 << 30, max_entries: 100_000 }
    }
}

/// An Ed25519 public key that bundles may be signed with.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    raw: [u8; 32],
    id: String,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.id)
    }
}

impl PublicKey {
    fn from_raw(raw: [u8; 32]) -> PublicKey {
        PublicKey { id: key_id(&raw), raw }
    }

    /// Reads a `PUBLIC KEY` PEM (SubjectPublicKeyInfo of an Ed25519 key).
    ///
    /// # Errors
    /// No PEM block, bad base64, or a key that is not Ed25519.
    pub fn from_pem(text: &str) -> Result<PublicKey, BundleError> {
        let der = pem_decode(text, "PUBLIC KEY")?;
        let raw = der
            .strip_prefix(&SPKI_ED25519[..])
            .and_then(|k| <[u8; 32]>::try_from(k).ok())
            .ok_or_else(|| BundleError::Key("not an Ed25519 public key (SubjectPublicKeyInfo, RFC 8410)".into()))?;
        Ok(PublicKey::from_raw(raw))
    }

    /// Reads a `PUBLIC KEY` PEM file; errors name the file.
    ///
    /// # Errors
    /// As [`PublicKey::from_pem`], or the file cannot be read.
    pub fn from_file(path: &Path) -> Result<PublicKey, BundleError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| BundleError::Read(format!("cannot read {}: {e}", path.display())))?;
        PublicKey::from_pem(&text).map_err(|e| BundleError::Key(format!("{}: {e}", path.display())))
    }

    /// The key as a `PUBLIC KEY` PEM.
    pub fn to_pem(&self) -> String {
        let mut der = SPKI_ED25519.to_vec();
        der.extend_from_slice(&self.raw);
        pem_encode("PUBLIC KEY", &der)
    }

    /// The key's id: 16 hex digits of the SHA-256 of its raw bytes.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// An Ed25519 private key that signs bundles.
pub struct SigningKey {
    pair: Ed25519KeyPair,
    public: PublicKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({})", self.public.id)
    }
}

impl SigningKey {
    /// A new random key, and its `PRIVATE KEY` PEM (PKCS#8 v2) to store.
    ///
    /// # Errors
    /// The system's random source failed.
    pub fn generate() -> Result<(SigningKey, String), BundleError> {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng)
            .map_err(|_| BundleError::Key("cannot generate a key: no system randomness".into()))?;
        let pem = pem_encode("PRIVATE KEY", pkcs8.as_ref());
        Ok((SigningKey::from_pkcs8(pkcs8.as_ref())?, pem))
    }

    /// Reads a `PRIVATE KEY` PEM (PKCS#8 v1 or v2 of an Ed25519 key).
    ///
    /// # Errors
    /// No PEM block, bad base64, or not an Ed25519 PKCS#8 key.
    pub fn from_pem(text: &str) -> Result<SigningKey, BundleError> {
        SigningKey::from_pkcs8(&pem_decode(text, "PRIVATE KEY")?)
    }

    /// Reads a `PRIVATE KEY` PEM file; errors name the file.
    ///
    /// # Errors
    /// As [`SigningKey::from_pem`], or the file cannot be read.
    pub fn from_file(path: &Path) -> Result<SigningKey, BundleError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| BundleError::Read(format!("cannot read {}: {e}", path.display())))?;
        SigningKey::from_pem(&text).map_err(|e| BundleError::Key(format!("{}: {e}", path.display())))
    }

    fn from_pkcs8(der: &[u8]) -> Result<SigningKey, BundleError> {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
            .map_err(|e| BundleError::Key(format!("not an Ed25519 PKCS#8 private key ({e})")))?;
        let raw = <[u8; 32]>::try_from(pair.public_key().as_ref())
            .map_err(|_| BundleError::Key("unexpected Ed25519 public key length".into()))?;
        Ok(SigningKey { pair, public: PublicKey::from_raw(raw) })
    }

    /// The matching public key.
    pub fn public(&self) -> &PublicKey {
        &self.public
    }
}

/// Which bundles to accept: signed by one of `keys`, or, with no key configured and only then,
/// unsigned ones when explicitly allowed.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    keys: Vec<PublicKey>,
    allow_unsigned: bool,
}

impl Trust {
    /// Accept only bundles signed by one of `keys` (several during a rotation).
    pub fn keys(keys: Vec<PublicKey>) -> Trust {
        Trust { keys, allow_unsigned: false }
    }

    /// Accept a bundle without checking any signature (its manifest hashes still are). Ignored
    /// when keys are configured: then a signature is always required.
    pub fn insecure_unsigned() -> Trust {
        Trust { keys: Vec::new(), allow_unsigned: true }
    }

    /// The trusted keys.
    pub fn trusted_keys(&self) -> &[PublicKey] {
        &self.keys
    }
}

/// Where a snapshot loaded from a bundle came from (shown by `/v1/snapshot`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleInfo {
    /// The revision given at build.
    pub revision: String,
    /// The id of the key whose signature verified; `None` for an unsigned bundle accepted
    /// without verification.
    pub verified_by: Option<String>,
    /// The URL it was downloaded from, if any.
    pub url: Option<String>,
    /// The HTTP `ETag` it was downloaded with, if any.
    pub etag: Option<String>,
}

/// A bundle that passed every check: its revision, who signed it, and its documents.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The revision given at build.
    pub revision: String,
    /// The key id whose signature verified (`None`: accepted unsigned).
    pub verified_by: Option<String>,
    /// `(path inside the bundle, JSON text)`, sorted by path.
    pub documents: Vec<(String, String)>,
}

impl Opened {
    /// Loads the documents into a store (all or nothing, as [`Store::load`]).
    ///
    /// # Errors
    /// Every problem found, named by the document's path in the bundle.
    pub fn into_store(self) -> Result<(Store, BundleInfo), LoadError> {
        let info = BundleInfo { revision: self.revision, verified_by: self.verified_by, url: None, etag: None };
        Store::from_documents(self.documents).map(|s| (s, info))
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    format: u32,
    revision: String,
    files: Vec<ManifestFile>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestFile {
    path: String,
    sha256: String,
    size: u64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SignatureFile {
    algorithm: String,
    key_id: String,
    signature: String,
}

/// A built bundle.
#[derive(Debug, Clone)]
pub struct Built {
    /// The `tar.gz` bytes.
    pub bytes: Vec<u8>,
    /// Its revision (given, or derived from the content).
    pub revision: String,
    /// Store files it holds.
    pub files: usize,
    /// The signing key's id, when signed.
    pub signed_by: Option<String>,
}

/// Builds a bundle of the store at `store` (a directory of `*.json` files, or one file). With
/// `check`, the bytes bundled must load as a store (as [`Store::load`] would load them), so a
/// bundle that would not load is refused here, not on every replica; without it (a pipeline
/// that ran `keycard validate` already), the files are only packed. Without `revision`, the
/// revision is the first 12 hex digits of the SHA-256 of the manifest's file list (the same
/// store, the same revision).
///
/// # Errors
/// Every load problem, or a path that is not UTF-8.
pub fn build(store: &Path, revision: Option<&str>, key: Option<&SigningKey>, check: bool) -> Result<Built, LoadError> {
    let shown = store.display().to_string();
    let metadata = std::fs::metadata(store).map_err(|e| {
        LoadError::new(vec![Problem::of(ProblemKind::Io, &shown, format!("cannot read the store: {e}"))])
    })?;
    let mut paths = Vec::new();
    if metadata.is_file() {
        paths.push(store.to_path_buf());
    } else {
        let mut problems = Vec::new();
        crate::store::collect_json_files(store, &mut paths, &mut std::collections::BTreeSet::new(), &mut problems);
        if !problems.is_empty() {
            return Err(LoadError::new(problems));
        }
    }
    let mut files = BTreeMap::new();
    let mut shown_names = Vec::with_capacity(paths.len());
    for path in &paths {
        let name = path.display().to_string();
        let relative = if metadata.is_file() {
            path.file_name().map(Path::new).unwrap_or(path)
        } else {
            path.strip_prefix(store).unwrap_or(path)
        };
        let inner = relative
            .components()
            .map(|c| match c {
                Component::Normal(s) => s.to_str().map(str::to_owned),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .map(|parts| parts.join("/"))
            .ok_or_else(|| LoadError::new(vec![Problem::of(ProblemKind::Io, &name, "the path is not UTF-8")]))?;
        let bytes = std::fs::read(path)
            .map_err(|e| LoadError::new(vec![Problem::of(ProblemKind::Io, &name, format!("cannot read: {e}"))]))?;
        files.insert(inner.clone(), bytes);
        shown_names.push((inner, name));
    }
    if check {
        let mut problems = Vec::new();
        let documents: Vec<(String, String)> = shown_names
            .iter()
            .filter_map(|(inner, name)| match files.get(inner).map(|b| std::str::from_utf8(b)) {
                Some(Ok(text)) => Some((name.clone(), text.to_owned())),
                _ => {
                    problems.push(Problem::error(name, "", "file is not UTF-8"));
                    None
                }
            })
            .collect();
        if !problems.is_empty() {
            return Err(LoadError::new(problems));
        }
        Store::from_documents(documents)?;
    }
    let listed: Vec<ManifestFile> = files
        .iter()
        .map(|(path, bytes)| ManifestFile { path: path.clone(), sha256: sha256_hex(bytes), size: bytes.len() as u64 })
        .collect();
    let revision = match revision {
        Some(r) => r.to_owned(),
        None => {
            let list: String = listed.iter().map(|f| format!("{} {}\n", f.sha256, f.path)).collect();
            sha256_hex(list.as_bytes())[..12].to_owned()
        }
    };
    let count = listed.len();
    let manifest = serde_json::to_vec_pretty(&Manifest { format: FORMAT, revision: revision.clone(), files: listed })
        .map_err(|e| LoadError::single(ProblemKind::Io, format!("cannot write the manifest: {e}")))?;
    let signature = key.map(|k| {
        let file = SignatureFile {
            algorithm: "ed25519".into(),
            key_id: k.public.id.clone(),
            signature: BASE64.encode(k.pair.sign(&manifest).as_ref()),
        };
        serde_json::to_vec_pretty(&file)
    });
    let signature = signature
        .transpose()
        .map_err(|e| LoadError::single(ProblemKind::Io, format!("cannot write the signature: {e}")))?;
    let mut entries: Vec<(&str, &[u8])> = vec![(MANIFEST, &manifest)];
    if let Some(s) = &signature {
        entries.push((SIGNATURE, s));
    }
    entries.extend(files.iter().map(|(p, b)| (p.as_str(), b.as_slice())));
    let bytes = write_tar_gz(&entries)
        .map_err(|e| LoadError::single(ProblemKind::Io, format!("cannot write the bundle: {e}")))?;
    Ok(Built { bytes, revision, files: count, signed_by: key.map(|k| k.public.id.clone()) })
}

/// The entries, in the given order, as a deterministic `tar.gz`.
fn write_tar_gz(entries: &[(&str, &[u8])]) -> std::io::Result<Vec<u8>> {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, data) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(0);
        tar.append_data(&mut header, path, *data)?;
    }
    let tar = tar.into_inner()?;
    let mut gz = flate2::GzBuilder::new().mtime(0).write(Vec::new(), flate2::Compression::new(GZIP_LEVEL));
    gz.write_all(&tar)?;
    gz.finish()
}

/// Whether `bytes` start like a gzip stream (a bundle), rather than JSON.
pub fn looks_like_bundle(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// Whether the file at `path` is a bundle (by its first bytes; a directory never is).
pub fn is_bundle_file(path: &Path) -> bool {
    let mut head = [0u8; 2];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && looks_like_bundle(&head)
}

/// Opens a bundle held in memory: checks limits, structure, signature and manifest (see the
/// module documentation), and returns its documents.
///
/// # Errors
/// The first check that fails.
pub fn open(bytes: &[u8], trust: &Trust, limits: &Limits) -> Result<Opened, BundleError> {
    if bytes.len() as u64 > limits.max_compressed {
        return Err(BundleError::TooLarge(format!(
            "{} bytes, over the limit of {}",
            bytes.len(),
            limits.max_compressed
        )));
    }
    if !looks_like_bundle(bytes) {
        return Err(BundleError::Corrupt("not a gzip stream".into()));
    }
    let mut entries = read_entries(bytes, limits)?;
    let manifest = entries.remove(MANIFEST).ok_or_else(|| BundleError::Corrupt(format!("no {MANIFEST}")))?;
    let signature = entries.remove(SIGNATURE);
    let verified_by = check_signature(&manifest, signature.as_deref(), trust)?;
    let manifest: Manifest = serde_json::from_slice(&manifest)
        .map_err(|e| BundleError::Entry { path: MANIFEST.into(), reason: format!("invalid: {e}") })?;
    if manifest.format != FORMAT {
        return Err(BundleError::Entry {
            path: MANIFEST.into(),
            reason: format!("format {} is not supported (this keycard reads format {FORMAT})", manifest.format),
        });
    }
    let mut documents = Vec::with_capacity(manifest.files.len());
    for file in &manifest.files {
        let entry = |reason: String| BundleError::Entry { path: file.path.clone(), reason };
        check_path(&file.path).map_err(&entry)?;
        if !file.path.ends_with(".json") {
            return Err(entry("not a *.json document".into()));
        }
        let bytes = entries.remove(&file.path).ok_or_else(|| entry("listed in the manifest but missing".into()))?;
        if bytes.len() as u64 != file.size {
            return Err(entry(format!("{} bytes, the manifest says {}", bytes.len(), file.size)));
        }
        let actual = sha256_hex(&bytes);
        if !actual.eq_ignore_ascii_case(&file.sha256) {
            return Err(entry(format!("SHA-256 {actual} does not match the manifest's {}", file.sha256)));
        }
        let text = String::from_utf8(bytes).map_err(|_| entry("not UTF-8".into()))?;
        documents.push((file.path.clone(), text));
    }
    if let Some(path) = entries.into_keys().next() {
        return Err(BundleError::Entry { path, reason: "not in the manifest".into() });
    }
    documents.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Opened { revision: manifest.revision, verified_by, documents })
}

/// Reads a bundle file (within `limits`) and loads its store: what `--policies FILE.tar.gz`
/// does. Problems name the file.
///
/// # Errors
/// The bundle is refused (one problem naming it), or its store does not load.
pub fn load_file(path: &Path, trust: &Trust, limits: &Limits) -> Result<(Store, BundleInfo), LoadError> {
    let shown = path.display().to_string();
    let refuse = |e: BundleError| e.into_load_error(&shown);
    let bytes = read_limited(path, limits.max_compressed).map_err(refuse)?;
    open(&bytes, trust, limits).map_err(refuse)?.into_store()
}

/// Reads a file, refusing one larger than `max` bytes without reading it all.
///
/// # Errors
/// The file cannot be read, or is too large.
pub fn read_limited(path: &Path, max: u64) -> Result<Vec<u8>, BundleError> {
    let file =
        std::fs::File::open(path).map_err(|e| BundleError::Read(format!("cannot read {}: {e}", path.display())))?;
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| BundleError::Read(format!("cannot read {}: {e}", path.display())))?;
    if bytes.len() as u64 > max {
        return Err(BundleError::TooLarge(format!("{} is over the limit of {max} bytes", path.display())));
    }
    Ok(bytes)
}

/// A reader that fails once more than `left` bytes have been read through it.
struct Budget<R> {
    inner: R,
    left: u64,
    exceeded: bool,
}

impl<R: Read> Read for Budget<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        match self.left.checked_sub(n as u64) {
            Some(left) => {
                self.left = left;
                Ok(n)
            }
            None => {
                self.exceeded = true;
                Err(std::io::Error::other("decompressed size over the limit"))
            }
        }
    }
}

/// Every entry of the archive, by path, after the structural checks.
fn read_entries(bytes: &[u8], limits: &Limits) -> Result<BTreeMap<String, Vec<u8>>, BundleError> {
    let gz = flate2::bufread::GzDecoder::new(bytes);
    let mut archive = tar::Archive::new(Budget { inner: gz, left: limits.max_uncompressed, exceeded: false });
    let mut out = BTreeMap::new();
    let too_large = || BundleError::TooLarge(format!("over {} bytes decompressed", limits.max_uncompressed));
    let result = (|| -> Result<(), BundleError> {
        let corrupt = |e: std::io::Error| BundleError::Corrupt(e.to_string());
        for entry in archive.entries().map_err(corrupt)? {
            let mut entry = entry.map_err(corrupt)?;
            let raw = entry.path_bytes();
            let path = String::from_utf8(raw.into_owned())
                .map_err(|_| BundleError::Corrupt("an entry's path is not UTF-8".into()))?;
            let refuse = |reason: &str| BundleError::Entry { path: path.clone(), reason: reason.into() };
            let kind = entry.header().entry_type();
            if kind != tar::EntryType::Regular {
                return Err(refuse(&format!("{kind:?} entries are not allowed (regular files only)")));
            }
            check_path(&path).map_err(|r| refuse(&r))?;
            if out.len() >= limits.max_entries {
                return Err(BundleError::TooLarge(format!("more than {} entries", limits.max_entries)));
            }
            if out.contains_key(&path) {
                return Err(refuse("appears twice"));
            }
            let size = entry.header().size().map_err(corrupt)?;
            if size > limits.max_uncompressed {
                return Err(too_large());
            }
            let mut data = Vec::with_capacity(usize::try_from(size).unwrap_or(0).min(1 << 20));
            entry.read_to_end(&mut data).map_err(corrupt)?;
            if data.len() as u64 != size {
                return Err(refuse("truncated"));
            }
            out.insert(path, data);
        }
        Ok(())
    })();
    let mut budget = archive.into_inner();
    if budget.exceeded {
        return Err(too_large());
    }
    result?;
    // The rest of the stream (tar padding) must decompress too: that checks the gzip trailer
    // (CRC and length), so a truncated download never passes.
    std::io::copy(&mut budget, &mut std::io::sink()).map_err(|e| {
        if budget.exceeded {
            too_large()
        } else {
            BundleError::Corrupt(format!("truncated or corrupt gzip stream: {e}"))
        }
    })?;
    let rest = budget.inner.into_inner();
    if !rest.is_empty() {
        return Err(BundleError::Corrupt(format!("{} bytes after the end of the gzip stream", rest.len())));
    }
    Ok(out)
}

/// A bundle path must be relative and plain: `a/b.json`, no `..`, `.`, empty or absolute parts.
fn check_path(path: &str) -> Result<(), String> {
    if path.is_empty() || path.starts_with('/') || path.contains('\\') || path.contains('\0') {
        return Err("not a plain relative path".into());
    }
    if path.split('/').any(|part| part.is_empty() || part == "." || part == "..") {
        return Err("not a plain relative path (empty, `.` or `..` part)".into());
    }
    Ok(())
}

/// Checks the signature over the manifest's bytes against `trust`: the verifying key's id, or
/// `None` for an unsigned bundle accepted without keys.
fn check_signature(manifest: &[u8], signature: Option<&[u8]>, trust: &Trust) -> Result<Option<String>, BundleError> {
    if trust.keys.is_empty() {
        return if trust.allow_unsigned {
            Ok(None)
        } else {
            Err(BundleError::Signature(
                "no trusted public key is configured, and unverified bundles are not allowed".into(),
            ))
        };
    }
    let signature = signature.ok_or_else(|| {
        BundleError::Signature(format!("the bundle is not signed ({SIGNATURE} is missing), and a key is configured"))
    })?;
    let file: SignatureFile = serde_json::from_slice(signature)
        .map_err(|e| BundleError::Signature(format!("{SIGNATURE} is invalid: {e}")))?;
    if file.algorithm != "ed25519" {
        return Err(BundleError::Signature(format!("algorithm {:?} is not supported (ed25519)", file.algorithm)));
    }
    let key = trust.keys.iter().find(|k| k.id == file.key_id).ok_or_else(|| {
        let known: Vec<&str> = trust.keys.iter().map(|k| k.id.as_str()).collect();
        BundleError::Signature(format!(
            "signed by key {}, which is not trusted (trusted: {})",
            file.key_id,
            known.join(", ")
        ))
    })?;
    let sig = BASE64
        .decode(file.signature.as_bytes())
        .map_err(|e| BundleError::Signature(format!("{SIGNATURE}: the signature is not base64: {e}")))?;
    UnparsedPublicKey::new(&ED25519, &key.raw).verify(manifest, &sig).map_err(|_| {
        BundleError::Signature(format!(
            "does not verify with key {}: the manifest or the signature was altered",
            key.id
        ))
    })?;
    Ok(Some(key.id.clone()))
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn key_id(raw: &[u8; 32]) -> String {
    sha256_hex(raw)[..16].to_owned()
}

/// The DER inside the first `-----BEGIN {label}-----` block of `text`.
fn pem_decode(text: &str, label: &str) -> Result<Vec<u8>, BundleError> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let body = text
        .split_once(&begin)
        .and_then(|(_, rest)| rest.split_once(&end))
        .map(|(body, _)| body)
        .ok_or_else(|| BundleError::Key(format!("no {begin} block")))?;
    let b64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    BASE64.decode(b64.as_bytes()).map_err(|e| BundleError::Key(format!("the {label} block is not base64: {e}")))
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    let b64 = BASE64.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
