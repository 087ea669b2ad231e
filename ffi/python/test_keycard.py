"""The ctypes binding against libkeycard: the same cases as the C test (ffi/tests/cases.tsv),
the JSON and explain calls, reloads, and error paths. Runs under pytest, or as a plain script
(`python3 ffi/python/test_keycard.py`). Environment: KEYCARD_LIB (the library),
KEYCARD_POLICIES (default: the repository's policies/), KEYCARD_SCRATCH (a directory this test
may fill; default: a temporary one)."""

import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import keycard  # noqa: E402

HERE = Path(__file__).resolve().parent
POLICIES = Path(os.environ.get("KEYCARD_POLICIES", HERE.parents[1] / "policies"))
ALICE = "arn:aws:iam::111122223333:user/dev/alice"
REPORT = "arn:aws:s3:::example-reports/2026/q1.csv"
OFFICE = {"aws:SourceIp": "203.0.113.7", "aws:SecureTransport": True}
ZED = ('{"AccountId": "999988887777", "UserDetailList": [{"UserName": "zed", "Path": "/",'
       ' "UserPolicyList": [{"PolicyName": "Read", "PolicyDocument": {"Version": "2012-10-17",'
       ' "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}}]}]}')
ZED_ARN, ZED_BUCKET = "arn:aws:iam::999988887777:user/zed", "arn:aws:s3:::zed-bucket/k"


def cases():
    for line in (HERE.parent / "tests" / "cases.tsv").read_text().splitlines():
        if line and not line.startswith("#"):
            expected, principal, action, resource, context = line.split("\t")
            yield int(expected), principal, action, resource, None if context == "-" else context


def raises(code, fn, *args):
    try:
        fn(*args)
    except keycard.KeycardError as e:
        assert e.code == code, (e.code, str(e))
        assert str(e), "a message"
        return str(e)
    raise AssertionError(f"{fn.__name__}{args} did not raise")


def scratch():
    base = os.environ.get("KEYCARD_SCRATCH")
    d = Path(tempfile.mkdtemp(dir=base))
    for f in POLICIES.iterdir():
        shutil.copy(f, d / f.name)
    return d


def test_version():
    assert keycard.version()


def test_cases_authorize_json_and_explain():
    decisions = {1: "allowed", 0: "implicitDeny", 2: "explicitDeny"}
    with keycard.Engine(POLICIES) as engine:
        snapshot = engine.snapshot_id()
        assert len(snapshot) == 8
        for expected, principal, action, resource, context in cases():
            assert engine.authorize(principal, action, resource, context) == expected, (principal, action, context)
            request = {"principal": principal, "action": action, "resource": resource, "explain": False}
            if context is not None:
                request["context"] = __import__("json").loads(context)
            assert engine.authorize_json(request) == {"decision": decisions[expected], "snapshot": snapshot}
            explained = engine.explain(principal, action, resource, context)
            assert explained["decision"] == decisions[expected] and "matched" in explained
        # A dict context is sent as JSON.
        assert engine.authorize(ALICE, "s3:GetObject", REPORT, OFFICE) == keycard.ALLOWED


def test_error_paths():
    with keycard.Engine(POLICIES) as engine:
        assert "principal is NULL" in raises(keycard.ERR_NULL, engine.authorize, None, "s3:GetObject", REPORT)
        assert "not valid UTF-8" in raises(keycard.ERR_UTF8, engine.authorize, b"\xff", "s3:GetObject", REPORT)
        assert "invalid JSON" in raises(keycard.ERR_REQUEST, engine.authorize, ALICE, "s3:GetObject", REPORT, "{")
        assert "/action" in raises(keycard.ERR_REQUEST, engine.authorize, ALICE, "GetObject", REPORT)
        assert "aws:username" in raises(keycard.ERR_REQUEST, engine.authorize, ALICE, "s3:GetObject", REPORT,
                                        {"aws:username": "alice"})
        answer = engine.authorize_json('{"principal": "*", "action": "s3:GetObject", "resource": "*", "x": 1}')
        assert answer["field"] == "/x" and "error" in answer
        assert "unknown field" in keycard.last_error()
        assert "error" in engine.authorize_json("{")
        raises(keycard.ERR_INTERNAL, engine.authorize_json, b"\xff")
        raises(keycard.ERR_INTERNAL, engine.explain, ALICE, None, REPORT)
    # NULL engine, straight through ctypes.
    lib = keycard.lib()
    assert lib.keycard_authorize(None, b"*", b"s3:GetObject", b"*", None) == keycard.ERR_NULL
    assert lib.keycard_authorize_json(None, b"{}") is None
    assert lib.keycard_reload(None) == keycard.ERR_NULL
    lib.keycard_engine_free(None)
    lib.keycard_string_free(None)
    assert "engine is NULL" in keycard.last_error()
    assert "policies_path is NULL" in raises(keycard.ERR_LOAD, keycard.Engine, None)
    assert "/nonexistent" in raises(keycard.ERR_LOAD, keycard.Engine, "/nonexistent/store")


def test_last_error_is_per_thread():
    seen = []
    t = threading.Thread(target=lambda: seen.append(keycard.last_error()))
    keycard.lib().keycard_reload(None)
    t.start()
    t.join()
    assert seen == [None] and keycard.last_error()


def test_reload_and_watch():
    d = scratch()
    with keycard.Engine(d, watch=True) as engine:
        assert engine.authorize(ZED_ARN, "s3:GetObject", ZED_BUCKET) == keycard.IMPLICIT_DENY
        (d / "zed.json").write_text(ZED)
        import time
        deadline = time.time() + 20
        while engine.authorize(ZED_ARN, "s3:GetObject", ZED_BUCKET) != keycard.ALLOWED and time.time() < deadline:
            time.sleep(0.02)
        assert engine.authorize(ZED_ARN, "s3:GetObject", ZED_BUCKET) == keycard.ALLOWED, "KEYCARD_WATCH"
        (d / "zed.json").write_text("{ broken")
        assert "zed.json" in raises(keycard.ERR_LOAD, engine.reload)
        assert engine.authorize(ZED_ARN, "s3:GetObject", ZED_BUCKET) == keycard.ALLOWED, "last good snapshot"
        (d / "zed.json").unlink()
        engine.reload()
        assert engine.authorize(ZED_ARN, "s3:GetObject", ZED_BUCKET) == keycard.IMPLICIT_DENY
    shutil.rmtree(d)


def test_threads_share_an_engine():
    expected = list(cases())
    failures = []
    with keycard.Engine(POLICIES) as engine:
        def work():
            for i in range(500):
                e, p, a, r, c = expected[i % len(expected)]
                if engine.authorize(p, a, r, c) != e:
                    failures.append((p, a, c))
        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for _ in range(3):
            engine.reload()
        for t in threads:
            t.join()
    assert not failures


def test_signed_requests_name_their_signer():
    """A `signedRequest` (docs/http-api.md#signed-requests) signed by botocore with the embedded store's example
    key is authenticated and decided as its signer; a wrong secret answers AWS's error code."""
    try:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
    except ImportError:
        print("skipped: botocore is not installed")
        return
    import hashlib

    def signed(secret):
        req = AWSRequest(method="GET", url="https://reports.s3.amazonaws.com/2026/q1.csv")
        SigV4Auth(Credentials("AKIAIOSFODNN7EXAMPLE", secret), "s3", "us-east-1").add_auth(req)
        headers = dict(req.headers.items())
        headers["host"] = "reports.s3.amazonaws.com"
        return {"signedRequest": {"method": "GET", "path": "/2026/q1.csv", "query": "", "headers": headers,
                                  "bodySha256": hashlib.sha256(b"").hexdigest()},
                "action": "s3:GetObject", "resource": "arn:aws:s3:::reports/2026/q1.csv"}

    with keycard.Engine(str(POLICIES)) as engine:
        answer = engine.authorize_json(signed("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"))
        assert answer["principal"] == "arn:aws:iam::111122223333:user/ci/deploy", answer
        assert answer["decision"] == "implicitDeny", answer  # the user's own policies grant nothing
        refused = engine.authorize_json(signed("wrong-secret"))
        assert refused["code"] == "SignatureDoesNotMatch", refused
        assert "decision" not in refused


if __name__ == "__main__":
    tests = [(n, f) for n, f in sorted(globals().items()) if n.startswith("test_") and callable(f)]
    failed = 0
    for name, fn in tests:
        try:
            fn()
            print(f"ok {name}")
        except Exception as e:  # noqa: BLE001
            failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}")
    print(f"{len(tests) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)

