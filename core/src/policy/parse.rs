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
use crate::policy::glob::{Template, Vars};
use crate::policy::json::{pointer_token, repeated_keys, Json};
use crate::policy::value::{decode_base64, parse_bool, Decimal, Instant};

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
    match doc {
        Json::String(text) => {
            let decoded = decode_policy_text(text);
            match Json::parse(&decoded) {
                Ok(inner) => parse_policy(&inner, kind, pointer, errors),
                Err(e) => {
                    errors.push(PolicyError::new(pointer, format!("policy document string is not JSON: {e}")));
                    None
                }
            }
        }
        other => parse_policy(other, kind, pointer, errors),
    }
}

/// URL-decodes (RFC 3986: `%XX` only, `+` stays `+`) a policy document string when it is not
/// already JSON text.
pub(crate) fn decode_policy_text(text: &str) -> String {
    if text.trim_start().starts_with('{') {
        return text.to_owned();
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = text.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(v) = hex {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses and validates one policy document. `pointer` locates the document in its file.
pub(crate) fn parse_policy(
    doc: &Json,
    kind: PolicyKind,
    pointer: &str,
    errors: &mut Vec<PolicyError>,
) -> Option<Policy> {
    let before = errors.len();
    check_tree(doc, pointer, errors);
    let Json::Object(pairs) = doc else {
        errors.push(PolicyError::new(pointer, format!("expected a policy document object, found {}", doc.type_name())));
        return None;
    };
    for (key, _) in pairs {
        if !DOCUMENT_KEYS.contains(&key.as_str()) {
            errors.push(unknown_element(pointer, key, &DOCUMENT_KEYS));
        }
    }
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
    if let Some(id) = doc.get("Id") {
        if !matches!(id, Json::String(_)) {
            errors.push(PolicyError::new(
                format!("{pointer}/Id"),
                format!("expected a string, found {}", id.type_name()),
            ));
        }
    }
    let mut statements = Vec::new();
    match doc.get("Statement") {
        None if has_miscased(pairs, "Statement") => {}
        None => errors.push(PolicyError::new(pointer, "missing Statement")),
        Some(obj @ Json::Object(_)) => {
            let p = format!("{pointer}/Statement");
            if let Some(s) = parse_statement(obj, kind, version, &p, errors) {
                statements.push(s);
            }
        }
        Some(Json::Array(items)) if items.is_empty() => {
            errors.push(PolicyError::new(format!("{pointer}/Statement"), "Statement must not be an empty array"));
        }
        Some(Json::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let p = format!("{pointer}/Statement/{i}");
                if let Some(s) = parse_statement(item, kind, version, &p, errors) {
                    statements.push(s);
                }
            }
        }
        Some(other) => errors.push(PolicyError::new(
            format!("{pointer}/Statement"),
            format!("expected a statement object or an array of them, found {}", other.type_name()),
        )),
    }
    if matches!(kind, PolicyKind::Identity | PolicyKind::Session) {
        check_unique_sids(doc.get("Statement"), pointer, errors);
    }
    (errors.len() == before).then_some(Policy { statements })
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

/// Duplicate keys and disallowed characters anywhere in the document.
fn check_tree(node: &Json, pointer: &str, errors: &mut Vec<PolicyError>) {
    match node {
        Json::Object(pairs) => {
            let mut repeated = repeated_keys(pairs).into_iter().peekable();
            for (i, (k, v)) in pairs.iter().enumerate() {
                let p = format!("{pointer}/{}", pointer_token(k));
                if repeated.next_if_eq(&i).is_some() {
                    errors.push(PolicyError::new(&p, format!("duplicate key {k:?}")));
                }
                check_chars(k, &p, errors);
                check_tree(v, &p, errors);
            }
        }
        Json::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                check_tree(v, &format!("{pointer}/{i}"), errors);
            }
        }
        Json::String(s) => check_chars(s, pointer, errors),
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

fn parse_statement(
    node: &Json,
    kind: PolicyKind,
    version: Version,
    pointer: &str,
    errors: &mut Vec<PolicyError>,
) -> Option<Statement> {
    let Json::Object(pairs) = node else {
        errors.push(PolicyError::new(pointer, format!("expected a statement object, found {}", node.type_name())));
        return None;
    };
    let before = errors.len();
    for (key, _) in pairs {
        if !STATEMENT_KEYS.contains(&key.as_str()) {
            errors.push(unknown_element(pointer, key, &STATEMENT_KEYS));
        }
    }
    let sid = match node.get("Sid") {
        None => None,
        Some(Json::String(s)) => {
            if matches!(kind, PolicyKind::Identity | PolicyKind::Session)
                && !s.chars().all(|c| c.is_ascii_alphanumeric())
            {
                errors.push(PolicyError::new(
                    format!("{pointer}/Sid"),
                    format!("Sid {s:?} must contain only letters and digits in an identity policy"),
                ));
            }
            Some(s.clone())
        }
        Some(other) => {
            errors.push(PolicyError::new(
                format!("{pointer}/Sid"),
                format!("expected a string, found {}", other.type_name()),
            ));
            None
        }
    };
    let effect = match node.get("Effect") {
        Some(Json::String(e)) if e == "Allow" => Some(Effect::Allow),
        Some(Json::String(e)) if e == "Deny" => Some(Effect::Deny),
        Some(other) => {
            errors.push(PolicyError::new(
                format!("{pointer}/Effect"),
                format!("expected \"Allow\" or \"Deny\", found {}", show(other)),
            ));
            None
        }
        None => {
            if !has_miscased(pairs, "Effect") {
                errors.push(PolicyError::new(pointer, "missing Effect"));
            }
            None
        }
    };
    let vars = if version == Version::V2012 { Vars::Allowed } else { Vars::Literal };
    let forbid_vars = if version == Version::V2012 { Vars::Forbidden } else { Vars::Literal };

    // Action / NotAction
    let action = match (node.get("Action"), node.get("NotAction")) {
        (Some(_), Some(_)) => {
            errors.push(PolicyError::new(pointer, "a statement has either Action or NotAction, not both"));
            None
        }
        (None, None) => {
            if !has_miscased(pairs, "Action") && !has_miscased(pairs, "NotAction") {
                errors.push(PolicyError::new(pointer, "missing Action (or NotAction)"));
            }
            None
        }
        (Some(a), None) => parse_actions(a, false, kind, forbid_vars, &format!("{pointer}/Action"), errors),
        (None, Some(a)) => {
            if kind == PolicyKind::Rcp {
                errors.push(PolicyError::new(format!("{pointer}/NotAction"), "NotAction is not allowed in an RCP"));
            }
            parse_actions(a, true, kind, forbid_vars, &format!("{pointer}/NotAction"), errors)
        }
    };

    // Resource / NotResource
    let resource = match (node.get("Resource"), node.get("NotResource")) {
        (Some(_), Some(_)) => {
            errors.push(PolicyError::new(pointer, "a statement has either Resource or NotResource, not both"));
            None
        }
        (r, nr) if kind == PolicyKind::Trust => {
            if r.is_some() || nr.is_some() {
                let el = if r.is_some() { "Resource" } else { "NotResource" };
                errors.push(PolicyError::new(
                    format!("{pointer}/{el}"),
                    format!("{el} is not allowed in a trust policy"),
                ));
            }
            None
        }
        (None, None) => {
            if !has_miscased(pairs, "Resource") && !has_miscased(pairs, "NotResource") {
                errors.push(PolicyError::new(pointer, "missing Resource (or NotResource)"));
            }
            None
        }
        (Some(r), None) => parse_resources(r, false, vars, &format!("{pointer}/Resource"), errors),
        (None, Some(r)) => parse_resources(r, true, vars, &format!("{pointer}/NotResource"), errors),
    };

    // Principal / NotPrincipal
    let principal = match (node.get("Principal"), node.get("NotPrincipal")) {
        (Some(_), Some(_)) => {
            errors.push(PolicyError::new(pointer, "a statement has either Principal or NotPrincipal, not both"));
            None
        }
        (None, None) => {
            if matches!(kind, PolicyKind::Resource | PolicyKind::Trust | PolicyKind::Rcp)
                && !has_miscased(pairs, "Principal")
            {
                errors.push(PolicyError::new(pointer, "missing Principal: required in this kind of policy"));
            }
            None
        }
        (p, np) => {
            let not = np.is_some();
            let el = if not { "NotPrincipal" } else { "Principal" };
            let value = p.or(np)?;
            let p_ptr = format!("{pointer}/{el}");
            match kind {
                PolicyKind::Identity | PolicyKind::AwsManaged | PolicyKind::Session | PolicyKind::Scp => {
                    errors.push(PolicyError::new(&p_ptr, format!("{el} is not allowed in an identity-based policy")));
                    None
                }
                PolicyKind::Trust | PolicyKind::Rcp if not => {
                    errors.push(PolicyError::new(&p_ptr, "NotPrincipal is not allowed in this kind of policy"));
                    None
                }
                _ => {
                    if not && effect == Some(Effect::Allow) {
                        errors
                            .push(PolicyError::new(&p_ptr, "NotPrincipal is only supported with \"Effect\": \"Deny\""));
                    }
                    let block = parse_principal(value, not, version, &p_ptr, errors);
                    if kind == PolicyKind::Rcp
                        && !block.as_ref().is_some_and(|b| {
                            b.any && b.aws.is_empty() && b.service.is_empty() && b.federated.is_empty()
                        })
                    {
                        errors.push(PolicyError::new(&p_ptr, "an RCP's Principal must be \"*\""));
                    }
                    block
                }
            }
        }
    };

    let conditions = match node.get("Condition") {
        None => Vec::new(),
        Some(c) => parse_conditions(c, version, &format!("{pointer}/Condition"), errors),
    };

    if kind == PolicyKind::Rcp && effect == Some(Effect::Allow) && !is_rcp_full_access(node) {
        errors.push(PolicyError::new(
            format!("{pointer}/Effect"),
            "custom RCPs can only Deny (Allow is reserved for RCPFullAWSAccess)",
        ));
    }

    if errors.len() != before {
        return None;
    }
    Some(Statement { sid, effect: effect?, principal, action: action?, resource, conditions })
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

/// A string or a non-empty array of strings.
fn string_list<'a>(node: &'a Json, pointer: &str, errors: &mut Vec<PolicyError>) -> Vec<(String, &'a str)> {
    match node {
        Json::String(s) => vec![(pointer.to_owned(), s.as_str())],
        Json::Array(items) if items.is_empty() => {
            errors.push(PolicyError::new(pointer, "must not be an empty array"));
            Vec::new()
        }
        Json::Array(items) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| match item {
                Json::String(s) => Some((format!("{pointer}/{i}"), s.as_str())),
                other => {
                    errors.push(PolicyError::new(
                        format!("{pointer}/{i}"),
                        format!("expected a string, found {}", other.type_name()),
                    ));
                    None
                }
            })
            .collect(),
        other => {
            errors.push(PolicyError::new(
                pointer,
                format!("expected a string or an array of strings, found {}", other.type_name()),
            ));
            Vec::new()
        }
    }
}

fn parse_actions(
    node: &Json,
    not: bool,
    kind: PolicyKind,
    vars: Vars,
    pointer: &str,
    errors: &mut Vec<PolicyError>,
) -> Option<ActionBlock> {
    let before = errors.len();
    let mut patterns = Vec::new();
    for (p, raw) in string_list(node, pointer, errors) {
        if raw != "*" && !raw.contains(':') {
            errors.push(PolicyError::new(&p, format!("action {raw:?} must be \"*\" or \"service:Action\"")));
            continue;
        }
        if kind == PolicyKind::Trust && raw != "*" && !raw.to_ascii_lowercase().starts_with("sts:") {
            errors.push(PolicyError::new(&p, format!("a trust policy may only name sts actions, found {raw:?}")));
            continue;
        }
        match Template::parse(&raw.to_ascii_lowercase(), true, vars) {
            Ok(t) => patterns.push(t),
            Err(e) => errors.push(PolicyError::new(&p, format!("{e} (in an action)"))),
        }
    }
    (errors.len() == before).then_some(ActionBlock { not, patterns })
}

fn parse_resources(
    node: &Json,
    not: bool,
    vars: Vars,
    pointer: &str,
    errors: &mut Vec<PolicyError>,
) -> Option<ResourceBlock> {
    let before = errors.len();
    let mut patterns = Vec::new();
    for (p, raw) in string_list(node, pointer, errors) {
        if raw != "*" && !raw.starts_with("arn:") {
            errors
                .push(PolicyError::new(&p, format!("resource {raw:?} must be \"*\" or an ARN starting with \"arn:\"")));
            continue;
        }
        match Template::parse(raw, true, vars) {
            Ok(t) => {
                if t.has_variables() && colons_before_first_variable(raw) < 5 {
                    errors.push(PolicyError::new(
                        &p,
                        format!("policy variables are only allowed in the resource part of an ARN (after the fifth colon): {raw:?}"),
                    ));
                    continue;
                }
                patterns.push(t);
            }
            Err(e) => errors.push(PolicyError::new(&p, e)),
        }
    }
    (errors.len() == before).then_some(ResourceBlock { not, patterns })
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
                for (ep, entry) in string_list(value, &p, errors) {
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

fn parse_conditions(node: &Json, version: Version, pointer: &str, errors: &mut Vec<PolicyError>) -> Vec<Condition> {
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
            let key_ptr = format!("{op_ptr}/{}", pointer_token(key));
            if key.is_empty() {
                errors.push(PolicyError::new(&key_ptr, "empty condition key"));
                continue;
            }
            if version == Version::V2012 && key.contains("${") {
                errors.push(PolicyError::new(&key_ptr, "policy variables are not allowed in condition keys"));
                continue;
            }
            let raw_values: Vec<(String, String)> = match values {
                Json::Array(items) if items.is_empty() => {
                    errors.push(PolicyError::new(&key_ptr, "must not be an empty array"));
                    continue;
                }
                Json::Array(items) => items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| scalar_text(v, &format!("{key_ptr}/{i}"), errors))
                    .collect(),
                v => scalar_text(v, &key_ptr, errors).into_iter().collect(),
            };
            let mut parsed = Vec::with_capacity(raw_values.len());
            for (vp, text) in raw_values {
                match parse_condition_value(op.kind, &text, version) {
                    Ok(v) => parsed.push(v),
                    Err(e) => errors.push(PolicyError::new(&vp, e)),
                }
            }
            out.push(Condition { op, key: key.clone(), key_lc: key.to_ascii_lowercase(), values: parsed });
        }
    }
    out
}

/// A condition value as text: strings, numbers and booleans; anything else is an error.
fn scalar_text(v: &Json, pointer: &str, errors: &mut Vec<PolicyError>) -> Option<(String, String)> {
    match v {
        Json::String(s) => Some((pointer.to_owned(), s.clone())),
        Json::Number(n) => Some((pointer.to_owned(), n.clone())),
        Json::Bool(b) => Some((pointer.to_owned(), b.to_string())),
        other => {
            errors.push(PolicyError::new(
                pointer,
                format!("expected a string, number or boolean, found {}", other.type_name()),
            ));
            None
        }
    }
}

fn parse_condition_value(kind: OpKind, text: &str, version: Version) -> Result<CondValue, String> {
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
        Family::String | Family::Arn => Ok(CondValue::Text(Template::parse(text, kind.wildcards(), vars)?)),
        Family::Bool => {
            let t = Template::parse(text, false, vars)?;
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

fn quoted_len(s: &str) -> usize {
    serde_json::to_string(s).map(|q| q.chars().count()).unwrap_or(s.len() + 2)
}
