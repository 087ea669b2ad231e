"""keycard in process, through libkeycard's C ABI with ctypes (no build step).

    from keycard import Engine
    with Engine("policies") as engine:
        engine.authorize("arn:aws:iam::111122223333:user/dev/alice", "s3:GetObject",
                         "arn:aws:s3:::example-reports/2026/q1.csv",
                         {"aws:SourceIp": "203.0.113.7", "aws:SecureTransport": True})  # -> 1

The library is found at $KEYCARD_LIB, else as libkeycard.so in $CARGO_TARGET_DIR or the
repository's target/ (release, then debug), else by the system's loader.
"""

import ctypes
import json
import os
from pathlib import Path

WATCH = 1
ALLOWED, IMPLICIT_DENY, EXPLICIT_DENY = 1, 0, 2
ERR_NULL, ERR_UTF8, ERR_REQUEST, ERR_LOAD, ERR_ARGUMENT, ERR_INTERNAL = -1, -2, -3, -4, -5, -6


class KeycardError(Exception):
    """A keycard call failed: `code` is the negative KEYCARD_ERR_* result."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def _find_library():
    if os.environ.get("KEYCARD_LIB"):
        return os.environ["KEYCARD_LIB"]
    repo = Path(__file__).resolve().parents[2]
    targets = [Path(os.environ["CARGO_TARGET_DIR"])] if os.environ.get("CARGO_TARGET_DIR") else []
    targets.append(repo / "target")
    for target in targets:
        for profile in ("release", "debug"):
            candidate = target / profile / "libkeycard.so"
            if candidate.is_file():
                return str(candidate)
    return "libkeycard.so"


def load(path=None):
    """Loads libkeycard and declares its functions' types."""
    lib = ctypes.CDLL(path or _find_library())
    c_str, engine = ctypes.c_char_p, ctypes.c_void_p
    # Strings keycard allocates come back as void pointers, so that they can be freed.
    owned = ctypes.c_void_p
    signatures = {
        "keycard_version": ([], c_str),
        "keycard_engine_open": ([c_str, ctypes.c_uint], engine),
        "keycard_engine_free": ([engine], None),
        "keycard_authorize": ([engine, c_str, c_str, c_str, c_str], ctypes.c_int),
        "keycard_authorize_json": ([engine, c_str], owned),
        "keycard_explain": ([engine, c_str, c_str, c_str, c_str], owned),
        "keycard_reload": ([engine], ctypes.c_int),
        "keycard_snapshot_id": ([engine], owned),
        "keycard_string_free": ([owned], None),
        "keycard_last_error": ([], c_str),
    }
    for name, (args, result) in signatures.items():
        fn = getattr(lib, name)
        fn.argtypes, fn.restype = args, result
    return lib


_lib = None


def lib():
    """The loaded library (loaded on first use)."""
    global _lib
    if _lib is None:
        _lib = load()
    return _lib


def version():
    return lib().keycard_version().decode()


def last_error():
    """This thread's last error message, or None."""
    message = lib().keycard_last_error()
    return message.decode("utf-8", "replace") if message is not None else None


def _text(value):
    if value is None or isinstance(value, bytes):
        return value
    return value.encode("utf-8")


def _context(context):
    if context is None or isinstance(context, (str, bytes)):
        return _text(context)
    return json.dumps(context).encode("utf-8")


def _take_string(pointer, code=ERR_INTERNAL):
    """Copies and frees a string keycard returned; raises on NULL."""
    if not pointer:
        raise KeycardError(code, last_error())
    try:
        return ctypes.string_at(pointer).decode("utf-8")
    finally:
        lib().keycard_string_free(pointer)


class Engine:
    """A policy store, loaded and compiled (keycard_engine_open); thread-safe."""

    def __init__(self, policies_path, watch=False):
        self._handle = None
        path = None if policies_path is None else _text(os.fspath(policies_path))
        self._handle = lib().keycard_engine_open(path, WATCH if watch else 0)
        if not self._handle:
            raise KeycardError(ERR_LOAD, last_error())

    def close(self):
        if self._handle:
            lib().keycard_engine_free(self._handle)
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    def authorize(self, principal, action, resource, context=None):
        """1 allowed, 0 implicit deny, 2 explicit deny; raises KeycardError on error.
        `context`: None, a dict (sent as JSON) or JSON text."""
        result = lib().keycard_authorize(self._handle, _text(principal), _text(action), _text(resource),
                                         _context(context))
        if result < 0:
            raise KeycardError(result, last_error())
        return result

    def authorize_json(self, request):
        """A request (dict or JSON text, docs/http-api.md#a-request) in, the answer dict out; a malformed request
        answers {"error": ..., "field": ...} (as the sidecar's 400 body)."""
        text = request if isinstance(request, (str, bytes)) else json.dumps(request)
        return json.loads(_take_string(lib().keycard_authorize_json(self._handle, _text(text))))

    def explain(self, principal, action, resource, context=None):
        """The answer with matched statements, missing context keys and notes, as a dict."""
        return json.loads(_take_string(lib().keycard_explain(
            self._handle, _text(principal), _text(action), _text(resource), _context(context))))

    def reload(self):
        """Reloads the store now; raises KeycardError if it does not load (the last good one serves)."""
        result = lib().keycard_reload(self._handle)
        if result < 0:
            raise KeycardError(result, last_error())

    def snapshot_id(self):
        return _take_string(lib().keycard_snapshot_id(self._handle))
