//! `keycard bundle build | verify | keygen`, and the options that let `serve`, `authorize` and
//! `validate` read a bundle wherever they read a store (`--bundle-public-key`,
//! `--bundle-insecure-unsigned`). The format and its checks live in `keycard::bundle`.

use clap::Subcommand;
use keycard::bundle::{self, Limits, PublicKey, SigningKey, Trust};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `keycard bundle ...`.
#[derive(Subcommand)]
pub(crate) enum BundleCommand {
    /// Pack a store into a deterministic tar.gz (the same store gives the same bytes) with a
    /// manifest of every file's SHA-256, signed with an Ed25519 key when --sign-key is given.
    /// The store must load (unless --no-check).
    Build {
        /// The store: a directory of *.json files, or one file.
        dir: PathBuf,
        /// The bundle to write (replaced atomically).
        #[arg(short = 'o', long, value_name = "FILE.tar.gz")]
        output: PathBuf,
        /// The revision recorded in the manifest (e.g. a commit). Default: derived from the
        /// content.
        #[arg(long, value_name = "R")]
        revision: Option<String>,
        /// The Ed25519 private key (PKCS#8 PEM) that signs the manifest.
        #[arg(long, value_name = "KEY.pem")]
        sign_key: Option<PathBuf>,
        /// Pack without loading the store first (for a pipeline that ran `keycard validate`).
        #[arg(long)]
        no_check: bool,
    },
    /// Check a bundle: its signature, every file against the manifest, and that its store loads.
    /// Exit 0 when valid, 1 when not (naming the failing file or the signature), 2 on a usage error.
    Verify {
        /// The bundle.
        file: PathBuf,
        /// A trusted public key (PEM); repeatable.
        #[arg(long = "public-key", value_name = "KEY.pem", required_unless_present = "insecure_unsigned")]
        public_keys: Vec<PathBuf>,
        /// Check the manifest only, not any signature.
        #[arg(long, conflicts_with = "public_keys")]
        insecure_unsigned: bool,
    },
    /// Make an Ed25519 key pair: PRIVATE.pem (PKCS#8, mode 0600) and PUBLIC.pem. Existing files
    /// are never overwritten.
    Keygen {
        /// Where to write the private key.
        private: PathBuf,
        /// Where to write the public key.
        public: PathBuf,
    },
}

/// How bundles given to `--policies` (and `--bundle-url`) are trusted.
#[derive(clap::Args, Debug, Clone, Default)]
pub(crate) struct TrustArgs {
    /// A public key (PEM) that bundles must be signed with; repeatable, so that a key rotation
    /// can overlap. With a key, an unsigned or differently signed bundle is always refused.
    #[arg(long = "bundle-public-key", value_name = "PEM")]
    pub(crate) public_keys: Vec<PathBuf>,
    /// Accept bundles without verifying any signature (manifest hashes are still checked). Only
    /// without --bundle-public-key; every load logs a warning.
    #[arg(long = "bundle-insecure-unsigned", conflicts_with = "public_keys")]
    pub(crate) insecure_unsigned: bool,
}

impl TrustArgs {
    /// The trust the options describe; `None` when neither is given (a bundle is then refused).
    pub(crate) fn trust(&self) -> Result<Option<Trust>, String> {
        if self.insecure_unsigned {
            return Ok(Some(Trust::insecure_unsigned()));
        }
        if self.public_keys.is_empty() {
            return Ok(None);
        }
        let keys = self
            .public_keys
            .iter()
            .map(|p| PublicKey::from_file(p).map_err(|e| format!("--bundle-public-key {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Trust::keys(keys)))
    }

    /// The trust a bundle at `path` needs: an error naming the two options when neither is given.
    pub(crate) fn require(&self, path: &Path) -> Result<Trust, String> {
        self.trust()?.ok_or_else(|| {
            format!(
                "{} is a bundle: give --bundle-public-key PEM to verify its signature, or \
                 --bundle-insecure-unsigned to load it unverified",
                path.display()
            )
        })
    }
}

/// The warning every unverified load prints.
pub(crate) const UNVERIFIED: &str =
    "this bundle's signature is NOT verified (--bundle-insecure-unsigned): anyone who can \
     write it can change policy";

/// Runs `keycard bundle ...`.
pub(crate) fn run(command: BundleCommand) -> ExitCode {
    match command {
        BundleCommand::Build { dir, output, revision, sign_key, no_check } => {
            build(&dir, &output, revision.as_deref(), sign_key, !no_check)
        }
        BundleCommand::Verify { file, public_keys, insecure_unsigned } => {
            verify(&file, &TrustArgs { public_keys, insecure_unsigned })
        }
        BundleCommand::Keygen { private, public } => keygen(&private, &public),
    }
}

fn build(dir: &Path, output: &Path, revision: Option<&str>, sign_key: Option<PathBuf>, check: bool) -> ExitCode {
    let key = match sign_key.as_deref().map(SigningKey::from_file).transpose() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("keycard: --sign-key {e}");
            return ExitCode::from(2);
        }
    };
    let built = match bundle::build(dir, revision, key.as_ref(), check) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("keycard: the store does not load; no bundle written");
            for p in e.problems() {
                eprintln!("{p}");
            }
            return ExitCode::from(1);
        }
    };
    if let Err(e) = write_atomically(output, &built.bytes, 0o644) {
        eprintln!("keycard: cannot write {}: {e}", output.display());
        return ExitCode::from(2);
    }
    println!(
        "wrote {}: revision {}, {} files, {} bytes, {}",
        output.display(),
        built.revision,
        built.files,
        built.bytes.len(),
        match &built.signed_by {
            Some(id) => format!("signed by key {id}"),
            None => "UNSIGNED".to_owned(),
        }
    );
    ExitCode::SUCCESS
}

fn verify(file: &Path, trust: &TrustArgs) -> ExitCode {
    let trust = match trust.trust() {
        Ok(Some(t)) => t,
        Ok(None) => {
            eprintln!("keycard: give --public-key KEY.pem (or --insecure-unsigned)");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("keycard: {}", e.trim_start_matches("--bundle-public-key "));
            return ExitCode::from(2);
        }
    };
    let limits = Limits::default();
    let opened = bundle::read_limited(file, limits.max_compressed).and_then(|b| bundle::open(&b, &trust, &limits));
    let opened = match opened {
        Ok(o) => o,
        Err(e) => {
            println!("invalid: {}: {e}", file.display());
            return ExitCode::from(1);
        }
    };
    let (revision, verified_by) = (opened.revision.clone(), opened.verified_by.clone());
    match opened.into_store() {
        Ok((store, _)) => {
            let s = store.stats();
            println!(
                "valid: {}: revision {revision}, {}, {} files, {} statements (snapshot {})",
                file.display(),
                match verified_by {
                    Some(id) => format!("signed by key {id}"),
                    None => "signature NOT checked".to_owned(),
                },
                s.files,
                s.statements,
                store.id()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("invalid: {}: its store does not load", file.display());
            for p in e.problems() {
                println!("{p}");
            }
            ExitCode::from(1)
        }
    }
}

fn keygen(private: &Path, public: &Path) -> ExitCode {
    let (key, pem) = match SigningKey::generate() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("keycard: {e}");
            return ExitCode::from(2);
        }
    };
    for (path, text, mode) in [(private, pem, 0o600), (public, key.public().to_pem(), 0o644)] {
        if let Err(e) = create_new(path, text.as_bytes(), mode) {
            eprintln!("keycard: cannot write {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    println!("wrote {} and {} (key {})", private.display(), public.display(), key.public().id());
    ExitCode::SUCCESS
}

/// Creates `path` (never overwriting) with `mode`.
fn create_new(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(mode).open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Writes `path` through a temporary file in the same directory and a rename, so that a reader
/// (a watcher, a web server) sees the old bytes or the new ones, never a part.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let _ = std::fs::remove_file(&temp);
        create_new(&temp, bytes, mode)?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}
