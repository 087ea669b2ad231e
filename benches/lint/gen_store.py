#!/usr/bin/env python3
"""Writes a store of N statements (default 100,000) for timing `keycard lint` and `keycard audit`.

    benches/lint/gen_store.py OUT_DIR [STATEMENTS]

2,000 customer managed policies of STATEMENTS/2,000 statements each, attached to 2,000 users (one
each) through 200 groups; actions drawn from the embedded catalogue (core/catalog/catalog.tsv),
resources with per-statement names, a third of the statements with a condition, one statement
in ten with a wildcard action. Deterministic (seeded).
"""
import json
import os
import random
import sys

out = sys.argv[1]
total = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
here = os.path.dirname(os.path.abspath(__file__))
catalog = os.path.join(here, "..", "..", "core", "catalog", "catalog.tsv")
actions = []
service = None
for line in open(catalog):
    f = line.rstrip("\n").split("\t")
    if f[0] == "S":
        service = f[1]
    elif f[0] == "A":
        actions.append(f"{service}:{f[1]}")
rng = random.Random(7)
services = ["s3", "ec2", "dynamodb", "sqs", "sns", "lambda", "kms", "logs", "cloudwatch", "iam"]
common = [a for a in actions if a.split(":")[0] in services]
policies_n = 2000
per = max(1, total // policies_n)
account = "111122223333"


def resource(action, i):
    svc = action.split(":")[0]
    if svc == "s3":
        return f"arn:aws:s3:::bucket-{i % 5000}/*"
    if svc == "dynamodb":
        return f"arn:aws:dynamodb:us-east-1:{account}:table/t{i % 5000}"
    if svc == "sqs":
        return f"arn:aws:sqs:us-east-1:{account}:q{i % 5000}"
    if svc == "iam":
        return f"arn:aws:iam::{account}:role/app/r{i % 5000}"
    return "*"


policies = []
n = 0
for p in range(policies_n):
    statements = []
    for s in range(per):
        n += 1
        if rng.random() < 0.1:
            act = [f"{rng.choice(services)}:{rng.choice(['Get', 'List', 'Describe', 'Put'])}*"]
        else:
            act = rng.sample(common, 3)
        st = {"Sid": f"S{s}", "Effect": "Allow" if rng.random() < 0.9 else "Deny", "Action": act,
              "Resource": [resource(a, n) for a in act]}
        if rng.random() < 0.33:
            st["Condition"] = {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}
        statements.append(st)
    policies.append({"PolicyName": f"P{p}", "Arn": f"arn:aws:iam::{account}:policy/P{p}", "Path": "/",
                     "DefaultVersionId": "v1",
                     "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": True,
                                            "Document": {"Version": "2012-10-17", "Statement": statements}}]})
users = [{"UserName": f"u{i}", "Path": "/", "GroupList": [f"g{i % 200}"],
          "AttachedManagedPolicies": [{"PolicyName": f"P{i}", "PolicyArn": f"arn:aws:iam::{account}:policy/P{i}"}]}
         for i in range(policies_n)]
groups = [{"GroupName": f"g{i}", "Path": "/"} for i in range(200)]
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "account.json"), "w") as f:
    json.dump({"AccountId": account, "UserDetailList": users, "GroupDetailList": groups, "Policies": policies}, f,
              indent=1)
print(f"{out}/account.json: {n} statements in {policies_n} policies")
