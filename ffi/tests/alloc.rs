//! `keycard_authorize` without a context allocates nothing: each thread refills one request in
//! place. Counted with allocation-counter's global allocator (per thread) around in-process calls
//! of the entry point, on a stream of distinct requests.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use keycard::{keycard_authorize, keycard_engine_free, keycard_engine_open, KEYCARD_ALLOWED};
use std::ffi::CString;

#[test]
fn context_free_calls_allocate_nothing() {
    let dir = std::env::temp_dir().join(format!("keycard-ffi-alloc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("account.json"),
        r#"{"AccountId": "111122223333", "UserDetailList": [
          {"UserName": "alice", "UserPolicyList": [{"PolicyName": "P", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::reports/*"},
            {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/secret/*"}]}}]},
          {"UserName": "bob", "UserPolicyList": [{"PolicyName": "P", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}}]}]}"#,
    )
    .unwrap();
    let path = CString::new(dir.to_str().unwrap()).unwrap();
    // SAFETY: a NUL-terminated path.
    let engine = unsafe { keycard_engine_open(path.as_ptr(), 0) };
    assert!(!engine.is_null());
    let users = ["alice", "bob", "carol"];
    let actions = ["s3:GetObject", "S3:GetObjectAcl", "sqs:SendMessage", "s3:PutObject"];
    let calls: Vec<[CString; 3]> = (0..600)
        .map(|i| {
            let user = users[i % 3];
            let action = actions[(i / 3) % 4];
            let resource = match i % 5 {
                0 => format!("arn:aws:s3:::reports/secret/r{i}"),
                1 => format!("arn:aws:sqs:us-east-1:111122223333:q{i}"),
                _ => format!("arn:aws:s3:::reports/{i}/r"),
            };
            [format!("arn:aws:iam::111122223333:user/{user}"), action.to_owned(), resource]
                .map(|s| CString::new(s).unwrap())
        })
        .collect();
    let call = |[p, a, r]: &[CString; 3]| {
        // SAFETY: a live engine and NUL-terminated strings; a NULL context.
        unsafe { keycard_authorize(engine, p.as_ptr(), a.as_ptr(), r.as_ptr(), std::ptr::null()) }
    };
    // Warm up this thread's request: its buffers grow to the longest strings of the stream.
    let long =
        [calls[0][0].clone(), calls[0][1].clone(), CString::new(format!("arn:aws:s3:::{}", "x".repeat(64))).unwrap()];
    call(&long);
    for c in calls.iter().take(20) {
        call(c);
    }
    let mut allowed = 0;
    for c in &calls[20..] {
        let mut code = 0;
        let info = allocation_counter::measure(|| code = call(c));
        assert!(code >= 0, "error {code}");
        assert_eq!(info.count_total, 0, "{:?} allocated {} times", c, info.count_total);
        allowed += usize::from(code == KEYCARD_ALLOWED);
    }
    assert!(allowed > 50, "only {allowed} allowed: the stream lost its power");
    // SAFETY: the engine from keycard_engine_open, freed once.
    unsafe { keycard_engine_free(engine) };
    std::fs::remove_dir_all(&dir).ok();
}
