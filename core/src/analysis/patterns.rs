//! Resource patterns as sets of ARNs: whether one pattern's ARNs all fit another (so that an
//! allow can be narrowed by a boundary or an SCP without ever widening it), and a pattern's text
//! back from its tokens.

use crate::policy::glob::{Glob, OwnedPart, Tok};

/// Whether every text that `inner` matches is matched by `outer`: `outer`'s `*` takes any run of
/// `inner`'s tokens, its `?` one literal or `?`, its literals the same literal. Sound (never
/// `true` when some text fits `inner` but not `outer`); it answers `false` for the rare pairs
/// whose inclusion needs reasoning across several wildcards, which only makes an analysis
/// narrower.
pub(crate) fn covers(outer: &[Tok], inner: &[Tok]) -> bool {
    if outer == [Tok::Star] || outer == inner {
        return true;
    }
    if !outer.iter().any(|t| matches!(t, Tok::Star | Tok::One)) {
        return false; // a literal covers only itself
    }
    // The literal heads must agree (most pairs of ARN patterns part there).
    for (o, i) in outer.iter().zip(inner) {
        match (o, i) {
            (Tok::Lit(a), Tok::Lit(b)) if a != b => return false,
            (Tok::Lit(_), _) => {}
            _ => break,
        }
    }
    // dp[j]: outer[..i] matches inner[..j]; two rows, swapped as i advances.
    let n = inner.len();
    let mut dp = vec![false; n + 1];
    let mut next = vec![false; n + 1];
    dp[0] = true;
    for o in outer {
        next[0] = false;
        match o {
            Tok::Star => {
                let mut any = false;
                for j in 0..=n {
                    any |= dp[j];
                    next[j] = any;
                }
            }
            Tok::One => {
                for j in 1..=n {
                    next[j] = dp[j - 1] && matches!(inner[j - 1], Tok::Lit(_) | Tok::One);
                }
            }
            Tok::Lit(c) => {
                for j in 1..=n {
                    next[j] = dp[j - 1] && inner[j - 1] == Tok::Lit(*c);
                }
            }
        }
        std::mem::swap(&mut dp, &mut next);
    }
    dp[n]
}

/// The pattern text of `toks` (literal `*` and `?` cannot be told from wildcards in IAM's
/// pattern syntax either, so the text is what a policy would say).
pub(crate) fn text<G: Glob + ?Sized>(pattern: &G) -> String {
    pattern
        .owned()
        .iter()
        .map(|p| match p {
            OwnedPart::Lit(s) => &**s,
            OwnedPart::Star => "*",
            OwnedPart::One => "?",
        })
        .collect()
}

/// The tokens of pattern text (`*` and `?` as wildcards).
pub(crate) fn tokens(text: &str) -> Vec<Tok> {
    text.chars()
        .map(|c| match c {
            '*' => Tok::Star,
            '?' => Tok::One,
            c => Tok::Lit(c),
        })
        .collect()
}

/// The patterns of `a` ∩ `b` that can be written as patterns of either side: each pattern of
/// `a` that some pattern of `b` covers, and each pattern of `b` that some pattern of `a` covers
/// (deduplicated). Pairs that only partly overlap are left out: the result never holds a text
/// outside `a ∩ b`.
pub(crate) fn intersect(a: &[String], b: &[String]) -> Vec<String> {
    if b.iter().any(|x| x == "*") {
        return prune(a.to_vec());
    }
    if a.iter().any(|x| x == "*") {
        return prune(b.to_vec());
    }
    let (ta, tb): (Vec<_>, Vec<_>) = (a.iter().map(|s| tokens(s)).collect(), b.iter().map(|s| tokens(s)).collect());
    let mut out: Vec<String> = Vec::new();
    for (s, t) in a.iter().zip(&ta) {
        if tb.iter().any(|o| covers(o, t)) && !out.contains(s) {
            out.push(s.clone());
        }
    }
    for (s, t) in b.iter().zip(&tb) {
        if ta.iter().any(|o| covers(o, t)) && !out.contains(s) {
            out.push(s.clone());
        }
    }
    prune(out)
}

/// `list` without the patterns that another of its patterns covers (of equal ones, the first
/// stays).
pub(crate) fn prune(list: Vec<String>) -> Vec<String> {
    if list.len() < 2 {
        return list;
    }
    // `outer` covers `inner` only if `inner` starts with `outer`'s literal head (the text before
    // its first wildcard), and a pattern without wildcards covers only itself: most pairs are
    // settled on the text, without tokens.
    let heads: Vec<(&str, bool)> = list
        .iter()
        .map(|s| match s.find(['*', '?']) {
            Some(at) => (s.get(..at).unwrap_or_default(), true),
            None => (s.as_str(), false),
        })
        .collect();
    let covers_at = |j: usize, i: usize| match (heads.get(j), list.get(j), list.get(i)) {
        (Some(&(head, wild)), Some(outer), Some(inner)) => {
            if !wild || !inner.starts_with(head) {
                outer == inner
            } else {
                covers(&tokens(outer), &tokens(inner))
            }
        }
        _ => false,
    };
    let redundant = |i: usize| (0..list.len()).any(|j| j != i && covers_at(j, i) && (j < i || !covers_at(i, j)));
    let keep: Vec<bool> = (0..list.len()).map(|i| !redundant(i)).collect();
    list.into_iter().zip(keep).filter(|(_, k)| *k).map(|(s, _)| s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(outer: &str, inner: &str) -> bool {
        covers(&tokens(outer), &tokens(inner))
    }

    #[test]
    fn covering_is_inclusion_of_the_matched_texts() {
        assert!(c("*", "arn:aws:s3:::b/*"));
        assert!(c("arn:aws:s3:::b/*", "arn:aws:s3:::b/x*"));
        assert!(c("arn:aws:s3:::b/*", "arn:aws:s3:::b/"));
        assert!(c("arn:aws:s3:::b/?", "arn:aws:s3:::b/?"));
        assert!(!c("arn:aws:s3:::b/?", "arn:aws:s3:::b/*"));
        assert!(!c("arn:aws:s3:::b/x*", "arn:aws:s3:::b/*"));
        assert!(!c("arn:aws:s3:::a*", "arn:aws:s3:::*b"));
        assert!(c("a*b", "a**b"));
    }

    #[test]
    fn intersection_keeps_the_narrower_side_and_drops_partial_overlaps() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(intersect(&s(&["*"]), &s(&["arn:aws:s3:::b/*"])), s(&["arn:aws:s3:::b/*"]));
        assert_eq!(intersect(&s(&["arn:aws:s3:::b/x"]), &s(&["arn:aws:s3:::b/*"])), s(&["arn:aws:s3:::b/x"]));
        assert!(intersect(&s(&["arn:aws:s3:::a*"]), &s(&["arn:aws:s3:::*b"])).is_empty());
        assert_eq!(intersect(&s(&["*", "a"]), &s(&["*"])), s(&["*"]));
    }
}
