"""The `keycard` wheel, installed, against the library inside it: decisions on the cases every C ABI
test checks (ffi/tests/cases.tsv), bad input (each derived from an allowed request) raising
instead of allowing, 8 threads on one engine, a hot swap through `watch=True`, and a
`signedRequest` signed by botocore. Run by bindings/python/test.sh from a fresh venv.
Environment: KEYCARD_REPO (the repository; default: found from this file)."""

import hashlib
import json
import os
import random
import shutil
import sys
import threading
import time
from pathlib import Path

import pytest

import keycard
from keycard import Decision

REPO = Path(os.environ.get("KEYCARD_REPO") or Path(__file__).resolve().parents[3])
POLICIES = REPO / "policies"
ALICE = "arn:aws:iam::111122223333:user/dev/alice"
REPORT = "arn:aws:s3:::example-reports/2026/q1.csv"
OFFICE = {"aws:SourceIp": "203.0.113.7", "aws:SecureTransport": True}
ZED = {"AccountId": "999988887777", "UserDetailList": [{"UserName": "zed", "Path": "/", "UserPolicyList": [
    {"PolicyName": "Read", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}}]}]}
ZED_ARN, ZED_BUCKET = "arn:aws:iam::999988887777:user/zed", "arn:aws:s3:::zed-bucket/k"


def cases():
    out = []
    for line in (REPO / "ffi" / "tests" / "cases.tsv").read_text().splitlines():
        if line and not line.startswith("#"):
            expected, principal, action, resource, context = line.split("\t")
            out.append((Decision(int(expected)), principal, action, resource, None if context == "-" else context))
    assert len(out) >= 8
    return out


@pytest.fixture(scope="module")
def engine():
    with keycard.Engine(POLICIES, watch=False) as e:
        yield e


def test_the_installed_wheel_with_its_own_library():
    assert Path(keycard.__file__).resolve().is_relative_to(Path(sys.prefix).resolve()), keycard.__file__
    assert keycard.LIBRARY_PATH.is_file() and keycard.LIBRARY_PATH.parent == Path(keycard.__file__).resolve().parent
    assert keycard.library_version() == keycard.__version__
    assert (Path(keycard.__file__).parent / "py.typed").is_file()


def test_decisions(engine):
    names = {Decision.ALLOWED: "allowed", Decision.IMPLICIT_DENY: "implicitDeny", Decision.EXPLICIT_DENY: "explicitDeny"}
    snapshot = engine.snapshot_id()
    assert len(snapshot) == 8
    for expected, principal, action, resource, context in cases():
        assert engine.authorize(principal, action, resource, context) is expected, (principal, action, context)
        request = {"principal": principal, "action": action, "resource": resource}
        if context is not None:
            request["context"] = json.loads(context)
        assert engine.authorize_json(request) == {"decision": names[expected], "snapshot": snapshot}
        explained = engine.explain(principal, action, resource, context)
        assert Decision.from_answer(explained["decision"]) is expected and "matched" in explained
    # A mapping context is sent as JSON; str and bytes arguments are the same.
    assert engine.authorize(ALICE, "s3:GetObject", REPORT, OFFICE) is Decision.ALLOWED
    assert engine.authorize(ALICE.encode(), b"s3:GetObject", REPORT.encode(), json.dumps(OFFICE).encode()).allowed
    answer = engine.authorize_json({"principal": ALICE, "action": "s3:GetObject", "resource": REPORT,
                                    "context": {"aws:SourceIp": "198.51.100.9"}, "explain": True})
    assert answer["decision"] == "explicitDeny" and answer["matched"], answer


def test_only_allowed_is_true():
    assert [d for d in Decision if d] == [Decision.ALLOWED]
    assert not Decision.EXPLICIT_DENY and not Decision.IMPLICIT_DENY


HUGE = "x" * keycard.MAX_INPUT_BYTES


@pytest.mark.parametrize("args, error, says", [
    ((None, "s3:GetObject", REPORT, OFFICE), keycard.NullError, "principal is NULL"),
    ((ALICE, None, REPORT, OFFICE), keycard.NullError, "action is NULL"),
    ((ALICE, "s3:GetObject", None, OFFICE), keycard.NullError, "resource is NULL"),
    ((ALICE.encode() + b"\xff", "s3:GetObject", REPORT, OFFICE), keycard.EncodingError, "not valid UTF-8"),
    ((ALICE + "\udcff", "s3:GetObject", REPORT, OFFICE), keycard.EncodingError, "not valid UTF-8"),
    ((ALICE, "s3:GetObject", REPORT, b'{"aws:SourceIp": "203.0.113.7\xff"}'), keycard.EncodingError, "not valid UTF-8"),
    ((ALICE + "\0/admin", "s3:GetObject", REPORT, OFFICE), keycard.RequestError, "NUL"),
    ((ALICE, "s3:GetObject", REPORT + "\0", OFFICE), keycard.RequestError, "NUL"),
    ((ALICE, "s3:GetObject", REPORT, json.dumps(OFFICE).encode() + b"\0}"), keycard.RequestError, "NUL"),
    ((ALICE, "s3:GetObject", REPORT, {"aws:SourceIp": "203.0.113.7", "x": HUGE}), keycard.RequestError, "over"),
    ((ALICE + HUGE, "s3:GetObject", REPORT, OFFICE), keycard.RequestError, "over"),
    ((ALICE, "s3:GetObject", REPORT, '{"aws:SourceIp": "203.0.113.7"'), keycard.RequestError, "invalid JSON"),
    ((ALICE, "GetObject", REPORT, OFFICE), keycard.RequestError, "/action"),
    ((ALICE, "s3:GetObject", REPORT, {"aws:username": "alice", **OFFICE}), keycard.RequestError, "aws:username"),
], ids=["None principal", "None action", "None resource", "non-UTF-8 bytes", "lone surrogate", "non-UTF-8 context",
        "NUL", "NUL in resource", "NUL in bytes", "oversized context", "oversized principal", "invalid context JSON", "bad action", "forbidden key"])
def test_bad_input_raises_never_allows(engine, args, error, says):
    assert engine.authorize(ALICE, "s3:GetObject", REPORT, OFFICE) is Decision.ALLOWED  # the request unspoilt
    with pytest.raises(error) as raised:
        engine.authorize(*args)
    assert says in str(raised.value) and raised.value.code < 0
    with pytest.raises(error):
        engine.explain(*args)


@pytest.mark.parametrize("request_, error, says", [
    (None, keycard.NullError, "request_json is NULL"),
    (b'{"principal": "' + ALICE.encode() + b'\xff", "action": "s3:GetObject", "resource": "*"}',
     keycard.EncodingError, "not valid UTF-8"),
    ({"principal": ALICE, "action": "s3:GetObject", "resource": REPORT, "context": {"x": HUGE}},
     keycard.RequestError, "over"),
    ('{"principal": "*", "action": "s3:GetObject", "resource": "*", "x": 1}', keycard.RequestError, "/x"),
    ("{", keycard.RequestError, "malformed request"),
], ids=["None", "non-UTF-8", "oversized", "unknown field", "invalid JSON"])
def test_bad_json_requests_raise(engine, request_, error, says):
    with pytest.raises(error) as raised:
        engine.authorize_json(request_)
    assert says in str(raised.value), str(raised.value)


def test_bad_engines_raise(tmp_path):
    with pytest.raises(keycard.NullError, match="policies_path is NULL"):
        keycard.Engine(None)
    with pytest.raises(keycard.LoadError, match="/nonexistent/store"):
        keycard.Engine("/nonexistent/store")
    (tmp_path / "broken.json").write_text("{ broken")
    with pytest.raises(keycard.LoadError, match="broken.json"):
        keycard.Engine(tmp_path)
    e = keycard.Engine(POLICIES)
    e.close()
    e.close()
    with pytest.raises(keycard.InternalError, match="closed"):
        e.authorize(ALICE, "s3:GetObject", REPORT, OFFICE)


def test_eight_threads_share_one_engine(engine):
    expected = cases()
    failures, errors = [], []
    start = threading.Barrier(8)

    def work(seed):
        order = random.Random(seed)
        try:
            start.wait()
            for _ in range(2000):
                e, p, a, r, c = order.choice(expected)
                got = engine.authorize(p, a, r, c)
                if got is not e:
                    failures.append((p, a, c, got))
        except Exception as ex:  # noqa: BLE001 - reported below
            errors.append(ex)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for _ in range(3):
        engine.reload()
    for t in threads:
        t.join()
    assert not errors and not failures, (errors, failures[:5])


def test_close_waits_for_calls_in_flight():
    """Threads deciding while the engine is closed: each call either decides or raises
    InternalError ("engine is closed"); none runs on a freed engine (that would crash)."""
    engine = keycard.Engine(POLICIES, watch=True)
    calls, outcomes = [0] * 4, [None] * 4

    def work(i):
        try:
            while True:
                assert engine.authorize(ALICE, "s3:GetObject", REPORT, OFFICE) is Decision.ALLOWED
                calls[i] += 1
        except keycard.InternalError as e:
            outcomes[i] = str(e)
        except Exception as e:  # noqa: BLE001 - reported below
            outcomes[i] = repr(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    wait_for("every thread to decide", lambda: all(calls))
    engine.close()
    for t in threads:
        t.join()
    assert outcomes == ["engine is closed"] * 4, outcomes


def test_the_gil_is_released_during_a_decision(engine):
    """With preemption off (a switch interval of 1000 s), another thread runs only when this one
    gives the GIL up: the decisions must, as ctypes.CDLL does around each call."""
    progress, done = [0], threading.Event()

    def other():
        while not done.is_set():
            progress[0] += 1
            time.sleep(0)  # gives the GIL back to the deciding thread

    old = sys.getswitchinterval()
    thread = threading.Thread(target=other)
    sys.setswitchinterval(1000.0)
    try:
        thread.start()
        seen, deadline = progress[0], time.monotonic() + 20
        while progress[0] == seen and time.monotonic() < deadline:
            assert engine.authorize(ALICE, "s3:GetObject", REPORT, OFFICE) is Decision.ALLOWED
        moved = progress[0] != seen
    finally:
        done.set()
        thread.join()
        sys.setswitchinterval(old)
    assert moved, "no other thread ran during 20 s of decisions: the GIL is held"


def wait_for(what, check, seconds=20.0):
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_hot_swap_seen_through_the_binding(tmp_path):
    store = tmp_path / "store"
    shutil.copytree(POLICIES, store)
    with keycard.Engine(store, watch=True) as engine:
        before = engine.snapshot_id()
        assert engine.authorize(ZED_ARN, "s3:GetObject", ZED_BUCKET) is Decision.IMPLICIT_DENY
        (store / "zed.json").write_text(json.dumps(ZED))
        wait_for("the watcher to load zed.json", lambda: engine.snapshot_id() != before)
        assert engine.authorize(ZED_ARN, "s3:GetObject", ZED_BUCKET) is Decision.ALLOWED
        # A broken edit: the reload says why, and the last good snapshot keeps serving.
        (store / "zed.json").write_text("{ broken")
        with pytest.raises(keycard.LoadError, match="zed.json"):
            engine.reload()
        assert engine.authorize(ZED_ARN, "s3:GetObject", ZED_BUCKET) is Decision.ALLOWED
        (store / "zed.json").unlink()
        wait_for("the watcher to drop zed.json",
                 lambda: engine.authorize(ZED_ARN, "s3:GetObject", ZED_BUCKET) is Decision.IMPLICIT_DENY)
        assert engine.snapshot_id() == before


def test_signed_request_names_its_signer(engine):
    """A `signedRequest` signed by botocore with the example key of the default store is decided
    as its signer; a wrong secret raises SignatureError with AWS's code."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    def signed(secret):
        req = AWSRequest(method="GET", url="https://reports.s3.amazonaws.com/2026/q1.csv")
        SigV4Auth(Credentials("AKIAIOSFODNN7EXAMPLE", secret), "s3", "us-east-1").add_auth(req)
        headers = dict(req.headers.items())
        headers["host"] = "reports.s3.amazonaws.com"
        return {"signedRequest": {"method": "GET", "path": "/2026/q1.csv", "query": "", "headers": headers,
                                  "bodySha256": hashlib.sha256(b"").hexdigest()},
                "action": "s3:GetObject", "resource": "arn:aws:s3:::reports/2026/q1.csv"}

    answer = engine.authorize_json(signed("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"))
    assert answer["principal"] == "arn:aws:iam::111122223333:user/ci/deploy", answer
    assert answer["decision"] == "implicitDeny", answer  # the user's own policies grant nothing
    with pytest.raises(keycard.SignatureError) as refused:
        engine.authorize_json(signed("wrong-secret"))
    assert refused.value.answer["code"] == "SignatureDoesNotMatch" and "decision" not in refused.value.answer
