//! The store's sign-in material (`docs/store.md#credentials`): access keys, MFA devices and OpenID
//! Connect providers, read from store documents beside the policies and checked like them (every
//! problem names its file and JSON pointer).
//!
//! Also the data types they are read into, [`Jwks`] and base32 MFA seeds, so that `auth` reads
//! them from the store and the store imports nothing of `auth`.
//!
//! These are secrets: nothing here implements `Display`, and `Debug` prints key ids, never secrets.

use crate::error::Problem;
use crate::policy::json::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rustc_hash::FxHashMap as HashMap;
use std::fmt;

/// A long-term access key (`AKIA…`) of an IAM user.
#[derive(Clone)]
pub(crate) struct AccessKey {
    pub id: String,
    pub secret: String,
    /// The owner's ARN.
    pub user_arn: String,
    pub active: bool,
}

impl fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessKey").field("id", &self.id).field("user_arn", &self.user_arn).finish_non_exhaustive()
    }
}

/// A virtual MFA device: its serial (ARN) and TOTP seed.
#[derive(Clone)]
pub(crate) struct MfaDevice {
    pub serial: String,
    pub user_arn: String,
    pub seed: Vec<u8>,
}

impl fmt::Debug for MfaDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MfaDevice").field("serial", &self.serial).finish_non_exhaustive()
    }
}

/// An IAM OpenID Connect identity provider, with its key set held in the store.
#[derive(Debug, Clone)]
pub(crate) struct OidcProvider {
    pub arn: String,
    /// The issuer URL (`https://oidc.example.com/cluster1`), as tokens' `iss` claims carry it.
    pub issuer: String,
    /// The issuer without its scheme (`oidc.example.com/cluster1`): the prefix of its condition
    /// keys (`oidc.example.com/cluster1:sub`).
    pub key_prefix: String,
    pub client_ids: Vec<String>,
    pub jwks: Jwks,
    /// The role the gateway evaluates bearer tokens of this provider as
    /// (`docs/gateway.md#identity`).
    pub gateway_role_arn: Option<String>,
}

/// Everything a store holds for signing in.
#[derive(Debug, Clone, Default)]
pub(crate) struct Directory {
    pub keys: HashMap<String, AccessKey>,
    pub mfa: HashMap<String, MfaDevice>,
    pub providers: Vec<OidcProvider>,
}

/// An entry naming its user, resolved once every document is read.
struct PendingUser {
    file: String,
    pointer: String,
    user_name: String,
    account: Option<String>,
    what: PendingKind,
}

enum PendingKind {
    Key { id: String, secret: String, active: bool },
    Mfa { serial: String, seed: Vec<u8> },
}

/// Reads the sign-in keys of store documents; [`DirectoryBuilder::finish`] resolves user names.
#[derive(Default)]
pub(crate) struct DirectoryBuilder {
    pending: Vec<PendingUser>,
    providers: Vec<OidcProvider>,
    /// Where each provider was defined (file, pointer), for problems found at the end.
    provider_sites: Vec<(String, String)>,
    problems: Vec<Problem>,
}

fn entries<'d>(doc: &'d Json, key: &str, file: &str, problems: &mut Vec<Problem>) -> Vec<(String, &'d Json)> {
    match doc.get(key) {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Array(items)) => items.iter().enumerate().map(|(i, e)| (format!("/{key}/{i}"), e)).collect(),
        Some(other) => {
            problems.push(Problem::error(
                file,
                format!("/{key}"),
                format!("expected an array, found {}", other.type_name()),
            ));
            Vec::new()
        }
    }
}

impl DirectoryBuilder {
    fn err(&mut self, file: &str, pointer: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem::error(file, pointer, message));
    }

    fn string(&mut self, file: &str, entry: &Json, pointer: &str, key: &str) -> Option<String> {
        match entry.get(key) {
            Some(Json::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(other) => {
                let found = if matches!(other, Json::String(_)) { "an empty string" } else { other.type_name() };
                self.err(file, format!("{pointer}/{key}"), format!("expected a non-empty string, found {found}"));
                None
            }
            None => {
                self.err(file, pointer, format!("missing {key}"));
                None
            }
        }
    }

    /// Reads `Credentials`, `MfaDevices` and `OpenIdConnectProviders` of one document.
    pub(crate) fn document(&mut self, file: &str, doc: &Json, doc_account: Option<&str>) {
        let mut problems = Vec::new();
        let credentials = entries(doc, "Credentials", file, &mut problems);
        let devices = entries(doc, "MfaDevices", file, &mut problems);
        let providers = entries(doc, "OpenIdConnectProviders", file, &mut problems);
        self.problems.append(&mut problems);
        for (pointer, entry) in credentials {
            self.credential(file, &pointer, entry, doc_account);
        }
        for (pointer, entry) in devices {
            self.device(file, &pointer, entry, doc_account);
        }
        for (pointer, entry) in providers {
            self.provider(file, &pointer, entry);
        }
    }

    fn credential(&mut self, file: &str, pointer: &str, entry: &Json, doc_account: Option<&str>) {
        let id = self.string(file, entry, pointer, "AccessKeyId");
        let secret = self.string(file, entry, pointer, "SecretAccessKey");
        let user = self.user_ref(file, pointer, entry, doc_account);
        let active = match entry.get("Status") {
            None | Some(Json::Null) => true,
            Some(Json::String(s)) if s == "Active" => true,
            Some(Json::String(s)) if s == "Inactive" => false,
            Some(other) => {
                self.err(
                    file,
                    format!("{pointer}/Status"),
                    format!("expected \"Active\" or \"Inactive\", found {}", describe(other)),
                );
                return;
            }
        };
        if let Some(Json::String(date)) = entry.get("CreateDate") {
            if crate::policy::value::Instant::parse(date).is_none() {
                self.err(file, format!("{pointer}/CreateDate"), format!("expected an ISO 8601 date, found {date:?}"));
            }
        }
        let (Some(id), Some(secret), Some((user_name, account))) = (id, secret, user) else { return };
        if !(id.starts_with("AKIA") && (16..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            self.err(
                file,
                format!("{pointer}/AccessKeyId"),
                format!("expected a long-term access key id (AKIA followed by letters and digits), found {id:?}"),
            );
            return;
        }
        self.pending.push(PendingUser {
            file: file.to_owned(),
            pointer: pointer.to_owned(),
            user_name,
            account,
            what: PendingKind::Key { id, secret, active },
        });
    }

    fn device(&mut self, file: &str, pointer: &str, entry: &Json, doc_account: Option<&str>) {
        let serial = self.string(file, entry, pointer, "SerialNumber");
        let seed = self.string(file, entry, pointer, "Seed");
        let user = self.user_ref(file, pointer, entry, doc_account);
        let seed = seed.and_then(|s| match decode_base32(&s) {
            Some(bytes) if bytes.len() >= 10 => Some(bytes),
            _ => {
                self.err(file, format!("{pointer}/Seed"), "expected a base32 TOTP seed of at least 80 bits");
                None
            }
        });
        let (Some(serial), Some(seed), Some((user_name, account))) = (serial, seed, user) else { return };
        self.pending.push(PendingUser {
            file: file.to_owned(),
            pointer: pointer.to_owned(),
            user_name,
            account,
            what: PendingKind::Mfa { serial, seed },
        });
    }

    /// `UserName` (with the document's account, else unique in the store) or `UserArn`.
    fn user_ref(
        &mut self,
        file: &str,
        pointer: &str,
        entry: &Json,
        doc_account: Option<&str>,
    ) -> Option<(String, Option<String>)> {
        if let Some(Json::String(arn)) = entry.get("UserArn") {
            return Some((arn.clone(), None));
        }
        let name = self.string(file, entry, pointer, "UserName")?;
        Some((name, doc_account.map(str::to_owned)))
    }

    fn provider(&mut self, file: &str, pointer: &str, entry: &Json) {
        let arn = self.string(file, entry, pointer, "Arn");
        let url = self.string(file, entry, pointer, "Url");
        let mut client_ids = Vec::new();
        match entry.get("ClientIDList") {
            Some(Json::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Json::String(s) if !s.is_empty() => client_ids.push(s.clone()),
                        other => self.err(
                            file,
                            format!("{pointer}/ClientIDList/{i}"),
                            format!("expected a client id string, found {}", describe(other)),
                        ),
                    }
                }
            }
            None | Some(Json::Null) => {}
            Some(other) => self.err(
                file,
                format!("{pointer}/ClientIDList"),
                format!("expected an array, found {}", other.type_name()),
            ),
        }
        let jwks = match entry.get("Jwks") {
            Some(set) => {
                let mut errors = Vec::new();
                let jwks = Jwks::read(set, &format!("{pointer}/Jwks"), &mut errors);
                for (p, m) in errors {
                    self.err(file, p, m);
                }
                jwks
            }
            None => {
                self.err(file, pointer, "missing Jwks (the issuer's JSON Web Key Set; keycard fetches nothing)");
                Jwks::default()
            }
        };
        let gateway_role_arn = match entry.get("GatewayRoleArn") {
            None | Some(Json::Null) => None,
            Some(Json::String(s)) if s.starts_with("arn:") && s.contains(":role/") => Some(s.clone()),
            Some(other) => {
                self.err(
                    file,
                    format!("{pointer}/GatewayRoleArn"),
                    format!("expected a role ARN, found {}", describe(other)),
                );
                None
            }
        };
        let (Some(arn), Some(url)) = (arn, url) else { return };
        let Some(host_path) = url.strip_prefix("https://").filter(|h| !h.is_empty()) else {
            self.err(file, format!("{pointer}/Url"), format!("expected an https:// issuer URL, found {url:?}"));
            return;
        };
        let key_prefix = host_path.trim_end_matches('/').to_owned();
        if !arn.starts_with("arn:") || !arn.ends_with(&format!(":oidc-provider/{key_prefix}")) {
            self.err(
                file,
                format!("{pointer}/Arn"),
                format!("expected arn:aws:iam::ACCOUNT:oidc-provider/{key_prefix} (the Url without https://), found {arn:?}"),
            );
            return;
        }
        if self.providers.iter().any(|p| p.arn == arn) {
            self.err(file, pointer, format!("OIDC provider {arn} is defined twice"));
            return;
        }
        self.provider_sites.push((file.to_owned(), pointer.to_owned()));
        self.providers.push(OidcProvider {
            arn,
            issuer: format!("https://{key_prefix}"),
            key_prefix,
            client_ids,
            jwks,
            gateway_role_arn,
        });
    }

    /// Resolves user names against the store's users; returns the directory and the problems.
    pub(crate) fn finish(
        self,
        user_arns: &HashMap<String, usize>,
        user_name_of: impl Fn(usize) -> Option<(String, String)>,
        role_arns: &HashMap<String, usize>,
    ) -> (Directory, Vec<Problem>) {
        let DirectoryBuilder { pending, providers, provider_sites, mut problems } = self;
        let mut dir = Directory { providers, ..Directory::default() };
        let by_name = users_by_name(user_arns, user_name_of);
        let mut keys_per_user: HashMap<String, usize> = HashMap::default();
        for p in pending {
            match resolve_user(&p, user_arns, &by_name) {
                Ok(user_arn) => {
                    if let Err(problem) = dir.add(p, user_arn, &mut keys_per_user) {
                        problems.push(problem);
                    }
                }
                Err(problem) => problems.push(problem),
            }
        }
        for (provider, (file, pointer)) in dir.providers.iter().zip(&provider_sites) {
            if let Some(role) = provider.gateway_role_arn.as_ref().filter(|r| !role_arns.contains_key(*r)) {
                problems.push(Problem::error(
                    file,
                    format!("{pointer}/GatewayRoleArn"),
                    format!("role {role} is not in the store"),
                ));
            }
        }
        (dir, problems)
    }
}

/// The store's users by lowercase name: `(ARN, account)` of each, for entries without an account.
fn users_by_name(
    user_arns: &HashMap<String, usize>,
    user_name_of: impl Fn(usize) -> Option<(String, String)>,
) -> HashMap<String, Vec<(String, String)>> {
    let mut by_name: HashMap<String, Vec<(String, String)>> = HashMap::default();
    for &ix in user_arns.values() {
        if let Some((arn, account)) = user_name_of(ix) {
            let name = arn.rsplit('/').next().unwrap_or_default().to_ascii_lowercase();
            by_name.entry(name).or_default().push((arn, account));
        }
    }
    by_name
}

/// The ARN of the user an entry names (by ARN, or by name and optionally account), or the problem.
fn resolve_user(
    p: &PendingUser,
    user_arns: &HashMap<String, usize>,
    by_name: &HashMap<String, Vec<(String, String)>>,
) -> Result<String, Problem> {
    let not_in_store = || Problem::error(&p.file, &p.pointer, format!("user {:?} is not in the store", p.user_name));
    if p.user_name.starts_with("arn:") {
        return if user_arns.contains_key(&p.user_name) { Ok(p.user_name.clone()) } else { Err(not_in_store()) };
    }
    let candidates = by_name.get(&p.user_name.to_ascii_lowercase()).map(Vec::as_slice).unwrap_or(&[]);
    let matching: Vec<&(String, String)> =
        candidates.iter().filter(|(_, acct)| p.account.as_ref().is_none_or(|a| a == acct)).collect();
    match matching.as_slice() {
        [(arn, _)] => Ok(arn.clone()),
        [] => Err(not_in_store()),
        _ => Err(Problem::error(
            &p.file,
            &p.pointer,
            format!("user {:?} is in several accounts: give UserArn instead", p.user_name),
        )),
    }
}

impl Directory {
    /// Adds an access key or MFA device of `user_arn`; a third key of a user, or an id or serial
    /// defined twice, is a problem.
    fn add(
        &mut self,
        p: PendingUser,
        user_arn: String,
        keys_per_user: &mut HashMap<String, usize>,
    ) -> Result<(), Problem> {
        match p.what {
            PendingKind::Key { id, secret, active } => {
                let count = keys_per_user.entry(user_arn.clone()).or_default();
                *count += 1;
                if *count > 2 {
                    return Err(Problem::error(
                        &p.file,
                        &p.pointer,
                        format!("user {user_arn} has more than two access keys (IAM allows two)"),
                    ));
                }
                if self.keys.contains_key(&id) {
                    return Err(Problem::error(
                        &p.file,
                        format!("{}/AccessKeyId", p.pointer),
                        format!("access key {id} is defined twice"),
                    ));
                }
                self.keys.insert(id.clone(), AccessKey { id, secret, user_arn, active });
            }
            PendingKind::Mfa { serial, seed } => {
                if self.mfa.contains_key(&serial) {
                    return Err(Problem::error(
                        &p.file,
                        format!("{}/SerialNumber", p.pointer),
                        format!("MFA device {serial} is defined twice"),
                    ));
                }
                self.mfa.insert(serial.clone(), MfaDevice { serial, user_arn, seed });
            }
        }
        Ok(())
    }
}

impl Directory {
    /// The provider whose issuer is `iss`.
    pub(crate) fn provider_by_issuer(&self, iss: &str) -> Option<&OidcProvider> {
        let iss = iss.trim_end_matches('/');
        self.providers.iter().find(|p| p.issuer == iss || p.key_prefix == iss)
    }
}

fn describe(v: &Json) -> String {
    match v {
        Json::String(s) => format!("{s:?}"),
        other => other.type_name().to_owned(),
    }
}

/// One verification key of a JSON Web Key Set.
#[derive(Debug, Clone)]
pub(crate) enum Jwk {
    Rsa {
        kid: Option<String>,
        n: Vec<u8>,
        e: Vec<u8>,
    },
    /// P-256, as the uncompressed point `04 || x || y`.
    P256 {
        kid: Option<String>,
        point: Vec<u8>,
    },
}

impl Jwk {
    pub(crate) fn kid(&self) -> Option<&str> {
        match self {
            Jwk::Rsa { kid, .. } | Jwk::P256 { kid, .. } => kid.as_deref(),
        }
    }
}

/// A JSON Web Key Set.
#[derive(Debug, Clone, Default)]
pub(crate) struct Jwks {
    pub keys: Vec<Jwk>,
}

impl Jwks {
    /// Reads `{"keys": [...]}`; problems are `(pointer, message)`.
    pub(crate) fn read(set: &Json, pointer: &str, problems: &mut Vec<(String, String)>) -> Jwks {
        let Some(Json::Array(keys)) = set.get("keys") else {
            problems.push((pointer.to_owned(), "expected a JSON Web Key Set: {\"keys\": [...]}".to_owned()));
            return Jwks::default();
        };
        let mut out = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            let p = format!("{pointer}/keys/{i}");
            let field = |name: &str| key.get(name).and_then(Json::as_str);
            let bytes = |name: &str, problems: &mut Vec<(String, String)>| {
                let decoded = field(name).and_then(|v| URL_SAFE_NO_PAD.decode(v.trim_end_matches('=')).ok());
                if decoded.is_none() {
                    problems.push((format!("{p}/{name}"), format!("expected base64url {name}")));
                }
                decoded
            };
            let kid = field("kid").map(str::to_owned);
            if field("use").is_some_and(|u| u != "sig") {
                continue;
            }
            match field("kty") {
                Some("RSA") => {
                    if let (Some(n), Some(e)) = (bytes("n", problems), bytes("e", problems)) {
                        out.push(Jwk::Rsa { kid, n, e });
                    }
                }
                Some("EC") => {
                    if field("crv") != Some("P-256") {
                        problems.push((format!("{p}/crv"), "only P-256 EC keys are supported (ES256)".to_owned()));
                        continue;
                    }
                    if let (Some(x), Some(y)) = (bytes("x", problems), bytes("y", problems)) {
                        if x.len() != 32 || y.len() != 32 {
                            problems.push((p.clone(), "P-256 coordinates must be 32 bytes".to_owned()));
                            continue;
                        }
                        let mut point = Vec::with_capacity(65);
                        point.push(4);
                        point.extend_from_slice(&x);
                        point.extend_from_slice(&y);
                        out.push(Jwk::P256 { kid, point });
                    }
                }
                other => problems.push((
                    format!("{p}/kty"),
                    format!("unsupported key type {:?} (RSA and EC P-256 are)", other.unwrap_or("")),
                )),
            }
        }
        Jwks { keys: out }
    }
}

/// Decodes RFC 4648 base32 (upper or lower case, `=` padding and spaces ignored).
pub(crate) fn decode_base32(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in s.bytes().filter(|c| !matches!(c, b'=' | b' ' | b'-')) {
        let v = match c.to_ascii_uppercase() {
            c @ b'A'..=b'Z' => c - b'A',
            c @ b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        buffer = (buffer << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    (!out.is_empty()).then_some(out)
}
