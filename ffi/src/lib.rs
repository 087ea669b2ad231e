//! libkeycard: keycard's C ABI (`docs/c-api.md`). `include/keycard.h` is generated from this
//! file by cbindgen (`tests/header.rs` fails when the checked-in header differs; run it with
//! `KEYCARD_BLESS_HEADER=1` to rewrite it).
//!
//! The model, for every entry point:
//! - **Ownership.** `keycard_engine_open` (and `keycard_engine_open_with`) returns a handle the
//!   caller owns and gives back with `keycard_engine_free`; `keycard_options_new` returns options
//!   the caller owns and gives back with `keycard_options_free`. Every `char *` a function returns is owned by the caller and freed
//!   with `keycard_string_free` (never `free`). Every `const char *` argument stays the
//!   caller's; keycard reads it during the call only. `keycard_version` and
//!   `keycard_last_error` return pointers keycard owns.
//! - **Errors.** A negative result (or `NULL`) means an error, and `keycard_last_error` says
//!   why, for the calling thread. A `NULL` pointer where one is required, text that is not
//!   UTF-8, malformed JSON and a malformed request are errors, never a crash.
//! - **Panics.** Every entry point runs its body under `catch_unwind`: a Rust panic becomes
//!   `KEYCARD_ERR_INTERNAL` (or `NULL`), never an unwind into C.
//! - **Threads.** An engine is `Send + Sync`: any number of threads may call it at once. Each
//!   decision reads one whole snapshot; a reload swaps snapshots atomically.

use kc::live::{Config, Live, Source};
use kc::{Decision, Request, RequestError, Verifier};
use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_uint, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::ptr;
use std::sync::Arc;

/// `keycard_engine_open` flag: reload the store when its files change (as the sidecar does:
/// watched with notify, debounced, loaded off the callers' path, swapped atomically; a broken
/// edit keeps the last good snapshot serving).
pub const KEYCARD_WATCH: c_uint = 1;

/// `keycard_authorize`: allowed.
pub const KEYCARD_ALLOWED: c_int = 1;
/// `keycard_authorize`: implicitly denied (nothing allows). A deny.
pub const KEYCARD_IMPLICIT_DENY: c_int = 0;
/// `keycard_authorize`: explicitly denied (a `Deny` statement matched). A deny.
pub const KEYCARD_EXPLICIT_DENY: c_int = 2;

/// Error: a required pointer argument is `NULL`.
pub const KEYCARD_ERR_NULL: c_int = -1;
/// Error: a string argument is not valid UTF-8.
pub const KEYCARD_ERR_UTF8: c_int = -2;
/// Error: a malformed request: invalid JSON, or a field (principal, action, resource, context
/// key or value) that keycard refuses; the message names it by JSON pointer.
pub const KEYCARD_ERR_REQUEST: c_int = -3;
/// Error: the policy store did not load (open or reload); the message lists every problem.
pub const KEYCARD_ERR_LOAD: c_int = -4;
/// Error: an argument out of range (e.g. unknown `flags` bits).
pub const KEYCARD_ERR_ARGUMENT: c_int = -5;
/// Error: an internal error (a Rust panic caught at the boundary, no snapshot loaded).
pub const KEYCARD_ERR_INTERNAL: c_int = -6;

/// An engine: a policy store, compiled, kept current. Opaque; create with
/// `keycard_engine_open`, share between threads freely, destroy with `keycard_engine_free`.
#[allow(non_camel_case_types)]
pub struct keycard_engine {
    live: Live,
    /// Keys that open STS session tokens in `signedRequest`s (`keycard_options_set_sts_key_file`
    /// or `KEYCARD_STS_KEY_FILE`, the sidecar's `--sts-key-file`); without them only long-term
    /// keys authenticate.
    sts_keys: Option<Arc<kc::auth::SealKeys>>,
}

/// How `keycard_engine_open_with` opens an engine. Opaque; create with `keycard_options_new`,
/// set with `keycard_options_set_*`, destroy with `keycard_options_free`. One options object may
/// open any number of engines; the engines do not keep it.
#[allow(non_camel_case_types)]
pub struct keycard_options {
    watch: bool,
    sts_keys: Option<Arc<kc::auth::SealKeys>>,
}

/// An error on its way to `keycard_last_error`.
struct Failure {
    code: c_int,
    message: String,
}

impl Failure {
    fn new(code: c_int, message: impl Into<String>) -> Failure {
        Failure { code, message: message.into() }
    }
}

impl From<RequestError> for Failure {
    fn from(e: RequestError) -> Failure {
        Failure::new(KEYCARD_ERR_REQUEST, format!("malformed request: {e}"))
    }
}

thread_local! {
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

fn set_last_error(message: &str) {
    // A message with a NUL in it (from the caller's own text) would be cut short: show it.
    let c = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    // During thread teardown the slot may be gone; there is no one left to read it then.
    let _ = LAST_ERROR.try_with(|slot| *slot.borrow_mut() = Some(c));
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown".to_owned());
    format!("internal error (a panic, caught at the C boundary): {what}")
}

/// Runs an entry point's body: a failure or a panic sets the last error and returns `on_error`
/// (or the failure's code, through `code`).
#[inline(always)]
fn guarded<T>(on_error: impl FnOnce(c_int) -> T, body: impl FnOnce() -> Result<T, Failure>) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(value)) => value,
        Ok(Err(failure)) => {
            set_last_error(&failure.message);
            on_error(failure.code)
        }
        Err(payload) => {
            set_last_error(&panic_message(payload.as_ref()));
            on_error(KEYCARD_ERR_INTERNAL)
        }
    }
}

thread_local! {
    /// The request `keycard_authorize` refills for each call on this thread, so that a call
    /// allocates nothing once the buffers have grown to the requests' sizes.
    static REQUEST: RefCell<Option<Request>> = const { RefCell::new(None) };
}

/// Reads a `const char *` argument as UTF-8 text.
///
/// # Safety
/// `p` is `NULL` or points to a NUL-terminated string that stays valid for `'a`.
#[inline(always)]
unsafe fn text<'a>(p: *const c_char, name: &str) -> Result<&'a str, Failure> {
    if p.is_null() {
        return Err(Failure::new(KEYCARD_ERR_NULL, format!("{name} is NULL")));
    }
    // SAFETY: not NULL, and the caller promises a NUL-terminated string valid for 'a.
    let bytes = unsafe { CStr::from_ptr(p) }.to_bytes();
    // Requests are almost always ASCII, which `is_ascii` checks faster than full UTF-8
    // validation does; anything else is validated in full.
    if bytes.is_ascii() {
        // SAFETY: ASCII is valid UTF-8.
        return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes)
        .map_err(|e| Failure::new(KEYCARD_ERR_UTF8, format!("{name} is not valid UTF-8 (at byte {})", e.valid_up_to())))
}

/// Reads the engine argument.
///
/// # Safety
/// `engine` is `NULL` or a live handle from `keycard_engine_open`.
unsafe fn engine_ref<'a>(engine: *const keycard_engine) -> Result<&'a keycard_engine, Failure> {
    // SAFETY: the caller promises NULL or a live handle, which nothing frees during the call.
    unsafe { engine.as_ref() }.ok_or_else(|| Failure::new(KEYCARD_ERR_NULL, "engine is NULL"))
}

/// Builds a request from the four text arguments.
///
/// # Safety
/// Each pointer is `NULL` or a NUL-terminated string valid during the call.
unsafe fn request(
    principal: *const c_char,
    action: *const c_char,
    resource: *const c_char,
    context_json: *const c_char,
) -> Result<Request, Failure> {
    // SAFETY: forwarded from the caller's promise.
    let (p, a, r) = unsafe { (text(principal, "principal")?, text(action, "action")?, text(resource, "resource")?) };
    let request = Request::new(p, a, r)?;
    if context_json.is_null() {
        return Ok(request);
    }
    // SAFETY: forwarded from the caller's promise.
    let context = unsafe { text(context_json, "context_json")? };
    Ok(request.with_context_json(context)?)
}

fn owned_string(s: String) -> Result<*mut c_char, Failure> {
    CString::new(s)
        .map(CString::into_raw)
        .map_err(|_| Failure::new(KEYCARD_ERR_INTERNAL, "a returned string held a NUL byte"))
}

fn with_snapshot<T>(engine: &keycard_engine, f: impl FnOnce(&kc::Snapshot) -> T) -> Result<T, Failure> {
    let current = engine.live.current();
    let loaded = current.as_ref().ok_or_else(|| Failure::new(KEYCARD_ERR_INTERNAL, "no snapshot is loaded"))?;
    Ok(f(loaded.snapshot()))
}

/// Decides a request given as JSON, authenticating a `signedRequest` first
/// (`docs/http-api.md#signed-requests`): the answer (naming the signer in `"principal"`), or
/// `{"error", "code"}` with AWS's code when the signature does not verify (last error set).
fn json_answer(engine: &keycard_engine, request: &Request) -> Result<serde_json::Value, Failure> {
    let verifier = engine.sts_keys.as_deref().map_or(Verifier::StoreKeys, Verifier::Sessions);
    with_snapshot(engine, |s| match s.authorize_signed(request, verifier, std::time::SystemTime::now()) {
        Ok(answer) => answer.to_json(),
        Err(e) => {
            set_last_error(&format!("signature refused: {e}"));
            e.to_json()
        }
    })
}

/// This library's version, e.g. `"0.1.0"`. The string is static: do not free it.
#[no_mangle]
pub extern "C" fn keycard_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// Opens the policy store at `policies_path` (a directory of `*.json` documents, one file, or a
/// bundle from `keycard bundle build`), loads and compiles it before returning.
///
/// A bundle (recognised by its first bytes) is verified with the Ed25519 public keys (PEM files)
/// named by `KEYCARD_BUNDLE_PUBLIC_KEY`, several separated by `:` (a key rotation): one of them
/// must have signed it, and every file must match its manifest. Without that variable a bundle
/// is refused, unless `KEYCARD_BUNDLE_INSECURE_UNSIGNED=1` accepts it unverified.
///
/// `flags`: 0, or `KEYCARD_WATCH` to reload the store when its files change. When
/// `KEYCARD_STS_KEY_FILE` is set, it names STS keys as `keycard_options_set_sts_key_file` does.
/// `keycard_engine_open_with` takes the same settings as an options object instead.
///
/// Returns a new engine, owned by the caller: free it with `keycard_engine_free`. Returns `NULL`
/// on error (`NULL` or non-UTF-8 path, unknown flags, a store that does not load: the message
/// lists every problem with file and JSON pointer), with `keycard_last_error` set.
/// `policies_path` stays the caller's.
///
/// # Safety
/// `policies_path` is `NULL` or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn keycard_engine_open(policies_path: *const c_char, flags: c_uint) -> *mut keycard_engine {
    guarded(
        |_| ptr::null_mut(),
        || {
            if flags & !KEYCARD_WATCH != 0 {
                return Err(Failure::new(KEYCARD_ERR_ARGUMENT, format!("unknown flags: {flags:#x}")));
            }
            let sts_keys = match std::env::var_os("KEYCARD_STS_KEY_FILE") {
                Some(file) => Some(load_sts_keys(std::path::Path::new(&file), "KEYCARD_STS_KEY_FILE")?),
                None => None,
            };
            let options = keycard_options { watch: flags & KEYCARD_WATCH != 0, sts_keys };
            // SAFETY: forwarded from the caller's promise.
            unsafe { open(policies_path, &options) }
        },
    )
}

/// Opens the policy store at `policies_path` as `keycard_engine_open` does, configured by
/// `options` (from `keycard_options_new`) instead of flags and `KEYCARD_STS_KEY_FILE`. A bundle
/// is verified as for `keycard_engine_open`.
///
/// Returns a new engine, owned by the caller: free it with `keycard_engine_free`. Returns `NULL`
/// on error (`NULL` arguments, a store that does not load), with `keycard_last_error` set. Both
/// arguments stay the caller's; the engine keeps nothing of `options`.
///
/// # Safety
/// `policies_path` is `NULL` or a NUL-terminated string; `options` is `NULL` or a live handle
/// from `keycard_options_new`.
#[no_mangle]
pub unsafe extern "C" fn keycard_engine_open_with(
    policies_path: *const c_char,
    options: *const keycard_options,
) -> *mut keycard_engine {
    guarded(
        |_| ptr::null_mut(),
        || {
            // SAFETY: the caller promises NULL or a live handle, which nothing frees during the call.
            let options =
                unsafe { options.as_ref() }.ok_or_else(|| Failure::new(KEYCARD_ERR_NULL, "options is NULL"))?;
            // SAFETY: forwarded from the caller's promise.
            unsafe { open(policies_path, options) }
        },
    )
}

/// Opens an engine: loads and compiles the store before returning.
///
/// # Safety
/// `policies_path` is `NULL` or a NUL-terminated string.
unsafe fn open(policies_path: *const c_char, options: &keycard_options) -> Result<*mut keycard_engine, Failure> {
    // SAFETY: forwarded from the caller's promise.
    let path = unsafe { text(policies_path, "policies_path")? };
    let path =
        std::path::absolute(PathBuf::from(path)).map_err(|e| Failure::new(KEYCARD_ERR_LOAD, format!("{path}: {e}")))?;
    let source = if kc::bundle::is_bundle_file(&path) {
        Source::Bundle { trust: Arc::new(bundle_trust(&path)?), path }
    } else {
        Source::Path(path)
    };
    let live = Live::open(source, Config::new().watch(options.watch))
        .map_err(|e| Failure::new(KEYCARD_ERR_LOAD, e.to_string()))?;
    Ok(Box::into_raw(Box::new(keycard_engine { live, sts_keys: options.sts_keys.clone() })))
}

/// Takes back and drops a handle keycard made with `Box::into_raw`; `NULL` is ignored.
///
/// # Safety
/// `handle` is `NULL` or a handle made by `Box::into_raw` and not freed before; nothing uses it
/// during or after the call.
unsafe fn free_handle<T>(handle: *mut T) {
    guarded(
        |_| (),
        || {
            if !handle.is_null() {
                // SAFETY: the caller gives back ownership of a handle made by Box::into_raw.
                drop(unsafe { Box::from_raw(handle) });
            }
            Ok(())
        },
    );
}

/// Reads the options argument of a setter.
///
/// # Safety
/// `options` is `NULL` or a live handle from `keycard_options_new` that no other thread uses
/// during the call.
unsafe fn options_mut<'a>(options: *mut keycard_options) -> Result<&'a mut keycard_options, Failure> {
    // SAFETY: the caller promises NULL or a live handle no other thread is using.
    unsafe { options.as_mut() }.ok_or_else(|| Failure::new(KEYCARD_ERR_NULL, "options is NULL"))
}

/// Reads an STS key file (`--sts-key-file`'s format); `what` names it in the error.
fn load_sts_keys(path: &std::path::Path, what: &str) -> Result<Arc<kc::auth::SealKeys>, Failure> {
    kc::auth::SealKeys::from_file(path).map(Arc::new).map_err(|e| Failure::new(KEYCARD_ERR_LOAD, format!("{what} {e}")))
}

/// New options for `keycard_engine_open_with`: no watching, no STS keys (only the store's
/// long-term access keys authenticate a `signedRequest`). Returns `NULL` only on an internal
/// error. The options are the caller's: free them with `keycard_options_free`.
#[no_mangle]
pub extern "C" fn keycard_options_new() -> *mut keycard_options {
    guarded(|_| ptr::null_mut(), || Ok(Box::into_raw(Box::new(keycard_options { watch: false, sts_keys: None }))))
}

/// Whether engines opened with `options` reload the store when its files change (nonzero: yes;
/// what the `KEYCARD_WATCH` flag does). Returns 0, or `KEYCARD_ERR_NULL` (last error set).
///
/// # Safety
/// `options` is `NULL` or a live handle from `keycard_options_new`, used by no other thread
/// during the call.
#[no_mangle]
pub unsafe extern "C" fn keycard_options_set_watch(options: *mut keycard_options, watch: c_int) -> c_int {
    guarded(
        |code| code,
        || {
            // SAFETY: forwarded from the caller's promise.
            let options = unsafe { options_mut(options)? };
            options.watch = watch != 0;
            Ok(0)
        },
    )
}

/// Reads the keys that open STS session tokens from `path` (the file `keycard serve
/// --sts-key-file` seals with), so that engines opened with `options` authenticate
/// `signedRequest`s made with `keycard serve`'s temporary credentials. The file is read now:
/// returns 0, or `KEYCARD_ERR_LOAD` for a missing or malformed file, `KEYCARD_ERR_NULL`,
/// `KEYCARD_ERR_UTF8` (last error set; the options are then unchanged). `path` stays the
/// caller's.
///
/// # Safety
/// `options` is `NULL` or a live handle from `keycard_options_new`, used by no other thread
/// during the call; `path` is `NULL` or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn keycard_options_set_sts_key_file(options: *mut keycard_options, path: *const c_char) -> c_int {
    guarded(
        |code| code,
        || {
            // SAFETY: forwarded from the caller's promise.
            let options = unsafe { options_mut(options)? };
            // SAFETY: forwarded from the caller's promise.
            let path = unsafe { text(path, "path")? };
            options.sts_keys = Some(load_sts_keys(std::path::Path::new(path), "sts key file")?);
            Ok(0)
        },
    )
}

/// Frees options from `keycard_options_new`. Engines opened with them are not affected. `NULL` is
/// ignored.
///
/// # Safety
/// `options` is `NULL` or a handle from `keycard_options_new` not freed before; it must not be
/// used afterwards.
#[no_mangle]
pub unsafe extern "C" fn keycard_options_free(options: *mut keycard_options) {
    // SAFETY: forwarded from the caller's promise.
    unsafe { free_handle(options) }
}

/// How a bundle is verified: `KEYCARD_BUNDLE_PUBLIC_KEY` (PEM files, `:`-separated), or
/// `KEYCARD_BUNDLE_INSECURE_UNSIGNED=1`; neither is an error.
fn bundle_trust(path: &std::path::Path) -> Result<kc::bundle::Trust, Failure> {
    if let Some(keys) = std::env::var_os("KEYCARD_BUNDLE_PUBLIC_KEY").filter(|k| !k.is_empty()) {
        let keys = std::env::split_paths(&keys)
            .map(|k| kc::bundle::PublicKey::from_file(&k))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Failure::new(KEYCARD_ERR_LOAD, format!("KEYCARD_BUNDLE_PUBLIC_KEY: {e}")))?;
        return Ok(kc::bundle::Trust::keys(keys));
    }
    if std::env::var("KEYCARD_BUNDLE_INSECURE_UNSIGNED").is_ok_and(|v| v == "1") {
        return Ok(kc::bundle::Trust::insecure_unsigned());
    }
    Err(Failure::new(
        KEYCARD_ERR_LOAD,
        format!(
            "{} is a bundle: set KEYCARD_BUNDLE_PUBLIC_KEY to the public key (PEM) it must be signed \
             with, or KEYCARD_BUNDLE_INSECURE_UNSIGNED=1 to load it unverified",
            path.display()
        ),
    ))
}

/// Frees an engine from `keycard_engine_open`: stops and joins its reload thread (and file
/// watcher), then frees its snapshots. `NULL` is ignored.
///
/// # Safety
/// `engine` is `NULL` or a handle from `keycard_engine_open` not freed before; no other thread
/// may be using it, and it must not be used afterwards.
#[no_mangle]
pub unsafe extern "C" fn keycard_engine_free(engine: *mut keycard_engine) {
    // SAFETY: forwarded from the caller's promise.
    unsafe { free_handle(engine) }
}

/// Decides one request: may `principal` do `action` on `resource`, in `context_json`?
///
/// `principal`: an ARN, an account ID or `"*"`. `action`: `service:Action`. `resource`: an ARN
/// or `"*"`. `context_json`: `NULL` (no context) or a JSON object of condition keys, e.g.
/// `{"aws:SourceIp": "203.0.113.7", "aws:SecureTransport": true}`.
///
/// Returns `KEYCARD_ALLOWED` (1), `KEYCARD_IMPLICIT_DENY` (0), `KEYCARD_EXPLICIT_DENY` (2), or a
/// negative `KEYCARD_ERR_*` with `keycard_last_error` set. Anything but 1 means deny.
///
/// All arguments stay the caller's; nothing is allocated for the caller. Thread-safe. Once warm,
/// a call allocates nothing at all, with a `NULL` context or a small one (each thread reuses one
/// request's buffers, and the context is read straight from `context_json` into them).
///
/// # Safety
/// `engine` is `NULL` or a live handle; each string is `NULL` or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn keycard_authorize(
    engine: *const keycard_engine,
    principal: *const c_char,
    action: *const c_char,
    resource: *const c_char,
    context_json: *const c_char,
) -> c_int {
    guarded(
        |code| code,
        || {
            // SAFETY: forwarded from the caller's promise.
            let engine = unsafe { engine_ref(engine)? };
            let code = |d: Decision| match d {
                Decision::Allowed => KEYCARD_ALLOWED,
                Decision::ImplicitDeny => KEYCARD_IMPLICIT_DENY,
                Decision::ExplicitDeny => KEYCARD_EXPLICIT_DENY,
            };
            // This thread's request, refilled in place: no allocation once its buffers have
            // grown to the requests' sizes (the context's too: it is read straight from the
            // caller's text into them).
            // SAFETY: forwarded from the caller's promise.
            let (p, a, r) =
                unsafe { (text(principal, "principal")?, text(action, "action")?, text(resource, "resource")?) };
            REQUEST.with(|cell| {
                let mut slot = cell
                    .try_borrow_mut()
                    .map_err(|_| Failure::new(KEYCARD_ERR_INTERNAL, "keycard_authorize re-entered on one thread"))?;
                let request = match slot.as_mut() {
                    Some(request) => {
                        request.refill(p, a, r)?;
                        request
                    }
                    None => slot.insert(Request::new(p, a, r)?),
                };
                if !context_json.is_null() {
                    // SAFETY: forwarded from the caller's promise.
                    request.set_context_json(unsafe { text(context_json, "context_json")? })?;
                }
                with_snapshot(engine, |s| code(s.decide(request)))
            })
        },
    )
}

/// Decides one request given as request JSON, the body of `POST /v1/authorize`:
/// `{"principal": ..., "action": ..., "resource": ..., "context": {...}, "explain": false}`.
///
/// Returns the answer JSON, as the sidecar answers it: `{"decision":"allowed","snapshot":"9c9c43b1"}`
/// (with `matched`, `missingContextKeys` and `notes` when `"explain": true`). For a malformed
/// request (invalid JSON, an unknown or malformed field) it returns
/// `{"error":"...","field":"/pointer"}` (the sidecar's 400 body) **and** sets
/// `keycard_last_error`; a caller that does not parse the answer still sees a deny, since no
/// `"decision":"allowed"` is in it. Returns `NULL` only when `engine` or `request_json` is
/// `NULL`, `request_json` is not UTF-8, or on an internal error (last error set).
///
/// A `"signedRequest": {"method", "path", "query", "headers", "bodySha256"}` in place of
/// `"principal"` is authenticated first (SigV4, `docs/http-api.md#signed-requests`) and the answer
/// names the signer in `"principal"`; a signature that fails answers
/// `{"error":"...","code":"SignatureDoesNotMatch"}` (AWS's code) with `keycard_last_error` set.
/// Session tokens from `keycard serve`'s STS open when the engine was opened with its
/// `--sts-key-file` (`keycard_options_set_sts_key_file`, or `KEYCARD_STS_KEY_FILE` at
/// `keycard_engine_open`). `bodySha256` is the SHA-256 of the body the caller
/// received (missing: the empty body); an `x-amz-content-sha256` header must equal it, else
/// `"code":"XAmzContentSHA256Mismatch"`.
///
/// The returned string is the caller's: free it with `keycard_string_free`. `request_json` stays
/// the caller's. Thread-safe.
///
/// # Safety
/// `engine` is `NULL` or a live handle; `request_json` is `NULL` or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn keycard_authorize_json(
    engine: *const keycard_engine,
    request_json: *const c_char,
) -> *mut c_char {
    guarded(
        |_| ptr::null_mut(),
        || {
            // SAFETY: forwarded from the caller's promise.
            let (engine, text) = unsafe { (engine_ref(engine)?, text(request_json, "request_json")?) };
            let answer = match Request::from_json(text) {
                Ok(request) => json_answer(engine, &request)?,
                Err(e) => {
                    set_last_error(&format!("malformed request: {e}"));
                    e.to_json()
                }
            };
            owned_string(answer.to_string())
        },
    )
}

/// Decides one request (the arguments of `keycard_authorize`) and explains it: returns the
/// answer JSON with `matched` (the statements that decided), `missingContextKeys` and `notes`,
/// e.g. `{"decision":"explicitDeny","snapshot":"9c9c43b1","matched":[...],...}`.
///
/// Returns `NULL` on any error (`keycard_last_error` set). The returned string is the caller's:
/// free it with `keycard_string_free`. Arguments stay the caller's. Thread-safe. Slower than
/// `keycard_authorize` (it runs the step-by-step reference evaluator): for diagnosis, not for
/// every request.
///
/// # Safety
/// `engine` is `NULL` or a live handle; each string is `NULL` or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn keycard_explain(
    engine: *const keycard_engine,
    principal: *const c_char,
    action: *const c_char,
    resource: *const c_char,
    context_json: *const c_char,
) -> *mut c_char {
    guarded(
        |_| ptr::null_mut(),
        || {
            // SAFETY: forwarded from the caller's promise.
            let (engine, mut request) =
                unsafe { (engine_ref(engine)?, request(principal, action, resource, context_json)?) };
            request.set_explain(true);
            let answer = with_snapshot(engine, |s| s.authorize(&request).to_json())?;
            owned_string(answer.to_string())
        },
    )
}

/// Reloads the store now, on the calling thread, and returns once the new snapshot serves:
/// 0 on success, `KEYCARD_ERR_LOAD` when the store does not load (the last good snapshot keeps
/// serving; `keycard_last_error` lists every problem), another negative `KEYCARD_ERR_*` on
/// error. Works with or without `KEYCARD_WATCH`. Thread-safe: decisions on other threads go on
/// during the reload, each from the old or the new snapshot, never a mix.
///
/// # Safety
/// `engine` is `NULL` or a live handle.
#[no_mangle]
pub unsafe extern "C" fn keycard_reload(engine: *const keycard_engine) -> c_int {
    guarded(
        |code| code,
        || {
            // SAFETY: forwarded from the caller's promise.
            let engine = unsafe { engine_ref(engine)? };
            engine.live.reload_now().map_err(|e| Failure::new(KEYCARD_ERR_LOAD, e.to_string()))?;
            Ok(0)
        },
    )
}

/// The id of the snapshot serving now (8 hex digits, as in every answer's `"snapshot"`), e.g.
/// to see that a reload took effect. Returns `NULL` on error (`keycard_last_error` set). The
/// returned string is the caller's: free it with `keycard_string_free`.
///
/// # Safety
/// `engine` is `NULL` or a live handle.
#[no_mangle]
pub unsafe extern "C" fn keycard_snapshot_id(engine: *const keycard_engine) -> *mut c_char {
    guarded(
        |_| ptr::null_mut(),
        || {
            // SAFETY: forwarded from the caller's promise.
            let engine = unsafe { engine_ref(engine)? };
            owned_string(with_snapshot(engine, |s| s.id().to_owned())?)
        },
    )
}

/// Frees a string returned by keycard (`keycard_authorize_json`, `keycard_explain`,
/// `keycard_snapshot_id`). `NULL` is ignored. Never pass it any other pointer, and never free
/// keycard's strings with `free`.
///
/// # Safety
/// `s` is `NULL` or a string returned by keycard and not freed before.
#[no_mangle]
pub unsafe extern "C" fn keycard_string_free(s: *mut c_char) {
    guarded(
        |_| (),
        || {
            if !s.is_null() {
                // SAFETY: the caller gives back a string keycard made with CString::into_raw.
                drop(unsafe { CString::from_raw(s) });
            }
            Ok(())
        },
    );
}

/// The calling thread's last error message, or `NULL` if no keycard call on this thread has
/// failed. Set by every call that fails (negative result or `NULL`, or an error answer from
/// `keycard_authorize_json`); successful calls leave it as it was. The string is keycard's:
/// do not free it; it stays valid until the next keycard call on this thread (copy it to keep
/// it).
#[no_mangle]
pub extern "C" fn keycard_last_error() -> *const c_char {
    catch_unwind(|| {
        LAST_ERROR.try_with(|slot| slot.borrow().as_ref().map_or(ptr::null(), |c| c.as_ptr())).unwrap_or(ptr::null())
    })
    .unwrap_or(ptr::null())
}
