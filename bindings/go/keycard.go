// Package keycard decides AWS IAM requests in process: a Go binding of libkeycard, keycard's C
// ABI, linked statically (cgo over libkeycard.a).
//
//	engine, err := keycard.Open("policies", keycard.Watch)
//	if err != nil { ... }
//	defer engine.Close()
//	d, err := engine.Authorize(ctx, keycard.Request{
//		Principal: "arn:aws:iam::111122223333:user/dev/alice",
//		Action:    "s3:GetObject",
//		Resource:  "arn:aws:s3:::example-reports/2026/q1.csv",
//		Context:   map[string]any{"aws:SourceIp": "203.0.113.7", "aws:SecureTransport": true},
//	})
//	if err == nil && d == keycard.Allowed { ... }
//
// Build: `cargo build --release -p keycard-ffi --lib` makes target/release/libkeycard.a, which
// this package finds when it sits in the keycard repository; elsewhere, point the linker at it
// with CGO_LDFLAGS="-L/dir/of/libkeycard.a".
//
// Errors are *Error values carrying keycard's message (keycard_last_error); a call and the read
// of its error happen in one cgo call, on one OS thread (the last error is per thread). No
// panic crosses the boundary: the library catches Rust panics (they come back as
// ErrInternal), and nothing calls back from C into Go.
package keycard

/*
#cgo CFLAGS: -I${SRCDIR}
#cgo LDFLAGS: -L${SRCDIR}/../../target/release -l:libkeycard.a -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
#include <stdlib.h>
#include <string.h>
#include "keycard.h"

// Each helper makes one keycard call and, when it fails, copies the calling thread's last error
// (malloc'd, freed by Go) before returning: both on the thread that made the call.
static char *kc_error(void) {
	const char *m = keycard_last_error();
	return m ? strdup(m) : NULL;
}

static keycard_engine *kc_open(const char *path, unsigned int flags, char **err) {
	keycard_engine *e = keycard_engine_open(path, flags);
	if (!e) *err = kc_error();
	return e;
}

static int kc_authorize(const keycard_engine *e, const char *p, const char *a, const char *r,
                        const char *c, char **err) {
	int d = keycard_authorize(e, p, a, r, c);
	if (d < 0) *err = kc_error();
	return d;
}

static char *kc_authorize_json(const keycard_engine *e, const char *req, char **err) {
	char *answer = keycard_authorize_json(e, req);
	if (!answer) *err = kc_error();
	return answer;
}

static char *kc_explain(const keycard_engine *e, const char *p, const char *a, const char *r,
                        const char *c, char **err) {
	char *answer = keycard_explain(e, p, a, r, c);
	if (!answer) *err = kc_error();
	return answer;
}

static int kc_reload(const keycard_engine *e, char **err) {
	int rc = keycard_reload(e);
	if (rc < 0) *err = kc_error();
	return rc;
}

static char *kc_snapshot_id(const keycard_engine *e, char **err) {
	char *id = keycard_snapshot_id(e);
	if (!id) *err = kc_error();
	return id;
}
*/
import "C"

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"unsafe"
)

// Flags for Open.
type Flags uint

// Watch reloads the store when its files change (watched, debounced, loaded off the callers'
// path, swapped atomically; a broken edit keeps the last good snapshot serving).
const Watch Flags = C.KEYCARD_WATCH

// Decision is keycard's answer. Only Allowed allows; the zero value is ImplicitDeny.
type Decision int

const (
	// ImplicitDeny: nothing allows the request.
	ImplicitDeny Decision = C.KEYCARD_IMPLICIT_DENY
	// Allowed: an Allow matched and no Deny did.
	Allowed Decision = C.KEYCARD_ALLOWED
	// ExplicitDeny: a Deny statement matched.
	ExplicitDeny Decision = C.KEYCARD_EXPLICIT_DENY
)

// String is the decision's name in answers: "allowed", "implicitDeny" or "explicitDeny".
func (d Decision) String() string {
	switch d {
	case Allowed:
		return "allowed"
	case ImplicitDeny:
		return "implicitDeny"
	case ExplicitDeny:
		return "explicitDeny"
	}
	return fmt.Sprintf("Decision(%d)", int(d))
}

// Request is one question: may Principal (an ARN, account ID or "*") do Action
// ("service:Action") on Resource (an ARN or "*"), given Context (condition keys, sent as JSON;
// nil for none)? ContextJSON, when not nil, is the context as JSON text, passed as it is
// (set one of the two).
type Request struct {
	Principal   string
	Action      string
	Resource    string
	Context     map[string]any
	ContextJSON []byte
}

// MaxInputBytes is the most bytes one call may pass (its strings together): the sidecar's
// request-body limit. A larger input is an ErrRequest before it reaches the library.
const MaxInputBytes = 1 << 20

// Code is a C ABI error code (KEYCARD_ERR_*).
type Code int

// The C ABI's error codes.
const (
	CodeNull     Code = C.KEYCARD_ERR_NULL     // a required argument is NULL (nil)
	CodeUTF8     Code = C.KEYCARD_ERR_UTF8     // text that is not UTF-8
	CodeRequest  Code = C.KEYCARD_ERR_REQUEST  // a malformed request (named by JSON pointer)
	CodeLoad     Code = C.KEYCARD_ERR_LOAD     // the store did not load
	CodeArgument Code = C.KEYCARD_ERR_ARGUMENT // an argument out of range
	CodeInternal Code = C.KEYCARD_ERR_INTERNAL // an internal error, or a closed engine
)

// Error is a call keycard refused. Message is keycard_last_error() (or the binding's own
// message for input it refuses before the call: a NUL in a string, over MaxInputBytes).
type Error struct {
	Code    Code
	Message string
	// AWSCode is AWS's error code of a signedRequest that did not authenticate
	// ("SignatureDoesNotMatch", ...), else "".
	AWSCode string
	// Answer is the error answer of AuthorizeJSON ({"error":...,"field":...}), else nil.
	Answer []byte
}

func (e *Error) Error() string { return "keycard: " + e.Message }

// Is matches the sentinel of the same code (errors.Is(err, keycard.ErrRequest)), and
// ErrSignature for a signature that did not verify.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	if t == ErrSignature {
		return e.AWSCode != ""
	}
	return t.Message == "" && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrNull      = &Error{Code: CodeNull}
	ErrUTF8      = &Error{Code: CodeUTF8}
	ErrRequest   = &Error{Code: CodeRequest}
	ErrLoad      = &Error{Code: CodeLoad}
	ErrArgument  = &Error{Code: CodeArgument}
	ErrInternal  = &Error{Code: CodeInternal}
	ErrSignature = &Error{Code: CodeRequest, AWSCode: "*"}
)

// takeError builds an *Error from a message the C helpers copied (and frees it).
func takeError(code Code, message *C.char) *Error {
	if message == nil {
		return &Error{Code: code, Message: fmt.Sprintf("error %d", int(code))}
	}
	defer C.free(unsafe.Pointer(message))
	return &Error{Code: code, Message: C.GoString(message)}
}

// codeOf is the code of a call that returned NULL (those have no code): keycard's messages name
// NULL, UTF-8 and request refusals.
func codeOf(message string, otherwise Code) Code {
	switch {
	case strings.HasSuffix(message, " is NULL"):
		return CodeNull
	case strings.Contains(message, " is not valid UTF-8"):
		return CodeUTF8
	case strings.HasPrefix(message, "malformed request"):
		return CodeRequest
	}
	return otherwise
}

func takeNullError(otherwise Code, message *C.char) *Error {
	err := takeError(otherwise, message)
	err.Code = codeOf(err.Message, otherwise)
	return err
}

// takeString copies and frees a string keycard returned.
func takeString(s *C.char) []byte {
	defer C.keycard_string_free(s)
	return C.GoBytes(unsafe.Pointer(s), C.int(C.strlen(s)))
}

// args packs a call's strings NUL-terminated into one Go buffer (no C allocation; C reads them
// during the call only). A NUL inside a string or more than MaxInputBytes is an ErrRequest.
type args struct {
	buf  []byte
	offs [4]int
}

func (a *args) add(i int, name string, s string) error {
	if err := a.check(name, len(s), strings.IndexByte(s, 0) >= 0); err != nil {
		return err
	}
	a.offs[i] = len(a.buf)
	a.buf = append(append(a.buf, s...), 0)
	return nil
}

func (a *args) addBytes(i int, name string, s []byte) error {
	if err := a.check(name, len(s), bytes.IndexByte(s, 0) >= 0); err != nil {
		return err
	}
	a.offs[i] = len(a.buf)
	a.buf = append(append(a.buf, s...), 0)
	return nil
}

func (a *args) check(name string, n int, nul bool) error {
	if nul {
		return &Error{Code: CodeRequest, Message: name + ": contains a NUL character"}
	}
	if len(a.buf)+n >= MaxInputBytes {
		return &Error{Code: CodeRequest, Message: fmt.Sprintf("%s: input over %d bytes", name, MaxInputBytes)}
	}
	return nil
}

func (a *args) ptr(i int) *C.char { return (*C.char)(unsafe.Pointer(&a.buf[a.offs[i]])) }

func (a *args) request(r *Request) error {
	size := len(r.Principal) + len(r.Action) + len(r.Resource) + len(r.ContextJSON) + 4
	a.buf = make([]byte, 0, size+64)
	if err := a.add(0, "principal", r.Principal); err != nil {
		return err
	}
	if err := a.add(1, "action", r.Action); err != nil {
		return err
	}
	if err := a.add(2, "resource", r.Resource); err != nil {
		return err
	}
	a.offs[3] = -1
	if r.ContextJSON != nil {
		if r.Context != nil {
			return &Error{Code: CodeArgument, Message: "context: both Context and ContextJSON are set"}
		}
		return a.addBytes(3, "context", r.ContextJSON)
	}
	if r.Context != nil {
		start := len(a.buf)
		var err error
		if a.buf, err = appendJSON(a.buf, r.Context); err != nil {
			return err
		}
		if len(a.buf) >= MaxInputBytes {
			return &Error{Code: CodeRequest, Message: fmt.Sprintf("context: input over %d bytes", MaxInputBytes)}
		}
		a.offs[3] = start
		a.buf = append(a.buf, 0)
	}
	return nil
}

func (a *args) context() *C.char {
	if a.offs[3] < 0 {
		return nil
	}
	return a.ptr(3)
}

// Engine is a policy store, loaded and compiled, kept current with Watch. Safe for concurrent
// use. Close frees it once the calls in flight have returned; a finalizer frees an engine that
// was never closed.
type Engine struct {
	mu     sync.RWMutex // calls hold it shared; Close takes it exclusively
	handle *C.keycard_engine
}

var errClosed = &Error{Code: CodeInternal, Message: "engine is closed"}

// finalized counts engines freed by the finalizer (seen by the tests).
var finalized struct {
	sync.Mutex
	n int
}

// Open loads and compiles the policy store at path (a directory of *.json policy documents, or
// one file). flags: 0, or Watch.
func Open(path string, flags Flags) (*Engine, error) {
	var a args
	if err := a.add(0, "path", path); err != nil {
		return nil, err
	}
	var message *C.char
	handle := C.kc_open(a.ptr(0), C.uint(flags), &message)
	if handle == nil {
		return nil, takeNullError(CodeLoad, message)
	}
	e := &Engine{handle: handle}
	runtime.SetFinalizer(e, func(e *Engine) {
		if e.handle != nil {
			C.keycard_engine_free(e.handle)
			e.handle = nil
			finalized.Lock()
			finalized.n++
			finalized.Unlock()
		}
	})
	return e, nil
}

// Close stops the watcher and frees the engine, after the calls in flight. Later calls return
// an ErrInternal ("engine is closed"). Close is idempotent.
func (e *Engine) Close() error {
	if e == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.handle != nil {
		C.keycard_engine_free(e.handle)
		e.handle = nil
		runtime.SetFinalizer(e, nil)
	}
	return nil
}

// acquire holds the engine open for one call; release with e.mu.RUnlock.
func (e *Engine) acquire(ctx context.Context) (*C.keycard_engine, error) {
	if e == nil {
		return nil, &Error{Code: CodeNull, Message: "engine is NULL (a nil *Engine)"}
	}
	if ctx != nil {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	e.mu.RLock()
	if e.handle == nil {
		e.mu.RUnlock()
		return nil, errClosed
	}
	return e.handle, nil
}

// Authorize decides one request. Any error comes with ImplicitDeny; only Allowed allows. The
// context is checked before the call (a decision takes microseconds and is not interrupted).
func (e *Engine) Authorize(ctx context.Context, r Request) (Decision, error) {
	var a args
	if err := a.request(&r); err != nil {
		return ImplicitDeny, err
	}
	handle, err := e.acquire(ctx)
	if err != nil {
		return ImplicitDeny, err
	}
	var message *C.char
	d := C.kc_authorize(handle, a.ptr(0), a.ptr(1), a.ptr(2), a.context(), &message)
	e.mu.RUnlock()
	runtime.KeepAlive(&a)
	if d < 0 {
		return ImplicitDeny, takeError(Code(d), message)
	}
	return Decision(d), nil
}

// answer is the part of an answer this binding reads.
type answer struct {
	Decision *string `json:"decision"`
	Error    string  `json:"error"`
	Code     string  `json:"code"`
}

// AuthorizeJSON decides a request given as the sidecar's POST /v1/authorize body
// ({"principal", "action", "resource", "context", "explain"}, or a "signedRequest" in place of
// the principal) and returns the answer JSON ({"decision":"allowed","snapshot":"9c9c43b1"},
// ...). A malformed request is an ErrRequest (a signature that does not verify also matches
// ErrSignature) carrying the error answer; nil is an ErrNull.
func (e *Engine) AuthorizeJSON(ctx context.Context, request []byte) ([]byte, error) {
	var a args
	var req *C.char
	if request != nil {
		if err := a.addBytes(0, "request", request); err != nil {
			return nil, err
		}
		req = a.ptr(0)
	}
	handle, err := e.acquire(ctx)
	if err != nil {
		return nil, err
	}
	var message *C.char
	out := C.kc_authorize_json(handle, req, &message)
	e.mu.RUnlock()
	runtime.KeepAlive(&a)
	if out == nil {
		return nil, takeNullError(CodeInternal, message)
	}
	body := takeString(out)
	var parsed answer
	if err := json.Unmarshal(body, &parsed); err != nil {
		return nil, &Error{Code: CodeInternal, Message: "an answer that is not JSON: " + err.Error(), Answer: body}
	}
	if parsed.Error != "" || parsed.Decision == nil {
		return nil, &Error{Code: CodeRequest, Message: parsed.Error, AWSCode: parsed.Code, Answer: body}
	}
	return body, nil
}

// Explain decides as Authorize and returns the answer JSON with "matched" (the statements that
// decided), "missingContextKeys" and "notes". For diagnosis: slower than Authorize.
func (e *Engine) Explain(ctx context.Context, r Request) ([]byte, error) {
	var a args
	if err := a.request(&r); err != nil {
		return nil, err
	}
	handle, err := e.acquire(ctx)
	if err != nil {
		return nil, err
	}
	var message *C.char
	out := C.kc_explain(handle, a.ptr(0), a.ptr(1), a.ptr(2), a.context(), &message)
	e.mu.RUnlock()
	runtime.KeepAlive(&a)
	if out == nil {
		return nil, takeNullError(CodeInternal, message)
	}
	return takeString(out), nil
}

// Reload reloads the store now; an ErrLoad says why it did not load (the last good snapshot
// keeps serving).
func (e *Engine) Reload() error {
	handle, err := e.acquire(nil)
	if err != nil {
		return err
	}
	var message *C.char
	rc := C.kc_reload(handle, &message)
	e.mu.RUnlock()
	if rc < 0 {
		return takeError(Code(rc), message)
	}
	return nil
}

// SnapshotID is the id of the snapshot serving now (8 hex digits, as in every answer).
func (e *Engine) SnapshotID() (string, error) {
	handle, err := e.acquire(nil)
	if err != nil {
		return "", err
	}
	var message *C.char
	id := C.kc_snapshot_id(handle, &message)
	e.mu.RUnlock()
	if id == nil {
		return "", takeNullError(CodeInternal, message)
	}
	return string(takeString(id)), nil
}

// Version is libkeycard's version.
func Version() string { return C.GoString(C.keycard_version()) }
