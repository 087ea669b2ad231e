"""keycard in process: AWS IAM policy decisions through libkeycard, keycard's C ABI.

    import keycard

    with keycard.Engine("policies", watch=True) as engine:
        decision = engine.authorize("arn:aws:iam::111122223333:user/dev/alice", "s3:GetObject",
                                    "arn:aws:s3:::example-reports/2026/q1.csv",
                                    {"aws:SourceIp": "203.0.113.7", "aws:SecureTransport": True})
        if decision:            # only Decision.ALLOWED is true
            ...

The wheel holds libkeycard.so, loaded with ctypes (`ctypes.CDLL`, which releases the GIL for
the length of every foreign call: threads sharing an engine decide in parallel). Every call
that keycard refuses raises a `KeycardError` carrying `keycard_last_error()`; nothing that
fails is ever an allow.
"""

from __future__ import annotations

import ctypes
import enum
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple, Union

__version__ = "0.1.0"

__all__ = [
    "Decision",
    "Engine",
    "KeycardError",
    "NullError",
    "EncodingError",
    "RequestError",
    "SignatureError",
    "LoadError",
    "ArgumentError",
    "InternalError",
    "MAX_INPUT_BYTES",
    "library_version",
    "LIBRARY_PATH",
]

Text = Union[str, bytes]
Context = Union[Mapping[str, Any], str, bytes, None]

#: The most bytes one call may pass (all its strings together): the sidecar's request-body
#: limit. A larger input raises `RequestError` before it reaches the library.
MAX_INPUT_BYTES = 1024 * 1024

_WATCH = 1
_ERR_NULL, _ERR_UTF8, _ERR_REQUEST, _ERR_LOAD, _ERR_ARGUMENT, _ERR_INTERNAL = -1, -2, -3, -4, -5, -6

#: The libkeycard this package loads: the one inside the package.
LIBRARY_PATH = Path(__file__).resolve().parent / ("libkeycard.dylib" if sys.platform == "darwin" else "libkeycard.so")


class Decision(enum.Enum):
    """A decision. Only `ALLOWED` allows; `bool(decision)` is true for `ALLOWED` alone."""

    IMPLICIT_DENY = 0
    ALLOWED = 1
    EXPLICIT_DENY = 2

    def __bool__(self) -> bool:
        return self is Decision.ALLOWED

    @property
    def allowed(self) -> bool:
        return self is Decision.ALLOWED

    @classmethod
    def from_answer(cls, name: str) -> "Decision":
        """The decision of an answer's `"decision"` (`allowed`, `implicitDeny`, `explicitDeny`)."""
        return _ANSWERS[name]


_DECISIONS = (Decision.IMPLICIT_DENY, Decision.ALLOWED, Decision.EXPLICIT_DENY)  # by C result
_ANSWERS = {"allowed": Decision.ALLOWED, "implicitDeny": Decision.IMPLICIT_DENY,
            "explicitDeny": Decision.EXPLICIT_DENY}


class KeycardError(Exception):
    """keycard refused a call. `code` is the C ABI's negative `KEYCARD_ERR_*` result and
    `last_error` the library's message (`keycard_last_error()`), also the exception's text."""

    def __init__(self, code: int, last_error: Optional[str], answer: Optional[Dict[str, Any]] = None):
        super().__init__(last_error or f"keycard error {code}")
        self.code = code
        self.last_error = last_error
        #: For `authorize_json`: the error answer (`{"error": ..., "field": ...}`), else None.
        self.answer = answer


class NullError(KeycardError):
    """A required argument is None (`KEYCARD_ERR_NULL`)."""


class EncodingError(KeycardError):
    """Text that is not UTF-8 (`KEYCARD_ERR_UTF8`), e.g. bytes b"\\xff" or a lone surrogate."""


class RequestError(KeycardError):
    """A malformed request (`KEYCARD_ERR_REQUEST`): invalid JSON, a field keycard refuses (named
    by JSON pointer), a NUL inside a string, or more than `MAX_INPUT_BYTES`."""


class SignatureError(RequestError):
    """A `signedRequest` whose signature does not verify: `answer["code"]` is AWS's code."""


class LoadError(KeycardError):
    """The policy store did not load (`KEYCARD_ERR_LOAD`); the message lists every problem."""


class ArgumentError(KeycardError):
    """An argument out of range (`KEYCARD_ERR_ARGUMENT`)."""


class InternalError(KeycardError):
    """An internal error in the library (`KEYCARD_ERR_INTERNAL`), e.g. a Rust panic caught at the
    boundary, or a closed engine."""


_ERRORS = {_ERR_NULL: NullError, _ERR_UTF8: EncodingError, _ERR_REQUEST: RequestError, _ERR_LOAD: LoadError,
           _ERR_ARGUMENT: ArgumentError, _ERR_INTERNAL: InternalError}


def _load() -> ctypes.CDLL:
    # CDLL, not PyDLL: ctypes releases the GIL around each call into it.
    lib = ctypes.CDLL(str(LIBRARY_PATH))
    c_str, handle, owned = ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p  # owned: freed by us
    signatures = {
        "keycard_version": ([], c_str),
        "keycard_engine_open": ([c_str, ctypes.c_uint], handle),
        "keycard_engine_free": ([handle], None),
        "keycard_authorize": ([handle, c_str, c_str, c_str, c_str], ctypes.c_int),
        "keycard_authorize_json": ([handle, c_str], owned),
        "keycard_explain": ([handle, c_str, c_str, c_str, c_str], owned),
        "keycard_reload": ([handle], ctypes.c_int),
        "keycard_snapshot_id": ([handle], owned),
        "keycard_string_free": ([owned], None),
        "keycard_last_error": ([], c_str),
    }
    for name, (args, result) in signatures.items():
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = args, result
    return lib


_lib = _load()


def library_version() -> str:
    """libkeycard's version (`keycard_version()`)."""
    version: bytes = _lib.keycard_version()
    return version.decode()


def _last_error() -> Optional[str]:
    message = _lib.keycard_last_error()
    return None if message is None else message.decode("utf-8", "replace")


def _error(code: int, answer: Optional[Dict[str, Any]] = None) -> KeycardError:
    """The exception for a failed call, with this thread's last error (read right after the call,
    on the same thread: the last error is per thread)."""
    cls = _ERRORS.get(code, KeycardError)
    if answer is not None and "code" in answer:
        cls = SignatureError
    return cls(code, _last_error(), answer)


def _text(name: str, value: Optional[Text]) -> Optional[bytes]:
    """Encodes one string argument: None stays NULL (the library refuses it where required), str
    is UTF-8 (a lone surrogate is passed as the invalid bytes it stands for, which the library
    refuses), bytes go as they are. A NUL inside raises `RequestError` here: C would cut the
    string at it."""
    if isinstance(value, str):
        nul = "\0" in value
        data = value.encode("utf-8", "surrogatepass")
    elif isinstance(value, (bytes, bytearray)):
        data = bytes(value)
        nul = data.find(b"\0") >= 0  # faster than `in` on bytes
    elif value is None:
        return None
    else:
        raise TypeError(f"{name}: expected str or bytes, not {type(value).__name__}")
    if nul:
        raise RequestError(_ERR_REQUEST, f"{name}: contains a NUL character")
    if len(data) > MAX_INPUT_BYTES:
        raise RequestError(_ERR_REQUEST, f"{name}: input over {MAX_INPUT_BYTES} bytes")
    return data


def _context(value: Context) -> Optional[bytes]:
    if value is None or isinstance(value, (str, bytes, bytearray)):
        return _text("context", value)
    return _text("context", json.dumps(dict(value)))


def _request(principal: Optional[Text], action: Optional[Text], resource: Optional[Text],
             context: Context) -> Tuple[Optional[bytes], Optional[bytes], Optional[bytes], Optional[bytes]]:
    """The four arguments of a decision, encoded; together at most `MAX_INPUT_BYTES`."""
    p, a, r, c = _text("principal", principal), _text("action", action), _text("resource", resource), _context(context)
    if len(p or b"") + len(a or b"") + len(r or b"") + len(c or b"") > MAX_INPUT_BYTES:
        raise RequestError(_ERR_REQUEST, f"request: input over {MAX_INPUT_BYTES} bytes")
    return p, a, r, c


def _take(pointer: int) -> str:
    """Copies and frees a string keycard returned (non-NULL)."""
    try:
        return ctypes.string_at(pointer).decode("utf-8")
    finally:
        _lib.keycard_string_free(pointer)


class Engine:
    """A policy store, loaded and compiled (`keycard_engine_open`), kept current when `watch`.

    `path`: a directory of `*.json` policy documents or one file (a bundle). Thread-safe: any
    number of threads may call one engine. `close()` (or leaving the `with` block) frees it once
    the calls in flight have returned; calls after it raise `InternalError`.
    """

    def __init__(self, path: Union[str, bytes, "os.PathLike[str]"], watch: bool = True) -> None:
        self._handle: Optional[int] = None
        self._lock = threading.Lock()
        self._busy = 0
        self._closing = False
        encoded = _text("path", None if path is None else os.fsencode(path))
        handle = _lib.keycard_engine_open(encoded, _WATCH if watch else 0)
        if not handle:
            raise _error(_code_of_last_error(default=_ERR_LOAD))
        self._handle = handle

    # Calls hold the engine open: close() frees it when the last call in flight returns, so a
    # close on one thread never frees an engine under another thread's call.
    def _acquire(self) -> int:
        self._lock.acquire()
        handle = self._handle
        if handle is None or self._closing:
            self._lock.release()
            raise InternalError(_ERR_INTERNAL, "engine is closed")
        self._busy += 1
        self._lock.release()
        return handle

    def _release(self) -> None:
        self._lock.acquire()
        self._busy -= 1
        if self._closing and self._busy == 0:
            self._free()
        self._lock.release()

    def _free(self) -> None:
        handle, self._handle = self._handle, None
        if handle:
            _lib.keycard_engine_free(handle)

    def close(self) -> None:
        """Stops the watcher and frees the engine (after the calls in flight). Idempotent."""
        with self._lock:
            self._closing = True
            if self._busy == 0:
                self._free()

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if getattr(self, "_handle", None) and _lib is not None:
            _lib.keycard_engine_free(self._handle)
            self._handle = None

    def authorize(self, principal: Optional[Text], action: Optional[Text], resource: Optional[Text],
                  context: Context = None) -> Decision:
        """May `principal` (an ARN, account ID or "*") do `action` (`service:Action`) on `resource`
        (an ARN or "*") given `context` (condition keys: a mapping, sent as JSON, or JSON text)?
        Raises a `KeycardError` for anything keycard refuses."""
        p, a, r, c = _request(principal, action, resource, context)
        handle = self._acquire()
        try:
            result = _lib.keycard_authorize(handle, p, a, r, c)
            if result < 0:
                raise _error(result)
        finally:
            self._release()
        if result > 2:
            raise InternalError(_ERR_INTERNAL, f"keycard_authorize returned {result}")
        return _DECISIONS[result]

    def authorize_json(self, request: Union[Mapping[str, Any], str, bytes, None]) -> Dict[str, Any]:
        """A request as the sidecar's `POST /v1/authorize` body (a mapping, or JSON text), in; the
        answer dict out, e.g. `{"decision": "allowed", "snapshot": "9c9c43b1"}` (with `matched`,
        `missingContextKeys`, `notes` for `"explain": True`; `principal` for a `signedRequest`).
        A malformed request raises `RequestError` (a bad signature `SignatureError`), carrying
        the error answer in `.answer`."""
        text = request if request is None or isinstance(request, (str, bytes, bytearray)) else json.dumps(dict(request))
        data = _text("request", text)
        handle = self._acquire()
        try:
            pointer = _lib.keycard_authorize_json(handle, data)
            if not pointer:
                raise _error(_code_of_last_error())
            answer: Dict[str, Any] = json.loads(_take(pointer))
            if "error" in answer or "decision" not in answer:
                raise _error(_ERR_REQUEST, answer)
        finally:
            self._release()
        return answer

    def explain(self, principal: Optional[Text], action: Optional[Text], resource: Optional[Text],
                context: Context = None) -> Dict[str, Any]:
        """Decides as `authorize` and explains: the answer dict with `matched` (the statements
        that decided), `missingContextKeys` and `notes`. For diagnosis: slower than `authorize`."""
        p, a, r, c = _request(principal, action, resource, context)
        handle = self._acquire()
        try:
            pointer = _lib.keycard_explain(handle, p, a, r, c)
            if not pointer:
                raise _error(_code_of_last_error())
            answer: Dict[str, Any] = json.loads(_take(pointer))
        finally:
            self._release()
        return answer

    def reload(self) -> None:
        """Reloads the store now; raises `LoadError` if it does not load (the last good snapshot
        keeps serving)."""
        handle = self._acquire()
        try:
            result = _lib.keycard_reload(handle)
            if result < 0:
                raise _error(result)
        finally:
            self._release()

    def snapshot_id(self) -> str:
        """The id of the snapshot serving now (8 hex digits, as in every answer's `snapshot`)."""
        handle = self._acquire()
        try:
            pointer = _lib.keycard_snapshot_id(handle)
            if not pointer:
                raise _error(_ERR_INTERNAL)
            return _take(pointer)
        finally:
            self._release()


def _code_of_last_error(default: int = _ERR_INTERNAL) -> int:
    """The error code of a call that returned NULL, from its message (the pointer-returning
    functions have no code): the library's messages name NULL, UTF-8 and request refusals."""
    message = _last_error() or ""
    if message.endswith(" is NULL"):
        return _ERR_NULL
    if " is not valid UTF-8" in message:
        return _ERR_UTF8
    if message.startswith("malformed request"):
        return _ERR_REQUEST
    return default
