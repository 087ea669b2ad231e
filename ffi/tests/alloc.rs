//! `keycard_authorize` allocates nothing once warm, without a context and with a small one: each
//! thread refills one request in place, and a context is read straight from the caller's text
//! into that request's buffers. Counted with allocation-counter's global allocator (per thread)
//! around in-process calls of the entry point, on a stream of distinct requests.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use keycard::{keycard_authorize, keycard_engine_free, keycard_engine_open, KEYCARD_ALLOWED};
use std::ffi::CString;

#[test]
fn warm_calls_allocate_nothing_with_or_without_a_context() {
    let dir = std::env::temp_dir().join(format!("keycard-ffi-alloc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("account.json"),
        r#"{"AccountId": "111122223333", "UserDetailList": [
          {"UserName": "alice", "UserPolicyList": [{"PolicyName": "P", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:Get*", "Resource": "arn:aws:s3:::reports/*"},
            {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/secret/*"}]}}]},
          {"UserName": "bob", "UserPolicyList": [{"PolicyName": "P", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "sqs:*", "Resource": "*", "Condition": {
              "Bool": {"aws:SecureTransport": "false"}}},
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {
              "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}, "ForAnyValue:StringLike": {"aws:TagKeys": "team*"},
              "NumericLessThan": {"s3:max-keys": "100"}}}]}}]}]}"#,
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
    // Small contexts of every value type, escapes, lists, keys in any case, and a principal key
    // the request may state (dropped), as a caller's contexts vary from call to call.
    let contexts: Vec<CString> = [
        r#"{"aws:SourceIp": "10.1.2.3", "aws:SecureTransport": true, "s3:max-keys": 10}"#,
        r#"{"AWS:SourceIP": "10.9.9.9", "aws:TagKeys": ["teamA", "x\u00e9"], "s3:max-keys": 99}"#,
        r#"{"aws:SecureTransport": false, "aws:SourceIp": "203.0.113.7"}"#,
        r#"{"aws:SourceIp": "10.0.0.1", "s3:max-keys": 5, "aws:TagKeys": [], "aws:PrincipalIsAWSService": true}"#,
        r#"{}"#,
    ]
    .map(|s| CString::new(s).unwrap())
    .to_vec();
    let call = |[p, a, r]: &[CString; 3], context: Option<&CString>| {
        let context = context.map_or(std::ptr::null(), |c| c.as_ptr());
        // SAFETY: a live engine and NUL-terminated strings (or a NULL context).
        unsafe { keycard_authorize(engine, p.as_ptr(), a.as_ptr(), r.as_ptr(), context) }
    };
    // Warm up this thread's request: its buffers grow to the longest strings of the stream.
    let long =
        [calls[0][0].clone(), calls[0][1].clone(), CString::new(format!("arn:aws:s3:::{}", "x".repeat(64))).unwrap()];
    call(&long, None);
    for (i, c) in calls.iter().take(20).enumerate() {
        call(c, Some(&contexts[i % contexts.len()]));
        call(c, None);
    }
    let mut allowed = [0; 2];
    for (i, c) in calls[20..].iter().enumerate() {
        let context = &contexts[i % contexts.len()];
        for (k, context) in [None, Some(context)].into_iter().enumerate() {
            let mut code = 0;
            let info = allocation_counter::measure(|| code = call(c, context));
            assert!(code >= 0, "error {code} on {c:?} {context:?}");
            assert_eq!(info.count_total, 0, "{c:?} with {context:?} allocated {} times", info.count_total);
            allowed[k] += usize::from(code == KEYCARD_ALLOWED);
        }
    }
    assert!(allowed[0] > 50, "only {} allowed: the stream lost its power", allowed[0]);
    assert!(allowed[1] > allowed[0], "the contexts allowed nothing more: they were not read ({allowed:?})");
    // SAFETY: the engine from keycard_engine_open, freed once.
    unsafe { keycard_engine_free(engine) };
    std::fs::remove_dir_all(&dir).ok();
}
