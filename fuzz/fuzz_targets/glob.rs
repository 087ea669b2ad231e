//! Wildcard semantics against a regex oracle, through the public API only.
//!
//! A pattern of characters from a small alphabet (regex metacharacters, `:`, `/`, `$`, Latin-1
//! letters) plus `*` and `?` becomes the one statement of alice's inline policy, either as
//! `Action` (case-insensitive; the service prefix may hold wildcards too) or as `Resource`
//! (case-sensitive; there also the escapes `${*}`, `${?}`, `${$}` and the variable
//! `${aws:username}` appear). Candidate names are built from the pattern (each wildcard filled in,
//! letters' case flipped) or drawn freely. The decision must be `allowed` exactly when the
//! `regex` crate matches the anchored translation: `*` → `.*`, `?` → `.`, literals escaped; for
//! actions each ASCII letter becomes `[xX]` (IAM folds ASCII case; non-ASCII letters compare
//! exactly, as keycard lowercases with `to_ascii_lowercase`). Snapshot and reference must agree.
//!
//! `Debug` of the input prints each case as regression JSON (with `"expect"`); save one under
//! `core/tests/fuzz_regressions/glob/` and `cargo test` replays it.

#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use keycard::{Decision, Request, Snapshot, Store};
use keycard_fuzz::{bounded, check_agreement, Rendered};
use libfuzzer_sys::{fuzz_target, Corpus};
use serde_json::json;

const ACCOUNT: &str = "111122223333";
/// The caller's user name: `${aws:username}` substitutes it, and its `.` must stay literal.
const USER: &str = "a.b";

/// Literal characters patterns and names are made of. No whitespace (requests reject it); no `{`
/// (`${` would start a policy variable, which the tokens below produce on purpose); no digits (a
/// 12-digit account field would make the request cross-account, denied without a resource policy).
const ALPHABET: [char; 18] =
    ['a', 'b', 'A', 'B', 'z', ':', '/', '.', '-', '$', '+', '(', '[', '\\', '|', '}', 'é', 'É'];

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Tok {
    Char(u8),
    Star,
    One,
    /// `${*}`: a literal `*` (resources only).
    EscStar,
    /// `${?}`: a literal `?` (resources only).
    EscOne,
    /// `${$}`: a literal `$` (resources only).
    EscDollar,
    /// `${aws:username}`: the caller's name, literal (resources only).
    UserVar,
}

#[derive(Arbitrary, Debug, Clone)]
enum NameSpec {
    /// The pattern with every wildcard replaced by characters from `fill` (and, when `flip`,
    /// letters' case changed at the positions its bits say).
    FromPattern { fill: Vec<u8>, flip: u32 },
    /// Free characters (`*` and `?` included: a request may name them literally).
    Free(Vec<u8>),
}

#[derive(Arbitrary, Debug, Clone)]
struct Spec {
    resource: bool,
    /// Resource mode: `arn:aws:s3:::` before the pattern (else just `arn:`).
    s3_prefix: bool,
    pattern: Vec<Tok>,
    names: Vec<NameSpec>,
}

fn alpha(i: u8) -> char {
    ALPHABET[usize::from(i) % ALPHABET.len()]
}

/// One checked case: the policy pattern, the name asked about, the oracle's answer.
struct Check {
    rendered: Rendered,
}

/// Renders a spec into cases (one per valid candidate name).
fn cases(spec: &Spec) -> Vec<Check> {
    let resource = spec.resource;
    let mut toks: Vec<Tok> = spec
        .pattern
        .iter()
        .take(24)
        .copied()
        .filter(|t| resource || matches!(t, Tok::Char(_) | Tok::Star | Tok::One))
        .collect();
    // The fixed part every pattern and name starts with.
    let prefix: String = if resource {
        if spec.s3_prefix { "arn:aws:s3:::" } else { "arn:" }.to_owned()
    } else if toks.iter().any(|t| matches!(t, Tok::Char(c) if alpha(*c) == ':')) {
        String::new()
    } else {
        "svc:".to_owned()
    };
    // keycard (like IAM) allows variables only after the fifth colon of a resource ARN.
    if let Some(first_var) = toks.iter().position(|t| matches!(t, Tok::UserVar)) {
        let colons = prefix.matches(':').count()
            + toks[..first_var].iter().filter(|t| matches!(t, Tok::Char(c) if alpha(*c) == ':')).count();
        if colons < 5 {
            toks.retain(|t| !matches!(t, Tok::UserVar));
        }
    }

    // The policy text and the oracle regex.
    let mut text = prefix.clone();
    let mut re = String::from("(?s)\\A");
    let lit = |re: &mut String, c: char| {
        if !resource && c.is_ascii_alphabetic() {
            re.push_str(&format!("[{}{}]", c.to_ascii_lowercase(), c.to_ascii_uppercase()));
        } else {
            re.push_str(&regex::escape(&c.to_string()));
        }
    };
    for c in prefix.chars() {
        lit(&mut re, c);
    }
    for t in &toks {
        match *t {
            Tok::Char(i) => {
                text.push(alpha(i));
                lit(&mut re, alpha(i));
            }
            Tok::Star => {
                text.push('*');
                re.push_str(".*");
            }
            Tok::One => {
                text.push('?');
                re.push('.');
            }
            Tok::EscStar => {
                text.push_str("${*}");
                re.push_str("\\*");
            }
            Tok::EscOne => {
                text.push_str("${?}");
                re.push_str("\\?");
            }
            Tok::EscDollar => {
                text.push_str("${$}");
                re.push_str("\\$");
            }
            Tok::UserVar => {
                text.push_str("${aws:username}");
                re.push_str(&regex::escape(USER));
            }
        }
    }
    re.push_str("\\z");
    let oracle = regex::Regex::new(&re).expect("the translation is a valid regex");

    let statement = if resource {
        json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": text})
    } else {
        json!({"Effect": "Allow", "Action": text, "Resource": "*"})
    };
    let store = json!({
        "AccountId": ACCOUNT,
        "UserDetailList": [{"UserName": USER, "Path": "/", "UserPolicyList": [{"PolicyName": "Glob",
            "PolicyDocument": {"Version": "2012-10-17", "Statement": statement}}]}]
    });

    let mut out = Vec::new();
    for n in spec.names.iter().take(4) {
        let mut name = prefix.clone();
        match n {
            NameSpec::FromPattern { fill, flip } => {
                let mut fill = fill.iter().copied().cycle().take(64);
                for (pos, t) in toks.iter().enumerate() {
                    match *t {
                        Tok::Char(i) => {
                            let c = alpha(i);
                            let flipped = flip & (1 << (pos % 32)) != 0;
                            name.push(if flipped && c.is_ascii_lowercase() {
                                c.to_ascii_uppercase()
                            } else if flipped {
                                c.to_ascii_lowercase()
                            } else {
                                c
                            });
                        }
                        Tok::Star => {
                            for _ in 0..fill.next().map_or(0, |l| l % 4) {
                                name.push(fill.next().map_or('x', alpha));
                            }
                        }
                        Tok::One => name.push(fill.next().map_or('x', alpha)),
                        Tok::EscStar => name.push('*'),
                        Tok::EscOne => name.push('?'),
                        Tok::EscDollar => name.push('$'),
                        Tok::UserVar => name.push_str(USER),
                    }
                }
            }
            NameSpec::Free(chars) => {
                for &i in chars.iter().take(24) {
                    name.push(match i % 24 {
                        20 => '*',
                        21 => '?',
                        22 => '{',
                        _ => alpha(i),
                    });
                }
            }
        }
        let request = if resource {
            json!({"principal": format!("arn:aws:iam::{ACCOUNT}:user/{USER}"), "action": "s3:GetObject", "resource": name})
        } else {
            json!({"principal": format!("arn:aws:iam::{ACCOUNT}:user/{USER}"), "action": name, "resource": "*"})
        };
        let expect = if oracle.is_match(&name) { Decision::Allowed } else { Decision::ImplicitDeny };
        out.push(Check {
            rendered: Rendered {
                documents: vec![("account.json".into(), store.clone())],
                request,
                expect: Some(expect),
            },
        });
    }
    out
}

/// The fuzz input: the rendered cases. `Debug` prints them as regression JSON.
struct Case(Vec<Check>);

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for c in &self.0 {
            writeln!(f, "{:?}", c.rendered)?;
        }
        Ok(())
    }
}

impl<'a> Arbitrary<'a> for Case {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Case(cases(&Spec::arbitrary(u)?)))
    }

    fn arbitrary_take_rest(u: Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Case(cases(&bounded::<Spec>(u)?)))
    }
}

fuzz_target!(|case: Case| -> Corpus {
    if case.0.is_empty() {
        return Corpus::Reject;
    }
    let mut any = false;
    for check in &case.0 {
        let r = &check.rendered;
        let store = Store::from_documents(r.documents.iter().map(|(n, d)| (n.clone(), d.to_string())));
        let store = store.unwrap_or_else(|e| panic!("a generated pattern must load: {e}\n{r:?}"));
        // A name the request parser refuses (no service, whitespace, not an ARN) is not a case.
        let Ok(request) = Request::from_value(&r.request) else { continue };
        any = true;
        let decision = check_agreement(&Snapshot::new(store), &request, r);
        assert_eq!(
            Some(decision),
            r.expect,
            "keycard (left) and the regex oracle (right) disagree; reproducer:\n{r:?}"
        );
    }
    if any {
        Corpus::Keep
    } else {
        Corpus::Reject
    }
});
