//! Bundles: deterministic bytes, the same store as the directory, and every way a bundle must be
//! refused (signature, manifest, structure, limits).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keycard::bundle::{self, BundleError, Limits, PublicKey, SigningKey, Trust};
use keycard::{Request, Snapshot, Store};
use std::io::Write;
use std::path::{Path, PathBuf};

fn store_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies")
}

fn key() -> (SigningKey, PublicKey) {
    let (k, _) = SigningKey::generate().unwrap();
    let p = k.public().clone();
    (k, p)
}

fn signed(key: &SigningKey) -> Vec<u8> {
    bundle::build(&store_dir(), Some("r1"), Some(key), true).unwrap().bytes
}

fn open(bytes: &[u8], public: &PublicKey) -> Result<bundle::Opened, BundleError> {
    bundle::open(bytes, &Trust::keys(vec![public.clone()]), &Limits::default())
}

/// The entries of a bundle, in order, as `(path, bytes)`.
fn entries(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    archive
        .entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let path = String::from_utf8(e.path_bytes().into_owned()).unwrap();
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut data).unwrap();
            (path, data)
        })
        .collect()
}

/// A tar.gz of raw entries `(path, type, data)`: any path (no checks), any type.
fn pack(list: &[(&str, tar::EntryType, &[u8])]) -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, kind, data) in list {
        let mut h = tar::Header::new_gnu();
        let name = &mut h.as_old_mut().name;
        name[..path.len()].copy_from_slice(path.as_bytes());
        h.set_entry_type(*kind);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append(&h, *data).unwrap();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar.into_inner().unwrap()).unwrap();
    gz.finish().unwrap()
}

/// A bundle's entries re-packed after `edit`.
fn repack(bytes: &[u8], edit: impl FnOnce(&mut Vec<(String, Vec<u8>)>)) -> Vec<u8> {
    let mut list = entries(bytes);
    edit(&mut list);
    let refs: Vec<(&str, tar::EntryType, &[u8])> =
        list.iter().map(|(p, d)| (p.as_str(), tar::EntryType::Regular, d.as_slice())).collect();
    pack(&refs)
}

#[test]
fn the_same_store_gives_the_same_bytes() {
    let (k, _) = key();
    let a = signed(&k);
    let b = signed(&k);
    assert_eq!(a, b);
    // Copies of the store with other mtimes and modes bundle to the same bytes too.
    let copy = std::env::temp_dir().join(format!("keycard-bundle-copy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&copy);
    std::fs::create_dir_all(&copy).unwrap();
    for e in std::fs::read_dir(store_dir()).unwrap() {
        let e = e.unwrap();
        if e.path().extension().is_some_and(|x| x == "json") {
            std::fs::copy(e.path(), copy.join(e.file_name())).unwrap();
        }
    }
    let c = bundle::build(&copy, Some("r1"), Some(&k), true).unwrap().bytes;
    std::fs::remove_dir_all(&copy).unwrap();
    assert_eq!(a, c);
    // The gzip header carries no time and no name; the tar entries no owner and no time.
    assert_eq!(&a[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(a.as_slice()));
    for e in archive.entries().unwrap() {
        let h = e.unwrap().header().clone();
        assert_eq!((h.mtime().unwrap(), h.uid().unwrap(), h.gid().unwrap(), h.mode().unwrap()), (0, 0, 0, 0o644));
    }
    // Without --revision, the revision follows the content.
    let r1 = bundle::build(&store_dir(), None, None, true).unwrap().revision;
    let r2 = bundle::build(&store_dir(), None, None, true).unwrap().revision;
    assert_eq!(r1, r2);
    assert_eq!(r1.len(), 12);
}

#[test]
fn a_bundle_loads_the_same_store_as_its_directory() {
    let (k, p) = key();
    let opened = open(&signed(&k), &p).unwrap();
    assert_eq!(opened.revision, "r1");
    assert_eq!(opened.verified_by.as_deref(), Some(p.id()));
    let names: Vec<&str> = opened.documents.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"account.json"), "{names:?}");
    let (from_bundle, info) = opened.clone().into_store().unwrap();
    assert_eq!(info.revision, "r1");
    let from_dir = Store::load(store_dir()).unwrap();
    assert_eq!(from_bundle.stats(), from_dir.stats());
    // Named by their paths inside the bundle: the snapshot id is the same on every replica.
    assert_eq!(from_bundle.id(), Store::from_documents(opened.documents).unwrap().id());
    let (a, b) = (Snapshot::new(from_bundle), Snapshot::new(from_dir));
    for (principal, action, resource) in [
        ("arn:aws:iam::111122223333:user/alice", "s3:GetObject", "arn:aws:s3:::reports/q1.csv"),
        ("arn:aws:iam::111122223333:user/alice", "s3:DeleteObject", "arn:aws:s3:::reports/q1.csv"),
        ("arn:aws:iam::111122223333:user/bob", "ec2:RunInstances", "*"),
    ] {
        let r = Request::new(principal, action, resource).unwrap();
        assert_eq!(a.authorize(&r).decision(), b.authorize(&r).decision(), "{principal} {action}");
    }
}

#[test]
fn keys_read_their_own_pem_and_openssl_style_pkcs8() {
    let (k, pem) = SigningKey::generate().unwrap();
    let again = SigningKey::from_pem(&pem).unwrap();
    assert_eq!(again.public(), k.public());
    let public = PublicKey::from_pem(&k.public().to_pem()).unwrap();
    assert_eq!(&public, k.public());
    // `openssl genpkey -algorithm ed25519` writes PKCS#8 v1 (RFC 8410's example key).
    let openssl = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
    let k = SigningKey::from_pem(openssl).unwrap();
    let public = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n";
    assert_eq!(k.public(), &PublicKey::from_pem(public).unwrap());
    assert!(matches!(PublicKey::from_pem("nothing"), Err(BundleError::Key(_))));
    assert!(matches!(PublicKey::from_pem(openssl), Err(BundleError::Key(_))), "a private key is no public key");
}

#[test]
fn signatures_are_required_when_a_key_is_configured() {
    let (k, p) = key();
    let (other, other_public) = key();
    let unsigned = bundle::build(&store_dir(), Some("r1"), None, true).unwrap().bytes;
    // Unsigned, with a key configured: refused, and the unsigned allowance cannot override it.
    let e = open(&unsigned, &p).unwrap_err();
    assert!(matches!(&e, BundleError::Signature(m) if m.contains("not signed")), "{e}");
    // Signed by a key that is not trusted.
    let e = open(&signed(&other), &p).unwrap_err();
    assert!(matches!(&e, BundleError::Signature(m) if m.contains(other_public.id())), "{e}");
    // Several trusted keys: either verifies (a rotation).
    let both = Trust::keys(vec![p.clone(), other_public.clone()]);
    for key in [&k, &other] {
        let opened = bundle::open(&signed(key), &both, &Limits::default()).unwrap();
        assert_eq!(opened.verified_by.as_deref(), Some(key.public().id()));
    }
    // No key and no allowance: refused. The allowance accepts unsigned, and signed without checking.
    let e = bundle::open(&unsigned, &Trust::default(), &Limits::default()).unwrap_err();
    assert!(matches!(e, BundleError::Signature(_)), "{e}");
    for bytes in [&unsigned, &signed(&k)] {
        let opened = bundle::open(bytes, &Trust::insecure_unsigned(), &Limits::default()).unwrap();
        assert_eq!(opened.verified_by, None);
    }
}

#[test]
fn a_changed_manifest_breaks_the_signature() {
    let (k, p) = key();
    let bytes = repack(&signed(&k), |list| {
        let m = &mut list.iter_mut().find(|(n, _)| n == bundle::MANIFEST).unwrap().1;
        *m = String::from_utf8(m.clone()).unwrap().replace("\"r1\"", "\"r2\"").into_bytes();
    });
    let e = open(&bytes, &p).unwrap_err();
    assert!(matches!(&e, BundleError::Signature(m) if m.contains("does not verify")), "{e}");
}

#[test]
fn every_file_must_match_the_manifest() {
    let (k, p) = key();
    let good = signed(&k);
    // A changed file, same size: named, hash mismatch.
    let bytes = repack(&good, |list| {
        let d = &mut list.iter_mut().find(|(n, _)| n == "account.json").unwrap().1;
        let i = d.iter().position(|&b| b == b'a').unwrap();
        d[i] = b'b';
    });
    let e = open(&bytes, &p).unwrap_err();
    assert!(
        matches!(&e, BundleError::Entry { path, reason } if path == "account.json" && reason.contains("SHA-256")),
        "{e}"
    );
    // A file not in the manifest (even one the directory loader would skip).
    for extra in ["extra.json", ".hidden.json", "notes.txt"] {
        let bytes = repack(&good, |list| list.push((extra.into(), b"{}".to_vec())));
        let e = open(&bytes, &p).unwrap_err();
        assert!(
            matches!(&e, BundleError::Entry { path, reason } if path == extra && reason.contains("not in the manifest")),
            "{e}"
        );
    }
    // A manifest entry missing.
    let bytes = repack(&good, |list| list.retain(|(n, _)| n != "resources.json"));
    let e = open(&bytes, &p).unwrap_err();
    assert!(
        matches!(&e, BundleError::Entry { path, reason } if path == "resources.json" && reason.contains("missing")),
        "{e}"
    );
    // No manifest at all.
    let bytes = repack(&good, |list| list.retain(|(n, _)| n != bundle::MANIFEST));
    assert!(matches!(open(&bytes, &p), Err(BundleError::Corrupt(m)) if m.contains("manifest")));
}

#[test]
fn unsafe_entries_are_refused() {
    let p = key().1;
    let reg = tar::EntryType::Regular;
    let cases: [(&str, tar::EntryType); 9] = [
        ("../escape.json", reg),
        ("a/../../escape.json", reg),
        ("/etc/escape.json", reg),
        ("./a.json", reg),
        ("a//b.json", reg),
        ("link.json", tar::EntryType::Symlink),
        ("hard.json", tar::EntryType::Link),
        ("dev.json", tar::EntryType::Char),
        ("dir", tar::EntryType::Directory),
    ];
    for (path, kind) in cases {
        let bytes = pack(&[(path, kind, b"{}")]);
        let e = open(&bytes, &p).unwrap_err();
        assert!(matches!(&e, BundleError::Entry { path: at, .. } if at == path), "{path}: {e}");
    }
    let bytes = pack(&[("a.json", reg, b"{}"), ("a.json", reg, b"{}")]);
    let e = open(&bytes, &p).unwrap_err();
    assert!(matches!(&e, BundleError::Entry { reason, .. } if reason.contains("twice")), "{e}");
}

#[test]
fn limits_truncation_and_trailing_bytes_are_refused() {
    let (k, p) = key();
    let trust = Trust::keys(vec![p.clone()]);
    let good = signed(&k);
    let small = Limits { max_compressed: 1000, ..Limits::default() };
    assert!(matches!(bundle::open(&good, &trust, &small), Err(BundleError::TooLarge(_))));
    // A gzip bomb: 64 MiB of zeros in one entry, against a 1 MiB decompressed limit.
    let zeros = vec![0u8; 64 << 20];
    let bomb = pack(&[("big.json", tar::EntryType::Regular, &zeros)]);
    assert!(bomb.len() < 1 << 20);
    let limits = Limits { max_uncompressed: 1 << 20, ..Limits::default() };
    assert!(matches!(bundle::open(&bomb, &trust, &limits), Err(BundleError::TooLarge(_))));
    let many: Vec<(String, Vec<u8>)> = (0..20).map(|i| (format!("{i}.json"), b"{}".to_vec())).collect();
    let refs: Vec<_> = many.iter().map(|(n, d)| (n.as_str(), tar::EntryType::Regular, d.as_slice())).collect();
    let limits = Limits { max_entries: 10, ..Limits::default() };
    assert!(matches!(bundle::open(&pack(&refs), &trust, &limits), Err(BundleError::TooLarge(_))));
    // Truncated anywhere: refused, whatever byte the download stopped at.
    for cut in [1, 8, 9, 100, good.len() / 2, good.len() - 9, good.len() - 1] {
        let e = open(&good[..good.len() - cut], &p).unwrap_err();
        assert!(matches!(e, BundleError::Corrupt(_) | BundleError::Entry { .. }), "cut {cut}: {e}");
    }
    let mut trailing = good.clone();
    trailing.extend_from_slice(b"junk");
    assert!(matches!(open(&trailing, &p), Err(BundleError::Corrupt(m)) if m.contains("after the end")));
    assert!(matches!(open(b"{\"not\": \"a bundle\"}", &p), Err(BundleError::Corrupt(_))));
    assert!(open(&good, &p).is_ok());
}

#[test]
fn no_flipped_byte_changes_what_is_accepted() {
    let (k, p) = key();
    let good = signed(&k);
    let original = open(&good, &p).unwrap();
    // Every 3rd byte after the 10-byte gzip header (whose time, extra flags and OS bytes carry no
    // content), each flipped alone: refused, or (a bit deflate does not use, e.g. in a code
    // length it never needs) decompressed to exactly the same files, checked by the gzip CRC.
    let mut refused = 0;
    for i in (10..good.len()).step_by(3).chain([0, 1, 2]) {
        let mut bad = good.clone();
        bad[i] ^= 0x01;
        match open(&bad, &p) {
            Err(_) => refused += 1,
            Ok(o) => assert!(
                o.documents == original.documents && o.revision == original.revision,
                "byte {i} flipped changed what was accepted"
            ),
        }
    }
    assert!(refused > good.len() / 3 * 9 / 10, "{refused} refused");
}

#[test]
fn a_store_that_does_not_load_is_not_bundled() {
    let dir = std::env::temp_dir().join(format!("keycard-bundle-bad-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("bad.json"), "{\"UserDetailList\": 3}").unwrap();
    let e = bundle::build(&dir, None, None, true).unwrap_err();
    let unchecked = bundle::build(&dir, None, None, false).unwrap();
    assert_eq!(unchecked.files, 1, "without the check, the files are only packed");
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(e.problems().iter().any(|p| p.file().ends_with("bad.json")), "{e}");
}

#[test]
fn a_live_bundle_source_keeps_the_last_good_bundle() {
    use keycard::live::{Live, Source};
    use std::sync::Arc;
    let (k, p) = key();
    let dir = std::env::temp_dir().join(format!("keycard-bundle-live-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("store.tar.gz");
    std::fs::write(&file, signed(&k)).unwrap();
    assert!(bundle::is_bundle_file(&file));
    assert!(!bundle::is_bundle_file(&store_dir().join("account.json")));
    let source = Source::Bundle { path: file.clone(), trust: Arc::new(Trust::keys(vec![p.clone()])) };
    let live = Live::open(source, keycard::live::Config::new()).unwrap();
    let first = live.current_arc().unwrap();
    let info = first.bundle().cloned().unwrap();
    assert_eq!((info.revision.as_str(), info.verified_by.as_deref()), ("r1", Some(p.id())));
    // Replaced by a bundle from an unknown key: refused, the last good one serves on.
    std::fs::write(&file, signed(&key().0)).unwrap();
    let e = live.reload_now().unwrap_err();
    assert_eq!(e.kind(), keycard::ProblemKind::Bundle, "{e}");
    assert!(Arc::ptr_eq(&live.current_arc().unwrap(), &first));
    let failure = live.last_error().unwrap();
    assert_eq!(failure.error(), &e, "last_error keeps the load error itself");
    assert!(failure.message().contains("store.tar.gz"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_external_source_publishes_what_its_caller_gives() {
    use keycard::live::{Live, Source};
    let live = Live::start(Source::External("bundle test".into()), keycard::live::Config::new()).unwrap();
    live.reload_now().unwrap(); // nothing to read: no error, nothing published
    assert!(live.current().is_none());
    let e = bundle::open(b"nope", &Trust::insecure_unsigned(), &Limits::default()).unwrap_err();
    live.fail(e.into_load_error("http://bundles/x.tar.gz"));
    assert!(live.last_error().unwrap().message().contains("http://bundles/x.tar.gz"));
    let (k, p) = key();
    let (store, info) = open(&signed(&k), &p).unwrap().into_store().unwrap();
    live.publish(store, Some(info));
    assert_eq!(live.current_arc().unwrap().bundle().unwrap().revision, "r1");
    assert!(live.last_error().is_none());
    live.fail(bundle::BundleError::Read("down".into()).into_load_error("u"));
    assert!(live.current().is_some(), "a failure keeps the last good snapshot");
    live.clear_error();
    assert!(live.last_error().is_none());
}
