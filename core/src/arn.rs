//! ARN fields and account ids, read the same way by the loader, the policy parser, requests and
//! the evaluators (`docs/semantics.md#arns-and-limits`). One copy, so that what counts as an
//! account id cannot differ between the store and a request.

/// Whether `s` is an AWS account id: exactly twelve ASCII digits.
pub(crate) fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// The account field (5th) of an ARN, when it is not empty.
pub(crate) fn arn_account(arn: &str) -> Option<&str> {
    // `arn.split(':').nth(4)`, as one pass over the bytes (this runs on every decision).
    let mut field = 0;
    let mut start = 0;
    for (i, b) in arn.bytes().enumerate() {
        if b == b':' {
            if field == 4 {
                return arn.get(start..i).filter(|a| !a.is_empty());
            }
            field += 1;
            start = i + 1;
        }
    }
    if field == 4 {
        arn.get(start..).filter(|a| !a.is_empty())
    } else {
        None
    }
}

/// `arn.splitn(6, ':')` when it gives six fields, as one pass over the bytes.
pub(crate) fn arn_fields(arn: &str) -> Option<[&str; 6]> {
    let mut out = [""; 6];
    let mut rest = arn;
    for slot in out.iter_mut().take(5) {
        let i = rest.bytes().position(|b| b == b':')?;
        let (field, tail) = rest.split_at_checked(i)?;
        *slot = field;
        rest = tail.get(1..)?;
    }
    if let Some(last) = out.last_mut() {
        *last = rest;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_fields_split_like_the_standard_library() {
        for arn in [
            "arn:aws:iam::111122223333:user/alice",
            "arn:aws:s3:::b/k:with:colons",
            "arn:aws:iam::1:root",
            "arn:aws:iam::1",
            "arn:aws:iam:",
            "a:b:c:d:e:",
            ":::::",
            "",
            "arn:aws:sts::1:assumed-role/r/s",
            "arné:ü:::x:y",
        ] {
            let std: Vec<&str> = arn.splitn(6, ':').collect();
            assert_eq!(arn_fields(arn).map(Vec::from), (std.len() == 6).then_some(std), "{arn}");
            assert_eq!(arn_account(arn), arn.split(':').nth(4).filter(|a| !a.is_empty()), "{arn}");
        }
    }

    #[test]
    fn account_ids_are_twelve_ascii_digits() {
        assert!(is_account_id("111122223333"));
        assert!(is_account_id("000000000000"));
        for bad in
            ["11112222333", "1111222233334", "11112222333a", "", "aws", "１１１１２２２２３３３３", "11112222333 "]
        {
            assert!(!is_account_id(bad), "{bad:?}");
        }
    }
}
