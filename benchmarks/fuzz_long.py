"""The long fuzz run: N random valid programs (hypothesmith) through bnlint.

    python benchmarks/fuzz_long.py --count 10000 [--seconds 20] [--out DIR]

Each program is linted three ways: as generated (the real pipeline, which
the pre-filter mostly skips), behind a TensorFlow import header, and with
every checker forced to run on it (see tests/fuzz_harness.py). A program is
a failure when bnlint raises, runs past the time bound, or reports BN903
(a checker crashed). A BN902 on a program that compiles is counted too:
it means libcst could not parse something CPython accepts. Failing programs
are written to --out, and so is the slowest one. Exit status 1 when there was any failure.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import hypothesmith  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings, strategies as st  # noqa: E402

from fuzz_harness import TF_HEADER, Hang, every_rule, internal_errors, lint_within  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--seconds", type=float, default=20.0, help="time bound per lint call")
    parser.add_argument("--out", default="fuzz-failures", help="where failing programs go")
    parser.add_argument("--progress", type=int, default=500, help="print a line every N programs")
    args = parser.parse_args(argv)

    counts = collections.Counter()
    slowest = [0.0, ""]
    failures = []
    out = Path(args.out)
    started = time.time()

    def record(kind: str, program: str, detail: str) -> None:
        counts[kind] += 1
        if len(failures) < 200:
            out.mkdir(parents=True, exist_ok=True)
            path = out / f"{kind}-{counts[kind]:04d}.py"
            path.write_text(program, encoding="utf-8", errors="surrogateescape")
            failures.append({"kind": kind, "file": str(path), "detail": detail[:500]})

    def check(program: str) -> None:
        counts["programs"] += 1
        data = program.encode("utf-8", "surrogatepass")
        for label, payload, forced in (("plain", data, False), ("tf-header", TF_HEADER + data, False),
                                       ("every-rule", data, True)):
            try:
                if forced:
                    with every_rule():
                        findings, elapsed = lint_within(payload, args.seconds)
                else:
                    findings, elapsed = lint_within(payload, args.seconds)
            except Hang as exc:
                record("hang", program, f"{label}: {exc}")
                continue
            except BaseException as exc:  # noqa: B902 - anything escaping is the bug we look for
                if isinstance(exc, KeyboardInterrupt):
                    raise
                record("raised", program, f"{label}: {traceback.format_exc()}")
                continue
            counts["lint calls"] += 1
            if elapsed > slowest[0]:
                slowest[:] = [elapsed, label]
                out.mkdir(parents=True, exist_ok=True)
                (out / "slowest.py").write_text(program, encoding="utf-8", errors="surrogateescape")
            for f in internal_errors(findings):
                record("bn903", program, f"{label}: {f.message}")
            if any(f.code == "BN902" for f in findings):
                counts[f"bn902 ({label})"] += 1
                if forced:
                    record("bn902-valid", program, next(f.message for f in findings if f.code == "BN902"))
        if args.progress and counts["programs"] % args.progress == 0:
            print(f"{counts['programs']} programs, {time.time() - started:.0f} s, "
                  f"{dict(counts)}", flush=True)

    grammar = hypothesmith.from_grammar()
    nodes = hypothesmith.from_node()

    @settings(max_examples=args.count, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(st.one_of(grammar, nodes))
    def run(program: str) -> None:
        check(program)

    run()
    summary = {
        "programs": counts["programs"],
        "lint_calls": counts["lint calls"],
        "failures": {k: v for k, v in counts.items() if k in ("raised", "hang", "bn903", "bn902-valid")},
        "bn902": {k: v for k, v in counts.items() if k.startswith("bn902 (")},
        "slowest_lint_s": round(slowest[0], 3),
        "slowest_mode": slowest[1],
        "wall_s": round(time.time() - started, 1),
        "python": sys.version.split()[0],
        "pid": os.getpid(),
        "examples": failures[:20],
    }
    print(json.dumps(summary, indent=2))
    return 1 if summary["failures"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
