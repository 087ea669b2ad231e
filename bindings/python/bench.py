"""Per-call cost of the installed `keycard` package, for bindings/bench.sh: one round of CALLS calls
cycling over the cases of ffi/tests/cases.tsv (the request stream of ffi/bench/overhead.c).
Prints "name ns/call" for: the binding with each context as JSON text (as C passes it), the
binding with each context as a dict (json.dumps per call), and a bare ctypes call with the
arguments encoded beforehand (the floor of any ctypes binding).
    python bench.py CASES_TSV POLICIES CALLS"""

import json
import sys
import time

import keycard

cases_tsv, policies, calls = sys.argv[1], sys.argv[2], int(sys.argv[3])
raw = [line.split("\t") for line in open(cases_tsv).read().splitlines() if line and not line.startswith("#")]
text = [(p, a, r, None if c == "-" else c) for _, p, a, r, c in raw]
dicts = [(p, a, r, None if c is None else json.loads(c)) for p, a, r, c in text]
encoded = [tuple(None if x is None else x.encode() for x in case) for case in text]
n = len(text)

with keycard.Engine(policies, watch=False) as engine:
    def binding(stream):
        authorize = engine.authorize
        start = time.perf_counter_ns()
        for i in range(calls):
            authorize(*stream[i % n])
        return (time.perf_counter_ns() - start) / calls

    def bare():
        fn, handle = keycard._lib.keycard_authorize, engine._handle
        start = time.perf_counter_ns()
        for i in range(calls):
            fn(handle, *encoded[i % n])
        return (time.perf_counter_ns() - start) / calls

    for name, run in (("python-text", lambda: binding(text)), ("python-dict", lambda: binding(dicts)),
                      ("python-ctypes", bare)):
        print(f"{name} {run():.1f}")
