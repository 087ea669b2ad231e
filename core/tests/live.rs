//! `keycard::live`: a store kept up to date on disk, as the sidecar and the C ABI use it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use keycard::live::{Config, Event, Live, Source};
use keycard::{Decision, Request};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keycard-live-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn account(effect: &str) -> String {
    format!(
        r#"{{"AccountId": "111122223333", "UserDetailList": [{{"UserName": "bob", "Path": "/",
          "UserPolicyList": [{{"PolicyName": "P", "PolicyDocument": {{"Version": "2012-10-17", "Statement": [
            {{"Effect": "{effect}", "Action": "s3:GetObject", "Resource": "*"}}]}}}}]}}]}}"#
    )
}

fn decide(live: &Live) -> Option<Decision> {
    let request = Request::new("arn:aws:iam::111122223333:user/bob", "s3:GetObject", "arn:aws:s3:::b/k").unwrap();
    live.current().as_ref().map(|l| l.snapshot().decide(&request))
}

fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if cond() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for {what}");
}

/// Counters of published and failed loads, and a config whose observer counts them.
fn counting() -> (Arc<AtomicUsize>, Arc<AtomicUsize>, Config) {
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (o, f) = (Arc::clone(&ok), Arc::clone(&failed));
    let observer = Config::new().observer(move |e: &Event<'_>| match e {
        Event::Published { .. } => {
            o.fetch_add(1, Ordering::SeqCst);
        }
        Event::Failed { .. } => {
            f.fetch_add(1, Ordering::SeqCst);
        }
        Event::WatchProblem(m) => panic!("{m}"),
        other => panic!("unexpected {other:?}"),
    });
    (ok, failed, observer)
}

#[test]
fn open_loads_at_once_then_follows_edits_and_keeps_the_last_good_snapshot() {
    let dir = temp_dir("open");
    std::fs::write(dir.join("a.json"), account("Allow")).unwrap();
    let (ok, failed, observer) = counting();
    let live = Live::open(Source::Path(dir.clone()), observer.watch(true)).unwrap();
    assert_eq!(decide(&live), Some(Decision::Allowed), "loaded before open returns");
    assert_eq!(ok.load(Ordering::SeqCst), 1);

    std::fs::write(dir.join("a.json"), account("Deny")).unwrap();
    wait_for("the edit", || decide(&live) == Some(Decision::ExplicitDeny));

    std::fs::write(dir.join("a.json"), "{ broken").unwrap();
    wait_for("the failure", || failed.load(Ordering::SeqCst) == 1);
    assert_eq!(decide(&live), Some(Decision::ExplicitDeny), "the last good snapshot serves");
    assert!(live.last_error().unwrap().message().contains("a.json"));

    std::fs::write(dir.join("a.json"), account("Allow")).unwrap();
    wait_for("the recovery", || decide(&live) == Some(Decision::Allowed));
    assert!(live.last_error().is_none());
    drop(live); // stops the thread and the watcher
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn open_fails_on_a_broken_store_and_start_waits_for_a_good_one() {
    let dir = temp_dir("start");
    std::fs::write(dir.join("a.json"), "[]").unwrap();
    let (_, _, observer) = counting();
    let err = Live::open(Source::Path(dir.clone()), observer.watch(false)).unwrap_err();
    assert!(err.problems().iter().any(|p| p.file().contains("a.json")), "{err}");

    let (ok, failed, observer) = counting();
    let live = Live::start(Source::Path(dir.clone()), observer.watch(true)).unwrap();
    wait_for("the first failure", || failed.load(Ordering::SeqCst) == 1);
    assert!(live.current().is_none(), "not ready until loaded");
    std::fs::write(dir.join("a.json"), account("Allow")).unwrap();
    wait_for("the first load", || ok.load(Ordering::SeqCst) == 1);
    assert_eq!(decide(&live), Some(Decision::Allowed));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn documents_in_memory_reload_on_request() {
    let docs: Arc<[(String, String)]> = vec![("a.json".to_owned(), account("Deny"))].into();
    let (ok, _, observer) = counting();
    let live = Live::open(Source::Documents(docs), observer.watch(false)).unwrap();
    assert_eq!(decide(&live), Some(Decision::ExplicitDeny));
    let first = live.current_arc().unwrap();
    live.reload();
    wait_for("the forced reload", || ok.load(Ordering::SeqCst) == 2);
    let second = live.current_arc().unwrap();
    assert!(!Arc::ptr_eq(&first, &second), "a new snapshot was published");
    assert_eq!(first.snapshot().id(), second.snapshot().id(), "same documents, same id");
}

#[test]
fn reload_now_publishes_before_it_returns_and_reports_a_broken_store() {
    let dir = temp_dir("reload-now");
    std::fs::write(dir.join("a.json"), account("Allow")).unwrap();
    let (ok, failed, observer) = counting();
    let live = Live::open(Source::Path(dir.clone()), observer.watch(false)).unwrap();
    std::fs::write(dir.join("a.json"), account("Deny")).unwrap();
    live.reload_now().unwrap();
    assert_eq!(decide(&live), Some(Decision::ExplicitDeny), "published before reload_now returns");
    std::fs::write(dir.join("a.json"), "{ broken").unwrap();
    let e = live.reload_now().unwrap_err();
    assert_eq!(e.kind(), keycard::ProblemKind::Json, "{e}");
    assert!(e.errors().any(|p| p.file().ends_with("a.json")), "{e}");
    assert_eq!(decide(&live), Some(Decision::ExplicitDeny), "the last good snapshot serves");
    assert_eq!((ok.load(Ordering::SeqCst), failed.load(Ordering::SeqCst)), (2, 1));
    drop(live);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_context_from_json_text() {
    let r = Request::new("arn:aws:iam::111122223333:user/bob", "s3:GetObject", "arn:aws:s3:::b/k").unwrap();
    assert!(r.clone().with_context_json(r#"{"aws:SourceIp": "203.0.113.7"}"#).is_ok());
    assert_eq!(r.clone().with_context_json("{ nope").unwrap_err().field(), "/context");
    assert_eq!(r.clone().with_context_json("[1]").unwrap_err().field(), "/context");
    assert_eq!(r.with_context_json(r#"{"aws:username": "x"}"#).unwrap_err().field(), "/context/aws:username");
}
