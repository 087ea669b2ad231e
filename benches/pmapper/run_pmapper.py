"""PMapper (PyPI `principalmapper` 1.1.5) on a keycard store, offline, for BENCHMARKS.md.

PMapper builds its graph from AWS API calls. This script hands it a stub IAM client whose
`get_account_authorization_details` paginator returns a store export (the JSON that
`benches/src/bin/analysis.rs` writes with KEYCARD_ANALYSIS_EXPORT=FILE, which is what
`aws iam get-account-authorization-details` prints), and whose per-user calls (access keys,
login profile, MFA devices) answer "none". Then it runs PMapper's own steps: nodes, admin
status, and the edge checkers that need no AWS calls (iam, sts).

    python run_pmapper.py STORE.json [CHECKERS]   # CHECKERS: comma-separated, default iam,sts

PMapper 1.1.5 imports `collections.Mapping`, gone since Python 3.10; the shim below restores it.
"""
import collections
import collections.abc
import json
import sys
import time

collections.Mapping = collections.abc.Mapping
collections.MutableMapping = collections.abc.MutableMapping

from principalmapper.graphing import gathering, edge_identification  # noqa: E402


class Pages:
    def __init__(self, pages):
        self.pages = pages

    def paginate(self, **_):
        return iter(self.pages)


class StubIam:
    """Just enough of boto3's IAM client for gathering.get_nodes_groups_and_policies."""

    def __init__(self, details):
        self.details = details

    def get_paginator(self, name):
        if name == "get_account_authorization_details":
            return Pages([self.details])
        if name == "list_virtual_mfa_devices":
            return Pages([{"VirtualMFADevices": []}])
        raise NotImplementedError(name)

    def list_access_keys(self, UserName):
        return {"AccessKeyMetadata": []}

    def get_login_profile(self, UserName):
        raise Exception("NoSuchEntity")

    def list_mfa_devices(self, UserName):
        return {"MFADevices": []}


def main():
    details = json.load(open(sys.argv[1]))
    checkers = (sys.argv[2] if len(sys.argv) > 2 else "iam,sts").split(",")
    for r in details.get("RoleDetailList", []):
        r.setdefault("InstanceProfileList", [])
    t0 = time.time()
    result = gathering.get_nodes_groups_and_policies(StubIam(details))
    t1 = time.time()
    gathering.update_admin_status(result["nodes"])
    t2 = time.time()
    edges = edge_identification.obtain_edges(None, checkers, result["nodes"])
    t3 = time.time()
    admins = sum(1 for n in result["nodes"] if n.is_admin)
    print(json.dumps({
        "nodes": len(result["nodes"]), "admins": admins, "edges": len(edges), "checkers": checkers,
        "load_s": round(t1 - t0, 3), "admin_s": round(t2 - t1, 3), "edges_s": round(t3 - t2, 3),
        "total_s": round(t3 - t0, 3),
    }))


if __name__ == "__main__":
    main()
