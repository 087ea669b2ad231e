//! IAM wildcard patterns and policy-variable templates.
//!
//! Actions, resources and the `String*Like` / `Arn*` condition values all share one shape: text
//! with `*` (any run, possibly empty) and `?` (exactly one character), anchored at both ends. In
//! Version 2012-10-17 documents they may also hold policy variables (`${aws:username}`,
//! `${aws:PrincipalTag/team, 'none'}`) and the escapes `${*}`, `${?}`, `${$}`.
//!
//! A [`Template`] is that text parsed once, kept compact because a store holds hundreds of
//! thousands of them: the text as written plus its pieces as byte ranges of that text (no second
//! copy of the text, nothing per character), and identical texts parsed through one [`Interner`]
//! share one allocation. Matching reads the text in place ([`match_parts`]: linear in the text,
//! no backtracking). [`Template::resolve_parts`] substitutes the variables of one request,
//! borrowed; substituted text is always literal, so it can never act as a wildcard.

use smallvec::SmallVec;
use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Deref;
use std::sync::Arc;

/// One element of a template, borrowed from it ([`Template::pieces`]); 24 bytes, so that a
/// template's pieces are cheap to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
    /// Literal text (escapes already applied).
    Text(&'a str),
    /// `*`: any run of characters.
    Star,
    /// `?`: exactly one character.
    One,
    /// `${key}` or `${key, 'default'}`.
    Var(Var<'a>),
}

/// A policy variable of a template ([`Piece::Var`]).
#[derive(Clone, Copy)]
pub(crate) struct Var<'a> {
    template: &'a TemplateData,
    slot: usize,
}

impl<'a> Var<'a> {
    /// The key, lowercased.
    pub(crate) fn key_lc(self) -> &'a str {
        match self.template.slots.get(self.slot) {
            Some(Slot::Var { key, .. }) => key.get(&self.template.extra),
            _ => "",
        }
    }

    /// The default (`${key, 'default'}`), if any.
    pub(crate) fn default(self) -> Option<&'a str> {
        match self.template.slots.get(self.slot) {
            Some(Slot::Var { default, .. }) => default.map(|d| d.get(&self.template.raw)),
            _ => None,
        }
    }
}

impl PartialEq for Var<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.key_lc() == other.key_lc() && self.default() == other.default()
    }
}

impl Eq for Var<'_> {}

impl std::fmt::Debug for Var<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Var").field("key_lc", &self.key_lc()).field("default", &self.default()).finish()
    }
}

/// A piece as the template's own functions read it, the variable spelled out.
#[derive(Clone, Copy)]
enum Elem<'a> {
    Text(&'a str),
    Star,
    One,
    Var { key_lc: &'a str, default: Option<&'a str> },
}

/// Where policy variables may appear in the text being parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Vars {
    /// A 2008-10-17 document: `${...}` is plain text.
    Literal,
    /// Variables and escapes are substituted.
    Allowed,
    /// A 2012-10-17 document where variables are not allowed: `${` is an error.
    Forbidden,
}

/// Multivalued global keys, which may not be used as policy variables
/// (`docs/semantics.md#set-qualifiers-and-multivalued-keys`, `#policy-variables`).
pub(crate) const MULTIVALUED_KEYS: [&str; 7] = [
    "aws:tagkeys",
    "aws:calledvia",
    "aws:principalorgpaths",
    "aws:resourceorgpaths",
    "aws:sourceorgpaths",
    "aws:vpceorgpaths",
    "aws:principalservicenameslist",
];

/// A byte range of a template's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: u32,
    end: u32,
}

impl Span {
    fn of(start: usize, end: usize) -> Result<Span, String> {
        match (u32::try_from(start), u32::try_from(end)) {
            (Ok(start), Ok(end)) => Ok(Span { start, end }),
            _ => Err("a pattern of 4 GiB or more".into()),
        }
    }

    fn get(self, text: &str) -> &str {
        text.get(self.start as usize..self.end as usize).unwrap_or_default()
    }
}

/// How a template stores a piece: literal text as a range of the text as written, or of
/// [`TemplateData::extra`] for a run holding an escape such as `${*}` (whose text differs from
/// what is written); a variable's lowercased key as a range of `extra` and its default as a
/// range of the text as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Text(Span),
    Escaped(Span),
    Star,
    One,
    Var { key: Span, default: Option<Span> },
}

/// A parsed pattern or template. A clone shares it: identical texts parsed through one
/// [`Interner`] are one allocation however many statements name them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template(Arc<TemplateData>);

/// What a [`Template`] holds.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TemplateData {
    /// The text as written in the policy.
    pub raw: String,
    /// Text that is not written as such: variables' lowercased keys, runs with escapes (empty
    /// for nearly every template).
    extra: Box<str>,
    slots: Box<[Slot]>,
    has_variables: bool,
}

impl Deref for Template {
    type Target = TemplateData;

    fn deref(&self) -> &TemplateData {
        &self.0
    }
}

/// A token of a pattern, one per character: what the load-time analyses (the catalog's resource
/// fit, lint) compare patterns with. Templates do not store them and decisions do not use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    Lit(char),
    Star,
    One,
}

/// [`Template::parse`]'s state: the slots so far, the start of the literal run being read and,
/// once that run holds an escape, its text.
struct Parser<'r> {
    raw: &'r str,
    slots: Vec<Slot>,
    extra: String,
    run: Option<usize>,
    escaped: Option<String>,
}

impl Parser<'_> {
    /// Ends the literal run (if any) at byte `at`.
    fn end_run(&mut self, at: usize) -> Result<(), String> {
        let start = self.run.take();
        if let Some(text) = self.escaped.take() {
            let from = self.extra.len();
            self.extra.push_str(&text);
            self.slots.push(Slot::Escaped(Span::of(from, self.extra.len())?));
        } else if let Some(start) = start {
            self.slots.push(Slot::Text(Span::of(start, at)?));
        }
        Ok(())
    }

    /// The escape `${c}` at byte `at`: `c` joins the literal run, which is from now on kept
    /// as text of its own.
    fn escape(&mut self, c: &str, at: usize) {
        let written = self.run.get_or_insert(at);
        let text = self.escaped.get_or_insert_with(|| self.raw.get(*written..at).unwrap_or_default().to_owned());
        text.push_str(c);
    }

    /// A literal character `c` at byte `at`.
    fn literal(&mut self, c: char, at: usize) {
        self.run.get_or_insert(at);
        if let Some(text) = &mut self.escaped {
            text.push(c);
        }
    }

    /// A `${...}` variable whose body (between `${` and `}`) starts at byte `at` of `raw`.
    fn variable(&mut self, body: &str, at: usize) -> Result<(), String> {
        let (key, default) = match body.split_once(',') {
            None => (body.trim(), None),
            Some((k, d)) => {
                let d = d.trim();
                let inner = d
                    .strip_prefix('\'')
                    .and_then(|d| d.strip_suffix('\''))
                    .ok_or_else(|| format!("policy variable default must be single-quoted text, found {d:?}"))?;
                // `inner` lies inside `body`, which starts at `at` in `raw`.
                let start = at + (inner.as_ptr() as usize - body.as_ptr() as usize);
                (k.trim(), Some(Span::of(start, start + inner.len())?))
            }
        };
        if key.is_empty() || key.contains(char::is_whitespace) || key.contains(['$', '{']) {
            return Err(format!("invalid policy variable ${{{body}}}"));
        }
        let key_lc = key.to_ascii_lowercase();
        if MULTIVALUED_KEYS.contains(&key_lc.as_str()) {
            return Err(format!("multivalued key {key} cannot be used as a policy variable"));
        }
        let start = self.extra.len();
        self.extra.push_str(&key_lc);
        self.slots.push(Slot::Var { key: Span::of(start, self.extra.len())?, default });
        Ok(())
    }
}

impl Template {
    /// Parses `raw`. With `wildcards` false, `*` and `?` are literal characters.
    pub(crate) fn parse(raw: &str, wildcards: bool, vars: Vars) -> Result<Template, String> {
        let mut p = Parser { raw, slots: Vec::new(), extra: String::new(), run: None, escaped: None };
        let mut at = 0;
        while let Some(rest) = raw.get(at..).filter(|r| !r.is_empty()) {
            if vars != Vars::Literal && rest.starts_with("${") {
                if vars == Vars::Forbidden {
                    return Err("policy variables are not allowed here".into());
                }
                let body_end = rest.find('}').ok_or_else(|| format!("unterminated policy variable in {raw:?}"))?;
                let body = rest.get(2..body_end).unwrap_or_default();
                match body {
                    "*" | "?" | "$" => p.escape(body, at),
                    _ => {
                        p.end_run(at)?;
                        p.variable(body, at + 2)?;
                    }
                }
                at += body_end + 1;
                continue;
            }
            let c = rest.chars().next().unwrap_or_default();
            match c {
                '*' | '?' if wildcards => {
                    p.end_run(at)?;
                    p.slots.push(if c == '*' { Slot::Star } else { Slot::One });
                }
                _ => p.literal(c, at),
            }
            at += c.len_utf8();
        }
        p.end_run(raw.len())?;
        let has_variables = p.slots.iter().any(|s| matches!(s, Slot::Var { .. }));
        Ok(Template(Arc::new(TemplateData {
            raw: raw.to_owned(),
            extra: p.extra.into_boxed_str(),
            slots: p.slots.into_boxed_slice(),
            has_variables,
        })))
    }

    /// Whether `other` is this very template (one allocation), as the [`Interner`] shares them.
    #[cfg(test)]
    pub(crate) fn is_shared_with(&self, other: &Template) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The pieces, borrowed from the template, in order (built on each call: bind the result
    /// rather than calling again).
    pub(crate) fn pieces(&self) -> SmallVec<[Piece<'_>; 4]> {
        let data: &TemplateData = self;
        let mut out = SmallVec::with_capacity(self.slots.len());
        for (slot, s) in self.slots.iter().enumerate() {
            out.push(match *s {
                Slot::Text(r) => Piece::Text(r.get(&self.raw)),
                Slot::Escaped(r) => Piece::Text(r.get(&self.extra)),
                Slot::Star => Piece::Star,
                Slot::One => Piece::One,
                Slot::Var { .. } => Piece::Var(Var { template: data, slot }),
            });
        }
        out
    }

    fn piece_iter(&self) -> impl Iterator<Item = Elem<'_>> + '_ {
        self.slots.iter().map(|s| match *s {
            Slot::Text(r) => Elem::Text(r.get(&self.raw)),
            Slot::Escaped(r) => Elem::Text(r.get(&self.extra)),
            Slot::Star => Elem::Star,
            Slot::One => Elem::One,
            Slot::Var { key, default } => {
                Elem::Var { key_lc: key.get(&self.extra), default: default.map(|d| d.get(&self.raw)) }
            }
        })
    }

    /// Whether any `${...}` variable (not an escape) appears.
    pub(crate) fn has_variables(&self) -> bool {
        self.has_variables
    }

    /// The lowercased keys of the variables.
    pub(crate) fn variables(&self) -> impl Iterator<Item = &str> {
        self.piece_iter().filter_map(|p| match p {
            Elem::Var { key_lc, .. } => Some(key_lc),
            _ => None,
        })
    }

    /// The template's one run of literal text when that is all it is (no wildcard, no
    /// variable), borrowed: the common condition value, compared without building parts.
    pub(crate) fn literal_text(&self) -> Option<&str> {
        match *self.slots {
            [] => Some(""),
            [Slot::Text(r)] => Some(r.get(&self.raw)),
            [Slot::Escaped(r)] => Some(r.get(&self.extra)),
            _ => None,
        }
    }

    /// The template as plain text when it has no wildcard and no variable.
    pub(crate) fn as_literal(&self) -> Option<String> {
        let mut out = String::new();
        for p in self.piece_iter() {
            match p {
                Elem::Text(t) => out.push_str(t),
                _ => return None,
            }
        }
        Some(out)
    }

    /// The template as a pattern to match, borrowed: its own pieces when it has no variable
    /// (empty, matching only the empty text, for one with variables).
    pub(crate) fn tokens(&self) -> Toks<'_> {
        let slots: &[Slot] = if self.has_variables { &[] } else { &self.slots };
        Toks { raw: &self.raw, extra: &self.extra, slots }
    }

    /// Substitutes variables through `lookup` (lowercased key → single value). `None` when a
    /// variable has no value and no default: the entry then matches nothing. Borrows the template
    /// when it has no variable, so it does not allocate then.
    pub(crate) fn resolve<'t, 'v>(&'t self, lookup: impl Fn(&str) -> Option<&'v str>) -> Option<Resolution<'t>> {
        if !self.has_variables() {
            return Some(Resolution::Fixed(self.tokens()));
        }
        let mut toks = Vec::with_capacity(self.raw.len());
        for p in self.piece_iter() {
            match p {
                Elem::Text(t) => toks.extend(t.chars().map(Tok::Lit)),
                Elem::Star => toks.push(Tok::Star),
                Elem::One => toks.push(Tok::One),
                Elem::Var { key_lc, default } => toks.extend(lookup(key_lc).or(default)?.chars().map(Tok::Lit)),
            }
        }
        Some(Resolution::Built(toks))
    }

    /// The bytes of literal text the template resolves to through `lookup` (its own text plus
    /// the substituted values), without building it; `None` when a variable has neither a value
    /// nor a default. Lets a caller see that a resolution would be too long to match anything
    /// before it allocates it (a policy may repeat a variable holding a long request value).
    pub(crate) fn resolved_text_bytes<'v>(&self, lookup: impl Fn(&str) -> Option<&'v str>) -> Option<usize> {
        let mut bytes = 0usize;
        for p in self.piece_iter() {
            bytes = bytes.saturating_add(match p {
                Elem::Text(t) => t.len(),
                Elem::Star | Elem::One => 0,
                Elem::Var { key_lc, default } => lookup(key_lc).or(default)?.len(),
            });
        }
        Some(bytes)
    }

    /// Whether the resolved template holds at least `n` literal colons (the separators of an ARN
    /// pattern's fields), counting each variable's value once however often it repeats.
    pub(crate) fn resolved_colons_at_least<'v>(&self, lookup: impl Fn(&str) -> Option<&'v str>, n: usize) -> bool {
        let colons = |s: &str| s.bytes().filter(|&b| b == b':').count();
        let mut seen: SmallVec<[(&str, usize); 4]> = SmallVec::new();
        let mut count = 0usize;
        for p in self.piece_iter() {
            count += match p {
                Elem::Text(t) => colons(t),
                Elem::Star | Elem::One => 0,
                Elem::Var { key_lc, default } => match seen.iter().find(|(k, _)| *k == key_lc) {
                    Some(&(_, c)) => c,
                    None => {
                        let c = lookup(key_lc).or(default).map_or(0, colons);
                        seen.push((key_lc, c));
                        c
                    }
                },
            };
            if count >= n {
                return true;
            }
        }
        false
    }

    /// The template's parts with variables substituted through `lookup` (substituted text is
    /// literal), into `out`; `false` when a variable has no value and no default (the entry then
    /// matches nothing). Borrows everything: no allocation for up to 8 parts.
    pub(crate) fn resolve_parts<'t>(
        &'t self,
        lookup: impl Fn(&str) -> Option<&'t str>,
        out: &mut SmallVec<[Part<'t>; 8]>,
    ) -> bool {
        out.clear();
        for p in self.piece_iter() {
            out.push(match p {
                Elem::Text(t) => Part::Lit(t),
                Elem::Star => Part::Star,
                Elem::One => Part::One,
                Elem::Var { key_lc, default } => match lookup(key_lc).or(default) {
                    Some(v) => Part::Lit(v),
                    None => return false,
                },
            });
        }
        true
    }
}

/// Shares identical templates while a store loads: every statement naming `s3:getobject` or
/// `arn:aws:s3:::data/*` holds the same allocation. Keyed by the text and the two parse options.
/// The maps hash with SipHash under a random key: the texts come from the store, and texts
/// that share long prefixes (ARNs) collide often under a weaker hash, each collision costing
/// a comparison of the whole text.
#[derive(Debug, Default)]
pub(crate) struct Interner {
    /// One map per (`wildcards`, [`Vars`]) pair.
    maps: [HashMap<Box<str>, Template>; 6],
}

impl Interner {
    /// [`Template::parse`], sharing the result with every earlier identical call.
    pub(crate) fn template(&mut self, raw: &str, wildcards: bool, vars: Vars) -> Result<Template, String> {
        let which = usize::from(wildcards) * 3
            + match vars {
                Vars::Literal => 0,
                Vars::Allowed => 1,
                Vars::Forbidden => 2,
            };
        let Some(map) = self.maps.get_mut(which) else { return Template::parse(raw, wildcards, vars) };
        if let Some(t) = map.get(raw) {
            return Ok(t.clone());
        }
        let t = Template::parse(raw, wildcards, vars)?;
        map.insert(raw.into(), t.clone());
        Ok(t)
    }
}

/// A template without variables as a pattern, borrowed from it ([`Template::tokens`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Toks<'a> {
    raw: &'a str,
    extra: &'a str,
    slots: &'a [Slot],
}

impl<'a> Toks<'a> {
    fn part(self, s: Slot) -> Part<'a> {
        match s {
            Slot::Text(r) => Part::Lit(r.get(self.raw)),
            Slot::Escaped(r) => Part::Lit(r.get(self.extra)),
            Slot::Star => Part::Star,
            Slot::One => Part::One,
            // Never: `Template::tokens` lists no slot of a template with variables.
            Slot::Var { .. } => Part::Lit(""),
        }
    }

    /// Its parts (literal runs, `*`, `?`), borrowed: no allocation for up to 16 parts.
    pub(crate) fn parts(self) -> SmallVec<[Part<'a>; 16]> {
        self.slots
            .iter()
            .filter_map(|s| match *s {
                Slot::Text(r) => Some(Part::Lit(r.get(self.raw))),
                Slot::Escaped(r) => Some(Part::Lit(r.get(self.extra))),
                Slot::Star => Some(Part::Star),
                Slot::One => Some(Part::One),
                Slot::Var { .. } => None,
            })
            .collect()
    }

    /// One token per character (the tests' oracle reads them).
    #[cfg(test)]
    pub(crate) fn to_vec(self) -> Vec<Tok> {
        let mut out = Vec::new();
        for p in self.parts() {
            match p {
                Part::Lit(s) => out.extend(s.chars().map(Tok::Lit)),
                Part::Star => out.push(Tok::Star),
                Part::One => out.push(Tok::One),
            }
        }
        out
    }
}

/// A template with the variables of one request substituted ([`Template::resolve`]).
#[derive(Debug, Clone)]
pub(crate) enum Resolution<'t> {
    /// The template had no variable: its own pieces.
    Fixed(Toks<'t>),
    /// Substituted values are literal tokens.
    Built(Vec<Tok>),
}

/// A pattern [`glob_match`] and [`owned_parts`] accept: tokens, or a template's own pieces.
pub(crate) trait Glob {
    /// Anchored match against `text`.
    fn glob(&self, text: &str) -> bool;
    /// The pattern as owned parts, literal runs merged.
    fn owned(&self) -> Vec<OwnedPart>;
}

impl Glob for [Tok] {
    fn glob(&self, text: &str) -> bool {
        tok_match(self, text)
    }

    fn owned(&self) -> Vec<OwnedPart> {
        let mut out = Vec::new();
        let mut text = String::new();
        for t in self {
            match t {
                Tok::Lit(c) => text.push(*c),
                Tok::Star | Tok::One => {
                    if !text.is_empty() {
                        out.push(OwnedPart::Lit(std::mem::take(&mut text).into_boxed_str()));
                    }
                    out.push(if *t == Tok::Star { OwnedPart::Star } else { OwnedPart::One });
                }
            }
        }
        if !text.is_empty() {
            out.push(OwnedPart::Lit(text.into_boxed_str()));
        }
        out
    }
}

impl Glob for Vec<Tok> {
    fn glob(&self, text: &str) -> bool {
        self.as_slice().glob(text)
    }

    fn owned(&self) -> Vec<OwnedPart> {
        self.as_slice().owned()
    }
}

impl Glob for Cow<'_, [Tok]> {
    fn glob(&self, text: &str) -> bool {
        (**self).glob(text)
    }

    fn owned(&self) -> Vec<OwnedPart> {
        (**self).owned()
    }
}

impl Glob for Toks<'_> {
    /// Patterns with at most one `*` (nearly all of them) are matched on the template's own
    /// pieces; others through [`match_parts`].
    fn glob(&self, text: &str) -> bool {
        let part = |s: &Slot| self.part(*s);
        let mut segs = self.slots.split(|s| *s == Slot::Star);
        let first = segs.next().unwrap_or_default();
        let Some(pos) = seg_at(first.iter().map(part), text, 0, text.len()) else { return false };
        let Some(last) = segs.next_back() else { return pos == text.len() };
        match segs.next() {
            None => seg_back(last.iter().rev().map(part), text, text.len(), pos).is_some(),
            Some(_) => match_parts(&self.parts(), text),
        }
    }

    fn owned(&self) -> Vec<OwnedPart> {
        let mut out: Vec<OwnedPart> = Vec::new();
        for p in self.parts() {
            match (p, out.last_mut()) {
                // Adjacent runs (text beside an escape) are one literal.
                (Part::Lit(s), Some(OwnedPart::Lit(prev))) => *prev = format!("{prev}{s}").into_boxed_str(),
                (Part::Lit(s), _) => out.push(OwnedPart::Lit(s.into())),
                (Part::Star, _) => out.push(OwnedPart::Star),
                (Part::One, _) => out.push(OwnedPart::One),
            }
        }
        out
    }
}

impl Glob for Resolution<'_> {
    fn glob(&self, text: &str) -> bool {
        match self {
            Resolution::Fixed(t) => t.glob(text),
            Resolution::Built(t) => t.glob(text),
        }
    }

    fn owned(&self) -> Vec<OwnedPart> {
        match self {
            Resolution::Fixed(t) => t.owned(),
            Resolution::Built(t) => t.owned(),
        }
    }
}

impl<T: Glob + ?Sized> Glob for &T {
    fn glob(&self, text: &str) -> bool {
        (**self).glob(text)
    }

    fn owned(&self) -> Vec<OwnedPart> {
        (**self).owned()
    }
}

/// Anchored glob match of `pattern` against `text`: `*` any run, `?` one character, by the
/// segment method of [`match_parts`]. Linear in the text for patterns of `*` and literal text,
/// and O(text × ⌈segment/64⌉) with `?` (see [`match_parts`]).
pub(crate) fn glob_match(pattern: impl Glob, text: &str) -> bool {
    pattern.glob(text)
}

/// The pattern as owned parts: literal runs merged.
pub(crate) fn owned_parts(pattern: impl Glob) -> Vec<OwnedPart> {
    pattern.owned()
}

/// [`glob_match`] on tokens. Patterns with at most one `*` (nearly all of them) are matched in
/// place; others are first turned into parts.
fn tok_match(toks: &[Tok], text: &str) -> bool {
    let mut stars = toks.iter().enumerate().filter(|(_, t)| **t == Tok::Star).map(|(i, _)| i);
    match (stars.next(), stars.next()) {
        (None, _) => tok_seg_at(toks, text, 0) == Some(text.len()),
        (Some(i), None) => {
            let (head, tail) = (&toks[..i], &toks[i + 1..]);
            tok_seg_at(head, text, 0).is_some_and(|at| tok_seg_back(tail, text, at).is_some())
        }
        (Some(_), Some(_)) => match_parts(&toks.owned(), text),
    }
}

/// Matches tokens without `*` at byte `at`: the end of the match.
fn tok_seg_at(seg: &[Tok], text: &str, at: usize) -> Option<usize> {
    let mut chars = text.get(at..)?.chars();
    for t in seg {
        let c = chars.next()?;
        match t {
            Tok::Lit(l) if *l != c => return None,
            Tok::Star => return None,
            _ => {}
        }
    }
    Some(text.len() - chars.as_str().len())
}

/// Matches tokens without `*` ending at the end of `text`, starting at or after byte `floor`.
fn tok_seg_back(seg: &[Tok], text: &str, floor: usize) -> Option<usize> {
    let mut chars = text.get(floor..)?.chars();
    for t in seg.iter().rev() {
        let c = chars.next_back()?;
        match t {
            Tok::Lit(l) if *l != c => return None,
            Tok::Star => return None,
            _ => {}
        }
    }
    Some(floor + chars.as_str().len())
}

/// One element of a pattern for [`match_parts`]: a literal run, `*` or `?`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part<'a> {
    Lit(&'a str),
    Star,
    One,
}

/// An owned [`Part`], for patterns compiled at load time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OwnedPart {
    Lit(Box<str>),
    Star,
    One,
}

/// Something that reads as a [`Part`].
pub(crate) trait AsPart {
    fn part(&self) -> Part<'_>;
}

impl AsPart for Part<'_> {
    fn part(&self) -> Part<'_> {
        *self
    }
}

impl AsPart for OwnedPart {
    fn part(&self) -> Part<'_> {
        match self {
            OwnedPart::Lit(s) => Part::Lit(s),
            OwnedPart::Star => Part::Star,
            OwnedPart::One => Part::One,
        }
    }
}

/// Anchored glob match of `parts` against `text`, with the meaning of [`glob_match`], segment by
/// segment: the pattern is split at its `*`s; the first segment must match at the start, the last
/// at the end, and each one between at its leftmost position after the previous one (segments
/// have a fixed length in characters, so the leftmost match never loses a solution).
///
/// Cost, for `n` bytes of text and `m` of pattern: the anchored segments are compared in place;
/// a middle segment of literal text is found with `memchr::memmem` (linear), and one holding
/// `?` with a bit-parallel (shift-and) scan, O(n × ⌈segment/64⌉). The searches cover disjoint
/// stretches of the text, left to right, so a pattern of `*` and literal text costs O(n + m)
/// whatever its shape: no backtracking, however many `*` a request-supplied policy holds. Does
/// not allocate unless a middle segment mixes `?` with text or splits its text into several parts.
pub(crate) fn match_parts<P: AsPart>(parts: &[P], text: &str) -> bool {
    let is_star = |p: &P| p.part() == Part::Star;
    let mut segs = parts.split(is_star);
    let first = segs.next().unwrap_or_default();
    let Some(pos) = seg_at(first.iter().map(AsPart::part), text, 0, text.len()) else { return false };
    let Some(last) = segs.next_back() else {
        // No `*`: the one segment must cover the text.
        return pos == text.len();
    };
    let Some(tail) = seg_back(last.iter().rev().map(AsPart::part), text, text.len(), pos) else { return false };
    let mut pos = pos;
    for mid in segs {
        match leftmost(mid, text, pos, tail) {
            Some(end) => pos = end,
            None => return false,
        }
    }
    true
}

/// Matches a segment (no `*`) at byte `at` within `text[..limit]`: its end.
fn seg_at<'p>(seg: impl Iterator<Item = Part<'p>>, text: &str, mut at: usize, limit: usize) -> Option<usize> {
    for p in seg {
        let rest = text.get(at..limit)?;
        match p {
            Part::Lit(s) => {
                if !rest.starts_with(s) {
                    return None;
                }
                at += s.len();
            }
            Part::One => at += rest.chars().next()?.len_utf8(),
            Part::Star => return None,
        }
    }
    Some(at)
}

/// Matches a segment (no `*`), read from its end, ending at byte `end`, not before `floor`: its
/// start.
fn seg_back<'p>(seg_rev: impl Iterator<Item = Part<'p>>, text: &str, mut end: usize, floor: usize) -> Option<usize> {
    for p in seg_rev {
        let rest = text.get(floor..end)?;
        match p {
            Part::Lit(s) => {
                if !rest.ends_with(s) {
                    return None;
                }
                end -= s.len();
            }
            Part::One => end -= rest.chars().next_back()?.len_utf8(),
            Part::Star => return None,
        }
    }
    Some(end)
}

/// The end of the leftmost match of a segment (no `*`) in `text[from..limit]`.
fn leftmost<P: AsPart>(seg: &[P], text: &str, from: usize, limit: usize) -> Option<usize> {
    let window = text.get(from..limit)?;
    if seg.is_empty() {
        return Some(from);
    }
    if let [only] = seg {
        if let Part::Lit(s) = only.part() {
            return find(window, s).map(|i| from + i + s.len());
        }
    }
    if seg.iter().all(|p| matches!(p.part(), Part::Lit(_))) {
        // Several literal runs (a substituted variable between texts): one needle.
        let needle: String = seg
            .iter()
            .filter_map(|p| match p.part() {
                Part::Lit(s) => Some(s),
                _ => None,
            })
            .collect();
        return find(window, &needle).map(|i| from + i + needle.len());
    }
    shift_and(seg, window).map(|end| from + end)
}

/// The byte offset of the first `needle` in `haystack`: `memchr`'s substring search, which
/// builds no Two-Way searcher for the short texts ARNs are (`str::find` builds one per call),
/// and stays linear on long ones. A match of UTF-8 text in UTF-8 text starts on a character
/// boundary, so the offset slices `haystack` as `str::find`'s would.
#[inline]
fn find(haystack: &str, needle: &str) -> Option<usize> {
    memchr::memmem::find(haystack.as_bytes(), needle.as_bytes())
}

/// The end (in bytes) of the leftmost match in `window` of a segment holding `?`: the shift-and
/// (bitap) algorithm, one bit per character of the segment, so O(window × ⌈segment/64⌉) time
/// with no backtracking.
fn shift_and<P: AsPart>(seg: &[P], window: &str) -> Option<usize> {
    // The segment as characters, `None` for `?`.
    let mut atoms: Vec<Option<char>> = Vec::new();
    for p in seg {
        match p.part() {
            Part::Lit(s) => atoms.extend(s.chars().map(Some)),
            Part::One => atoms.push(None),
            Part::Star => {}
        }
    }
    let len = atoms.len();
    if len == 0 {
        return Some(0);
    }
    let words = len.div_ceil(64);
    // Bit j of a character's mask: the segment's character j is that character or `?`. `any`
    // (the `?`s) is the mask of a character the segment does not name; ASCII characters index
    // a flat table, others a map.
    let mut any = vec![0u64; words];
    for (j, atom) in atoms.iter().enumerate() {
        if atom.is_none() {
            if let Some(x) = any.get_mut(j / 64) {
                *x |= 1u64 << (j % 64);
            }
        }
    }
    let mut ascii: Vec<u64> = any.iter().copied().cycle().take(128 * words).collect();
    let mut other: std::collections::HashMap<char, Vec<u64>> = std::collections::HashMap::new();
    for (j, atom) in atoms.iter().enumerate() {
        let Some(c) = *atom else { continue };
        let row = if c.is_ascii() {
            ascii.get_mut(c as usize * words..(c as usize + 1) * words)
        } else {
            Some(other.entry(c).or_insert_with(|| any.clone()).as_mut_slice())
        };
        if let Some(x) = row.and_then(|r| r.get_mut(j / 64)) {
            *x |= 1u64 << (j % 64);
        }
    }
    let (last_word, last_bit) = ((len - 1) / 64, 1u64 << ((len - 1) % 64));
    let mut state = vec![0u64; words];
    for (i, c) in window.char_indices() {
        let mask: &[u64] = if c.is_ascii() {
            ascii.get(c as usize * words..(c as usize + 1) * words).unwrap_or(&any)
        } else {
            other.get(&c).map_or(&any, Vec::as_slice)
        };
        let mut carry = 1u64; // a match may start at every character
        for (x, m) in state.iter_mut().zip(mask) {
            let next_carry = *x >> 63;
            *x = ((*x << 1) | carry) & m;
            carry = next_carry;
        }
        if state.get(last_word).is_some_and(|x| x & last_bit != 0) {
            return Some(i + c.len_utf8());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, text: &str) -> bool {
        let t = Template::parse(pattern, true, Vars::Allowed).unwrap();
        glob_match(t.tokens(), text)
    }

    #[test]
    fn star_and_question_are_anchored() {
        assert!(m("s3:get*", "s3:getobject"));
        assert!(m("s3:*object", "s3:putobject"));
        assert!(!m("s3:*object", "s3:deleteobjecttagging"));
        assert!(m("dynamodb:?etitem", "dynamodb:getitem"));
        assert!(!m("dynamodb:?etitem", "dynamodb:batchgetitem"));
        assert!(m("*", ""));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(!m("a*b*c", "aXXbYY"));
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(m("sqs:*message*", "sqs:sendmessage"));
        assert!(!m("s3:*", "s3express:createsession"));
    }

    #[test]
    fn escapes_are_literal() {
        let t = Template::parse("a${*}", true, Vars::Allowed).unwrap();
        let toks = t.tokens();
        assert!(glob_match(toks, "a*"));
        assert!(!glob_match(toks, "ab"));
        let t = Template::parse("${$}{x}${?}", true, Vars::Allowed).unwrap();
        assert_eq!(t.as_literal().as_deref(), Some("${x}?"));
        // A run with an escape is one piece of text, apart from the wildcards around it.
        let t = Template::parse("b/${*}x*${?}", true, Vars::Allowed).unwrap();
        assert_eq!(t.pieces().as_slice(), [Piece::Text("b/*x"), Piece::Star, Piece::Text("?")]);
        assert_eq!(t.literal_text(), None);
        let t = Template::parse("a${*}b", true, Vars::Allowed).unwrap();
        assert_eq!(t.pieces().as_slice(), [Piece::Text("a*b")]);
        assert_eq!(t.literal_text(), Some("a*b"));
        let t = Template::parse("x${aws:UserName, 'n/a'}y", true, Vars::Allowed).unwrap();
        assert_eq!(t.pieces().as_slice(), [Piece::Text("x"), t.pieces()[1], Piece::Text("y")]);
        let Piece::Var(v) = t.pieces()[1] else { panic!("a variable expected") };
        assert_eq!((v.key_lc(), v.default()), ("aws:username", Some("n/a")));
        assert!(t.has_variables() && t.literal_text().is_none());
    }

    #[test]
    fn variables_resolve_to_literal_text() {
        let t = Template::parse("home/${aws:username}/*", true, Vars::Allowed).unwrap();
        assert!(t.has_variables());
        let toks = t.resolve(|k| (k == "aws:username").then_some("a*")).unwrap();
        assert!(glob_match(&toks, "home/a*/x"));
        assert!(!glob_match(&toks, "home/ab/x"));
        assert!(t.resolve(|_| None).is_none());
    }

    #[test]
    fn variable_defaults() {
        let t = Template::parse("${aws:username, 'nobody'}", false, Vars::Allowed).unwrap();
        let toks = t.resolve(|_| None).unwrap();
        assert!(glob_match(&toks, "nobody"));
        assert!(Template::parse("${aws:username, nobody}", false, Vars::Allowed).is_err());
    }

    #[test]
    fn version_2008_keeps_dollar_braces_literal() {
        let t = Template::parse("home/${aws:username}/*", true, Vars::Literal).unwrap();
        assert!(!t.has_variables());
        assert!(glob_match(t.tokens(), "home/${aws:username}/x"));
    }

    #[test]
    fn forbidden_and_malformed_variables() {
        assert!(Template::parse("s3:${x}", true, Vars::Forbidden).is_err());
        assert!(Template::parse("${aws:username", true, Vars::Allowed).is_err());
        assert!(Template::parse("${}", true, Vars::Allowed).is_err());
        assert!(Template::parse("${aws:TagKeys}", true, Vars::Allowed).is_err());
    }

    /// The per-character backtracking matcher keycard used before: the oracle both segment
    /// matchers must agree with.
    fn per_character(toks: &[Tok], text: &str) -> bool {
        let (mut p, mut t) = (0usize, 0usize);
        let mut backtrack: Option<(usize, usize)> = None;
        while let Some(c) = text.get(t..).and_then(|rest| rest.chars().next()) {
            match toks.get(p) {
                Some(Tok::Star) => {
                    backtrack = Some((p, t));
                    p += 1;
                    continue;
                }
                Some(Tok::One) => {
                    (p, t) = (p + 1, t + c.len_utf8());
                    continue;
                }
                Some(Tok::Lit(l)) if *l == c => {
                    (p, t) = (p + 1, t + c.len_utf8());
                    continue;
                }
                _ => {}
            }
            let Some((bp, bt)) = backtrack else { return false };
            let skipped = text.get(bt..).and_then(|rest| rest.chars().next()).map_or(1, char::len_utf8);
            backtrack = Some((bp, bt + skipped));
            (p, t) = (bp + 1, bt + skipped);
        }
        toks.get(p..).is_some_and(|rest| rest.iter().all(|t| *t == Tok::Star))
    }

    /// `match_parts` and `glob_match` agree with the per-character matcher on patterns and texts
    /// drawn from a small alphabet, multibyte characters included; long runs exercise segments
    /// of more than 64 characters (several words of shift-and state).
    #[test]
    fn segment_matchers_equal_the_per_character_matcher() {
        let alphabet = ['a', 'b', 'é', '/', '*', '?'];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for round in 0..200_000 {
            let (plen, tlen) = if round % 100 == 0 { (150, 300) } else { (7, 8) };
            let pattern: String = (0..next(plen)).map(|_| alphabet[next(alphabet.len())]).collect();
            let mut text: String = (0..next(tlen)).map(|_| alphabet[next(4)]).collect();
            if round % 100 == 50 {
                // A text built from the pattern, so long patterns match now and then.
                text = pattern.chars().map(|c| if c == '*' || c == '?' { 'a' } else { c }).collect();
            }
            let t = Template::parse(&pattern, true, Vars::Literal).unwrap();
            let expected = per_character(&t.tokens().to_vec(), &text);
            let parts = owned_parts(t.tokens());
            assert_eq!(match_parts(&parts, &text), expected, "match_parts {pattern:?} on {text:?}");
            assert_eq!(glob_match(t.tokens(), &text), expected, "glob_match {pattern:?} on {text:?}");
            assert_eq!(glob_match(t.tokens().to_vec(), &text), expected, "tokens {pattern:?} on {text:?}");
        }
    }

    #[test]
    fn question_marks_in_middle_segments() {
        let m = |pattern: &str, text: &str| {
            let t = Template::parse(pattern, true, Vars::Literal).unwrap();
            let r = glob_match(t.tokens(), text);
            assert_eq!(r, per_character(&t.tokens().to_vec(), text), "{pattern:?} on {text:?}");
            r
        };
        assert!(m("*a?c*", "xxabcxx"));
        assert!(m("x*?é?*y", "xaébby"));
        assert!(!m("x*?é?*y", "xéby"));
        let long = format!("*{}b*", "a?".repeat(70));
        assert!(m(&long, &format!("zz{}bzz", "ab".repeat(70))));
        assert!(!m(&long, &"a".repeat(500)));
    }

    #[test]
    fn segment_matcher_cases() {
        let m = |pattern: &str, text: &str| {
            let t = Template::parse(pattern, true, Vars::Literal).unwrap();
            match_parts(&owned_parts(t.tokens()), text)
        };
        assert!(m("ab*ba", "abba"));
        assert!(!m("ab*ba", "aba"));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(!m("a*b*c", "aXXbYY"));
        assert!(m("*", ""));
        assert!(m("", ""));
        assert!(!m("", "a"));
        assert!(m("?", "é"));
        assert!(!m("??", "é"));
        assert!(m("arn:aws:dynamodb:*:1:table/t", "arn:aws:dynamodb:us-east-1:1:table/t"));
        assert!(!m("arn:aws:dynamodb:*:1:table/t", "arn:aws:dynamodb:us-east-1:1:table/u"));
        assert!(m("*a?a*", "xxaba"));
        assert!(!m("*a?a*", "xxab"));
    }

    #[test]
    fn resolved_parts_match_like_resolved_tokens() {
        let t = Template::parse("home/${aws:username}/*", true, Vars::Allowed).unwrap();
        let mut parts = smallvec::SmallVec::new();
        assert!(t.resolve_parts(|k| (k == "aws:username").then_some("a*"), &mut parts));
        assert!(match_parts(&parts, "home/a*/x"));
        assert!(!match_parts(&parts, "home/ab/x"));
        assert!(!t.resolve_parts(|_| None, &mut parts));
        let t = Template::parse("${aws:username, 'nobody'}", false, Vars::Allowed).unwrap();
        let mut parts = smallvec::SmallVec::new();
        assert!(t.resolve_parts(|_| None, &mut parts));
        assert!(match_parts(&parts, "nobody"));
    }

    #[test]
    fn without_wildcards_star_is_text() {
        let t = Template::parse("*", false, Vars::Allowed).unwrap();
        assert_eq!(t.as_literal().as_deref(), Some("*"));
    }
}
