//! Policy documents: JSON → [`Policy`], with every problem reported by JSON pointer.
//!
//! Implements the grammar and the per-kind rules of `docs/semantics.md#grammar`: case-sensitive
//! element names, no duplicate keys, only TAB/LF/CR/U+0020–U+00FF characters, exactly one of
//! `Action`/`NotAction`, `Resource` where required and forbidden in trust policies, `Principal`
//! where required or forbidden, known condition operators only, values parsed for their operator
//! family, policy variables only where allowed. Parsing never stops at the first problem: all of
//! them are collected so `keycard validate` can print them at once.

use crate::arn::is_account_id;
use crate::error::PolicyError;
use crate::net::Cidr;
use crate::policy::ast::{
    ActionBlock, CondValue, Condition, Effect, Family, OpKind, Operator, Policy, PolicyKind, PrincipalBlock, Qualifier,
    ResourceBlock, Statement, Version,
};
use crate::policy::glob::{Interner, Template, Vars};
use crate::policy::json::{pointer_token, repeated_keys, Json};
use crate::policy::value::{decode_base64, parse_bool, Decimal, Instant};
use smallvec::SmallVec;
use std::borrow::Cow;

const STATEMENT_KEYS: [&str; 9] =
    ["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"];
const DOCUMENT_KEYS: [&str; 3] = ["Version", "Id", "Statement"];
const PRINCIPAL_KEYS: [&str; 4] = ["AWS", "Service", "Federated", "CanonicalUser"];

/// Parses a policy given as a JSON value or as a (possibly URL-encoded) JSON string, the way
/// `get-account-authorization-details` and the raw IAM API return documents.
pub(crate) fn parse_document(
    doc: &Json,
    kind: PolicyKind,
    pointer: &str,
    errors: &mut Vec<PolicyError>,
) -> Option<Policy> {
    parse_document_in(doc, kind, pointer, errors, &mut Interner::default())
}

/// [`parse_document`], sharing templates through `interner` (a store shares them across all
/// its documents).
pub(crate) fn parse_document_in(
    doc: &Json,
    kind: PolicyKind,
    pointer: &str,
    errors: &mut Vec<PolicyError>,
    interner: &mut Interner,
) -> Option<Policy> {
    match doc {
        Json::String(text) => {
            let decoded = decode_policy_text(text);
            match Json::parse(&decoded) {
                Ok(inner) => parse_policy_in(&inner, kind, pointer, errors, interner),
                Err(e) => {
                    errors.push(PolicyError::new(pointer, format!("policy document string is not JSON: {e}")));
                    None
                }
            }
        }
        other => parse_policy_in(other, kind, pointer, errors, interner),
    }
}

/// URL-decodes (RFC 3986: `%XX` only, `+` stays `+`) a policy document string when it is not
/// already JSON text.
pub(crate) fn decode_policy_text(text: &str) -> String {
    if text.trim_start().starts_with('{') {
        return text.to_owned();
    }
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// Parses and validates one policy document. `pointer` locates the document in its file.
pub(crate) fn parse_policy(
    doc: &Json,
    kind: PolicyKind,
    pointer: &str,
    errors: &mut Vec<PolicyError>,
) -> Option<Policy> {
    parse_policy_in(doc, kind, pointer, errors, &mut Interner::default())
}

/// [`parse_policy`], sharing templates through `interner`.
fn parse_policy_in(
    doc: &Json,
    kind: PolicyKind,
    pointer: &str,
    errors: &mut Vec<PolicyError>,
    interner: &mut Interner,
) -> Option<Policy> {
    let before = errors.len();
    check_tree(doc, &mut pointer.to_owned(), errors);
    let Json::Object(pairs) = doc else {
        errors.push(PolicyError::new(pointer, format!("expected a policy document object, found {}", doc.type_name())));
        return None;
    };
    for (key, _) in pairs {
        if !DOCUMENT_KEYS.contains(&key.as_str()) {
            errors.push(unknown_element(pointer, key, &DOCUMENT_KEYS));
        }
    }
    let version = parse_version(doc, kind, pointer, errors);
    if let Some(id) = doc.get("Id") {
        if !matches!(id, Json::String(_)) {
            errors.push(PolicyError::new(
                format!("{pointer}/Id"),
                format!("expected a string, found {}", id.type_name()),
            ));
        }
    }
    let mut d = Doc { kind, version, errors, interner };
    let statements = d.statements(doc, pairs, pointer);
    if matches!(kind, PolicyKind::Identity | PolicyKind::Session) {
        check_unique_sids(doc.get("Statement"), pointer, d.errors);
    }
    (errors.len() == before).then_some(Policy { statements })
}

/// The document's `Version` (2008-10-17 when absent).
fn parse_version(doc: &Json, kind: PolicyKind, pointer: &str, errors: &mut Vec<PolicyError>) -> Version {
    let version = match doc.get("Version") {
        None => Version::V2008,
        Some(Json::String(v)) if v == "2012-10-17" => Version::V2012,
        Some(Json::String(v)) if v == "2008-10-17" => Version::V2008,
        Some(v) => {
            errors.push(PolicyError::new(
                format!("{pointer}/Version"),
                format!("expected \"2012-10-17\" or \"2008-10-17\", found {}", show(v)),
            ));
            Version::V2012
        }
    };
    if matches!(kind, PolicyKind::Scp | PolicyKind::Rcp) && version != Version::V2012 {
        errors.push(PolicyError::new(format!("{pointer}/Version"), "SCPs and RCPs must use Version \"2012-10-17\""));
    }
    version
}

/// Sids must be unique within an identity policy; every statement object counts, parsed or not,
/// so a duplicate is reported (at its own index) even next to a broken statement.
fn check_unique_sids(statements: Option<&Json>, pointer: &str, errors: &mut Vec<PolicyError>) {
    let Some(Json::Array(items)) = statements else { return };
    let mut seen = std::collections::HashSet::new();
    for (i, item) in items.iter().enumerate() {
        if let Some(Json::String(sid)) = item.get("Sid") {
            if !sid.is_empty() && !seen.insert(sid.as_str()) {
                errors.push(PolicyError::new(
                    format!("{pointer}/Statement/{i}/Sid"),
                    format!("duplicate Sid {sid:?}: Sids must be unique within a policy"),
                ));
            }
        }
    }
}

/// Duplicate keys and disallowed characters anywhere in the document. `path` is the node's JSON
/// pointer, extended and restored while descending (no string per node).
fn check_tree(node: &Json, path: &mut String, errors: &mut Vec<PolicyError>) {
    let len = path.len();
    match node {
        Json::Object(pairs) => {
            let mut repeated = repeated_keys(pairs).into_iter().peekable();
            for (i, (k, v)) in pairs.iter().enumerate() {
                path.push('/');
                path.push_str(&pointer_token(k));
                if repeated.next_if_eq(&i).is_some() {
                    errors.push(PolicyError::new(path.as_str(), format!("duplicate key {k:?}")));
                }
                check_chars(k, path, errors);
                check_tree(v, path, errors);
                path.truncate(len);
            }
        }
        Json::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                use std::fmt::Write;
                let _ = write!(path, "/{i}");
                check_tree(v, path, errors);
                path.truncate(len);
            }
        }
        Json::String(s) => check_chars(s, path, errors),
        _ => {}
    }
}

fn check_chars(s: &str, pointer: &str, errors: &mut Vec<PolicyError>) {
    if let Some(c) = s.chars().find(|&c| !(c == '\t' || c == '\n' || c == '\r' || ('\u{20}'..='\u{ff}').contains(&c))) {
        errors.push(PolicyError::new(
            pointer,
            format!("character U+{:04X} is not allowed in a policy (only TAB, LF, CR and U+0020-U+00FF)", c as u32),
        ));
    }
}

/// One document being parsed: its kind and version, the problems found so far, and the
/// interner that shares identical templates.
struct Doc<'a> {
    kind: PolicyKind,
    version: Version,
    errors: &'a mut Vec<PolicyError>,
    interner: &'a mut Interner,
}

impl Doc<'_> {
    fn error(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.errors.push(PolicyError::new(pointer, message));
    }

    /// The `Statement` element: one statement object or a non-empty array of them.
    fn statements(&mut self, doc: &Json, pairs: &[(String, Json)], pointer: &str) -> Vec<Statement> {
        let mut statements = Vec::new();
        match doc.get("Statement") {
            None if has_miscased(pairs, "Statement") => {}
            None => self.error(pointer, "missing Statement"),
            Some(obj @ Json::Object(_)) => {
                statements.extend(self.statement(obj, &format!("{pointer}/Statement")));
            }
            Some(Json::Array(items)) if items.is_empty() => {
                self.error(format!("{pointer}/Statement"), "Statement must not be an empty array");
            }
            Some(Json::Array(items)) => {
                statements.reserve_exact(items.len());
                for (i, item) in items.iter().enumerate() {
                    statements.extend(self.statement(item, &format!("{pointer}/Statement/{i}")));
                }
            }
            Some(other) => self.error(
                format!("{pointer}/Statement"),
                format!("expected a statement object or an array of them, found {}", other.type_name()),
            ),
        }
        statements
    }

    /// One statement, element by element; `None` when any element has a problem.
    fn statement(&mut self, node: &Json, pointer: &str) -> Option<Statement> {
        let Json::Object(pairs) = node else {
            self.error(pointer, format!("expected a statement object, found {}", node.type_name()));
            return None;
        };
        let before = self.errors.len();
        for (key, _) in pairs {
            if !STATEMENT_KEYS.contains(&key.as_str()) {
                self.errors.push(unknown_element(pointer, key, &STATEMENT_KEYS));
            }
        }
        let sid = self.sid(node, pointer);
        let effect = self.effect(node, pairs, pointer);
        let action = self.action(node, pairs, pointer);
        let resource = self.resource(node, pairs, pointer);
        let principal = self.principal(node, pairs, pointer, effect);
        let conditions = match node.get("Condition") {
            None => Vec::new(),
            Some(c) => parse_conditions(c, self.version, &format!("{pointer}/Condition"), self.errors, self.interner),
        };
        if self.kind == PolicyKind::Rcp && effect == Some(Effect::Allow) && !is_rcp_full_access(node) {
            self.error(
                format!("{pointer}/Effect"),
                "custom RCPs can only Deny (Allow is reserved for RCPFullAWSAccess)",
            );
        }
        if self.errors.len() != before {
            return None;
        }
        Some(Statement {
            sid,
            effect: effect?,
            principal: principal.map(Box::new),
            action: action?,
            resource,
            conditions,
        })
    }

    /// `Sid`: a string; letters and digits only in an identity policy.
    fn sid(&mut self, node: &Json, pointer: &str) -> Option<String> {
        match node.get("Sid") {
            None => None,
            Some(Json::String(s)) => {
                if matches!(self.kind, PolicyKind::Identity | PolicyKind::Session)
                    && !s.chars().all(|c| c.is_ascii_alphanumeric())
                {
                    self.error(
                        format!("{pointer}/Sid"),
                        format!("Sid {s:?} must contain only letters and digits in an identity policy"),
                    );
                }
                Some(s.clone())
            }
            Some(other) => {
                self.error(format!("{pointer}/Sid"), format!("expected a string, found {}", other.type_name()));
                None
            }
        }
    }

    /// `Effect`: `Allow` or `Deny`.
    fn effect(&mut self, node: &Json, pairs: &[(String, Json)], pointer: &str) -> Option<Effect> {
        match node.get("Effect") {
            Some(Json::String(e)) if e == "Allow" => Some(Effect::Allow),
            Some(Json::String(e)) if e == "Deny" => Some(Effect::Deny),
            Some(other) => {
                self.error(
                    format!("{pointer}/Effect"),
                    format!("expected \"Allow\" or \"Deny\", found {}", show(other)),
                );
                None
            }
            None => {
                if !has_miscased(pairs, "Effect") {
                    self.error(pointer, "missing Effect");
                }
                None
            }
        }
    }

    /// Which of `name` and `not_name` the statement holds, with `true` for `not_name`: `Err`
    /// (reported) when it holds both.
    fn either<'j>(
        &mut self,
        node: &'j Json,
        pointer: &str,
        name: &str,
        not_name: &str,
    ) -> Result<Option<(&'j Json, bool)>, ()> {
        match (node.get(name), node.get(not_name)) {
            (Some(_), Some(_)) => {
                self.error(pointer, format!("a statement has either {name} or {not_name}, not both"));
                Err(())
            }
            (Some(v), None) => Ok(Some((v, false))),
            (None, Some(v)) => Ok(Some((v, true))),
            (None, None) => Ok(None),
        }
    }

    /// `Action` or `NotAction`: exactly one of them.
    fn action(&mut self, node: &Json, pairs: &[(String, Json)], pointer: &str) -> Option<ActionBlock> {
        let vars = if self.version == Version::V2012 { Vars::Forbidden } else { Vars::Literal };
        match self.either(node, pointer, "Action", "NotAction").ok()? {
            None => {
                if !has_miscased(pairs, "Action") && !has_miscased(pairs, "NotAction") {
                    self.error(pointer, "missing Action (or NotAction)");
                }
                None
            }
            Some((a, false)) => self.actions(a, false, vars, pointer, "Action"),
            Some((a, true)) => {
                if self.kind == PolicyKind::Rcp {
                    self.error(format!("{pointer}/NotAction"), "NotAction is not allowed in an RCP");
                }
                self.actions(a, true, vars, pointer, "NotAction")
            }
        }
    }

    /// `Resource` or `NotResource`: exactly one of them, and neither in a trust policy.
    fn resource(&mut self, node: &Json, pairs: &[(String, Json)], pointer: &str) -> Option<ResourceBlock> {
        let vars = if self.version == Version::V2012 { Vars::Allowed } else { Vars::Literal };
        let found = self.either(node, pointer, "Resource", "NotResource").ok()?;
        let el = |not: bool| if not { "NotResource" } else { "Resource" };
        match found {
            Some((_, not)) if self.kind == PolicyKind::Trust => {
                self.error(format!("{pointer}/{}", el(not)), format!("{} is not allowed in a trust policy", el(not)));
                None
            }
            None if self.kind == PolicyKind::Trust => None,
            None => {
                if !has_miscased(pairs, "Resource") && !has_miscased(pairs, "NotResource") {
                    self.error(pointer, "missing Resource (or NotResource)");
                }
                None
            }
            Some((r, not)) => self.resources(r, not, vars, pointer, el(not)),
        }
    }

    /// `Principal` or `NotPrincipal`: where the policy kind requires or allows one.
    fn principal(
        &mut self,
        node: &Json,
        pairs: &[(String, Json)],
        pointer: &str,
        effect: Option<Effect>,
    ) -> Option<PrincipalBlock> {
        let kind = self.kind;
        let Some((value, not)) = self.either(node, pointer, "Principal", "NotPrincipal").ok()? else {
            if matches!(kind, PolicyKind::Resource | PolicyKind::Trust | PolicyKind::Rcp)
                && !has_miscased(pairs, "Principal")
            {
                self.error(pointer, "missing Principal: required in this kind of policy");
            }
            return None;
        };
        let el = if not { "NotPrincipal" } else { "Principal" };
        let p_ptr = format!("{pointer}/{el}");
        match kind {
            PolicyKind::Identity | PolicyKind::AwsManaged | PolicyKind::Session | PolicyKind::Scp => {
                self.error(&p_ptr, format!("{el} is not allowed in an identity-based policy"));
                None
            }
            PolicyKind::Trust | PolicyKind::Rcp if not => {
                self.error(&p_ptr, "NotPrincipal is not allowed in this kind of policy");
                None
            }
            _ => {
                if not && effect == Some(Effect::Allow) {
                    self.error(&p_ptr, "NotPrincipal is only supported with \"Effect\": \"Deny\"");
                }
                let block = parse_principal(value, not, self.version, &p_ptr, self.errors);
                if kind == PolicyKind::Rcp
                    && !block
                        .as_ref()
                        .is_some_and(|b| b.any && b.aws.is_empty() && b.service.is_empty() && b.federated.is_empty())
                {
                    self.error(&p_ptr, "an RCP's Principal must be \"*\"");
                }
                block
            }
        }
    }
}

/// Whether an element is present under another spelling (already reported as unknown).
fn has_miscased(pairs: &[(String, Json)], name: &str) -> bool {
    pairs.iter().any(|(k, _)| k != name && k.eq_ignore_ascii_case(name))
}

fn is_rcp_full_access(node: &Json) -> bool {
    let star = |v: Option<&Json>| matches!(v, Some(Json::String(s)) if s == "*");
    star(node.get("Principal"))
        && star(node.get("Action"))
        && star(node.get("Resource"))
        && node.get("Condition").is_none()
}

/// A string or a non-empty array of strings, each with its index in the array (`None` for a lone
/// string), so that a JSON pointer is built only for a problem ([`item_pointer`]; `pointer`
/// builds the element's).
fn string_list<'a>(
    node: &'a Json,
    pointer: &dyn Fn() -> String,
    errors: &mut Vec<PolicyError>,
) -> SmallVec<[(Option<usize>, &'a str); 4]> {
    match node {
        Json::String(s) => smallvec::smallvec![(None, s.as_str())],
        Json::Array(items) if items.is_empty() => {
            errors.push(PolicyError::new(pointer(), "must not be an empty array"));
            SmallVec::new()
        }
        Json::Array(items) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| match item {
                Json::String(s) => Some((Some(i), s.as_str())),
                other => {
                    errors.push(PolicyError::new(
                        format!("{}/{i}", pointer()),
                        format!("expected a string, found {}", other.type_name()),
                    ));
                    None
                }
            })
            .collect(),
        other => {
            errors.push(PolicyError::new(
                pointer(),
                format!("expected a string or an array of strings, found {}", other.type_name()),
            ));
            SmallVec::new()
        }
    }
}

/// The pointer of a [`string_list`] item.
fn item_pointer(pointer: &str, i: Option<usize>) -> String {
    match i {
        Some(i) => format!("{pointer}/{i}"),
        None => pointer.to_owned(),
    }
}

impl Doc<'_> {
    /// The templates of the string-list element `el` of the statement at `pointer`, each read by
    /// `template` (its error reported at the item's pointer); `None` when any item fails.
    fn templates(
        &mut self,
        node: &Json,
        pointer: &str,
        el: &str,
        mut template: impl FnMut(&mut Interner, &str) -> Result<Template, String>,
    ) -> Option<Vec<Template>> {
        let before = self.errors.len();
        let mut patterns = Vec::new();
        let el_pointer = || format!("{pointer}/{el}");
        for (i, raw) in string_list(node, &el_pointer, self.errors) {
            match template(self.interner, raw) {
                Ok(t) => patterns.push(t),
                Err(e) => self.error(item_pointer(&el_pointer(), i), e),
            }
        }
        patterns.shrink_to_fit();
        (self.errors.len() == before).then_some(patterns)
    }

    /// The patterns of the `Action` / `NotAction` element `el` of the statement at `pointer`,
    /// lowercased.
    fn actions(&mut self, node: &Json, not: bool, vars: Vars, pointer: &str, el: &str) -> Option<ActionBlock> {
        let kind = self.kind;
        let patterns = self.templates(node, pointer, el, |interner, raw| {
            if raw != "*" && !raw.contains(':') {
                return Err(format!("action {raw:?} must be \"*\" or \"service:Action\""));
            }
            let lc: Cow<'_, str> = if raw.bytes().any(|b| b.is_ascii_uppercase()) {
                Cow::Owned(raw.to_ascii_lowercase())
            } else {
                Cow::Borrowed(raw)
            };
            if kind == PolicyKind::Trust && raw != "*" && !lc.starts_with("sts:") {
                return Err(format!("a trust policy may only name sts actions, found {raw:?}"));
            }
            interner.template(&lc, true, vars).map_err(|e| format!("{e} (in an action)"))
        })?;
        Some(ActionBlock { not, patterns })
    }

    /// The templates of the `Resource` / `NotResource` element `el` of the statement at
    /// `pointer`.
    fn resources(&mut self, node: &Json, not: bool, vars: Vars, pointer: &str, el: &str) -> Option<ResourceBlock> {
        let patterns = self.templates(node, pointer, el, |interner, raw| {
            if raw != "*" && !raw.starts_with("arn:") {
                return Err(format!("resource {raw:?} must be \"*\" or an ARN starting with \"arn:\""));
            }
            let t = interner.template(raw, true, vars)?;
            if t.has_variables() && colons_before_first_variable(raw) < 5 {
                return Err(format!(
                    "policy variables are only allowed in the resource part of an ARN (after the fifth colon): {raw:?}"
                ));
            }
            Ok(t)
        })?;
        Some(ResourceBlock { not, patterns })
    }
}

fn colons_before_first_variable(raw: &str) -> usize {
    let mut rest = raw;
    let mut offset = 0;
    while let Some(i) = rest.find("${") {
        let body = rest[i + 2..].split('}').next().unwrap_or("");
        if !matches!(body, "*" | "?" | "$") {
            return raw[..offset + i].matches(':').count();
        }
        offset += i + 2;
        rest = &rest[i + 2..];
    }
    usize::MAX
}

fn parse_principal(
    node: &Json,
    not: bool,
    version: Version,
    pointer: &str,
    errors: &mut Vec<PolicyError>,
) -> Option<PrincipalBlock> {
    let mut block = PrincipalBlock { not, ..PrincipalBlock::default() };
    match node {
        Json::String(s) if s == "*" => block.any = true,
        Json::Object(pairs) => {
            if pairs.is_empty() {
                errors.push(PolicyError::new(pointer, "must name at least one principal"));
            }
            for (key, value) in pairs {
                let p = format!("{pointer}/{}", pointer_token(key));
                if !PRINCIPAL_KEYS.contains(&key.as_str()) {
                    errors.push(unknown_element(pointer, key, &PRINCIPAL_KEYS));
                    continue;
                }
                for (i, entry) in string_list(value, &|| p.clone(), errors) {
                    let ep = item_pointer(&p, i);
                    if version == Version::V2012 && entry.contains("${") {
                        errors.push(PolicyError::new(&ep, "policy variables are not allowed in a principal"));
                        continue;
                    }
                    match key.as_str() {
                        "AWS" => {
                            if entry == "*" {
                                block.any = true;
                            } else if is_account_id(entry) {
                                block.aws.push(format!("arn:aws:iam::{entry}:root"));
                            } else if entry.starts_with("arn:") {
                                if entry.contains(['*', '?']) {
                                    errors.push(PolicyError::new(
                                        &ep,
                                        format!("wildcards are not allowed in a principal ARN ({entry:?}); use \"*\" with a condition on aws:PrincipalArn"),
                                    ));
                                } else {
                                    block.aws.push(entry.to_owned());
                                }
                            } else if entry.len() >= 16
                                && entry.starts_with('A')
                                && entry.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
                            {
                                block.aws.push(entry.to_owned());
                            } else {
                                errors.push(PolicyError::new(
                                    &ep,
                                    format!("expected \"*\", an account ID, an ARN or a unique ID, found {entry:?}"),
                                ));
                            }
                        }
                        "Service" => block.service.push(entry.to_owned()),
                        "Federated" => block.federated.push(entry.to_owned()),
                        _ => block.canonical_user.push(entry.to_owned()),
                    }
                }
            }
        }
        other => {
            errors.push(PolicyError::new(
                pointer,
                format!("expected \"*\" or an object such as {{\"AWS\": ...}}, found {}", show(other)),
            ));
            return None;
        }
    }
    Some(block)
}

/// Parses an operator name: `[ForAllValues:|ForAnyValue:]<Name>[IfExists]`.
pub(crate) fn parse_operator(name: &str) -> Result<Operator, String> {
    let (qualifier, rest) = if let Some(r) = name.strip_prefix("ForAllValues:") {
        (Qualifier::ForAllValues, r)
    } else if let Some(r) = name.strip_prefix("ForAnyValue:") {
        (Qualifier::ForAnyValue, r)
    } else {
        (Qualifier::None, name)
    };
    let (if_exists, base) = match rest.strip_suffix("IfExists") {
        Some(b) => (true, b),
        None => (false, rest),
    };
    let Some(&(kind, _)) = OpKind::ALL.iter().find(|(_, n)| *n == base) else {
        let names: Vec<&str> = OpKind::ALL.iter().map(|(_, n)| *n).collect();
        return Err(match suggest(base, &names) {
            Some(s) => format!("unknown condition operator {name:?} (did you mean {s}?)"),
            None => format!("unknown condition operator {name:?}"),
        });
    };
    if kind == OpKind::Null && (if_exists || qualifier != Qualifier::None) {
        return Err(format!("{name:?}: Null takes neither IfExists nor ForAllValues/ForAnyValue"));
    }
    Ok(Operator { kind, if_exists, qualifier })
}

fn parse_conditions(
    node: &Json,
    version: Version,
    pointer: &str,
    errors: &mut Vec<PolicyError>,
    interner: &mut Interner,
) -> Vec<Condition> {
    let Json::Object(ops) = node else {
        errors.push(PolicyError::new(pointer, format!("expected an object of operators, found {}", node.type_name())));
        return Vec::new();
    };
    let mut out = Vec::new();
    for (op_name, keys) in ops {
        let op_ptr = format!("{pointer}/{}", pointer_token(op_name));
        let op = match parse_operator(op_name) {
            Ok(op) => op,
            Err(e) => {
                errors.push(PolicyError::new(&op_ptr, e));
                continue;
            }
        };
        let Json::Object(keys) = keys else {
            errors.push(PolicyError::new(
                &op_ptr,
                format!("expected an object of condition keys, found {}", keys.type_name()),
            ));
            continue;
        };
        if keys.is_empty() {
            errors.push(PolicyError::new(&op_ptr, "must name at least one condition key"));
        }
        for (key, values) in keys {
            let key_ptr = || format!("{op_ptr}/{}", pointer_token(key));
            if key.is_empty() {
                errors.push(PolicyError::new(key_ptr(), "empty condition key"));
                continue;
            }
            if version == Version::V2012 && key.contains("${") {
                errors.push(PolicyError::new(key_ptr(), "policy variables are not allowed in condition keys"));
                continue;
            }
            let raw_values: SmallVec<[(Option<usize>, Cow<'_, str>); 4]> = match values {
                Json::Array(items) if items.is_empty() => {
                    errors.push(PolicyError::new(key_ptr(), "must not be an empty array"));
                    continue;
                }
                Json::Array(items) => items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| Some((Some(i), scalar_text(v, || format!("{}/{i}", key_ptr()), errors)?)))
                    .collect(),
                v => scalar_text(v, key_ptr, errors).map(|t| (None, t)).into_iter().collect(),
            };
            let mut parsed = Vec::with_capacity(raw_values.len());
            for (i, text) in raw_values {
                match parse_condition_value(op.kind, &text, version, interner) {
                    Ok(v) => parsed.push(v),
                    Err(e) => errors.push(PolicyError::new(item_pointer(&key_ptr(), i), e)),
                }
            }
            out.push(Condition { op, key: key.clone(), key_lc: key.to_ascii_lowercase(), values: parsed });
        }
    }
    out
}

/// A condition value as text: strings, numbers and booleans; anything else is an error (at the
/// pointer `pointer` builds).
fn scalar_text<'a>(
    v: &'a Json,
    pointer: impl FnOnce() -> String,
    errors: &mut Vec<PolicyError>,
) -> Option<Cow<'a, str>> {
    match v {
        Json::String(s) => Some(Cow::Borrowed(s)),
        Json::Number(n) => Some(Cow::Borrowed(n)),
        Json::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        other => {
            errors.push(PolicyError::new(
                pointer(),
                format!("expected a string, number or boolean, found {}", other.type_name()),
            ));
            None
        }
    }
}

fn parse_condition_value(
    kind: OpKind,
    text: &str,
    version: Version,
    interner: &mut Interner,
) -> Result<CondValue, String> {
    let family = kind.family();
    let vars = if version == Version::V2012 { Vars::Allowed } else { Vars::Literal };
    let no_vars = |what: &str| -> Result<(), String> {
        if version == Version::V2012 && text.contains("${") {
            Err(format!("policy variables are not allowed in {what} values"))
        } else {
            Ok(())
        }
    };
    match family {
        Family::String | Family::Arn => Ok(CondValue::Text(interner.template(text, kind.wildcards(), vars)?)),
        Family::Bool => {
            let t = interner.template(text, false, vars)?;
            if !t.has_variables() && t.as_literal().as_deref().and_then(parse_bool).is_none() {
                return Err(format!("expected \"true\" or \"false\", found {text:?}"));
            }
            Ok(CondValue::Text(t))
        }
        Family::Numeric => {
            no_vars("Numeric")?;
            Decimal::parse(text).map(CondValue::Number).ok_or_else(|| format!("expected a number, found {text:?}"))
        }
        Family::Date => {
            no_vars("Date")?;
            Instant::parse(text)
                .map(CondValue::Date)
                .ok_or_else(|| format!("expected an ISO 8601 date or epoch seconds, found {text:?}"))
        }
        Family::Binary => {
            no_vars("BinaryEquals")?;
            decode_base64(text).map(CondValue::Binary).ok_or_else(|| format!("expected base64, found {text:?}"))
        }
        Family::Ip => {
            no_vars("IpAddress")?;
            Cidr::parse(text)
                .map(CondValue::Cidr)
                .ok_or_else(|| format!("expected an IP address or CIDR, found {text:?}"))
        }
        Family::Null => {
            no_vars("Null")?;
            parse_bool(text)
                .map(CondValue::Null)
                .ok_or_else(|| format!("expected \"true\" or \"false\", found {text:?}"))
        }
    }
}

fn unknown_element(pointer: &str, key: &str, known: &[&str]) -> PolicyError {
    let p = format!("{pointer}/{}", pointer_token(key));
    match suggest(key, known) {
        Some(s) => PolicyError::new(p, format!("unknown element {key:?} (did you mean {s}?)")),
        None => PolicyError::new(p, format!("unknown element {key:?} (expected one of {})", known.join(", "))),
    }
}

/// The closest known name, when one is close enough to be a likely typo.
pub(crate) fn suggest<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    let close = |k: &str| 2.max(k.len() / 5);
    let chars = word.chars().count();
    known
        .iter()
        // The length difference bounds the distance from below: skip hopeless (and long) words.
        .filter(|k| chars.abs_diff(k.chars().count()) <= close(k))
        .map(|k| (edit_distance(&word.to_ascii_lowercase(), &k.to_ascii_lowercase()), *k))
        .filter(|(d, k)| *d <= close(k))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn show(v: &Json) -> String {
    match v {
        Json::String(s) => format!("{s:?}"),
        Json::Number(n) => n.clone(),
        Json::Bool(b) => b.to_string(),
        other => other.type_name().to_owned(),
    }
}

/// The length IAM counts for a policy's size quota: the compact JSON, no whitespace outside strings.
pub(crate) fn compact_len(doc: &Json) -> usize {
    match doc {
        Json::Null => 4,
        Json::Bool(b) => {
            if *b {
                4
            } else {
                5
            }
        }
        Json::Number(n) => n.len(),
        Json::String(s) => quoted_len(s),
        Json::Array(items) => 2 + items.iter().map(compact_len).sum::<usize>() + items.len().saturating_sub(1),
        Json::Object(pairs) => {
            2 + pairs.iter().map(|(k, v)| quoted_len(k) + 1 + compact_len(v)).sum::<usize>()
                + pairs.len().saturating_sub(1)
        }
    }
}

/// The characters of `s` as a JSON string literal, quotes included, escaped as serde_json
/// writes it: `"` and `\\` and the short control escapes take two, other controls six (`\u00XX`).
fn quoted_len(s: &str) -> usize {
    2 + s
        .chars()
        .map(|c| match c {
            '"' | '\\' | '\u{8}' | '\u{c}' | '\n' | '\r' | '\t' => 2,
            c if c < '\u{20}' => 6,
            _ => 1,
        })
        .sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The counted length equals that of serde_json's own escaping, for every kind of character.
    #[test]
    fn quoted_len_counts_like_serde_json() {
        for s in ["", "plain", "a\"b\\c", "\u{1}\u{8}\u{c}\n\r\t\u{1f}", "é😀\u{7f}/", "s3:Get*"] {
            let expected = serde_json::to_string(s).unwrap().chars().count();
            assert_eq!(quoted_len(s), expected, "{s:?}");
        }
    }

    /// URL-encoded policy text: `%XX` escapes decode, `+` stays `+`, JSON text is left alone, and
    /// what is not an escape of two hex digits stays as written (`%+f` is not 0x0f).
    #[test]
    fn policy_text_decodes_only_percent_escapes() {
        assert_eq!(decode_policy_text("%7B%22a%22%3A%221+2%22%7D"), r#"{"a":"1+2"}"#);
        assert_eq!(decode_policy_text(r#"{"a": "%41"}"#), r#"{"a": "%41"}"#);
        assert_eq!(decode_policy_text("%+f%4%zz%"), "%+f%4%zz%");
        assert_eq!(decode_policy_text("%C3%A9%FF"), "é\u{fffd}");
    }
}
