//! One error type per layer: [`LoadError`] (a store, every problem at once) and [`RequestError`]
//! (a request); inside the crate, `PolicyError` (one policy document) becomes a [`Problem`] of the
//! store or a [`RequestError`]. Each names where the problem is (file and
//! JSON pointer, or the request field) and what was expected.

use std::fmt;

/// How serious a load problem is: errors make the store unusable, warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
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

/// One problem found while loading a store: the file, the JSON pointer and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// The file, as given on the command line or relative to the store directory.
    pub file: String,
    /// JSON pointer inside the file (empty for the file as a whole).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

impl Problem {
    pub(crate) fn error(file: &str, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Problem { severity: Severity::Error, file: file.to_owned(), pointer: pointer.into(), message: message.into() }
    }
    pub(crate) fn warning(file: &str, pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Problem { severity: Severity::Warning, file: file.to_owned(), pointer: pointer.into(), message: message.into() }
    }
    pub(crate) fn from_policy(file: &str, e: PolicyError) -> Self {
        Problem::error(file, e.pointer, e.message)
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
pub struct LoadError {
    problems: Vec<Problem>,
}

impl LoadError {
    pub(crate) fn new(problems: Vec<Problem>) -> Self {
        LoadError { problems }
    }
    /// An error about the store as a whole (no file).
    pub(crate) fn single(message: impl Into<String>) -> Self {
        LoadError { problems: vec![Problem::error("", "", message)] }
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

/// A malformed request: names the field (as a JSON pointer into the request) and the problem.
/// A malformed request is never answered `allowed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestError {
    field: String,
    message: String,
}

impl RequestError {
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        RequestError { field: field.into(), message: message.into() }
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
