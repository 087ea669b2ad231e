//! The store: every document of a policy directory, loaded and cross-referenced.
//!
//! A store is what `aws iam get-account-authorization-details` prints (users, groups, roles,
//! managed policies with their default versions; one or several accounts) plus keycard's
//! extensions (`ResourcePolicies`, `Organization`). Loading is all-or-nothing: either every
//! document parses and every reference (group, managed policy, boundary) resolves, or
//! [`Store::load`] returns a [`LoadError`] listing every problem with its file and JSON pointer.

pub(crate) mod credentials;
pub(crate) mod routes;

use crate::arn::{arn_account, is_account_id};
use crate::error::{LoadError, Problem, ProblemKind, Severity};
use crate::id::PolicyId;
use crate::policy::ast::{Policy, PolicyKind};
use crate::policy::glob::Interner;
use crate::policy::json::{pointer_token, Deferred, Json};
use crate::policy::parse::{compact_len, parse_document_in, suggest};
use credentials::{Directory, DirectoryBuilder};
use rustc_hash::FxHashMap as HashMap;
use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

/// Top-level keys a store document may hold.
const DOCUMENT_KEYS: [&str; 13] = [
    "UserDetailList",
    "GroupDetailList",
    "RoleDetailList",
    "Policies",
    "AccountId",
    "IsTruncated",
    "Marker",
    "ResourcePolicies",
    "Organization",
    "Credentials",
    "MfaDevices",
    "OpenIdConnectProviders",
    "Routes",
];

/// The top-level lists of a store document that hold its entities, one item each.
const ENTITY_LISTS: [&str; 5] = ["Policies", "GroupDetailList", "UserDetailList", "RoleDetailList", "ResourcePolicies"];

/// A policy with the name explanations show: a managed policy's ARN, or `ENTITY_ARN#NAME` for
/// an inline policy.
#[derive(Debug, Clone)]
pub(crate) struct NamedPolicy {
    pub name: String,
    /// Shared by every attachment of an identical document ([`SharedDocuments`]).
    pub policy: Arc<Policy>,
}

#[derive(Debug, Clone)]
pub(crate) struct User {
    pub arn: String,
    pub name: String,
    pub id: String,
    pub account: String,
    pub inline: Vec<PolicyId>,
    pub managed: Vec<PolicyId>,
    pub groups: Vec<usize>,
    pub boundary: Option<PolicyId>,
    pub tags: Vec<(String, String)>,
}

impl User {
    /// Its identity policies: inline, managed, then each group's inline and managed.
    pub(crate) fn policy_ids<'a>(&'a self, store: &'a Store) -> impl Iterator<Item = PolicyId> + 'a {
        let groups = self.groups.iter().filter_map(|&g| store.groups.get(g));
        self.inline
            .iter()
            .chain(&self.managed)
            .copied()
            .chain(groups.flat_map(|g| g.inline.iter().chain(&g.managed).copied()))
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Group {
    /// Read by the analyses (`iam:AddUserToGroup` escalation edges).
    pub arn: String,
    pub inline: Vec<PolicyId>,
    pub managed: Vec<PolicyId>,
}

#[derive(Debug, Clone)]
pub(crate) struct Role {
    pub arn: String,
    pub id: String,
    pub account: String,
    pub path: String,
    pub trust: PolicyId,
    pub inline: Vec<PolicyId>,
    pub managed: Vec<PolicyId>,
    pub boundary: Option<PolicyId>,
    pub tags: Vec<(String, String)>,
    /// `MaxSessionDuration` (3,600 to 43,200 seconds): the longest session STS issues for it.
    pub max_session_duration: u32,
}

impl Role {
    /// Its identity policies: inline, then managed.
    pub(crate) fn policy_ids(&self) -> impl Iterator<Item = PolicyId> + '_ {
        self.inline.iter().chain(&self.managed).copied()
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ResourcePolicy {
    pub arn: String,
    /// The owner: `Account`, else the ARN's account, else the document's account.
    pub account: Option<String>,
    pub tags: Vec<(String, String)>,
    pub policy: PolicyId,
}

#[derive(Debug, Clone)]
pub(crate) struct OrgPolicy {
    pub targets: Vec<String>,
    pub policy: PolicyId,
}

#[derive(Debug, Clone)]
pub(crate) struct Organization {
    /// `o-...`, keycard's extension; gives `aws:PrincipalOrgID` / `aws:ResourceOrgID`.
    pub id: Option<String>,
    pub management_account: String,
    /// Account → its parents from the root down (`["r-root", "ou-prod"]`).
    pub accounts: HashMap<String, Vec<String>>,
    pub scps: Vec<OrgPolicy>,
    pub rcps: Vec<OrgPolicy>,
}

/// A loaded, validated store: the input of evaluation. Immutable once built.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) id: String,
    pub(crate) files: Vec<String>,
    pub(crate) warnings: Vec<Problem>,
    pub(crate) users: Vec<User>,
    pub(crate) groups: Vec<Group>,
    pub(crate) roles: Vec<Role>,
    /// Every policy document in force, addressed by [`PolicyId`].
    pub(crate) policies: Vec<NamedPolicy>,
    pub(crate) resource_policies: Vec<ResourcePolicy>,
    pub(crate) organization: Option<Organization>,
    pub(crate) user_by_arn: HashMap<String, usize>,
    pub(crate) role_by_arn: HashMap<String, usize>,
    /// `arn:PARTITION:sts::ACCOUNT:assumed-role/NAME` → role: a session ARN minus its session name
    /// (assumed-role ARNs carry the role's name but not its path).
    pub(crate) role_by_session_prefix: HashMap<String, usize>,
    /// Managed policies by ARN (session policies name them in `PolicyArns`).
    pub(crate) managed_by_arn: HashMap<String, PolicyId>,
    /// Access keys, MFA devices and OIDC providers.
    pub(crate) auth: Directory,
    /// The gateway's `Routes` (`docs/store.md#routes`), in store order.
    pub(crate) gateway: crate::store::routes::Gateway,
}

/// Counts that describe a store (for `/v1/snapshot` and `keycard validate`). Plain counts, read
/// as fields; `#[non_exhaustive]` so that a new count is not a breaking change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreStats {
    /// Files read.
    pub files: usize,
    /// Users plus roles.
    pub principals: usize,
    /// Policy documents in force (inline, managed default versions, trust, resource, SCP, RCP).
    pub policies: usize,
    /// Statements in those documents.
    pub statements: usize,
}

impl Store {
    /// Loads every `*.json` file below `path` (or the single file `path`), in sorted path order,
    /// following symbolic links and skipping names that start with `.`.
    ///
    /// # Errors
    /// A [`LoadError`] listing every problem (file, JSON pointer, message) when any file cannot be
    /// read or parsed, a policy is invalid, or a reference does not resolve.
    pub fn load(path: impl AsRef<Path>) -> Result<Store, LoadError> {
        let path = path.as_ref();
        let mut problems = Vec::new();
        let mut files = Vec::new();
        let shown = path.display().to_string();
        match std::fs::metadata(path) {
            Err(e) => problems.push(Problem::of(ProblemKind::Io, &shown, format!("cannot read the store: {e}"))),
            Ok(m) if m.is_file() => files.push(path.to_path_buf()),
            Ok(_) => {
                let mut visited = BTreeSet::new();
                collect_json_files(path, &mut files, &mut visited, &mut problems);
                files.sort();
                if files.is_empty() && problems.is_empty() {
                    problems.push(Problem::of(ProblemKind::Io, &shown, "no *.json files in the store"));
                }
            }
        }
        let mut documents = Vec::with_capacity(files.len());
        for f in &files {
            let name = f.display().to_string();
            match std::fs::read(f) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(text) => documents.push((name, text)),
                    Err(_) => problems.push(Problem::of(ProblemKind::Io, &name, "file is not UTF-8")),
                },
                Err(e) => problems.push(Problem::of(ProblemKind::Io, &name, format!("cannot read: {e}"))),
            }
        }
        build(documents, problems)
    }

    /// Builds a store from in-memory documents `(name, JSON text)`, in the given order.
    ///
    /// # Errors
    /// As [`Store::load`].
    pub fn from_documents<I, N, T>(documents: I) -> Result<Store, LoadError>
    where
        I: IntoIterator<Item = (N, T)>,
        N: Into<String>,
        T: Into<String>,
    {
        build(documents.into_iter().map(|(n, t)| (n.into(), t.into())).collect(), Vec::new())
    }

    /// The policy with id `id`.
    pub(crate) fn policy(&self, id: PolicyId) -> Option<&NamedPolicy> {
        self.policies.get(id.index())
    }

    /// The snapshot id: a hash of every file's name and content (8 hex digits).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The files the store was read from.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// Warnings found while loading (the store is usable).
    pub fn warnings(&self) -> &[Problem] {
        &self.warnings
    }

    /// Counts of files, principals, policies and statements.
    pub fn stats(&self) -> StoreStats {
        StoreStats {
            files: self.files.len(),
            principals: self.users.len() + self.roles.len(),
            policies: self.policies.len(),
            statements: self.policies.iter().map(|p| p.policy.statements.len()).sum(),
        }
    }
}

pub(crate) fn collect_json_files(
    dir: &Path,
    out: &mut Vec<PathBuf>,
    visited: &mut BTreeSet<PathBuf>,
    problems: &mut Vec<Problem>,
) {
    let shown = dir.display().to_string();
    let canonical = match std::fs::canonicalize(dir) {
        Ok(c) => c,
        Err(e) => {
            problems.push(Problem::of(ProblemKind::Io, &shown, format!("cannot read directory: {e}")));
            return;
        }
    };
    if !visited.insert(canonical) {
        return; // a symbolic-link loop, or a directory reached twice
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            problems.push(Problem::of(ProblemKind::Io, &shown, format!("cannot read directory: {e}")));
            return;
        }
    };
    let mut children: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .collect();
    children.sort();
    for child in children {
        match std::fs::metadata(&child) {
            Ok(m) if m.is_dir() => collect_json_files(&child, out, visited, problems),
            Ok(m) if m.is_file() => {
                if child.extension().is_some_and(|e| e == "json") {
                    out.push(child);
                }
            }
            Ok(_) => {}
            Err(e) => {
                problems.push(Problem::of(ProblemKind::Io, &child.display().to_string(), format!("cannot read: {e}")))
            }
        }
    }
}

/// FNV-1a over every document's name and text.
fn snapshot_id(documents: &[(String, String)]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (name, text) in documents {
        for b in name.bytes().chain([0u8]).chain(text.bytes()).chain([0u8]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{:08x}", (h >> 32) ^ (h & 0xffff_ffff))
}

/// Raw references collected in the first pass, resolved once every document is read.
struct Pending {
    /// Shared by every reference of a document ([`Builder::file`]).
    file: Rc<str>,
    pointer: String,
    kind: RefKind,
}

enum RefKind {
    UserGroup { user: usize, account: String, group: String },
    UserManaged { user: usize, arn: String },
    UserBoundary { user: usize, arn: String },
    GroupManaged { group: usize, arn: String },
    RoleManaged { role: usize, arn: String },
    RoleBoundary { role: usize, arn: String },
}

#[derive(Default)]
struct Builder {
    problems: Vec<Problem>,
    users: Vec<User>,
    groups: Vec<Group>,
    group_by_key: HashMap<(String, String), usize>,
    roles: Vec<Role>,
    policies: Vec<NamedPolicy>,
    managed_by_arn: HashMap<String, PolicyId>,
    resource_policies: Vec<ResourcePolicy>,
    organization: Option<Organization>,
    user_by_arn: HashMap<String, usize>,
    role_by_arn: HashMap<String, usize>,
    role_by_session_prefix: HashMap<String, usize>,
    routes: Vec<crate::store::routes::Route>,
    pending: Vec<Pending>,
    auth: DirectoryBuilder,
    /// Combined inline-policy sizes over their quota per entity, for the size-quota warnings.
    inline_sizes: Vec<(String, String, &'static str, usize, usize)>,
    /// The name of the document being read, shared by its [`Pending`] references.
    current_file: Option<Rc<str>>,
    /// Shares identical templates across every document of the store.
    interner: Interner,
    documents: SharedDocuments,
}

/// Shares identical policy documents: a document attached inline to many principals, or the
/// trust policy many roles repeat, is kept once (each attachment keeps its own name in
/// [`NamedPolicy`], which explanations and errors show). Candidates are found by a hash of the
/// JSON tree and confirmed by comparing the parsed documents, so only equal documents share.
/// The hash is SipHash under a random key: a store cannot be written to make many documents
/// collide.
#[derive(Default)]
struct SharedDocuments {
    keys: std::collections::hash_map::RandomState,
    by_hash: HashMap<u64, smallvec::SmallVec<[Arc<Policy>; 1]>>,
}

impl SharedDocuments {
    fn share(&mut self, doc: &Json, policy: Policy) -> Arc<Policy> {
        let mut h = std::hash::BuildHasher::build_hasher(&self.keys);
        hash_json(doc, &mut h);
        let same = self.by_hash.entry(h.finish()).or_default();
        if let Some(p) = same.iter().find(|p| ***p == policy) {
            return Arc::clone(p);
        }
        let p = Arc::new(policy);
        same.push(Arc::clone(&p));
        p
    }
}

/// Feeds a JSON tree to `h`: type, then content (strings with their length, so that no two
/// trees feed the same sequence).
fn hash_json(doc: &Json, h: &mut impl Hasher) {
    match doc {
        Json::Null => h.write_u8(0),
        Json::Bool(b) => h.write_u8(1 + u8::from(*b)),
        Json::Number(n) => {
            h.write_u8(3);
            n.hash(h);
        }
        Json::String(s) => {
            h.write_u8(4);
            s.hash(h);
        }
        Json::Array(items) => {
            h.write_u8(5);
            h.write_usize(items.len());
            items.iter().for_each(|v| hash_json(v, h));
        }
        Json::Object(pairs) => {
            h.write_u8(6);
            h.write_usize(pairs.len());
            for (k, v) in pairs {
                k.hash(h);
                hash_json(v, h);
            }
        }
    }
}

fn build(documents: Vec<(String, String)>, problems: Vec<Problem>) -> Result<Store, LoadError> {
    let mut b = Builder { problems, ..Builder::default() };
    for (name, text) in &documents {
        // The entity lists are built one entity at a time: a load holds the text and one
        // entity's tree, not the tree of a whole (possibly very large) document.
        match Json::parse_deferred(text, &ENTITY_LISTS) {
            Ok(d) => {
                b.document(name, text, &d);
                b.duplicates(name, &d.doc, "");
            }
            Err(e) => b.problems.push(Problem::of(ProblemKind::Json, name, format!("invalid JSON: {e}"))),
        }
    }
    b.resolve();
    let auth = std::mem::take(&mut b.auth);
    let (auth, problems) =
        auth.finish(&b.user_by_arn, |i| b.users.get(i).map(|u| (u.arn.clone(), u.account.clone())), &b.role_by_arn);
    b.problems.extend(problems);
    b.size_warnings();
    if b.problems.iter().any(|p| p.severity == Severity::Error) {
        return Err(LoadError::new(b.problems));
    }
    Ok(Store {
        id: snapshot_id(&documents),
        files: documents.into_iter().map(|(n, _)| n).collect(),
        warnings: b.problems,
        users: b.users,
        groups: b.groups,
        roles: b.roles,
        policies: b.policies,
        resource_policies: b.resource_policies,
        organization: b.organization,
        user_by_arn: b.user_by_arn,
        role_by_arn: b.role_by_arn,
        role_by_session_prefix: b.role_by_session_prefix,
        managed_by_arn: b.managed_by_arn,
        auth,
        gateway: crate::store::routes::gateway(b.routes),
    })
}

impl Builder {
    fn err(&mut self, file: &str, pointer: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem::error(file, pointer, message));
    }

    /// `file` as a shared name: one allocation per document, not per reference.
    fn file(&mut self, file: &str) -> Rc<str> {
        match &self.current_file {
            Some(f) if **f == *file => Rc::clone(f),
            _ => Rc::clone(self.current_file.insert(Rc::from(file))),
        }
    }

    /// A reference to resolve once every document is read.
    fn pend(&mut self, file: &str, pointer: String, kind: RefKind) {
        let file = self.file(file);
        self.pending.push(Pending { file, pointer, kind });
    }

    /// Notes an entity's combined inline-policy size when it is over its quota.
    fn inline_size(&mut self, file: &str, pointer: &str, kind: &'static str, size: usize, limit: usize) {
        if size > limit {
            self.inline_sizes.push((file.to_owned(), pointer.to_owned(), kind, size, limit));
        }
    }

    /// A repeated key anywhere (routes, entities, extensions) is an error, as in a policy, where
    /// the policy reader may have reported it already: reported once, as a JSON problem whoever
    /// found it first. `pointer`: where `node` is in the file.
    fn duplicates(&mut self, file: &str, node: &Json, pointer: &str) {
        if let Some(pointer) = node.first_duplicate(pointer) {
            match self.problems.iter_mut().find(|p| p.file == file && p.pointer == pointer) {
                Some(found) => found.kind = ProblemKind::Json,
                None => self.problems.push(Problem::error(file, pointer, "duplicate key").with_kind(ProblemKind::Json)),
            }
        }
    }

    /// Calls `f` on each item of the top-level list `key` with its pointer: built one at a time
    /// when the reader deferred the list, else from the tree.
    fn each_item(
        &mut self,
        file: &str,
        text: &str,
        d: &Deferred,
        key: &str,
        mut f: impl FnMut(&mut Self, &str, &Json),
    ) {
        let Some(ranges) = d.items(key) else {
            for (i, entry) in self.list(file, &d.doc, key) {
                f(self, &format!("/{key}/{i}"), entry);
            }
            return;
        };
        for (i, range) in ranges.iter().enumerate() {
            let pointer = format!("/{key}/{i}");
            match Json::parse_item(text, range.clone()) {
                Ok(item) => {
                    f(self, &pointer, &item);
                    self.duplicates(file, &item, &pointer);
                }
                Err(e) => self
                    .problems
                    .push(Problem::error(file, &pointer, format!("invalid JSON: {e}")).with_kind(ProblemKind::Json)),
            }
        }
    }

    fn document(&mut self, file: &str, text: &str, d: &Deferred) {
        let doc = &d.doc;
        let Json::Object(pairs) = doc else {
            self.err(file, "", format!("expected a store document object, found {}", doc.type_name()));
            return;
        };
        for (key, _) in pairs {
            if !DOCUMENT_KEYS.contains(&key.as_str()) {
                let hint = suggest(key, &DOCUMENT_KEYS).map(|s| format!(" (did you mean {s}?)")).unwrap_or_default();
                self.err(file, format!("/{}", pointer_token(key)), format!("unknown store key {key:?}{hint}"));
            }
        }
        let doc_account = match doc.get("AccountId") {
            None => None,
            Some(Json::String(a)) if is_account_id(a) => Some(a.clone()),
            Some(other) => {
                self.err(
                    file,
                    "/AccountId",
                    format!("expected a 12-digit account ID string, found {}", other.type_name()),
                );
                None
            }
        };
        // Managed policies first, so that entities in the same file can name them.
        let account = doc_account.as_deref();
        self.each_item(file, text, d, "Policies", |b, p, entry| b.managed_policy(file, p, entry));
        self.each_item(file, text, d, "GroupDetailList", |b, p, entry| b.group(file, p, entry, account));
        self.each_item(file, text, d, "UserDetailList", |b, p, entry| b.user(file, p, entry, account));
        self.each_item(file, text, d, "RoleDetailList", |b, p, entry| b.role(file, p, entry, account));
        self.each_item(file, text, d, "ResourcePolicies", |b, p, entry| b.resource_policy(file, p, entry, account));
        if let Some(org) = doc.get("Organization") {
            self.organization(file, org);
        }
        self.auth.document(file, doc, doc_account.as_deref());
        crate::store::routes::parse_routes(file, doc, &mut self.problems, &mut self.routes);
    }

    /// The items of an optional top-level array.
    fn list<'d>(&mut self, file: &str, doc: &'d Json, key: &str) -> Vec<(usize, &'d Json)> {
        match doc.get(key) {
            None | Some(Json::Null) => Vec::new(),
            Some(Json::Array(items)) => items.iter().enumerate().collect(),
            Some(other) => {
                self.err(file, format!("/{key}"), format!("expected an array, found {}", other.type_name()));
                Vec::new()
            }
        }
    }

    fn string(&mut self, file: &str, entry: &Json, pointer: &str, key: &str) -> Option<String> {
        match entry.get(key) {
            Some(Json::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(other) => {
                self.err(
                    file,
                    format!("{pointer}/{key}"),
                    format!("expected a non-empty string, found {}", other.type_name()),
                );
                None
            }
            None => {
                self.err(file, pointer, format!("missing {key}"));
                None
            }
        }
    }

    fn optional_string(&mut self, file: &str, entry: &Json, pointer: &str, key: &str) -> Option<String> {
        match entry.get(key) {
            None | Some(Json::Null) => None,
            Some(Json::String(s)) => Some(s.clone()),
            Some(other) => {
                self.err(file, format!("{pointer}/{key}"), format!("expected a string, found {}", other.type_name()));
                None
            }
        }
    }

    fn policy(&mut self, file: &str, doc: &Json, pointer: &str, kind: PolicyKind) -> Option<Arc<Policy>> {
        let mut errors = Vec::new();
        let policy = parse_document_in(doc, kind, pointer, &mut errors, &mut self.interner);
        self.problems.extend(errors.into_iter().map(|e| Problem::from_policy(file, e)));
        Some(self.documents.share(doc, policy?))
    }

    /// `[{"PolicyName", "PolicyDocument"}]` lists of inline policies.
    fn inline_list(
        &mut self,
        file: &str,
        entry: &Json,
        pointer: &str,
        key: &str,
        owner_arn: &str,
    ) -> (Vec<PolicyId>, usize) {
        let mut out = Vec::new();
        let mut size = 0;
        for (i, item) in self.list(file, entry, key) {
            let p = format!("{pointer}/{key}/{i}");
            let name = self.string(file, item, &p, "PolicyName");
            let Some(doc) = item.get("PolicyDocument") else {
                self.err(file, &p, "missing PolicyDocument");
                continue;
            };
            size += policy_size(doc);
            let policy = self.policy(file, doc, &format!("{p}/PolicyDocument"), PolicyKind::Identity);
            if let (Some(name), Some(policy)) = (name, policy) {
                out.push(self.add_policy(format!("{owner_arn}#{name}"), policy));
            }
        }
        (out, size)
    }

    /// `[{"PolicyName", "PolicyArn"}]`: references resolved later.
    fn attached(&mut self, file: &str, entry: &Json, pointer: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (i, item) in self.list(file, entry, "AttachedManagedPolicies") {
            let p = format!("{pointer}/AttachedManagedPolicies/{i}/PolicyArn");
            let item_pointer = p.strip_suffix("/PolicyArn").unwrap_or(&p);
            if let Some(arn) = self.string(file, item, item_pointer, "PolicyArn") {
                out.push((p, arn));
            }
        }
        out
    }

    fn boundary(&mut self, file: &str, entry: &Json, pointer: &str) -> Option<(String, String)> {
        let b = entry.get("PermissionsBoundary")?;
        if matches!(b, Json::Null) {
            return None;
        }
        let p = format!("{pointer}/PermissionsBoundary");
        self.string(file, b, &p, "PermissionsBoundaryArn").map(|arn| (format!("{p}/PermissionsBoundaryArn"), arn))
    }

    fn tags(&mut self, file: &str, entry: &Json, pointer: &str) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for (i, item) in self.list(file, entry, "Tags") {
            let p = format!("{pointer}/Tags/{i}");
            let key = self.string(file, item, &p, "Key");
            let value = match item.get("Value") {
                Some(Json::String(v)) => Some(v.clone()),
                other => {
                    let found = other.map_or("nothing", Json::type_name);
                    self.err(file, format!("{p}/Value"), format!("expected a string, found {found}"));
                    None
                }
            };
            if let (Some(k), Some(v)) = (key, value) {
                if out.iter().any(|(ok, _)| ok.eq_ignore_ascii_case(&k)) {
                    self.err(
                        file,
                        format!("{p}/Key"),
                        format!("duplicate tag key {k:?} (tag keys are case-insensitive)"),
                    );
                } else {
                    out.push((k, v));
                }
            }
        }
        out
    }

    /// The entity's ARN and account: `Arn` when given, else built from the account, path and name.
    fn entity_arn(
        &mut self,
        file: &str,
        entry: &Json,
        pointer: &str,
        kind: &str,
        name: &str,
        doc_account: Option<&str>,
    ) -> Option<(String, String)> {
        let path = entry.get("Path").and_then(Json::as_str).unwrap_or("/");
        match entry.get("Arn") {
            Some(Json::String(arn)) => {
                let expected = format!(":{kind}{path}{name}");
                if !arn.starts_with("arn:") || !arn.ends_with(&expected) {
                    self.err(
                        file,
                        format!("{pointer}/Arn"),
                        format!("{arn:?} does not match its Path and name (expected it to end with {expected:?})"),
                    );
                    return None;
                }
                match arn_account(arn) {
                    Some(acct) if is_account_id(acct) => Some((arn.clone(), acct.to_owned())),
                    _ => {
                        self.err(file, format!("{pointer}/Arn"), format!("{arn:?} has no 12-digit account"));
                        None
                    }
                }
            }
            None => match doc_account {
                Some(acct) => Some((format!("arn:aws:iam::{acct}:{kind}{path}{name}"), acct.to_owned())),
                None => {
                    self.err(file, pointer, "missing Arn (and no AccountId in the document)");
                    None
                }
            },
            Some(other) => {
                self.err(file, format!("{pointer}/Arn"), format!("expected a string, found {}", other.type_name()));
                None
            }
        }
    }

    fn managed_policy(&mut self, file: &str, pointer: &str, entry: &Json) {
        let Some(arn) = self.string(file, entry, pointer, "Arn") else { return };
        let versions: Vec<(usize, &Json)> = self.list(file, entry, "PolicyVersionList");
        let default_id = entry.get("DefaultVersionId").and_then(Json::as_str);
        let chosen =
            versions.iter().find(|(_, v)| matches!(v.get("IsDefaultVersion"), Some(Json::Bool(true)))).or_else(|| {
                versions
                    .iter()
                    .find(|(_, v)| default_id.is_some() && v.get("VersionId").and_then(Json::as_str) == default_id)
            });
        let Some(&(i, version)) = chosen else {
            self.err(
                file,
                pointer,
                format!("managed policy {arn} has no default version (IsDefaultVersion: true) in PolicyVersionList"),
            );
            return;
        };
        let p = format!("{pointer}/PolicyVersionList/{i}/Document");
        let Some(doc) = version.get("Document") else {
            self.err(file, format!("{pointer}/PolicyVersionList/{i}"), "missing Document");
            return;
        };
        let size = policy_size(doc);
        if size > 6144 {
            self.problems.push(Problem::warning(
                file,
                &p,
                format!("managed policy is {size} characters; IAM allows 6,144"),
            ));
        }
        let kind = if is_aws_managed(&arn) { PolicyKind::AwsManaged } else { PolicyKind::Identity };
        let Some(policy) = self.policy(file, doc, &p, kind) else { return };
        if self.managed_by_arn.contains_key(&arn) {
            // The same AWS managed policy in two account dumps is the same policy: keep one.
            if !is_aws_managed(&arn) {
                self.err(file, format!("{pointer}/Arn"), format!("managed policy {arn} is defined twice"));
            }
            return;
        }
        let id = self.add_policy(arn.clone(), policy);
        self.managed_by_arn.insert(arn, id);
    }

    fn group(&mut self, file: &str, pointer: &str, entry: &Json, doc_account: Option<&str>) {
        let Some(name) = self.string(file, entry, pointer, "GroupName") else { return };
        let Some((arn, account)) = self.entity_arn(file, entry, pointer, "group", &name, doc_account) else { return };
        let (inline, size) = self.inline_list(file, entry, pointer, "GroupPolicyList", &arn);
        self.inline_size(file, pointer, "group", size, 5120);
        let attached = self.attached(file, entry, pointer);
        let key = (account.clone(), name.to_ascii_lowercase());
        if self.group_by_key.contains_key(&key) {
            self.err(file, pointer, format!("group {arn} is defined twice"));
            return;
        }
        let idx = self.groups.len();
        self.group_by_key.insert(key, idx);
        for (p, arn) in attached {
            self.pend(file, p, RefKind::GroupManaged { group: idx, arn });
        }
        self.groups.push(Group { arn, inline, managed: Vec::new() });
    }

    fn user(&mut self, file: &str, pointer: &str, entry: &Json, doc_account: Option<&str>) {
        let Some(name) = self.string(file, entry, pointer, "UserName") else { return };
        let Some((arn, account)) = self.entity_arn(file, entry, pointer, "user", &name, doc_account) else { return };
        let id = self.optional_string(file, entry, pointer, "UserId").unwrap_or_default();
        let (inline, size) = self.inline_list(file, entry, pointer, "UserPolicyList", &arn);
        self.inline_size(file, pointer, "user", size, 2048);
        let attached = self.attached(file, entry, pointer);
        let boundary = self.boundary(file, entry, pointer);
        let tags = self.tags(file, entry, pointer);
        let mut group_names = Vec::new();
        for (i, g) in self.list(file, entry, "GroupList") {
            match g {
                Json::String(s) => group_names.push((format!("{pointer}/GroupList/{i}"), s.clone())),
                other => self.err(
                    file,
                    format!("{pointer}/GroupList/{i}"),
                    format!("expected a group name, found {}", other.type_name()),
                ),
            }
        }
        if self.user_by_arn.contains_key(&arn) {
            self.err(file, pointer, format!("user {arn} is defined twice"));
            return;
        }
        let idx = self.users.len();
        self.user_by_arn.insert(arn.clone(), idx);
        for (p, group) in group_names {
            self.pend(file, p, RefKind::UserGroup { user: idx, account: account.clone(), group });
        }
        for (p, arn) in attached {
            self.pend(file, p, RefKind::UserManaged { user: idx, arn });
        }
        if let Some((p, arn)) = boundary {
            self.pend(file, p, RefKind::UserBoundary { user: idx, arn });
        }
        self.users.push(User {
            arn,
            name,
            id,
            account,
            inline,
            managed: Vec::new(),
            groups: Vec::new(),
            boundary: None,
            tags,
        });
    }

    fn role(&mut self, file: &str, pointer: &str, entry: &Json, doc_account: Option<&str>) {
        let Some(name) = self.string(file, entry, pointer, "RoleName") else { return };
        let Some((arn, account)) = self.entity_arn(file, entry, pointer, "role", &name, doc_account) else { return };
        let id = self.optional_string(file, entry, pointer, "RoleId").unwrap_or_default();
        let path = entry.get("Path").and_then(Json::as_str).unwrap_or("/").to_owned();
        let trust = match entry.get("AssumeRolePolicyDocument") {
            Some(doc) => {
                let p = format!("{pointer}/AssumeRolePolicyDocument");
                let size = policy_size(doc);
                if size > 4096 {
                    self.problems.push(Problem::warning(
                        file,
                        &p,
                        format!("trust policy is {size} characters; IAM allows 2,048 (4,096 raised)"),
                    ));
                }
                self.policy(file, doc, &p, PolicyKind::Trust)
            }
            None => {
                self.err(file, pointer, "missing AssumeRolePolicyDocument");
                None
            }
        };
        let (inline, size) = self.inline_list(file, entry, pointer, "RolePolicyList", &arn);
        self.inline_size(file, pointer, "role", size, 10240);
        let attached = self.attached(file, entry, pointer);
        let boundary = self.boundary(file, entry, pointer);
        let tags = self.tags(file, entry, pointer);
        let max_session_duration = match entry.get("MaxSessionDuration") {
            None | Some(Json::Null) => 3600,
            Some(Json::Number(n)) => match n.parse::<u32>() {
                Ok(v) if (3600..=43200).contains(&v) => v,
                _ => {
                    self.err(
                        file,
                        format!("{pointer}/MaxSessionDuration"),
                        format!("expected 3600 to 43200 seconds, found {n}"),
                    );
                    3600
                }
            },
            Some(other) => {
                self.err(
                    file,
                    format!("{pointer}/MaxSessionDuration"),
                    format!("expected a number, found {}", other.type_name()),
                );
                3600
            }
        };
        let Some(trust) = trust else { return };
        if self.role_by_arn.contains_key(&arn) {
            self.err(file, pointer, format!("role {arn} is defined twice"));
            return;
        }
        let idx = self.roles.len();
        self.role_by_arn.insert(arn.clone(), idx);
        let partition = arn.split(':').nth(1).unwrap_or("aws");
        self.role_by_session_prefix.insert(format!("arn:{partition}:sts::{account}:assumed-role/{name}"), idx);
        for (p, arn) in attached {
            self.pend(file, p, RefKind::RoleManaged { role: idx, arn });
        }
        if let Some((p, arn)) = boundary {
            self.pend(file, p, RefKind::RoleBoundary { role: idx, arn });
        }
        let trust = self.add_policy(format!("{arn}#trust"), trust);
        self.roles.push(Role {
            arn,
            id,
            account,
            path,
            trust,
            inline,
            managed: Vec::new(),
            boundary: None,
            tags,
            max_session_duration,
        });
    }

    fn resource_policy(&mut self, file: &str, pointer: &str, entry: &Json, doc_account: Option<&str>) {
        let Some(arn) = self.string(file, entry, pointer, "ResourceArn") else { return };
        if arn != "*" && !arn.starts_with("arn:") {
            self.err(file, format!("{pointer}/ResourceArn"), format!("expected an ARN, found {arn:?}"));
        }
        let account = match self.optional_string(file, entry, pointer, "Account") {
            Some(a) if is_account_id(&a) => Some(a),
            Some(a) => {
                self.err(file, format!("{pointer}/Account"), format!("expected a 12-digit account ID, found {a:?}"));
                None
            }
            None => {
                arn_account(&arn).filter(|a| is_account_id(a)).map(str::to_owned).or(doc_account.map(str::to_owned))
            }
        };
        let tags = self.tags(file, entry, pointer);
        let Some(doc) = entry.get("Policy") else {
            self.err(file, pointer, "missing Policy");
            return;
        };
        if let Some((what, limit)) = resource_policy_limit(&arn) {
            let size = policy_size(doc);
            if size > limit {
                self.problems.push(Problem::warning(
                    file,
                    format!("{pointer}/Policy"),
                    format!("resource policy is {size} characters; {what} are limited to {limit}"),
                ));
            }
        }
        let Some(policy) = self.policy(file, doc, &format!("{pointer}/Policy"), PolicyKind::Resource) else { return };
        let policy = self.add_policy(arn.clone(), policy);
        self.resource_policies.push(ResourcePolicy { arn, account, tags, policy });
    }

    fn organization(&mut self, file: &str, org: &Json) {
        let pointer = "/Organization";
        if self.organization.is_some() {
            self.err(file, pointer, "a second Organization: the store may describe only one");
            return;
        }
        let id = self.optional_string(file, org, pointer, "Id");
        let Some(management_account) = self.string(file, org, pointer, "ManagementAccount") else { return };
        if !is_account_id(&management_account) {
            self.err(file, format!("{pointer}/ManagementAccount"), "expected a 12-digit account ID");
        }
        let mut accounts = HashMap::default();
        for (i, a) in self.list(file, org, "Accounts") {
            let p = format!("{pointer}/Accounts/{i}");
            let Some(acct) = self.string(file, a, &p, "Id") else { continue };
            if !is_account_id(&acct) {
                self.err(file, format!("{p}/Id"), format!("expected a 12-digit account ID, found {acct:?}"));
            }
            let mut parents = Vec::new();
            for (j, parent) in self.list(file, a, "Parents") {
                match parent {
                    Json::String(s) => parents.push(s.clone()),
                    other => self.err(
                        file,
                        format!("{p}/Parents/{j}"),
                        format!("expected a root or OU id, found {}", other.type_name()),
                    ),
                }
            }
            if accounts.insert(acct.clone(), parents).is_some() {
                self.err(file, &p, format!("account {acct} is listed twice"));
            }
        }
        let scps = self.org_policies(file, org, "ServiceControlPolicies", PolicyKind::Scp);
        let rcps = self.org_policies(file, org, "ResourceControlPolicies", PolicyKind::Rcp);
        self.organization = Some(Organization { id, management_account, accounts, scps, rcps });
    }

    fn org_policies(&mut self, file: &str, org: &Json, key: &str, kind: PolicyKind) -> Vec<OrgPolicy> {
        let mut out = Vec::new();
        for (i, entry) in self.list(file, org, key) {
            let p = format!("/Organization/{key}/{i}");
            let name = self.string(file, entry, &p, "Name");
            let mut targets = Vec::new();
            for (j, t) in self.list(file, entry, "Targets") {
                match t {
                    Json::String(s) => targets.push(s.clone()),
                    other => self.err(
                        file,
                        format!("{p}/Targets/{j}"),
                        format!("expected a root, OU or account id, found {}", other.type_name()),
                    ),
                }
            }
            let Some(doc) = entry.get("Policy") else {
                self.err(file, &p, "missing Policy");
                continue;
            };
            let size = policy_size(doc);
            if size > 5120 {
                self.problems.push(Problem::warning(
                    file,
                    format!("{p}/Policy"),
                    format!("policy is {size} characters; Organizations allows 5,120"),
                ));
            }
            let policy = self.policy(file, doc, &format!("{p}/Policy"), kind);
            if let (Some(name), Some(policy)) = (name, policy) {
                let policy = self.add_policy(name, policy);
                out.push(OrgPolicy { targets, policy });
            }
        }
        out
    }

    fn resolve(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        for Pending { file, pointer, kind } in pending {
            match kind {
                RefKind::UserGroup { user, account, group } => {
                    match self.group_by_key.get(&(account, group.to_ascii_lowercase())) {
                        Some(&g) => self.users[user].groups.push(g),
                        None => self.err(&file, pointer, format!("group {group:?} is not in the store")),
                    }
                }
                RefKind::UserManaged { user, arn } => {
                    if let Some(m) = self.managed_ref(&file, &pointer, &arn) {
                        self.users[user].managed.push(m);
                    }
                }
                RefKind::UserBoundary { user, arn } => {
                    self.users[user].boundary = self.managed_ref(&file, &pointer, &arn)
                }
                RefKind::GroupManaged { group, arn } => {
                    if let Some(m) = self.managed_ref(&file, &pointer, &arn) {
                        self.groups[group].managed.push(m);
                    }
                }
                RefKind::RoleManaged { role, arn } => {
                    if let Some(m) = self.managed_ref(&file, &pointer, &arn) {
                        self.roles[role].managed.push(m);
                    }
                }
                RefKind::RoleBoundary { role, arn } => {
                    self.roles[role].boundary = self.managed_ref(&file, &pointer, &arn)
                }
            }
        }
    }

    fn add_policy(&mut self, name: String, policy: Arc<Policy>) -> PolicyId {
        let id = PolicyId(u32::try_from(self.policies.len()).unwrap_or(u32::MAX));
        self.policies.push(NamedPolicy { name, policy });
        id
    }

    fn managed_ref(&mut self, file: &str, pointer: &str, arn: &str) -> Option<PolicyId> {
        let found = self.managed_by_arn.get(arn).copied();
        if found.is_none() {
            self.err(file, pointer, format!("managed policy {arn} is not in the store (add it to Policies)"));
        }
        found
    }

    fn size_warnings(&mut self) {
        for (file, pointer, kind, size, limit) in std::mem::take(&mut self.inline_sizes) {
            if size > limit {
                self.problems.push(Problem::warning(
                    &file,
                    pointer,
                    format!("the {kind}'s inline policies total {size} characters; IAM allows {}", grouped(limit)),
                ));
            }
        }
    }
}

/// `arn:PARTITION:iam::aws:policy/...`: a policy AWS wrote and maintains.
fn is_aws_managed(arn: &str) -> bool {
    arn.split(':').nth(4) == Some("aws") && arn.starts_with("arn:")
}

/// The size IAM counts for a policy given as an object or as (URL-encoded) text: the compact
/// JSON of the decoded document (the decoded text's length when it is not JSON).
fn policy_size(doc: &Json) -> usize {
    match doc {
        Json::String(s) => {
            let decoded = crate::policy::parse::decode_policy_text(s);
            Json::parse(&decoded).map(|j| compact_len(&j)).unwrap_or_else(|_| decoded.chars().count())
        }
        other => compact_len(other),
    }
}

/// The largest resource policy the service of `arn` stores, in characters, for the services
/// whose limit AWS documents: S3 bucket policies 20 KB, Lambda function policies 20 KB, Secrets
/// Manager 20,480, SNS topic policies 30 KB, KMS key policies 32 KB.
fn resource_policy_limit(arn: &str) -> Option<(&'static str, usize)> {
    match arn.split(':').nth(2)? {
        "s3" => Some(("S3 bucket policies", 20 * 1024)),
        "lambda" => Some(("Lambda function policies", 20 * 1024)),
        "secretsmanager" => Some(("Secrets Manager resource policies", 20_480)),
        "sns" => Some(("SNS topic policies", 30 * 1024)),
        "kms" => Some(("KMS key policies", 32 * 1024)),
        _ => None,
    }
}

/// `6144` as `6,144`: quotas are worded the way IAM's documentation prints them.
fn grouped(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Identical documents attached to several principals are kept once, under each
    /// attachment's own name; a document differing in one character is kept apart, and so are
    /// the templates that differ, while equal templates are one allocation.
    #[test]
    fn identical_documents_and_templates_are_shared() {
        let doc = |bucket: &str| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}]}}"#
            )
        };
        let user = |name: &str, bucket: &str| {
            format!(
                r#"{{"UserName":"{name}","UserPolicyList":[{{"PolicyName":"p","PolicyDocument":{}}}]}}"#,
                doc(bucket)
            )
        };
        let text = format!(
            r#"{{"AccountId":"111122223333","UserDetailList":[{},{},{}]}}"#,
            user("alice", "shared"),
            user("bob", "shared"),
            user("carol", "other")
        );
        let store = Store::from_documents([("s.json", text)]).unwrap();
        let policy = |user: usize| store.policy(store.users[user].inline[0]).unwrap();
        assert!(Arc::ptr_eq(&policy(0).policy, &policy(1).policy));
        assert_eq!(policy(0).name, "arn:aws:iam::111122223333:user/alice#p");
        assert_eq!(policy(1).name, "arn:aws:iam::111122223333:user/bob#p");
        assert!(!Arc::ptr_eq(&policy(0).policy, &policy(2).policy));
        let (a, c) = (&policy(0).policy.statements[0], &policy(2).policy.statements[0]);
        assert!(a.action.patterns[0].is_shared_with(&c.action.patterns[0]));
        let resource = |s: &crate::policy::ast::Statement| s.resource.as_ref().unwrap().patterns[0].clone();
        assert_ne!(resource(a), resource(c));
    }
}
