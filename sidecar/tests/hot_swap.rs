//! Hot swap under load: while client threads send requests on keep-alive connections, the store
//! is edited in place, replaced by rename, gains and loses files, is replaced as a whole
//! directory, and (in its own test) is updated the way Kubernetes updates a ConfigMap volume.
//! Every request must succeed, and every answer must be the decision of the snapshot it names,
//! never a mix. A broken edit must leave the last good snapshot serving.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{temp_dir, Client, Server};
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const REQUEST: &str =
    r#"{"principal": "arn:aws:iam::111122223333:user/bob", "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}"#;

/// An account where bob's one inline policy has `effect` on `s3:GetObject`; `marker` makes
/// otherwise equal versions differ (so each version is a new snapshot).
fn account(effect: &str, marker: &str) -> String {
    format!(
        r#"{{"AccountId": "111122223333", "UserDetailList": [{{"UserName": "bob", "Path": "/",
          "UserPolicyList": [{{"PolicyName": "P", "PolicyDocument": {{"Version": "2012-10-17", "Statement": [
            {{"Sid": "{marker}", "Effect": "{effect}", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}}]}}}}]}}]}}"#
    )
}

/// An organization whose SCPs allow everything but `s3:GetObject`.
const DENY_SCP: &str = r#"{"Organization": {"ManagementAccount": "999999999999",
  "Accounts": [{"Id": "999999999999", "Parents": ["r-root"]}, {"Id": "111122223333", "Parents": ["r-root"]}],
  "ServiceControlPolicies": [
    {"Name": "FullAWSAccess", "Targets": ["r-root", "111122223333"],
     "Policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}},
    {"Name": "NoReads", "Targets": ["r-root"],
     "Policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}]}}]}}"#;

/// What the store at `dir` should decide, keyed by the snapshot id keycard computes for it.
struct Expected(Mutex<HashMap<String, &'static str>>);

impl Expected {
    fn new() -> Arc<Expected> {
        Arc::new(Expected(Mutex::new(HashMap::new())))
    }

    /// Records that the store now at `dir` decides `decision`; returns its snapshot id.
    fn record(&self, dir: &Path, decision: &'static str) -> String {
        let id = keycard::Store::load(dir).unwrap().id().to_owned();
        self.0.lock().unwrap().insert(id.clone(), decision);
        id
    }

    fn get(&self, id: &str) -> Option<&'static str> {
        self.0.lock().unwrap().get(id).copied()
    }
}

/// Client threads that send [`REQUEST`] until stopped and check every answer against
/// [`Expected`], counting the answers of each snapshot in `seen`.
struct Load {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<HashMap<String, usize>>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(server: &Server, expected: &Arc<Expected>, clients: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(HashMap::new()));
        let threads = (0..clients)
            .map(|i| {
                let (addr, stop, expected) = (server.addr.clone(), Arc::clone(&stop), Arc::clone(expected));
                let seen = Arc::clone(&seen);
                std::thread::spawn(move || {
                    let mut client = Client::connect(&addr);
                    // Half the clients reconnect for every request, half keep one connection.
                    let reconnect = i % 2 == 1;
                    while !stop.load(Ordering::Relaxed) {
                        if reconnect {
                            client = Client::connect(&addr);
                        }
                        let r = client
                            .try_request("POST", "/v1/authorize", Some(REQUEST.as_bytes()))
                            .unwrap_or_else(|e| panic!("request failed during a swap: {e}"));
                        assert_eq!(r.status, 200, "a request failed during a swap: {}", r.text());
                        let answer = r.json();
                        let id = answer["snapshot"].as_str().unwrap().to_owned();
                        let want = expected
                            .get(&id)
                            .unwrap_or_else(|| panic!("answer from a snapshot no version produced: {answer}"));
                        assert_eq!(answer["decision"], want, "answer does not match its snapshot {id}");
                        *seen.lock().unwrap().entry(id).or_default() += 1;
                    }
                })
            })
            .collect();
        Load { stop, seen, threads }
    }

    /// Waits (up to a generous 60 s) until the clients have had [`ANSWERS_PER_SNAPSHOT`] answers
    /// from snapshot `id`; a client that stopped (its check failed) fails the test at once.
    fn await_answers(&self, id: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let n = self.seen.lock().unwrap().get(id).copied().unwrap_or(0);
            if n >= ANSWERS_PER_SNAPSHOT {
                return;
            }
            assert!(!self.threads.iter().any(|t| t.is_finished()), "a client stopped (see its panic above)");
            assert!(Instant::now() < deadline, "{n} answers from snapshot {id} in 60 s");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Stops the clients (a failed check fails the test here) and returns the answers per snapshot.
    fn finish(self) -> HashMap<String, usize> {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            t.join().unwrap();
        }
        let seen = self.seen.lock().unwrap().clone();
        seen
    }
}

/// Answers each snapshot must give the clients before the store changes again.
const ANSWERS_PER_SNAPSHOT: usize = 20;

/// Waits until the server serves `id`, then until the clients have had answers from it.
fn await_snapshot(server: &Server, load: &Load, id: &str) {
    server.wait_for(&format!("snapshot {id}"), |s| s.snapshot_id().as_deref() == Some(id));
    load.await_answers(id);
}

#[test]
fn swaps_under_load_never_fail_a_request_or_mix_snapshots() {
    let root = temp_dir("swap");
    let store = root.join("store");
    std::fs::create_dir_all(&store).unwrap();
    let expected = Expected::new();
    std::fs::write(store.join("account.json"), account("Allow", "v1")).unwrap();
    let v1 = expected.record(&store, "allowed");

    let server = Server::start("swap", &["--policies", store.to_str().unwrap()]);
    server.wait_ready();
    assert_eq!(server.snapshot_id().as_deref(), Some(v1.as_str()));
    let load = Load::start(&server, &expected, 4);
    load.await_answers(&v1);

    // 1. Edited in place.
    std::fs::write(store.join("account.json"), account("Deny", "v2")).unwrap();
    let v2 = expected.record(&store, "explicitDeny");
    await_snapshot(&server, &load, &v2);

    // 2. An editor's write-to-temp-then-rename (the hidden temp file is never loaded).
    std::fs::write(store.join(".account.json.swp"), account("Allow", "v3")).unwrap();
    std::fs::rename(store.join(".account.json.swp"), store.join("account.json")).unwrap();
    let v3 = expected.record(&store, "allowed");
    await_snapshot(&server, &load, &v3);

    // 3. A file added (an SCP that denies the read)...
    std::fs::write(store.join("organization.json"), DENY_SCP).unwrap();
    let v4 = expected.record(&store, "explicitDeny");
    await_snapshot(&server, &load, &v4);

    // 4. ...and deleted again.
    std::fs::remove_file(store.join("organization.json")).unwrap();
    let v5 = expected.record(&store, "allowed");
    assert_eq!(v5, v3, "the same files are the same snapshot");
    await_snapshot(&server, &load, &v5);

    // 5. The whole directory replaced.
    let staged = root.join("store.new");
    std::fs::create_dir_all(&staged).unwrap();
    std::fs::write(staged.join("account.json"), account("Deny", "v6")).unwrap();
    std::fs::write(staged.join("organization.json"), DENY_SCP).unwrap();
    std::fs::rename(&store, root.join("store.old")).unwrap();
    std::fs::rename(&staged, &store).unwrap();
    std::fs::remove_dir_all(root.join("store.old")).unwrap();
    let v6 = expected.record(&store, "explicitDeny");
    await_snapshot(&server, &load, &v6);

    // 6. The new directory is watched too: edit it in place.
    std::fs::write(store.join("account.json"), account("Allow", "v7")).unwrap();
    std::fs::remove_file(store.join("organization.json")).unwrap();
    let v7 = expected.record(&store, "allowed");
    await_snapshot(&server, &load, &v7);

    let seen = load.finish();
    for id in [&v1, &v2, &v3, &v6, &v7] {
        assert!(seen.get(id.as_str()).copied().unwrap_or(0) > 0, "no answer from {id}: {seen:?}");
    }
    assert!(server.metric("keycard_reloads_total") >= 7.0);
    let _ = std::fs::remove_dir_all(&root);
}

/// Lays out `files` the way the kubelet writes a ConfigMap volume: a timestamped directory, the
/// `..data` symlink swapped to it atomically (via `..data_tmp` and rename), and one symlink per
/// key pointing through `..data`.
fn configmap_update(mount: &Path, generation: u32, files: &[(&str, String)]) {
    let stamp = format!("..2026_11_23_10_00_00.{generation:09}");
    let dir = mount.join(&stamp);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let old = std::fs::read_link(mount.join("..data")).ok();
    let tmp = mount.join("..data_tmp");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(&stamp, &tmp).unwrap();
    std::fs::rename(&tmp, mount.join("..data")).unwrap();
    for (name, _) in files {
        let link = mount.join(name);
        if std::fs::symlink_metadata(&link).is_err() {
            std::os::unix::fs::symlink(Path::new("..data").join(name), &link).unwrap();
        }
    }
    // Keys that are gone lose their symlinks; the old generation is removed.
    for entry in std::fs::read_dir(mount).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with("..") && !files.iter().any(|(n, _)| *n == name) {
            std::fs::remove_file(entry.path()).unwrap();
        }
    }
    if let Some(old) = old {
        std::fs::remove_dir_all(mount.join(old)).unwrap();
    }
}

#[test]
fn configmap_volume_updates_swap_under_load() {
    let root = temp_dir("configmap");
    let mount = root.join("policies");
    std::fs::create_dir_all(&mount).unwrap();
    let expected = Expected::new();
    configmap_update(&mount, 1, &[("account.json", account("Allow", "c1"))]);
    let c1 = expected.record(&mount, "allowed");

    let server = Server::start("configmap", &["--policies", mount.to_str().unwrap()]);
    server.wait_ready();
    assert_eq!(server.snapshot_id().as_deref(), Some(c1.as_str()));
    let load = Load::start(&server, &expected, 4);
    load.await_answers(&c1);

    configmap_update(&mount, 2, &[("account.json", account("Deny", "c2"))]);
    let c2 = expected.record(&mount, "explicitDeny");
    await_snapshot(&server, &load, &c2);

    configmap_update(&mount, 3, &[("account.json", account("Allow", "c3")), ("organization.json", DENY_SCP.into())]);
    let c3 = expected.record(&mount, "explicitDeny");
    await_snapshot(&server, &load, &c3);

    configmap_update(&mount, 4, &[("account.json", account("Allow", "c4"))]);
    let c4 = expected.record(&mount, "allowed");
    await_snapshot(&server, &load, &c4);

    let seen = load.finish();
    for id in [&c1, &c2, &c3, &c4] {
        assert!(seen.get(id.as_str()).copied().unwrap_or(0) > 0, "no answer from {id}: {seen:?}");
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_broken_edit_keeps_the_last_good_snapshot_until_fixed() {
    let dir = temp_dir("broken");
    std::fs::write(dir.join("account.json"), account("Allow", "g1")).unwrap();
    let expected = Expected::new();
    let good = expected.record(&dir, "allowed");
    let server = Server::start("broken", &["--policies", dir.to_str().unwrap()]);
    server.wait_ready();
    let load = Load::start(&server, &expected, 2);
    load.await_answers(&good);

    // Invalid JSON, then a policy with a grammar error: both rejected, both reported.
    for (i, broken) in [
        "{\"AccountId\": \"111122223333\", \"UserDetailList\": [".to_owned(),
        account("Allow", "g2").replace("\"Effect\": \"Allow\"", "\"Effect\": \"Alow\""),
    ]
    .into_iter()
    .enumerate()
    {
        std::fs::write(dir.join("account.json"), broken).unwrap();
        server.wait_for("the failed reload", |s| s.metric("keycard_reload_failures_total") >= (i + 1) as f64);
        let snap = server.get("/v1/snapshot").json();
        assert_eq!(snap["snapshot"], good.as_str(), "the last good snapshot still serves");
        let err = snap["lastError"].as_str().unwrap();
        assert!(err.contains("account.json"), "the error names the file: {err}");
        if i == 1 {
            assert!(err.contains("/Effect"), "the error names the JSON pointer: {err}");
        }
        assert_eq!(server.get("/readyz").status, 200, "still ready");
    }

    // The next good edit recovers.
    std::fs::write(dir.join("account.json"), account("Deny", "g3")).unwrap();
    let fixed = expected.record(&dir, "explicitDeny");
    await_snapshot(&server, &load, &fixed);
    assert!(server.get("/v1/snapshot").json()["lastError"].is_null());
    let seen = load.finish();
    assert!(seen.get(good.as_str()).copied().unwrap_or(0) > 0 && seen.get(fixed.as_str()).copied().unwrap_or(0) > 0);
    let _ = std::fs::remove_dir_all(&dir);
}
