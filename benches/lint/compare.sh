#!/usr/bin/env bash
# Runs keycard lint, Parliament and Cloudsplaining (PyPI) on each policy of benches/lint/policies/
# and prints one line per policy with what each tool reports, for the table in docs/lint.md.
# Not run in CI. Needs python3; installs the two tools into a virtualenv under $TMPDIR.
#
#   benches/lint/compare.sh [path/to/keycard]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
keycard="${1:-$root/target/release/keycard}"
venv="${VENV:-${TMPDIR:-/tmp}/keycard-lint-compare-venv}"
if [ ! -x "$venv/bin/parliament" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q parliament cloudsplaining
fi
printf '%-24s | %-60s | %-40s | %s\n' policy keycard parliament cloudsplaining
for f in "$here"/policies/*.json; do
  name="$(basename "$f" .json)"
  k="$( ("$keycard" lint --format json "$f" || true) | python3 -c 'import json,sys; print(",".join(sorted({x["check"] for x in json.load(sys.stdin)["findings"]})) or "-")')"
  p="$( ("$venv/bin/parliament" --string "$(cat "$f")" --json </dev/null 2>/dev/null || true) | python3 -c 'import json,sys
ids=set()
for line in sys.stdin:
    line=line.strip()
    if line: ids.add(json.loads(line)["issue"])
print(",".join(sorted(ids)) or "-")')"
  c="$( ("$venv/bin/cloudsplaining" scan-policy-file --input-file "$f" </dev/null 2>/dev/null || true) | python3 -c 'import sys,re
text=sys.stdin.read()
found={x.strip() for x in re.findall(r"capable of ([A-Za-z ]+)", text)}
if "ALL Actions from a service" in text: found.add("Service Wildcard")
if "return credentials" in text: found.add("Credentials Exposure")
print(",".join(sorted(found)) or "-")')"
  printf '%-24s | %-60s | %-40s | %s\n' "$name" "$k" "$p" "$c"
done
