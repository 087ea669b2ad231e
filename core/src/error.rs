//! One error type per layer: [`LoadError`] (a store, every problem at once) and [`RequestError`]
//! (a request); inside the crate, `PolicyError` (one policy document) becomes a [`Problem`] of the
//! store or a [`RequestError`]. Each names where the problem is (file and JSON pointer, or the
//! request field) and what was expected, and has a `kind()` that callers match instead of the
//! message text (the message is for people, and may be reworded).

use std::fmt;

/// How serious a load problem is: errors make the store unusable, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Severity {
    /// The store cannot be used; loading fails.
    Error,
    /// Worth fixing (AWS would refuse it, e.g. an over-size policy) but the store still loads.
    Warning,
}

/// A problem inside one policy document, located by a JSON pointer relative to the file root.
/// Never returned to a user: the loader reports it as a [`Problem`], a request as a
/// [`RequestError`], STS as `MalformedPolicyDocument`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pointer}: {message}")]
pub(crate) struct PolicyError {
    pointer: String,
    message: String,
}

impl PolicyError {
    pub(crate) fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        PolicyError { pointer: pointer.into(), message: message.into() }
    }
    /// The JSON pointer of the offending element (`/Statement/2/Condition/StringLik`).
    pub fn pointer(&self) -> &str {
        &self.pointer
    }
    /// What is wrong, as a short lowercase phrase.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// What kind of problem a [`Problem`] is, for callers to match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProblemKind {
    /// A file or directory cannot be read (missing, unreadable, not UTF-8, no `*.json` files).
    Io,
    /// A file is not valid JSON (a syntax error, a duplicate key).
    Json,
    /// A policy document breaks the policy grammar or its values.
    Policy,
    /// The store's own shape: unknown fields, missing or duplicate entities, references to
    /// nothing, credentials and routes; also AWS's size limits (warnings).
    Store,
    /// A bundle is refused: its signature, manifest or size limits.
    Bundle,
    /// keycard itself failed (a panic caught while loading, a thread that cannot start, a source
    /// that only its poller publishes).
    Internal,
}

/// One problem found while loading a store: the file, the JSON pointer and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Problem {
    pub(crate) severity: Severity,
    pub(crate) kind: ProblemKind,
    pub(crate) file: String,
    pub(crate) pointer: String,
    pub(crate) message: String,
}

impl Problem {
    pub(crate) fn error(file: &str, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Problem::new(Severity::Error, ProblemKind::Store, file, pointer.into(), message.into())
    }
    pub(crate) fn warning(file: &str, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Problem::new(Severity::Warning, ProblemKind::Store, file, pointer.into(), message.into())
    }
    /// An error of `kind` about `file` as a whole.
    pub(crate) fn of(kind: ProblemKind, file: &str, message: impl Into<String>) -> Self {
        Problem::new(Severity::Error, kind, file, String::new(), message.into())
    }
    pub(crate) fn with_kind(mut self, kind: ProblemKind) -> Self {
        self.kind = kind;
        self
    }
    pub(crate) fn from_policy(file: &str, e: PolicyError) -> Self {
        Problem::new(Severity::Error, ProblemKind::Policy, file, e.pointer, e.message)
    }
    fn new(severity: Severity, kind: ProblemKind, file: &str, pointer: String, message: String) -> Self {
        Problem { severity, kind, file: file.to_owned(), pointer, message }
    }

    /// Error or warning.
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// What kind of problem it is.
    pub fn kind(&self) -> ProblemKind {
        self.kind
    }

    /// The file, as given on the command line or relative to the store directory (empty for the
    /// store as a whole).
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The JSON pointer inside the file (empty for the file as a whole).
    pub fn pointer(&self) -> &str {
        &self.pointer
    }

    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        if self.pointer.is_empty() {
            write!(f, "{level}: {}: {}", self.file, self.message)
        } else {
            write!(f, "{level}: {}: {}: {}", self.file, self.pointer, self.message)
        }
    }
}

/// A store that could not be loaded, with every problem found (errors and warnings).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoadError {
    problems: Vec<Problem>,
}

impl LoadError {
    pub(crate) fn new(problems: Vec<Problem>) -> Self {
        LoadError { problems }
    }
    /// An error of `kind` about the store as a whole (no file).
    pub(crate) fn single(kind: ProblemKind, message: impl Into<String>) -> Self {
        LoadError { problems: vec![Problem::of(kind, "", message)] }
    }
    /// The kind of the first error (what made the load fail).
    pub fn kind(&self) -> ProblemKind {
        self.errors().next().map_or(ProblemKind::Internal, |p| p.kind)
    }
    /// Every problem, in file order; at least one is an error.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
    /// Only the errors.
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(|p| p.severity == Severity::Error)
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors().count();
        write!(f, "store has {n} error{}", if n == 1 { "" } else { "s" })?;
        for p in &self.problems {
            write!(f, "\n{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

/// What kind of problem a [`RequestError`] is, for callers to match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RequestErrorKind {
    /// The text is not JSON (a syntax error, a duplicate key).
    Json,
    /// A field the request format does not have.
    UnknownField,
    /// A required field is missing.
    Missing,
    /// A field of the wrong type or form (an action without `service:`, a resource that is not
    /// an ARN, a context value that is an object).
    Invalid,
    /// A field over its limit (ARN length, context keys or values, policy size).
    TooLarge,
    /// A context key that only the store or authenticated credentials may supply.
    Reserved,
    /// A `sessionPolicy` or `resourcePolicy` that is not a valid policy.
    Policy,
}

/// A malformed request: names the field (as a JSON pointer into the request), the kind of
/// problem and the message. A malformed request is never answered `allowed`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestError {
    kind: RequestErrorKind,
    field: String,
    message: String,
}

impl RequestError {
    /// An [`RequestErrorKind::Invalid`] field; [`RequestError::with_kind`] says otherwise.
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        RequestError { kind: RequestErrorKind::Invalid, field: field.into(), message: message.into() }
    }
    pub(crate) fn with_kind(mut self, kind: RequestErrorKind) -> Self {
        self.kind = kind;
        self
    }
    /// The same error, its field under `prefix` (a request inside a batch).
    pub(crate) fn under(mut self, prefix: &str) -> Self {
        self.field.insert_str(0, prefix);
        self
    }
    /// What kind of problem it is.
    pub fn kind(&self) -> RequestErrorKind {
        self.kind
    }
    /// The offending field as a JSON pointer (`/context/aws:username`), or empty for the whole body.
    pub fn field(&self) -> &str {
        &self.field
    }
    /// What is wrong.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// The error as the sidecar, the CLI and the C ABI answer it: `{"error": "...", "field":
    /// "/pointer"}`, without `field` when the problem is the body as a whole.
    pub fn to_json(&self) -> serde_json::Value {
        if self.field.is_empty() {
            serde_json::json!({ "error": self.message })
        } else {
            serde_json::json!({ "error": self.to_string(), "field": self.field })
        }
    }
}

/// `field: message`, or just the message when the problem is the body as a whole.
impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for RequestError {}
