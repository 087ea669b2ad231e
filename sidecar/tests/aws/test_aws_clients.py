"""keycard's STS driven by the real AWS clients: the AWS CLI and boto3, unchanged, pointed at
`keycard serve` with --endpoint-url (docs/sts.md).

Run by `cargo test -p keycard-sidecar --test aws_clients`, which passes the binary in KEYCARD_BIN.
"""

import base64
import hashlib
import hmac
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

import boto3
import botocore.config
import botocore.exceptions
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
STORE = os.path.join(HERE, "store")
ACCOUNT = "111122223333"
ALICE = ("AKIAALICEEXAMPLE0001", "alice/secret/K7MDENG+bPxRfiCYEXAMPLEKEY")
BOB = ("AKIABOBEXAMPLE000001", "bob/secret/K7MDENG+bPxRfiCYEXAMPLEKEYBOB")
MFA_SERIAL = f"arn:aws:iam::{ACCOUNT}:mfa/alice"
MFA_SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app/reader"


def totp(seed_b32, at=None, step=0):
    """RFC 6238: HMAC-SHA1, 6 digits, 30-second steps."""
    key = base64.b32decode(seed_b32)
    if at is None and 30 - time.time() % 30 < 4:
        # Near the end of a window the server may already be in the next one, one step further
        # from the code than the test meant: start in a fresh window instead.
        time.sleep(30 - time.time() % 30 + 0.1)
    counter = int((time.time() if at is None else at) // 30) + step
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


class Server:
    def __init__(self, key_file, env=None):
        self.proc = subprocess.Popen(
            [os.environ["KEYCARD_BIN"], "serve", "--policies", STORE, "--listen", "127.0.0.1:0",
             "--sts-key-file", key_file],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "KEYCARD_LOG": "warn", **(env or {})})
        line = self.proc.stdout.readline()
        assert line.startswith("keycard: listening on "), line
        self.url = line.split()[-1]
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                import urllib.request
                with urllib.request.urlopen(self.url + "/readyz") as r:
                    if r.status == 200:
                        return
            except Exception:
                time.sleep(0.05)
        raise RuntimeError("keycard did not become ready")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)


@pytest.fixture(scope="module")
def key_file():
    d = tempfile.mkdtemp(prefix="keycard-sts-")
    path = os.path.join(d, "sts.keys")
    with open(path, "w") as f:
        f.write("# first line seals, every line opens\n" + "k" * 20 + "test-key-one-0123456789\n")
    yield path
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def server(key_file):
    s = Server(key_file)
    yield s
    s.stop()


def cli_env(creds, token=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "AWS_ACCESS_KEY_ID": creds[0], "AWS_SECRET_ACCESS_KEY": creds[1],
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "standard",
    })
    if token:
        env["AWS_SESSION_TOKEN"] = token
    return env


def aws(server, creds, *args, token=None):
    """Runs the real AWS CLI; returns (exit code, parsed JSON or None, stderr)."""
    cmd = [sys.executable, "-m", "awscli", "--endpoint-url", server.url, "--output", "json", *args]
    p = subprocess.run(cmd, capture_output=True, text=True, env=cli_env(creds, token), timeout=60)
    out = json.loads(p.stdout) if p.returncode == 0 and p.stdout.strip() else None
    return p.returncode, out, p.stderr


def boto_sts(server, access_key, secret, token=None):
    return boto3.client(
        "sts", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id=access_key, aws_secret_access_key=secret, aws_session_token=token,
        config=botocore.config.Config(retries={"max_attempts": 1}))


def error_code(fn):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn()
    return e.value.response["Error"]["Code"]


def test_get_caller_identity(server):
    code, out, err = aws(server, ALICE, "sts", "get-caller-identity")
    assert code == 0, err
    assert out == {"UserId": "AIDAALICEEXAMPLE00001", "Account": ACCOUNT,
                   "Arn": f"arn:aws:iam::{ACCOUNT}:user/alice"}


def test_unknown_and_inactive_keys_and_wrong_secrets_are_refused(server):
    code, _, err = aws(server, ("AKIAUNKNOWNEXAMPLE01", "x" * 40), "sts", "get-caller-identity")
    assert code != 0 and "InvalidClientTokenId" in err, err
    code, _, err = aws(server, BOB, "sts", "get-caller-identity")
    assert code != 0 and "InvalidClientTokenId" in err, err
    code, _, err = aws(server, (ALICE[0], ALICE[1] + "x"), "sts", "get-caller-identity")
    assert code != 0 and "SignatureDoesNotMatch" in err, err


def test_assume_role_then_use_the_session_with_boto3(server):
    code, out, err = aws(server, ALICE, "sts", "assume-role", "--role-arn", ROLE,
                         "--role-session-name", "build-42", "--duration-seconds", "7200",
                         "--tags", "Key=project,Value=apollo", "--source-identity", "alice")
    assert code == 0, err
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA")
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/reader/build-42"
    assert out["AssumedRoleUser"]["AssumedRoleId"] == "AROAREADEREXAMPLE0001:build-42"
    assert out["SourceIdentity"] == "alice"
    sts = boto_sts(server, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])
    who = sts.get_caller_identity()
    assert who["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/reader/build-42"
    assert who["UserId"] == "AROAREADEREXAMPLE0001:build-42"
    assert who["Account"] == ACCOUNT


def test_assume_role_denied_by_the_trust_policy(server):
    code, _, err = aws(server, ALICE, "sts", "assume-role", "--role-arn", f"arn:aws:iam::{ACCOUNT}:role/admin",
                       "--role-session-name", "s1")
    assert code != 0 and "AccessDenied" in err, err
    code, _, err = aws(server, ALICE, "sts", "assume-role", "--role-arn", f"arn:aws:iam::{ACCOUNT}:role/missing",
                       "--role-session-name", "s1")
    assert code != 0 and "AccessDenied" in err, err


def test_assume_role_needs_mfa_when_the_trust_policy_says_so(server):
    role = f"arn:aws:iam::{ACCOUNT}:role/mfa-admin"
    code, _, err = aws(server, ALICE, "sts", "assume-role", "--role-arn", role, "--role-session-name", "s1")
    assert code != 0 and "AccessDenied" in err, err
    code, _, err = aws(server, ALICE, "sts", "assume-role", "--role-arn", role, "--role-session-name", "s1",
                       "--serial-number", MFA_SERIAL, "--token-code", "000000" if totp(MFA_SEED) != "000000" else "111111")
    assert code != 0 and "AccessDenied" in err and "MultiFactorAuthentication" in err, err
    code, out, err = aws(server, ALICE, "sts", "assume-role", "--role-arn", role, "--role-session-name", "s1",
                         "--serial-number", MFA_SERIAL, "--token-code", used := totp(MFA_SEED))
    assert code == 0, err
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/mfa-admin/s1"
    # The same code again: refused until its window has passed.
    code, _, err = aws(server, ALICE, "sts", "assume-role", "--role-arn", role, "--role-session-name", "s2",
                       "--serial-number", MFA_SERIAL, "--token-code", used)
    assert code != 0 and "AccessDenied" in err, err


def test_duration_seconds_out_of_range(server):
    # Over the role's MaxSessionDuration (7200): the server refuses it.
    code, _, err = aws(server, ALICE, "sts", "assume-role", "--role-arn", ROLE, "--role-session-name", "s1",
                       "--duration-seconds", "7201")
    assert code != 0 and "ValidationError" in err, err
    # Under 900 the CLI refuses by itself; boto3 without client-side validation reaches keycard.
    sts = boto3.client("sts", endpoint_url=server.url, region_name="us-east-1",
                       aws_access_key_id=ALICE[0], aws_secret_access_key=ALICE[1],
                       config=botocore.config.Config(parameter_validation=False, retries={"max_attempts": 1}))
    assert error_code(lambda: sts.assume_role(RoleArn=ROLE, RoleSessionName="s1", DurationSeconds=899)) \
        == "ValidationError"


def test_get_session_token_with_mfa_then_chain_into_the_mfa_role(server):
    code, out, err = aws(server, ALICE, "sts", "get-session-token", "--serial-number", MFA_SERIAL,
                         "--token-code", totp(MFA_SEED, step=1), "--duration-seconds", "900")
    assert code == 0, err
    c = out["Credentials"]
    sts = boto_sts(server, c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/alice"
    # The MFA of the session passes to AssumeRole, as AWS's MFA-protected API access works.
    role = sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/mfa-admin", RoleSessionName="ops")
    assert role["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/mfa-admin/ops"
    # Session credentials cannot call GetSessionToken again.
    assert error_code(lambda: sts.get_session_token()) == "AccessDenied"


def test_role_chaining_is_capped_at_one_hour(server):
    code, out, err = aws(server, ALICE, "sts", "assume-role", "--role-arn", ROLE, "--role-session-name", "first")
    assert code == 0, err
    c = out["Credentials"]
    code, _, err = aws(server, (c["AccessKeyId"], c["SecretAccessKey"]), "sts", "assume-role", "--role-arn", ROLE,
                       "--role-session-name", "second", "--duration-seconds", "7200", token=c["SessionToken"])
    assert code != 0 and "ValidationError" in err, err


def test_a_tampered_token_is_refused(server):
    code, out, err = aws(server, ALICE, "sts", "assume-role", "--role-arn", ROLE, "--role-session-name", "t1")
    assert code == 0, err
    c = out["Credentials"]
    raw = bytearray(base64.b64decode(c["SessionToken"]))
    raw[len(raw) // 2] ^= 1
    forged = base64.b64encode(bytes(raw)).decode()
    sts = boto_sts(server, c["AccessKeyId"], c["SecretAccessKey"], forged)
    assert error_code(sts.get_caller_identity) == "InvalidClientTokenId"
    # A made-up token, and a real token with another session's key id.
    assert error_code(boto_sts(server, c["AccessKeyId"], c["SecretAccessKey"], "Zm9yZ2Vk" * 40).get_caller_identity) \
        == "InvalidClientTokenId"
    assert error_code(boto_sts(server, "ASIAAAAAAAAAAAAAAAAA", c["SecretAccessKey"], c["SessionToken"]).get_caller_identity) \
        == "InvalidClientTokenId"
    # The right token with a wrong secret.
    assert error_code(boto_sts(server, c["AccessKeyId"], "x" * 40, c["SessionToken"]).get_caller_identity) \
        == "SignatureDoesNotMatch"


def test_replicas_share_the_key_file_and_expired_sessions_are_refused(server, key_file):
    code, out, err = aws(server, ALICE, "sts", "assume-role", "--role-arn", ROLE, "--role-session-name", "r1",
                         "--duration-seconds", "900")
    assert code == 0, err
    c = out["Credentials"]
    replica = Server(key_file)
    try:
        who = boto_sts(replica, c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]).get_caller_identity()
        assert who["Arn"].endswith(":assumed-role/reader/r1")
    finally:
        replica.stop()
    # A replica whose clock is past the session's expiry (debug builds only read the offset).
    later = Server(key_file, env={"KEYCARD_TEST_CLOCK_OFFSET_SECS": "1000"})
    try:
        sts = boto_sts(later, c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
        assert error_code(sts.get_caller_identity) == "ExpiredToken"
    finally:
        later.stop()


def test_a_replica_with_another_key_refuses_the_token(server):
    code, out, err = aws(server, ALICE, "sts", "assume-role", "--role-arn", ROLE, "--role-session-name", "k1")
    assert code == 0, err
    c = out["Credentials"]
    d = tempfile.mkdtemp(prefix="keycard-sts-other-")
    try:
        other_keys = os.path.join(d, "sts.keys")
        with open(other_keys, "w") as f:
            f.write("another-key-that-is-long-enough-0123456789\n")
        other = Server(other_keys)
        try:
            sts = boto_sts(other, c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
            assert error_code(sts.get_caller_identity) == "InvalidClientTokenId"
        finally:
            other.stop()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_signed_requests_through_v1_authorize(server):
    """A request signed by boto3's own signer, presented to /v1/authorize (docs/http-api.md#signed-requests)."""
    import urllib.request
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    def signed(creds, url, body=b""):
        req = AWSRequest(method="GET", url=url, data=body)
        SigV4Auth(Credentials(*creds), "s3", "us-east-1").add_auth(req)
        headers = dict(req.headers.items())
        headers["host"] = url.split("/")[2]
        path = "/" + url.split("/", 3)[3].split("?")[0]
        return {"method": "GET", "path": path, "query": url.split("?", 1)[1] if "?" in url else "",
                "headers": headers, "bodySha256": hashlib.sha256(body).hexdigest()}

    def authorize(body):
        req = urllib.request.Request(server.url + "/v1/authorize", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    code, out, err = aws(server, ALICE, "sts", "assume-role", "--role-arn", ROLE, "--role-session-name", "api")
    assert code == 0, err
    c = out["Credentials"]
    session = (c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    url = "https://reports.s3.amazonaws.com/2026/q1.csv"
    status, answer = authorize({"signedRequest": signed(session, url), "action": "s3:GetObject",
                                "resource": "arn:aws:s3:::reports/2026/q1.csv"})
    assert status == 200 and answer["decision"] == "allowed", answer
    assert answer["principal"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/reader/api"
    status, answer = authorize({"signedRequest": signed(session, url), "action": "s3:PutObject",
                                "resource": "arn:aws:s3:::reports/2026/q1.csv"})
    assert status == 200 and answer["decision"] == "implicitDeny", answer
    status, answer = authorize({"signedRequest": signed((ALICE[0], "wrong" * 8), url), "action": "s3:GetObject",
                                "resource": "arn:aws:s3:::reports/2026/q1.csv"})
    assert status == 401 and answer["code"] == "SignatureDoesNotMatch", answer


def rs256_token(claims):
    """A JWT signed with the test key by the openssl command line (no Python crypto package)."""
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    signing_input = b64(json.dumps({"alg": "RS256", "kid": "rsa1"}).encode()) + "." + b64(json.dumps(claims).encode())
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", os.path.join(HERE, "oidc-rsa2048.der"), "-keyform", "DER"],
                         input=signing_input.encode(), capture_output=True, check=True).stdout
    return signing_input + "." + b64(sig)


@pytest.mark.skipif(shutil.which("openssl") is None and os.environ.get("KEYCARD_REQUIRE_OPENSSL") != "1",
                    reason="openssl signs the test tokens (required when KEYCARD_REQUIRE_TOOLS=1)")
def test_assume_role_with_web_identity_as_irsa_does(server):
    role = f"arn:aws:iam::{ACCOUNT}:role/irsa"
    claims = {"iss": "https://oidc.example.com/cluster1", "sub": "system:serviceaccount:ns:app",
              "aud": "sts.amazonaws.com", "iat": int(time.time()), "exp": int(time.time()) + 600}
    token = rs256_token(claims)
    # Unsigned, as the SDKs send it.
    sts = boto3.client("sts", endpoint_url=server.url, region_name="us-east-1",
                       config=botocore.config.Config(signature_version=botocore.UNSIGNED, retries={"max_attempts": 1}))
    out = sts.assume_role_with_web_identity(RoleArn=role, RoleSessionName="pod-1", WebIdentityToken=token)
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/irsa/pod-1"
    assert out["SubjectFromWebIdentityToken"] == "system:serviceaccount:ns:app"
    c = out["Credentials"]
    who = boto_sts(server, c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]).get_caller_identity()
    assert who["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/irsa/pod-1"
    other = rs256_token({**claims, "sub": "system:serviceaccount:ns:other"})
    assert error_code(lambda: sts.assume_role_with_web_identity(RoleArn=role, RoleSessionName="p2", WebIdentityToken=other)) \
        == "AccessDenied"
    tampered = token[:-8] + ("AAAAAAAA" if not token.endswith("AAAAAAAA") else "BBBBBBBB")
    assert error_code(lambda: sts.assume_role_with_web_identity(RoleArn=role, RoleSessionName="p2", WebIdentityToken=tampered)) \
        == "InvalidIdentityToken"


def test_the_command_line_authenticates_signed_requests():
    """`keycard authorize` with a botocore-signed `signedRequest`: exit 0 and the signer named, or
    exit 2 with AWS's code for a wrong secret."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    def request(secret):
        req = AWSRequest(method="GET", url="https://sts.amazonaws.com/")
        SigV4Auth(Credentials(ALICE[0], secret), "sts", "us-east-1").add_auth(req)
        headers = {**dict(req.headers.items()), "host": "sts.amazonaws.com"}
        return json.dumps({"signedRequest": {"method": "GET", "path": "/", "headers": headers,
                                             "bodySha256": hashlib.sha256(b"").hexdigest()},
                           "action": "sts:AssumeRole", "resource": f"arn:aws:iam::{ACCOUNT}:role/mfa-admin"})

    def run(body):
        return subprocess.run([os.environ["KEYCARD_BIN"], "authorize", "--policies", STORE], input=body,
                              capture_output=True, text=True, timeout=60)

    ok = run(request(ALICE[1]))
    answer = json.loads(ok.stdout)
    assert answer["principal"] == f"arn:aws:iam::{ACCOUNT}:user/alice", answer
    # alice's own policy allows it; the trust policy wants MFA, which long-term keys lack.
    assert answer["decision"] == "implicitDeny" and ok.returncode == 1, (answer, ok.stderr)
    bad = run(request("wrong"))
    assert bad.returncode == 2 and json.loads(bad.stdout)["code"] == "SignatureDoesNotMatch", bad.stdout
