//! Bundles end to end: `keycard bundle build | verify | keygen`, `--policies FILE.tar.gz`, and a
//! fleet of `keycard serve --bundle-url` polling a real nginx (static files with ETags, over
//! HTTP and over HTTPS with a test CA made by the `openssl` CLI).
//!
//! nginx and openssl are needed; without them the nginx tests print a skip, unless
//! `KEYCARD_REQUIRE_TOOLS=1` or `CI` is set (as `.ci/run` does): then they fail (`common/tools.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{temp_dir, tools, Server, KEYCARD};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

/// A store whose one allow names its revision: alice may read `arn:aws:s3:::bN/*` in store N.
fn write_store(dir: &Path, n: u32) {
    std::fs::create_dir_all(dir).unwrap();
    let doc = serde_json::json!({"AccountId": "111122223333", "UserDetailList": [{"UserName": "alice", "Path": "/",
      "UserPolicyList": [{"PolicyName": "Read", "PolicyDocument": {"Version": "2012-10-17",
        "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::b{n}/*")}}}]}]});
    std::fs::write(dir.join("account.json"), doc.to_string()).unwrap();
}

/// `bundle` with one bit flipped, at the first position from the middle on where the flip
/// changes what it holds (a few deflate bits change nothing: the same files come out, which
/// the gzip CRC checks), so that the bundle must be refused.
fn flip_one_bit(bundle: &[u8], public: &Path) -> Vec<u8> {
    let key = keycard::bundle::PublicKey::from_file(public).unwrap();
    let trust = keycard::bundle::Trust::keys(vec![key]);
    (bundle.len() / 2..bundle.len())
        .map(|i| {
            let mut b = bundle.to_vec();
            b[i] ^= 0x01;
            b
        })
        .find(|b| keycard::bundle::open(b, &trust, &keycard::bundle::Limits::default()).is_err())
        .unwrap()
}

fn keycard(args: &[&str]) -> std::process::Output {
    Command::new(KEYCARD).args(args).output().unwrap()
}

fn run_ok(args: &[&str]) -> String {
    let out = keycard(args);
    assert!(out.status.success(), "keycard {args:?}: {}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    stdout(&out)
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `keycard bundle build` of store `n`, revision `rN`, signed with `key` (if any): its bytes.
fn build(work: &Path, n: u32, key: Option<&Path>) -> Vec<u8> {
    let store = work.join(format!("store{n}"));
    write_store(&store, n);
    let out = work.join(format!("b{n}.tar.gz"));
    let (store_s, out_s, rev) = (store.display().to_string(), out.display().to_string(), format!("r{n}"));
    let mut args = vec!["bundle", "build", &store_s, "-o", &out_s, "--revision", &rev];
    let key_s = key.map(|k| k.display().to_string());
    if let Some(k) = &key_s {
        args.extend(["--sign-key", k]);
    }
    run_ok(&args);
    std::fs::read(&out).unwrap()
}

/// `keycard bundle keygen` into `work`: (private, public).
fn keygen(work: &Path, name: &str) -> (PathBuf, PathBuf) {
    let (private, public) = (work.join(format!("{name}.key.pem")), work.join(format!("{name}.pub.pem")));
    run_ok(&["bundle", "keygen", &private.display().to_string(), &public.display().to_string()]);
    (private, public)
}

#[test]
fn the_bundle_commands_build_verify_and_load() {
    let work = temp_dir("bundle-cli");
    let (private, public) = keygen(&work, "k1");
    let (_, other) = keygen(&work, "k2");
    // keygen never overwrites.
    let again = keycard(&["bundle", "keygen", &private.display().to_string(), &work.join("x").display().to_string()]);
    assert_eq!(again.status.code(), Some(2));
    let a = build(&work, 1, Some(&private));
    let b = build(&work, 1, Some(&private));
    assert_eq!(a, b, "the same store gives the same bytes");
    let file = work.join("b1.tar.gz").display().to_string();
    let (public_s, other_s) = (public.display().to_string(), other.display().to_string());

    let out = keycard(&["bundle", "verify", &file, "--public-key", &public_s]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("revision r1"), "{}", stdout(&out));
    let out = keycard(&["bundle", "verify", &file, "--public-key", &other_s]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("signature: signed by key"), "{}", stdout(&out));
    let flipped = flip_one_bit(&a, &public);
    let bad = work.join("bad.tar.gz");
    std::fs::write(&bad, &flipped).unwrap();
    let out = keycard(&["bundle", "verify", &bad.display().to_string(), "--public-key", &public_s]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).starts_with("invalid: "), "{}", stdout(&out));

    // --policies FILE.tar.gz: refused without a key or the explicit flag; verified with a key.
    let out = keycard(&["validate", "--policies", &file]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("--bundle-public-key"), "{}", stdout(&out));
    let out = keycard(&["validate", "--policies", &file, "--bundle-public-key", &other_s]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("not trusted"), "{}", stdout(&out));
    run_ok(&["validate", "--policies", &file, "--bundle-public-key", &public_s]);
    let unsigned = build(&work, 2, None);
    std::fs::write(work.join("u.tar.gz"), unsigned).unwrap();
    let u = work.join("u.tar.gz").display().to_string();
    let out = keycard(&["validate", "--policies", &u, "--bundle-public-key", &public_s]);
    assert_eq!(out.status.code(), Some(1), "an unsigned bundle never loads when a key is given");
    let out = keycard(&["validate", "--policies", &u, "--bundle-insecure-unsigned"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("NOT verified"));
    let out = keycard(&["validate", "--policies", &u, "--bundle-insecure-unsigned", "--bundle-public-key", &public_s]);
    assert_eq!(out.status.code(), Some(2), "the two options conflict");

    let request = work.join("req.json");
    std::fs::write(
        &request,
        r#"{"principal": "arn:aws:iam::111122223333:user/alice", "action": "s3:GetObject", "resource": "arn:aws:s3:::b1/x"}"#,
    )
    .unwrap();
    let req = request.display().to_string();
    let out = keycard(&["authorize", "--policies", &file, "--bundle-public-key", &public_s, &req]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let out = keycard(&["authorize", "--policies", &file, "--bundle-public-key", &other_s, &req]);
    assert_eq!(out.status.code(), Some(2), "a refused bundle is an error, never a decision");
    let _ = std::fs::remove_dir_all(&work);
}

// ---- nginx ------------------------------------------------------------------------------------

/// Whether the tools are there; without them: skip, or fail when CI asks for them.
fn tools() -> Option<PathBuf> {
    let nginx = ["nginx", "/usr/sbin/nginx"].into_iter().find(|n| tools::runs(n, &["-v"])).map(PathBuf::from);
    match nginx {
        Some(n) if tools::runs("openssl", &["version"]) => Some(n),
        _ => {
            tools::missing("nginx or openssl", "apt-get install nginx openssl");
            None
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// nginx in one process (`master_process off`), serving `WORK/www` on `port` (and with TLS on
/// `tls_port` when given); killed on drop.
struct Nginx {
    child: Child,
    work: PathBuf,
}

impl Nginx {
    fn start(bin: &Path, work: &Path, port: u16, tls: Option<(u16, &Path, &Path)>) -> Nginx {
        std::fs::create_dir_all(work.join("tmp")).unwrap();
        std::fs::create_dir_all(work.join("www")).unwrap();
        let w = work.display();
        let tls_server = tls.map_or(String::new(), |(p, cert, key)| {
            format!(
                "server {{ listen 127.0.0.1:{p} ssl; ssl_certificate {}; ssl_certificate_key {}; root {w}/www; }}",
                cert.display(),
                key.display()
            )
        });
        let conf = format!(
            "master_process off; daemon off; pid {w}/nginx.pid; error_log {w}/error.log warn;
             events {{ worker_connections 64; }}
             http {{
               log_format polls '$status $connection_requests';
               access_log {w}/access.log polls;
               client_body_temp_path {w}/tmp/body; proxy_temp_path {w}/tmp/proxy;
               fastcgi_temp_path {w}/tmp/fastcgi; uwsgi_temp_path {w}/tmp/uwsgi; scgi_temp_path {w}/tmp/scgi;
               server {{ listen 127.0.0.1:{port}; root {w}/www; }}
               {tls_server}
             }}"
        );
        std::fs::write(work.join("nginx.conf"), conf).unwrap();
        let child = Command::new(bin)
            .args(["-p", &w.to_string(), "-e", &format!("{w}/error.log"), "-c", &format!("{w}/nginx.conf")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nginx did not start: {}", read(&work.join("error.log")));
            std::thread::sleep(Duration::from_millis(20));
        }
        Nginx { child, work: work.to_path_buf() }
    }

    /// Publishes `bytes` as `www/NAME` atomically (temporary file, then rename), with a new mtime
    /// so that nginx's ETag (mtime and size) changes even for a same-size file.
    fn publish(&self, name: &str, bytes: &[u8]) {
        publish(&self.work, name, bytes);
    }
}

fn publish(work: &Path, name: &str, bytes: &[u8]) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SECONDS: AtomicU64 = AtomicU64::new(1_700_000_000);
    let www = work.join("www");
    std::fs::create_dir_all(&www).unwrap();
    let temp = www.join(format!(".{name}.tmp"));
    std::fs::write(&temp, bytes).unwrap();
    let when = SystemTime::UNIX_EPOCH + Duration::from_secs(SECONDS.fetch_add(10, Ordering::Relaxed));
    std::fs::File::options().write(true).open(&temp).unwrap().set_modified(when).unwrap();
    std::fs::rename(&temp, www.join(name)).unwrap();
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn snapshot(s: &Server) -> serde_json::Value {
    s.get("/v1/snapshot").json()
}

fn revision(s: &Server) -> Option<String> {
    snapshot(s)["bundle"]["revision"].as_str().map(str::to_owned)
}

fn polls(s: &Server, result: &str) -> f64 {
    s.metric(&format!("keycard_bundle_polls_total{{result=\"{result}\"}}"))
}

/// Whether alice may read `arn:aws:s3:::bN/x`: the decision says which store serves.
fn reads(s: &Server, n: u32) -> bool {
    let body = format!(
        r#"{{"principal": "arn:aws:iam::111122223333:user/alice", "action": "s3:GetObject", "resource": "arn:aws:s3:::b{n}/x"}}"#
    );
    let r = s.post("/v1/authorize", &body);
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["decision"] == "allowed"
}

fn sidecar(name: &str, url: &str, public: &Path, cache: &Path, extra: &[&str]) -> Server {
    let (public, cache) = (public.display().to_string(), cache.display().to_string());
    let mut args = vec!["--bundle-url", url, "--bundle-public-key", &public, "--bundle-poll", "150ms"];
    args.extend(["--bundle-cache", &cache, "--bundle-max-bytes", "65536"]);
    args.extend(extra);
    Server::start(name, &args)
}

/// Waits until `server` serves revision `rN` and answers from store N.
fn wait_revision(server: &Server, n: u32) {
    let want = format!("r{n}");
    server.wait_for(&format!("revision {want}"), |s| revision(s).as_deref() == Some(want.as_str()));
    assert!(reads(server, n), "serving r{n}, deciding from store {n}");
}

/// Waits until a poll has failed after `failed_before` failures, with a last error that mentions
/// one of `what`; the last good revision `serving` must still serve.
fn wait_refused(server: &Server, failed_before: f64, what: &[&str], serving: u32) {
    server.wait_for(&format!("a refused poll ({what:?})"), |s| {
        polls(s, "failed") > failed_before
            && snapshot(s)["lastError"].as_str().is_some_and(|e| what.iter().any(|w| e.to_lowercase().contains(w)))
    });
    assert_eq!(revision(server), Some(format!("r{serving}")), "the last good bundle keeps serving");
    assert!(reads(server, serving));
    assert_eq!(server.get("/readyz").status, 200);
}

#[test]
fn a_fleet_follows_one_bundle_server() {
    let Some(nginx_bin) = tools() else { return };
    let work = temp_dir("bundle-fleet");
    let (k1, p1) = keygen(&work, "k1");
    let (k2, _) = keygen(&work, "k2");
    let port = free_port();
    let nginx = Nginx::start(&nginx_bin, &work.join("nginx"), port, None);
    let url = format!("http://127.0.0.1:{port}/store.tar.gz");
    let (cache_a, cache_b) = (work.join("cache-a"), work.join("cache-b"));

    // Nothing published yet, no cache: not ready, and the error says why.
    let a = sidecar("fleet-a", &url, &p1, &cache_a, &[]);
    let b = sidecar("fleet-b", &url, &p1, &cache_b, &[]);
    a.wait_for("a failed poll", |s| polls(s, "failed") >= 1.0);
    let ready = a.get("/readyz");
    assert_eq!(ready.status, 503);
    assert!(ready.text().contains("404"), "{}", ready.text());

    // The first bundle: both become ready with it.
    nginx.publish("store.tar.gz", &build(&work, 1, Some(&k1)));
    for s in [&a, &b] {
        wait_revision(s, 1);
        let snap = snapshot(s);
        assert_eq!(snap["bundle"]["url"], url.as_str());
        assert!(snap["bundle"]["etag"].as_str().is_some_and(|e| !e.is_empty()), "{snap}");
        let key_id = run_ok(&[
            "bundle",
            "verify",
            &work.join("b1.tar.gz").display().to_string(),
            "--public-key",
            &p1.display().to_string(),
        ]);
        let verified_by = snap["bundle"]["verifiedBy"].as_str().unwrap();
        assert!(key_id.contains(verified_by), "{key_id} / {snap}");
        assert_eq!(snap["lastError"], serde_json::Value::Null);
    }
    // Unchanged: 304s, counted, nothing republished.
    let updated = polls(&a, "updated");
    let seen = polls(&a, "notModified");
    a.wait_for("two 304s", |s| polls(s, "notModified") >= seen + 2.0);
    assert_eq!(polls(&a, "updated"), updated);
    // nginx answered those 304s, on a kept-alive connection (its second request or later).
    let log = read(&work.join("nginx/access.log"));
    assert!(log.lines().any(|l| l.strip_prefix("304 ").is_some_and(|n| n.parse::<u32>().unwrap() >= 2)), "{log}");

    // A new revision, while both answer a stream of requests: both converge on it, and not one
    // decision fails on the way (each is made whole from r1 or from r2).
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load: Vec<_> = [a.addr.clone(), b.addr.clone()]
        .into_iter()
        .map(|addr| {
            let stop = std::sync::Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut client = common::Client::connect(&addr);
                let body = r#"{"principal": "arn:aws:iam::111122223333:user/alice", "action": "s3:GetObject", "resource": "arn:aws:s3:::b2/x"}"#;
                let mut answered = 0u32;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let r = client.request("POST", "/v1/authorize", Some(body.as_bytes()));
                    assert_eq!(r.status, 200, "{}", r.text());
                    answered += 1;
                }
                answered
            })
        })
        .collect();
    nginx.publish("store.tar.gz", &build(&work, 2, Some(&k1)));
    wait_revision(&a, 2);
    wait_revision(&b, 2);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in load {
        assert!(t.join().unwrap() > 0);
    }
    assert_eq!(a.snapshot_id(), b.snapshot_id(), "the same bundle, the same snapshot id");

    // Refused, each: the last good bundle (r2) keeps serving.
    let good3 = build(&work, 3, Some(&k1));
    let flipped = flip_one_bit(&good3, &p1);
    // (A flipped byte inside the deflate stream may surface as a corrupt stream, a bad entry, a
    // hash mismatch or a bad signature: any refusal will do.)
    let cases: [(&str, Vec<u8>, &[&str]); 4] = [
        ("a flipped byte", flipped, &["corrupt", "sha-256", "signature", "store.tar.gz"]),
        ("an unknown key", build(&work, 3, Some(&k2)), &["not trusted"]),
        ("a truncated file", good3[..good3.len() * 2 / 3].to_vec(), &["corrupt", "truncated"]),
        ("an oversized file", [&good3[..], &vec![7u8; 70_000]].concat(), &["too large"]),
    ];
    for (what, bytes, error) in cases {
        let failed = polls(&a, "failed");
        nginx.publish("store.tar.gz", &bytes);
        eprintln!("publishing {what}");
        wait_refused(&a, failed, error, 2);
    }

    // The server goes down: decisions go on from r2.
    drop(nginx);
    let failed = polls(&a, "failed");
    wait_refused(&a, failed, &["connect"], 2);
    for _ in 0..50 {
        assert!(reads(&a, 2) && !reads(&a, 1));
    }

    // A restart with the server down serves the cached r2 at once.
    drop(a);
    let a = sidecar("fleet-a2", &url, &p1, &cache_a, &[]);
    a.wait_ready();
    assert_eq!(revision(&a), Some("r2".into()));
    assert!(reads(&a, 2));

    // The server comes back with r3: both converge.
    publish(&work.join("nginx"), "store.tar.gz", &good3);
    let _nginx = Nginx::start(&nginx_bin, &work.join("nginx"), port, None);
    wait_revision(&a, 3);
    wait_revision(&b, 3);
    assert_eq!(snapshot(&a)["lastError"], serde_json::Value::Null);
    let _ = std::fs::remove_dir_all(&work);
}

#[test]
fn https_with_a_test_ca() {
    let Some(nginx_bin) = tools() else { return };
    let work = temp_dir("bundle-tls");
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl").args(args).current_dir(&work).output().unwrap();
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    for ca in ["ca", "other-ca"] {
        let key = format!("{ca}.key");
        let pem = format!("{ca}.pem");
        let mut args = vec!["req", "-x509"];
        args.extend(ec);
        args.extend(["-keyout", &key, "-out", &pem, "-days", "2", "-subj", "/CN=keycard test CA"]);
        args.extend(["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"]);
        openssl(&args);
    }
    let mut args = vec!["req"];
    args.extend(ec);
    args.extend(["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]);
    openssl(&args);
    std::fs::write(
        work.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);

    let (k1, p1) = keygen(&work, "k1");
    let (port, tls_port) = (free_port(), free_port());
    let nginx = Nginx::start(
        &nginx_bin,
        &work.join("nginx"),
        port,
        Some((tls_port, &work.join("server.pem"), &work.join("server.key"))),
    );
    nginx.publish("store.tar.gz", &build(&work, 1, Some(&k1)));
    let url = format!("https://127.0.0.1:{tls_port}/store.tar.gz");
    let ca = work.join("ca.pem").display().to_string();
    let other = work.join("other-ca.pem").display().to_string();
    let good = sidecar("tls-good", &url, &p1, &work.join("cache-good"), &["--bundle-ca-file", &ca]);
    let wrong = sidecar("tls-wrong", &url, &p1, &work.join("cache-wrong"), &["--bundle-ca-file", &other]);
    wait_revision(&good, 1);
    wrong.wait_for("a refused TLS handshake", |s| polls(s, "failed") >= 1.0);
    let ready = wrong.get("/readyz");
    assert_eq!(ready.status, 503, "no cache and no good bundle: not ready");
    assert!(ready.text().contains("TLS"), "{}", ready.text());
    let _ = std::fs::remove_dir_all(&work);
}

/// A server that promises a whole bundle (`Content-Length`) and hangs up halfway: nginx never
/// does this on purpose, a dropped connection does.
#[test]
fn a_download_cut_short_is_refused() {
    use std::io::{Read, Write};
    let work = temp_dir("bundle-cut");
    let (k1, p1) = keygen(&work, "k1");
    let bundle = build(&work, 1, Some(&k1));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/store.tar.gz", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        for _ in 0..2 {
            let (mut conn, _) = listener.accept().unwrap();
            let mut head = [0u8; 4096];
            let _ = conn.read(&mut head).unwrap();
            let reply = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nETag: \"cut\"\r\n\r\n", bundle.len());
            conn.write_all(reply.as_bytes()).unwrap();
            conn.write_all(&bundle[..bundle.len() / 2]).unwrap();
        }
    });
    let s = sidecar("cut", &url, &p1, &work.join("cache"), &[]);
    s.wait_for("two refused polls", |s| polls(s, "failed") >= 2.0);
    server.join().unwrap();
    let ready = s.get("/readyz");
    assert_eq!(ready.status, 503);
    assert!(ready.text().contains("cut short"), "{}", ready.text());
    assert!(!work.join("cache/bundle.tar.gz").exists(), "nothing refused is cached");
    let _ = std::fs::remove_dir_all(&work);
}

/// `serve --policies FILE.tar.gz`: the bundle is verified at every load, and a replaced file is
/// reloaded like any store, a refused one keeping the last good snapshot.
#[test]
fn serve_reloads_a_bundle_file() {
    let work = temp_dir("bundle-file");
    let (k1, p1) = keygen(&work, "k1");
    let (k2, _) = keygen(&work, "k2");
    let served = work.join("served");
    publish(&served, "store.tar.gz", &build(&work, 1, Some(&k1)));
    let file = served.join("www/store.tar.gz").display().to_string();
    let s = Server::start("bundle-file", &["--policies", &file, "--bundle-public-key", &p1.display().to_string()]);
    s.wait_ready();
    wait_revision(&s, 1);
    let snap = snapshot(&s);
    assert_eq!((snap["bundle"]["url"].is_null(), snap["bundle"]["etag"].is_null()), (true, true), "{snap}");
    publish(&served, "store.tar.gz", &build(&work, 2, Some(&k1)));
    wait_revision(&s, 2);
    publish(&served, "store.tar.gz", &build(&work, 3, Some(&k2)));
    s.wait_for("the refused bundle", |s| snapshot(s)["lastError"].as_str().is_some_and(|e| e.contains("not trusted")));
    assert_eq!(revision(&s), Some("r2".into()));
    assert!(reads(&s, 2) && !reads(&s, 3));
    let _ = std::fs::remove_dir_all(&work);
}
