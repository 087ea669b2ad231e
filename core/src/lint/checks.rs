//! The checks, one function per check ID (see [`super::CHECKS`]). Each reads a statement as the
//! parser saw it (the AST) and as written (the JSON, for pointers); catalogue lookups are cached
//! per distinct pattern so a store of 100,000 statements costs a pass, not a search per statement.

use super::{Doc, Finding, PolicySet, CHECKS};
use crate::catalog::{catalog, template_tokens, AccessLevel, ConditionKey, ResourceType, Service};
use crate::policy::ast::{ActionBlock, Effect, OpKind, Policy, PolicyKind, Qualifier, Statement};
use crate::policy::glob::{glob_match, Template, Tok};
use crate::policy::json::{pointer_token, Json};
use crate::policy::parse::parse_document;
use rustc_hash::FxHashMap as HashMap;
use std::rc::Rc;

/// Actions that return credentials (Cloudsplaining's `ACTIONS_THAT_RETURN_CREDENTIALS`).
const CREDENTIAL_ACTIONS: &[&str] = &[
    "airflow:createclitoken",
    "airflow:createweblogintoken",
    "appsync:createapikey",
    "chime:createapikey",
    "cloud9:createenvironmenttoken",
    "codeartifact:getauthorizationtoken",
    "codepipeline:pollforjobs",
    "cognito-identity:getopenidtoken",
    "cognito-identity:getopenidtokenfordeveloperidentity",
    "cognito-identity:getcredentialsforidentity",
    "cognito-idp:getsigningcertificate",
    "connect:getfederationtoken",
    "connect:getfederationtokens",
    "ec2:getpassworddata",
    "ecr:getauthorizationtoken",
    "ecr-public:getauthorizationtoken",
    "emr-containers:getmanagedendpointsessioncredentials",
    "gamelift:requestuploadcredentials",
    "gamelift:getinstanceaccess",
    "grafana:createworkspaceapikey",
    "iam:createaccesskey",
    "iam:createloginprofile",
    "iam:createservicespecificcredential",
    "iam:resetservicespecificcredential",
    "iam:updateaccesskey",
    "lightsail:getinstanceaccessdetails",
    "lightsail:downloaddefaultkeypair",
    "lightsail:createbucketaccesskey",
    "lightsail:getrelationaldatabasemasteruserpassword",
    "mediapackage:rotatechannelcredentials",
    "mediapackage:rotateingestendpointcredentials",
    "rds-db:connect",
    "redshift:getclustercredentials",
    "redshift:getclustercredentialswithiam",
    "redshift-serverless:getcredentials",
    "sso:getrolecredentials",
    "sts:assumerole",
    "sts:assumerolewithsaml",
    "sts:assumerolewithwebidentity",
    "sts:getfederationtoken",
    "sts:getsessiontoken",
];

/// Read actions that can leak data or secrets (Cloudsplaining's default `include-actions`).
const EXFILTRATION_ACTIONS: &[&str] = &[
    "s3:getobject",
    "ssm:getparameter",
    "ssm:getparameters",
    "ssm:getparametersbypath",
    "secretsmanager:getsecretvalue",
];

/// The actions escalation combinations are made of (bit i of a mask = action i).
const ESCALATION_ACTIONS: &[&str] = &[
    "iam:createpolicyversion",
    "iam:setdefaultpolicyversion",
    "iam:attachuserpolicy",
    "iam:attachgrouppolicy",
    "iam:attachrolepolicy",
    "iam:putuserpolicy",
    "iam:putgrouppolicy",
    "iam:putrolepolicy",
    "iam:createaccesskey",
    "iam:createloginprofile",
    "iam:updateloginprofile",
    "iam:updateassumerolepolicy",
    "iam:passrole",
    "ec2:runinstances",
    "lambda:createfunction",
    "lambda:invokefunction",
    "cloudformation:createstack",
    "glue:createdevendpoint",
    "iam:addusertogroup",
    "lambda:createeventsourcemapping",
    "datapipeline:createpipeline",
    "glue:updatedevendpoint",
    "lambda:updatefunctioncode",
];

/// Known escalation combinations (Rhino Security Labs' list, as Cloudsplaining catalogues it):
/// indices into [`ESCALATION_ACTIONS`].
const ESCALATIONS: &[&[usize]] = &[
    &[0],
    &[1],
    &[2],
    &[3],
    &[4],
    &[5],
    &[6],
    &[7],
    &[8],
    &[9],
    &[10],
    &[11],
    &[12, 13],
    &[12, 14, 15],
    &[12, 14, 19],
    &[12, 16],
    &[12, 17],
    &[12, 20],
    &[18],
    &[21],
    &[22],
];

/// Escalation actions that are harmless when the statement only names the caller itself
/// (`arn:aws:iam::*:user/${aws:username}`): acting on one's own user is not escalation.
const SELF_SERVICE: [usize; 3] = [8, 9, 10];

/// Condition keys that narrow `Principal: *` to a known population.
const NARROWING_KEYS: &[&str] = &[
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:sourcevpce",
    "aws:sourcevpc",
    "aws:sourceip",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
];

/// Condition keys that make trusting another account's root safe enough.
const TRUST_GUARD_KEYS: &[&str] = &[
    "sts:externalid",
    "aws:multifactorauthpresent",
    "aws:multifactorauthage",
    "aws:principalorgid",
    "aws:principalorgpaths",
];

/// What the catalogue says about a statement's action list.
struct ActionInfo {
    /// At least one pattern named a known action.
    known: bool,
    /// Resource types of the named actions (empty when every action takes only `*`).
    types: Vec<&'static ResourceType>,
    /// Condition keys of the named actions and their resource types.
    keys: Vec<&'static ConditionKey>,
    /// Permissions-management actions named, for RESOURCE_EXPOSURE.
    permissions: Vec<String>,
}

#[derive(Default)]
struct Cache {
    expansions: HashMap<String, Rc<Vec<(&'static Service, &'static crate::catalog::Action)>>>,
    infos: HashMap<String, Rc<ActionInfo>>,
    /// Condition key (lowercase) → the catalogue's entry.
    keys: HashMap<String, Option<&'static ConditionKey>>,
    fits: HashMap<(String, String), bool>,
}

impl Cache {
    fn expand(&mut self, pattern: &str) -> Rc<Vec<(&'static Service, &'static crate::catalog::Action)>> {
        if let Some(e) = self.expansions.get(pattern) {
            return Rc::clone(e);
        }
        let e = Rc::new(catalog().matching(pattern));
        self.expansions.insert(pattern.to_owned(), Rc::clone(&e));
        e
    }

    fn info(&mut self, block: &ActionBlock) -> Rc<ActionInfo> {
        let key: String = block.patterns.iter().map(|t| t.raw.as_str()).collect::<Vec<_>>().join(",");
        if let Some(i) = self.infos.get(&key) {
            return Rc::clone(i);
        }
        let cat = catalog();
        let mut info = ActionInfo { known: false, types: Vec::new(), keys: Vec::new(), permissions: Vec::new() };
        let mut seen_types = std::collections::HashSet::new();
        let mut seen_keys = std::collections::HashSet::new();
        for t in &block.patterns {
            for (s, a) in self.expand(&t.raw).iter() {
                info.known = true;
                for (r, _) in s.resource_types(a) {
                    if seen_types.insert(std::ptr::from_ref(r)) {
                        info.types.push(r);
                    }
                }
                for k in cat.action_keys(s, a) {
                    if seen_keys.insert(std::ptr::from_ref(k)) {
                        info.keys.push(k);
                    }
                }
                if a.level == AccessLevel::PermissionsManagement {
                    info.permissions.push(format!("{}:{}", s.prefix, a.name));
                }
            }
        }
        let info = Rc::new(info);
        self.infos.insert(key, Rc::clone(&info));
        info
    }
}

/// One statement: the AST, the JSON as written, and where it is.
struct Stmt<'a> {
    doc: &'a Doc<'a>,
    ast: &'a Statement,
    raw: &'a Json,
    /// The statement's pointer in its file.
    ptr: String,
}

impl Stmt<'_> {
    /// The pointer of element `key`'s `i`th value (or of the element when it is a single string).
    fn elem(&self, key: &str, i: usize) -> String {
        match self.raw.get(key) {
            Some(Json::Array(_)) => format!("{}/{key}/{i}", self.ptr),
            _ => format!("{}/{key}", self.ptr),
        }
    }
    fn action_key(&self) -> &'static str {
        if self.ast.action.not {
            "NotAction"
        } else {
            "Action"
        }
    }
    fn unconditional(&self) -> bool {
        self.ast.conditions.is_empty()
    }
    fn has_key(&self, keys: &[&str]) -> bool {
        self.ast.conditions.iter().any(|c| keys.contains(&c.key_lc.as_str()))
    }
    /// Resource is exactly `*` somewhere in a `Resource` element.
    fn any_resource(&self) -> bool {
        self.ast.resource.as_ref().is_some_and(|r| !r.not && r.patterns.iter().any(|p| p.raw == "*"))
    }
    /// Whether the statement's action element covers `action` (lowercase).
    fn covers_action(&self, action: &str) -> bool {
        let hit = self.ast.action.patterns.iter().any(|p| glob_match(template_tokens(p), action));
        hit != self.ast.action.not
    }
}

struct Ctx<'a> {
    names: &'a [&'a str],
    out: &'a mut Vec<Finding>,
    cache: Cache,
}

impl Ctx<'_> {
    fn push(&mut self, check: &'static str, doc: &Doc<'_>, pointer: String, message: String, fix: &str) {
        let severity = CHECKS.iter().find(|c| c.0 == check).map_or(super::LintSeverity::Warning, |c| c.1);
        let file = self.names.get(doc.file_index).copied().unwrap_or("").to_owned();
        self.out.push(Finding { check, severity, file, pointer, message, fix: fix.to_owned() });
    }
}

fn statements<'a>(doc: &'a Doc<'a>, policy: &'a Policy) -> Vec<Stmt<'a>> {
    let raws: Vec<(String, &Json)> = match doc.raw.get("Statement") {
        Some(Json::Array(items)) => {
            items.iter().enumerate().map(|(i, s)| (format!("{}/Statement/{i}", doc.pointer), s)).collect()
        }
        Some(one) => vec![(format!("{}/Statement", doc.pointer), one)],
        None => Vec::new(),
    };
    raws.into_iter().zip(&policy.statements).map(|((ptr, raw), ast)| Stmt { doc, ast, raw, ptr }).collect()
}

/// Runs every check. Documents are independent until the escalation check, so large inputs
/// are split across the available cores (each thread with its own catalogue cache).
pub(super) fn run(names: &[&str], docs: &[Doc<'_>], sets: &[PolicySet], out: &mut Vec<Finding>) {
    let threads = std::thread::available_parallelism().map_or(1, usize::from).min(8);
    let per_doc = if threads > 1 && docs.len() >= 256 {
        let chunk = docs.len().div_ceil(threads);
        let parts: Vec<Option<(Vec<Finding>, Vec<Masks>)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = docs
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        let mut found = Vec::new();
                        let masks = check_documents(names, part, &mut found);
                        (found, masks)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().ok()).collect()
        });
        if parts.iter().any(Option::is_none) {
            // A thread failed: check again on this one rather than report a partial lint.
            check_documents(names, docs, out)
        } else {
            let mut per_doc = Vec::with_capacity(docs.len());
            for (found, masks) in parts.into_iter().flatten() {
                out.extend(found);
                per_doc.extend(masks);
            }
            per_doc
        }
    } else {
        check_documents(names, docs, out)
    };
    let mut cx = Ctx { names, out, cache: Cache::default() };
    escalation(&mut cx, docs, sets, &per_doc);
}

/// The per-document checks; returns each document's escalation masks, in order.
fn check_documents(names: &[&str], docs: &[Doc<'_>], out: &mut Vec<Finding>) -> Vec<Masks> {
    let mut cx = Ctx { names, out, cache: Cache::default() };
    let mut per_doc = Vec::with_capacity(docs.len());
    for doc in docs {
        let mut errors = Vec::new();
        let policy = parse_document(doc.node, doc.kind, &doc.pointer, &mut errors);
        for e in errors {
            cx.out.push(Finding {
                check: "POLICY_SYNTAX",
                severity: super::LintSeverity::Error,
                file: names.get(doc.file_index).copied().unwrap_or("").to_owned(),
                pointer: e.pointer().to_owned(),
                message: e.message().to_owned(),
                fix: "Fix the policy so that it follows IAM's policy grammar.".to_owned(),
            });
        }
        deny_never_matches_raw(&mut cx, doc);
        allow_not_principal_raw(&mut cx, doc);
        let Some(policy) = policy else {
            per_doc.push(Masks::default());
            continue;
        };
        let stmts = statements(doc, &policy);
        per_doc.push(masks(&stmts));
        if doc.aws_managed {
            continue;
        }
        for s in &stmts {
            statement_checks(&mut cx, s);
        }
        redundant(&mut cx, &stmts);
    }
    per_doc
}

fn statement_checks(cx: &mut Ctx<'_>, s: &Stmt<'_>) {
    let identity = matches!(s.doc.kind, PolicyKind::Identity | PolicyKind::Session);
    let allow = s.ast.effect == Effect::Allow;
    catalogue_checks(cx, s);
    if allow {
        not_elements(cx, s);
        forallvalues(cx, s);
    }
    qualifiers(cx, s);
    variables_2008(cx, s);
    if allow && matches!(s.doc.kind, PolicyKind::Resource | PolicyKind::Trust) {
        public(cx, s);
    }
    if allow && s.doc.kind == PolicyKind::Trust {
        trust_root(cx, s);
    }
    let grants = !s.doc.boundary_only;
    if allow && grants && (identity || s.doc.kind == PolicyKind::Resource) && !s.ast.action.not {
        wildcards(cx, s);
        pass_role(cx, s);
    }
    if allow && grants && identity {
        exposure(cx, s);
    }
}

/// UNKNOWN_ACTION, ACTION_MATCHES_NOTHING, RESOURCE_TYPE_MISMATCH, CONDITION_KEY_NOT_APPLICABLE.
fn catalogue_checks(cx: &mut Ctx<'_>, s: &Stmt<'_>) {
    let cat = catalog();
    let key = s.action_key();
    for (i, t) in s.ast.action.patterns.iter().enumerate() {
        let raw = t.raw.as_str();
        if raw == "*" {
            continue;
        }
        let Some((svc, name)) = raw.split_once(':') else { continue };
        let written = s.raw.get(key).and_then(|v| match v {
            Json::Array(items) => items.get(i).and_then(Json::as_str),
            other => other.as_str(),
        });
        let shown = written.unwrap_or(raw);
        let wild = raw.contains(['*', '?']);
        let svc_wild = svc.contains(['*', '?']);
        if !svc_wild && cat.service(svc).is_none() {
            let hint = cat.suggest_service(svc).map(|s| format!(" (did you mean {s}?)")).unwrap_or_default();
            cx.push(
                "UNKNOWN_ACTION",
                s.doc,
                s.elem(key, i),
                format!("unknown service {svc:?} in {shown:?}{hint}"),
                "Use a service prefix from AWS's Service Authorization Reference (`keycard catalog 'svc:*'`).",
            );
            continue;
        }
        if cx.cache.expand(raw).is_empty() {
            if wild {
                cx.push(
                    "ACTION_MATCHES_NOTHING",
                    s.doc,
                    s.elem(key, i),
                    format!("{shown:?} matches no action"),
                    "Fix the pattern; `keycard catalog` lists the actions a pattern matches.",
                );
            } else {
                let hint = cat
                    .service(svc)
                    .and_then(|sv| cat.suggest_action(sv, name))
                    .map(|s| format!(" (did you mean {s}?)"))
                    .unwrap_or_default();
                cx.push(
                    "UNKNOWN_ACTION",
                    s.doc,
                    s.elem(key, i),
                    format!("unknown action {shown:?}{hint}"),
                    "Use an action from AWS's Service Authorization Reference (`keycard catalog`).",
                );
            }
        }
    }
    if s.ast.action.not || s.ast.action.patterns.iter().any(|p| p.raw == "*") {
        return;
    }
    let info = cx.cache.info(&s.ast.action);
    if !info.known {
        return;
    }
    if let Some(res) = s.ast.resource.as_ref().filter(|r| !r.not) {
        for (i, t) in res.patterns.iter().enumerate() {
            if t.raw == "*" {
                continue;
            }
            let fit_key =
                (s.ast.action.patterns.iter().map(|p| p.raw.as_str()).collect::<Vec<_>>().join(","), t.raw.clone());
            let fits = match cx.cache.fits.get(&fit_key) {
                Some(f) => *f,
                None => {
                    let toks = template_tokens(t);
                    let f = info.types.iter().any(|r| r.fits(&toks));
                    cx.cache.fits.insert(fit_key, f);
                    f
                }
            };
            if !fits {
                let mut types: Vec<&str> = info.types.iter().map(|r| r.name).collect();
                types.dedup();
                let what = if types.is_empty() {
                    "the statement's actions take no resource ARN (only \"*\")".to_owned()
                } else {
                    format!("it fits none of the statement's actions' resource types ({})", short_list(&types, 6))
                };
                cx.push(
                    "RESOURCE_TYPE_MISMATCH",
                    s.doc,
                    s.elem("Resource", i),
                    format!("resource {:?} can never match: {what}", t.raw),
                    "Use an ARN of the resource type the action acts on (`keycard catalog ACTION` shows the ARN formats).",
                );
            }
        }
    }
    for c in &s.ast.conditions {
        if c.key_lc.starts_with("aws:") {
            continue;
        }
        if !info.keys.iter().any(|k| k.matches(&c.key)) {
            let ptr = condition_ptr(s, c);
            cx.push(
                "CONDITION_KEY_NOT_APPLICABLE",
                s.doc,
                ptr,
                format!(
                    "condition key {:?} applies to none of the statement's actions: no request to them carries it",
                    c.key
                ),
                "Use a key the actions support (`keycard catalog ACTION` lists them) or a global aws: key.",
            );
        }
    }
}

fn short_list(items: &[&str], n: usize) -> String {
    if items.len() <= n {
        items.join(", ")
    } else {
        format!("{}, and {} more", items[..n].join(", "), items.len() - n)
    }
}

/// The pointer of a condition's key: `/Statement/0/Condition/StringEquals/aws:SourceIp`.
fn condition_ptr(s: &Stmt<'_>, c: &crate::policy::ast::Condition) -> String {
    if let Some(Json::Object(ops)) = s.raw.get("Condition") {
        for (op, body) in ops {
            if let Json::Object(keys) = body {
                if keys.iter().any(|(k, _)| k == &c.key) && crate::policy::parse::parse_operator(op).ok() == Some(c.op)
                {
                    return format!("{}/Condition/{}/{}", s.ptr, pointer_token(op), pointer_token(&c.key));
                }
            }
        }
    }
    format!("{}/Condition", s.ptr)
}

/// ALLOW_WITH_NOT_ACTION, ALLOW_WITH_NOT_RESOURCE, ALLOW_WITH_NOT_PRINCIPAL.
fn not_elements(cx: &mut Ctx<'_>, s: &Stmt<'_>) {
    if s.ast.action.not {
        cx.push(
            "ALLOW_WITH_NOT_ACTION",
            s.doc,
            format!("{}/NotAction", s.ptr),
            "Allow with NotAction grants every action not listed, including actions AWS adds later".to_owned(),
            "List the allowed actions in Action instead, or pair NotAction with Deny.",
        );
    }
    if s.ast.resource.as_ref().is_some_and(|r| r.not) {
        cx.push(
            "ALLOW_WITH_NOT_RESOURCE",
            s.doc,
            format!("{}/NotResource", s.ptr),
            "Allow with NotResource grants every resource not listed, including ones created later".to_owned(),
            "List the allowed resources in Resource instead, or pair NotResource with Deny.",
        );
    }
}

/// FORALLVALUES_WITH_ALLOW: true on a missing key unless a `Null` guard requires the key.
fn forallvalues(cx: &mut Ctx<'_>, s: &Stmt<'_>) {
    for c in &s.ast.conditions {
        if c.op.qualifier != Qualifier::ForAllValues {
            continue;
        }
        let guarded = s.ast.conditions.iter().any(|g| {
            g.op.kind == OpKind::Null
                && g.key_lc == c.key_lc
                && g.values.iter().all(|v| matches!(v, crate::policy::ast::CondValue::Null(false)))
        });
        if !guarded {
            cx.push(
                "FORALLVALUES_WITH_ALLOW",
                s.doc,
                condition_ptr(s, c),
                format!("ForAllValues on {:?} is true when the request has no such key, so this Allow also applies without it", c.key),
                &format!("Add \"Null\": {{\"{}\": \"false\"}} to the statement's Condition.", c.key),
            );
        }
    }
}

/// FORANYVALUE_ON_SINGLE_VALUED_KEY and SINGLE_VALUED_OPERATOR_ON_MULTIVALUED_KEY.
fn qualifiers(cx: &mut Ctx<'_>, s: &Stmt<'_>) {
    let cat = catalog();
    for c in &s.ast.conditions {
        let k = *cx.cache.keys.entry(c.key_lc.clone()).or_insert_with(|| cat.condition_key(&c.key));
        let Some(k) = k else { continue };
        match (c.op.qualifier, k.multivalued()) {
            (Qualifier::ForAnyValue | Qualifier::ForAllValues, false) => {
                let q = if c.op.qualifier == Qualifier::ForAnyValue { "ForAnyValue" } else { "ForAllValues" };
                cx.push(
                    "FORANYVALUE_ON_SINGLE_VALUED_KEY",
                    s.doc,
                    condition_ptr(s, c),
                    format!("{q}: on {:?}, a single-valued key ({})", c.key, k.kind),
                    "Drop the set qualifier: a single-valued key takes a plain operator.",
                );
            }
            (Qualifier::None, true) if c.op.kind != OpKind::Null => {
                cx.push(
                    "SINGLE_VALUED_OPERATOR_ON_MULTIVALUED_KEY",
                    s.doc,
                    condition_ptr(s, c),
                    format!("a plain operator on {:?}, a multivalued key ({})", c.key, k.kind),
                    "Use ForAnyValue: (any value matches) or ForAllValues: (every value matches) with a Null guard.",
                );
            }
            _ => {}
        }
    }
}

/// VARIABLES_IN_2008_VERSION: `${` in a document without Version 2012-10-17.
fn variables_2008(cx: &mut Ctx<'_>, s: &Stmt<'_>) {
    if s.doc.raw.get("Version").and_then(Json::as_str) == Some("2012-10-17") {
        return;
    }
    let mut found = None;
    find_string(s.raw, &s.ptr, &mut |p, text| {
        if found.is_none() && text.contains("${") {
            found = Some(p.to_owned());
        }
    });
    if let Some(p) = found {
        cx.push(
            "VARIABLES_IN_2008_VERSION",
            s.doc,
            p,
            "a policy variable in a document without \"Version\": \"2012-10-17\" is literal text".to_owned(),
            "Add \"Version\": \"2012-10-17\" to the document.",
        );
    }
}

fn find_string(node: &Json, ptr: &str, f: &mut dyn FnMut(&str, &str)) {
    match node {
        Json::String(s) => f(ptr, s),
        Json::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                find_string(v, &format!("{ptr}/{i}"), f);
            }
        }
        Json::Object(pairs) => {
            for (k, v) in pairs {
                let p = format!("{ptr}/{}", pointer_token(k));
                f(&p, k);
                find_string(v, &p, f);
            }
        }
        _ => {}
    }
}

/// PUBLIC_RESOURCE_POLICY: `Principal: *` with no narrowing condition.
fn public(cx: &mut Ctx<'_>, s: &Stmt<'_>) {
    let Some(p) = &s.ast.principal else { return };
    if p.not || !p.any || s.has_key(NARROWING_KEYS) {
        return;
    }
    cx.push(
        "PUBLIC_RESOURCE_POLICY",
        s.doc,
        format!("{}/Principal", s.ptr),
        "Principal \"*\" with no condition that narrows it: anyone, including anonymous callers, is allowed".to_owned(),
        "Name the principals, or add a condition on aws:PrincipalOrgID, aws:SourceVpce, aws:SourceIp or aws:SourceAccount/aws:SourceArn.",
    );
}

/// TRUST_ANY_ACCOUNT_ROOT: trusting another account's root without ExternalId, MFA or an org.
fn trust_root(cx: &mut Ctx<'_>, s: &Stmt<'_>) {
    let Some(p) = &s.ast.principal else { return };
    if p.not || s.has_key(TRUST_GUARD_KEYS) {
        return;
    }
    for (i, arn) in p.aws.iter().enumerate() {
        let Some(acct) =
            arn.strip_prefix("arn:").and_then(|a| a.strip_suffix(":root")).and_then(|a| a.rsplit(':').next())
        else {
            continue;
        };
        if s.doc.account.as_deref() == Some(acct) {
            continue;
        }
        let ptr = match s.raw.get("Principal").and_then(|p| p.get("AWS")) {
            Some(Json::Array(_)) => format!("{}/Principal/AWS/{i}", s.ptr),
            _ => format!("{}/Principal/AWS", s.ptr),
        };
        cx.push(
            "TRUST_ANY_ACCOUNT_ROOT",
            s.doc,
            ptr,
            format!("the role trusts every principal of account {acct} (its root) with no sts:ExternalId, MFA or organization condition"),
            "Trust specific role ARNs, or add a condition on sts:ExternalId, aws:MultiFactorAuthPresent or aws:PrincipalOrgID.",
        );
    }
}

/// ADMIN_ACCESS and SERVICE_WILDCARD.
fn wildcards(cx: &mut Ctx<'_>, s: &Stmt<'_>) {
    for (i, t) in s.ast.action.patterns.iter().enumerate() {
        if t.raw == "*" || t.raw == "*:*" {
            if s.any_resource() {
                cx.push(
                    "ADMIN_ACCESS",
                    s.doc,
                    s.elem("Action", i),
                    "Allow of every action on every resource: full administrator access".to_owned(),
                    "Grant the actions and resources the principal needs; keep administrator access to a few break-glass roles.",
                );
            }
        } else if let Some(svc) = t.raw.strip_suffix(":*") {
            if !svc.contains(['*', '?']) {
                cx.push(
                    "SERVICE_WILDCARD",
                    s.doc,
                    s.elem("Action", i),
                    format!("{:?} allows every action of {svc}, including ones AWS adds later", t.raw),
                    "List the actions needed (`keycard catalog` shows them by access level).",
                );
            }
        }
    }
}

/// Patterns whose service part is literally `svc` (not a wildcard): `*` is ADMIN_ACCESS's.
fn names_service(s: &Stmt<'_>, svc: &str) -> bool {
    s.ast.action.patterns.iter().any(|p| p.raw.split_once(':').is_some_and(|(sv, _)| sv == svc))
}

/// PASS_ROLE_WILDCARD.
fn pass_role(cx: &mut Ctx<'_>, s: &Stmt<'_>) {
    if !names_service(s, "iam") || !s.covers_action("iam:passrole") {
        return;
    }
    let ptr = format!("{}/Action", s.ptr);
    if s.any_resource() {
        cx.push(
            "PASS_ROLE_WILDCARD",
            s.doc,
            ptr,
            "iam:PassRole on \"*\": the principal can hand any role, admin roles included, to a service".to_owned(),
            "Name the roles in Resource and add a condition on iam:PassedToService.",
        );
    } else if !s.has_key(&["iam:passedtoservice"]) {
        cx.push(
            "PASS_ROLE_WILDCARD",
            s.doc,
            ptr,
            "iam:PassRole without an iam:PassedToService condition: the roles can be passed to any service".to_owned(),
            "Add \"StringEquals\": {\"iam:PassedToService\": \"SERVICE.amazonaws.com\"}.",
        );
    }
}

/// CREDENTIALS_EXPOSURE, DATA_EXFILTRATION and RESOURCE_EXPOSURE: unconstrained by resource or
/// condition.
fn exposure(cx: &mut Ctx<'_>, s: &Stmt<'_>) {
    if !s.any_resource() || !s.unconditional() {
        return;
    }
    let ptr = format!("{}/{}", s.ptr, s.action_key());
    for (check, list, what, fix) in [
        (
            "CREDENTIALS_EXPOSURE",
            CREDENTIAL_ACTIONS,
            "actions that return credentials",
            "Limit Resource to the users, roles or resources these credentials are for, or add conditions.",
        ),
        (
            "DATA_EXFILTRATION",
            EXFILTRATION_ACTIONS,
            "actions that read data or secrets",
            "Limit Resource to the buckets, parameters or secrets needed.",
        ),
    ] {
        let hits: Vec<String> = list.iter().filter(|a| s.covers_action(a)).map(|a| display_action(a)).collect();
        let hits: Vec<&str> = hits.iter().map(String::as_str).collect();
        if !hits.is_empty() {
            cx.push(check, s.doc, ptr.clone(), format!("{what} on any resource: {}", short_list(&hits, 5)), fix);
        }
    }
    if s.ast.action.patterns.iter().any(|p| p.raw == "*") {
        cx.push(
            "RESOURCE_EXPOSURE",
            s.doc,
            ptr,
            "every permissions-management action on any resource: the principal can change who may access anything"
                .to_owned(),
            "Limit Resource, or drop the permissions-management actions.",
        );
        return;
    }
    let permissions: Vec<String> = if s.ast.action.not {
        // NotAction: every permissions-management action of the catalogue it does not exclude.
        catalog()
            .services()
            .iter()
            .flat_map(|sv| sv.actions().iter().map(move |a| (sv, a)))
            .filter(|(_, a)| a.level == AccessLevel::PermissionsManagement)
            .map(|(sv, a)| format!("{}:{}", sv.prefix, a.name))
            .filter(|name| s.covers_action(&name.to_ascii_lowercase()))
            .collect()
    } else {
        cx.cache.info(&s.ast.action).permissions.clone()
    };
    if !permissions.is_empty() {
        let names: Vec<&str> = permissions.iter().map(String::as_str).collect();
        cx.push(
            "RESOURCE_EXPOSURE",
            s.doc,
            ptr,
            format!("permissions-management actions on any resource: {}", short_list(&names, 5)),
            "Limit Resource to the resources whose policies the principal should manage.",
        );
    }
}

/// A token list for containment: variables count as `*` on the covered side.
fn toks(t: &Template) -> std::borrow::Cow<'_, [Tok]> {
    template_tokens(t)
}

/// Whether every string `a` matches, `b` matches too (sound, not complete): `b`'s `*` absorbs
/// any run of `a`'s tokens, `b`'s `?` one literal or `?`, literals equal literals.
fn contains(b: &[Tok], a: &[Tok]) -> bool {
    let (n, m) = (b.len(), a.len());
    let w = m + 1;
    let mut reach = vec![false; (n + 1) * w];
    let at = |r: &Vec<bool>, i: usize, j: usize| r.get(i * w + j).copied().unwrap_or(false);
    for i in (0..=n).rev() {
        for j in (0..=m).rev() {
            let v = match (b.get(i), a.get(j)) {
                (None, None) => true,
                (Some(Tok::Star), _) => at(&reach, i + 1, j) || (j < m && at(&reach, i, j + 1)),
                (None, _) => false,
                (Some(_), None) => false,
                (Some(Tok::One), Some(Tok::Lit(_) | Tok::One)) => at(&reach, i + 1, j + 1),
                (Some(Tok::Lit(x)), Some(Tok::Lit(y))) => x == y && at(&reach, i + 1, j + 1),
                _ => false,
            };
            if let Some(slot) = reach.get_mut(i * w + j) {
                *slot = v;
            }
        }
    }
    reach.first().copied().unwrap_or(false)
}

fn has_vars(t: &Template) -> bool {
    t.has_variables()
}

/// Whether pattern list `b` covers every value of list `a`.
fn list_covers(b: &[Template], a: &[Template]) -> bool {
    a.iter().all(|ta| {
        b.iter().any(|tb| {
            tb.raw == ta.raw
                || (ta.raw.starts_with(literal_prefix(&tb.raw)) && !has_vars(tb) && contains(&toks(tb), &toks(ta)))
        })
    })
}

/// The text before a pattern's first wildcard or variable: what every value it covers starts with.
fn literal_prefix(raw: &str) -> &str {
    raw.find(['*', '?', '$']).map_or(raw, |i| &raw[..i])
}

/// REDUNDANT_STATEMENT: an Allow whose every action and resource another Allow of the same
/// policy, with no condition or the same conditions and the same principal, also allows.
fn redundant(cx: &mut Ctx<'_>, stmts: &[Stmt<'_>]) {
    if stmts.len() > 500 {
        return; // quadratic; no real policy has this many statements
    }
    for (i, a) in stmts.iter().enumerate() {
        if a.ast.effect != Effect::Allow || a.ast.action.not || a.ast.resource.as_ref().is_some_and(|r| r.not) {
            continue;
        }
        let by = stmts.iter().enumerate().find(|(j, b)| {
            *j != i
                && b.ast.effect == Effect::Allow
                && !b.ast.action.not
                && (b.raw.get("Condition").is_none() || b.raw.get("Condition") == a.raw.get("Condition"))
                && b.raw.get("Principal") == a.raw.get("Principal")
                && b.raw.get("NotPrincipal").is_none()
                && a.raw.get("NotPrincipal").is_none()
                && list_covers(&b.ast.action.patterns, &a.ast.action.patterns)
                && match (&b.ast.resource, &a.ast.resource) {
                    (Some(rb), Some(ra)) => !rb.not && list_covers(&rb.patterns, &ra.patterns),
                    (None, None) => true,
                    _ => false,
                }
                // Two identical statements: report the later one only.
                && !(*j > i && equivalent(a, b))
        });
        if let Some((_, b)) = by {
            cx.push(
                "REDUNDANT_STATEMENT",
                a.doc,
                a.ptr.clone(),
                format!("every action and resource this statement allows, the statement at {} allows too", b.ptr),
                "Remove the statement, or merge it into the one that covers it.",
            );
        }
    }
}

fn equivalent(a: &Stmt<'_>, b: &Stmt<'_>) -> bool {
    list_covers(&a.ast.action.patterns, &b.ast.action.patterns)
        && match (&a.ast.resource, &b.ast.resource) {
            (Some(ra), Some(rb)) => !ra.not && list_covers(&ra.patterns, &rb.patterns),
            (None, None) => true,
            _ => false,
        }
        && a.raw.get("Condition") == b.raw.get("Condition")
}

/// DENY_NEVER_MATCHES, on the JSON as written (a `Bool` against "yes" is also a grammar error,
/// and then there is no AST): a `Bool` value other than true/false, or a key required absent
/// (`Null: true`) and compared by an operator that needs it present.
fn raw_statements<'a>(doc: &'a Doc<'_>) -> Vec<(String, &'a Json)> {
    match doc.raw.get("Statement") {
        Some(Json::Array(items)) => {
            items.iter().enumerate().map(|(i, s)| (format!("{}/Statement/{i}", doc.pointer), s)).collect()
        }
        Some(one) => vec![(format!("{}/Statement", doc.pointer), one)],
        None => Vec::new(),
    }
}

/// ALLOW_WITH_NOT_PRINCIPAL, on the JSON as written: IAM now refuses NotPrincipal with Allow
/// (a grammar error too), and older documents still carry it.
fn allow_not_principal_raw(cx: &mut Ctx<'_>, doc: &Doc<'_>) {
    for (ptr, st) in raw_statements(doc) {
        if st.get("Effect").and_then(Json::as_str) == Some("Allow") && st.get("NotPrincipal").is_some() {
            cx.push(
                "ALLOW_WITH_NOT_PRINCIPAL",
                doc,
                format!("{ptr}/NotPrincipal"),
                "Allow with NotPrincipal grants every principal not listed, anonymous users included".to_owned(),
                "Name the allowed principals in Principal instead, or pair NotPrincipal with Deny.",
            );
        }
    }
}

fn deny_never_matches_raw(cx: &mut Ctx<'_>, doc: &Doc<'_>) {
    for (ptr, st) in raw_statements(doc) {
        if st.get("Effect").and_then(Json::as_str) != Some("Deny") {
            continue;
        }
        let Some(Json::Object(ops)) = st.get("Condition") else { continue };
        let mut absent: Vec<String> = Vec::new();
        let mut needs_present: Vec<(String, String)> = Vec::new();
        for (op, body) in ops {
            let Json::Object(keys) = body else { continue };
            let base = op.split_once(':').map_or(op.as_str(), |(_, o)| o);
            let if_exists = base.ends_with("IfExists");
            let base = base.trim_end_matches("IfExists");
            for (k, v) in keys {
                let p = format!("{ptr}/Condition/{}/{}", pointer_token(op), pointer_token(k));
                if base == "Bool" && !if_exists {
                    let values: Vec<&Json> = match v {
                        Json::Array(items) => items.iter().collect(),
                        one => vec![one],
                    };
                    let ok = values.iter().any(|v| match v {
                        Json::Bool(_) => true,
                        Json::String(s) => {
                            s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") || s.contains("${")
                        }
                        _ => false,
                    });
                    if !ok {
                        cx.push(
                            "DENY_NEVER_MATCHES",
                            doc,
                            p.clone(),
                            format!("Bool compares {k:?} with a value that is neither true nor false, so this Deny never applies"),
                            "Use \"true\" or \"false\".",
                        );
                    }
                }
                let lk = k.to_ascii_lowercase();
                if base == "Null" {
                    if matches!(v, Json::String(s) if s.eq_ignore_ascii_case("true")) || matches!(v, Json::Bool(true)) {
                        absent.push(lk);
                    }
                } else if !if_exists && !op.starts_with("ForAllValues:") && !is_negated(base) {
                    needs_present.push((lk, p));
                }
            }
        }
        for (k, p) in needs_present {
            if absent.contains(&k) {
                cx.push(
                    "DENY_NEVER_MATCHES",
                    doc,
                    p,
                    format!("the condition requires {k:?} to be absent (Null: true) and compares its value, so this Deny never applies"),
                    "Drop one of the two conditions, or use ...IfExists.",
                );
            }
        }
    }
}

fn is_negated(op: &str) -> bool {
    matches!(
        op,
        "StringNotEquals"
            | "StringNotEqualsIgnoreCase"
            | "StringNotLike"
            | "NumericNotEquals"
            | "DateNotEquals"
            | "NotIpAddress"
            | "ArnNotEquals"
            | "ArnNotLike"
    )
}

/// PRIVILEGE_ESCALATION over each principal's set of identity policies (and each bare policy).
/// Per document: the escalation actions it allows, denies (unconditionally, on any resource),
/// and the first statement allowing each.
#[derive(Default)]
struct Masks {
    allow: u32,
    deny: u32,
    first: Vec<Option<String>>,
}

fn masks(stmts: &[Stmt<'_>]) -> Masks {
    let mut allow = 0u32;
    let mut deny = 0u32;
    let mut first = vec![None; ESCALATION_ACTIONS.len()];
    {
        for s in stmts {
            for (bit, action) in ESCALATION_ACTIONS.iter().enumerate() {
                if !s.covers_action(action) {
                    continue;
                }
                match s.ast.effect {
                    Effect::Deny => {
                        if s.any_resource() && s.unconditional() {
                            deny |= 1 << bit;
                        }
                    }
                    Effect::Allow => {
                        let self_only = SELF_SERVICE.contains(&bit)
                            && s.ast.resource.as_ref().is_some_and(|r| {
                                !r.not && r.patterns.iter().all(|p| p.raw.contains("${aws:username}"))
                            });
                        if !self_only {
                            allow |= 1 << bit;
                            if let Some(slot) = first.get_mut(bit) {
                                slot.get_or_insert_with(|| s.ptr.clone());
                            }
                        }
                    }
                }
            }
        }
    }
    Masks { allow, deny, first }
}

fn escalation(cx: &mut Ctx<'_>, docs: &[Doc<'_>], sets: &[PolicySet], per_doc: &[Masks]) {
    // (doc, pointer, principal) → combos; then principals with the same combos at the same
    // place share one finding.
    let mut per_place: Vec<((usize, String, String), Vec<usize>)> = Vec::new();
    for set in sets {
        let mut allow = 0u32;
        let mut deny = 0u32;
        for &d in &set.docs {
            if let Some(m) = per_doc.get(d) {
                allow |= m.allow;
                deny |= m.deny;
            }
        }
        let mut granted = allow & !deny;
        if let Some(m) = set.boundary.and_then(|b| per_doc.get(b)) {
            granted &= m.allow & !m.deny;
        }
        for (ci, combo) in ESCALATIONS.iter().enumerate() {
            if !combo.iter().all(|&b| granted & (1 << b) != 0) {
                continue;
            }
            let Some(&lead) = combo.first() else { continue };
            let at = set
                .docs
                .iter()
                .find_map(|&d| per_doc.get(d).and_then(|m| m.first.get(lead).cloned().flatten().map(|p| (d, p))));
            let Some((d, p)) = at else { continue };
            let key = (d, p, set.arn.clone());
            match per_place.iter_mut().find(|(k, _)| *k == key) {
                Some((_, combos)) => combos.push(ci),
                None => per_place.push((key, vec![ci])),
            }
        }
    }
    type Place = (usize, String, Vec<usize>);
    let mut grouped: Vec<(Place, Vec<String>)> = Vec::new();
    for ((d, p, who), combos) in per_place {
        let key = (d, p, combos);
        match grouped.iter_mut().find(|(k, _)| *k == key) {
            Some((_, all)) => all.push(who),
            None => grouped.push((key, vec![who])),
        }
    }
    for ((d, p, combos), who) in grouped {
        let Some(doc) = docs.get(d) else { continue };
        let combos: Vec<String> = combos
            .iter()
            .filter_map(|&ci| ESCALATIONS.get(ci))
            .map(|c| {
                c.iter()
                    .filter_map(|&b| ESCALATION_ACTIONS.get(b))
                    .map(|a| display_action(a))
                    .collect::<Vec<_>>()
                    .join(" + ")
            })
            .collect();
        let combos: Vec<&str> = combos.iter().map(String::as_str).collect();
        let who: Vec<&str> = who.iter().map(String::as_str).filter(|w| !w.is_empty()).collect();
        let subject = if who.is_empty() { "this policy".to_owned() } else { short_list(&who, 3) };
        cx.push(
            "PRIVILEGE_ESCALATION",
            doc,
            p,
            format!("{subject} can escalate privileges with {}", short_list(&combos, 4)),
            "Remove the action(s), limit them to resources that cannot grant more access, or add a permissions boundary.",
        );
    }
}

/// `iam:passrole` → `iam:PassRole`, from the catalogue.
fn display_action(lc: &str) -> String {
    let found = catalog().matching(lc);
    found.first().map_or_else(|| lc.to_owned(), |(s, a)| format!("{}:{}", s.prefix, a.name))
}
