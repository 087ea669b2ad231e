//! Whether a policy's resource pattern can name a resource of a given type: do two wildcard
//! patterns (the policy's `*`/`?`/`${var}` and the ARN format's `${Placeholder}`s) have an ARN
//! in common? A placeholder or a policy variable counts as `*`, so the answer errs towards
//! "fits": a resource reported as fitting nothing fits nothing.

use crate::policy::glob::{Piece, Template, Tok};
use std::borrow::Cow;

/// An ARN format (`arn:${Partition}:s3:::${BucketName}/${ObjectName}`) as tokens.
pub(crate) fn format_tokens(format: &str) -> Vec<Tok> {
    let mut out = Vec::with_capacity(format.len());
    let mut rest = format;
    while let Some(c) = rest.chars().next() {
        if let Some(end) = rest.strip_prefix("${").and_then(|r| r.find('}')) {
            out.push(Tok::Star);
            rest = rest.get(end + 3..).unwrap_or("");
            continue;
        }
        out.push(Tok::Lit(c));
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// A policy resource template as tokens; a policy variable counts as `*`.
pub(crate) fn template_tokens(t: &Template) -> Cow<'_, [Tok]> {
    let mut out = Vec::new();
    for p in t.pieces() {
        match p {
            Piece::Text(s) => out.extend(s.chars().map(Tok::Lit)),
            Piece::Star | Piece::Var { .. } => out.push(Tok::Star),
            Piece::One => out.push(Tok::One),
        }
    }
    Cow::Owned(out)
}

/// Whether some ARN matches both patterns. When both have the six fields of an ARN, field by
/// field (a placeholder never spans a `:`); otherwise as whole strings.
pub(crate) fn intersect(format: &[Tok], resource: &[Tok]) -> bool {
    match (fields(format), fields(resource)) {
        (Some(f), Some(r)) => f.iter().zip(&r).all(|(f, r)| intersect_glob(f, r)),
        _ => intersect_glob(format, resource),
    }
}

/// The six fields of an ARN-shaped pattern (the last keeps its colons).
fn fields(toks: &[Tok]) -> Option<[&[Tok]; 6]> {
    let mut out: [&[Tok]; 6] = [&[]; 6];
    let mut rest = toks;
    for slot in out.iter_mut().take(5) {
        let i = rest.iter().position(|t| *t == Tok::Lit(':'))?;
        *slot = rest.get(..i)?;
        rest = rest.get(i + 1..)?;
    }
    out[5] = rest;
    Some(out)
}

/// Whether some string matches both patterns: dynamic programming over (position in `a`,
/// position in `b`), from the ends.
fn intersect_glob(a: &[Tok], b: &[Tok]) -> bool {
    let (n, m) = (a.len(), b.len());
    let w = m + 1;
    let mut reach = vec![false; (n + 1) * w];
    for i in (0..=n).rev() {
        for j in (0..=m).rev() {
            let at = |i: usize, j: usize| reach.get(i * w + j).copied().unwrap_or(false);
            let v = match (a.get(i), b.get(j)) {
                (None, None) => true,
                (Some(Tok::Star), _) | (_, Some(Tok::Star)) if i < n && j < m => {
                    at(i + 1, j) || at(i, j + 1) || (a[i] == Tok::Star && b[j] == Tok::Star && at(i + 1, j + 1))
                }
                (Some(Tok::Star), None) => at(i + 1, j),
                (None, Some(Tok::Star)) => at(i, j + 1),
                (None, _) | (_, None) => false,
                (Some(Tok::Lit(x)), Some(Tok::Lit(y))) => x == y && at(i + 1, j + 1),
                _ => at(i + 1, j + 1),
            };
            if let Some(slot) = reach.get_mut(i * w + j) {
                *slot = v;
            }
        }
    }
    reach.first().copied().unwrap_or(false)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::policy::glob::Vars;

    fn fits(format: &str, resource: &str) -> bool {
        let t = Template::parse(resource, true, Vars::Allowed).unwrap();
        intersect(&format_tokens(format), &template_tokens(&t))
    }

    #[test]
    fn resources_fit_formats() {
        let object = "arn:${Partition}:s3:::${BucketName}/${ObjectName}";
        let bucket = "arn:${Partition}:s3:::${BucketName}";
        assert!(fits(object, "arn:aws:s3:::reports/*"));
        assert!(fits(object, "arn:aws:s3:::reports/${aws:username}/*"));
        assert!(fits(object, "*"));
        assert!(fits(object, "arn:aws:s3:::*"));
        assert!(fits(bucket, "arn:aws:s3:::reports"));
        assert!(!fits(object, "arn:aws:s3:::reports"), "a bucket is not an object");
        assert!(!fits(object, "arn:aws:ec2:*:*:instance/*"));
        assert!(fits("arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}", "arn:aws:iam::11112222333?:role/*"));
        assert!(!fits("arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}", "arn:aws:iam::1:user/x"));
    }
}
