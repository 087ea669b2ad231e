//! A hot swap frees the old snapshot: once the last reader of a snapshot lets go, the snapshot
//! (store and index) is gone, and a thousand swaps leave the process's memory where it was.
//!
//! Alone in its test binary (and one test), so that the resident set it reads from
//! `/proc/self/statm` is this test's.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use keycard::live::{Live, Source};
use keycard::{Decision, Request};
use std::sync::{Arc, Weak};

/// A store of `users` users with five statements each: large enough that keeping every
/// swapped-out snapshot would grow the process by far more than the tolerance below, small
/// enough that a thousand loads stay quick in a debug build.
fn store(users: usize) -> String {
    let mut list = Vec::new();
    for i in 0..users {
        list.push(format!(
            r#"{{"UserName": "u{i}", "Path": "/", "UserPolicyList": [{{"PolicyName": "P{i}", "PolicyDocument": {{
                "Version": "2012-10-17", "Statement": [
                {{"Effect": "Allow", "Action": ["s3:Get*", "s3:ListBucket"], "Resource": ["arn:aws:s3:::data-{i}", "arn:aws:s3:::data-{i}/*"]}},
                {{"Effect": "Allow", "Action": "dynamodb:*Item", "Resource": "arn:aws:dynamodb:*:111122223333:table/t-{i}*",
                  "Condition": {{"IpAddress": {{"aws:SourceIp": "10.{m}.0.0/16"}}}}}},
                {{"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::data-{i}/locked/*"}},
                {{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:111122223333:q-{i}"}},
                {{"Effect": "Allow", "NotAction": "iam:*", "Resource": "arn:aws:s3:::home-{i}/${{aws:username}}/*"}}]}}}}]}}"#,
            m = i % 256
        ));
    }
    format!(r#"{{"AccountId": "111122223333", "UserDetailList": [{}]}}"#, list.join(","))
}

/// Resident set size, bytes (`/proc/self/statm`, second field, in pages).
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[test]
fn a_thousand_swaps_keep_memory_flat_and_free_each_old_snapshot() {
    let docs: Arc<[(String, String)]> = Arc::from(vec![("account.json".to_owned(), store(40))]);
    let live = Live::open(Source::Documents(docs), keycard::live::Config::new()).unwrap();
    let request = Request::new("arn:aws:iam::111122223333:user/u7", "s3:GetObject", "arn:aws:s3:::data-7/k").unwrap();

    // A reader holds the first snapshot across swaps: it stays alive and keeps answering.
    let held = live.current_arc().unwrap();
    let held_weak: Weak<_> = Arc::downgrade(&held);
    let mut weak_of_previous: Option<Weak<_>> = None;
    let mut after_warm_up = 0;
    for i in 0..1_050 {
        live.reload_now().unwrap();
        // Nobody reads the snapshot swapped out just now (except `held`, the first one): gone.
        if let Some(w) = weak_of_previous.take() {
            assert!(w.upgrade().is_none(), "swap {i}: the previous snapshot is still alive");
        }
        let current = live.current_arc().unwrap();
        assert_eq!(current.snapshot().decide(&request), Decision::Allowed);
        weak_of_previous = Some(Arc::downgrade(&current));
        drop(current);
        if i == 49 {
            after_warm_up = rss();
        }
    }
    assert_eq!(held.snapshot().decide(&request), Decision::Allowed);
    assert!(held_weak.upgrade().is_some(), "a snapshot with a reader was freed");
    drop(held);
    assert!(held_weak.upgrade().is_none(), "the first snapshot outlived its last reader");

    let after = rss();
    // One snapshot of this store holds about 100 KB; keeping the thousand swapped out would
    // hold about 100 MB.
    let tolerance = 16 << 20;
    assert!(
        after <= after_warm_up + tolerance,
        "RSS grew from {} KB after 50 swaps to {} KB after 1,050",
        after_warm_up >> 10,
        after >> 10
    );
}
