"""Does the pre-filter lose findings on a real tree? Lint every file twice.

    python benchmarks/prefilter_audit.py CHECKOUT [CHECKOUT ...] [--keras 3]

Once as bnlint does (byte regex, then `ast` facts, then libcst) and once
with every rule sent to libcst for every file; prints each file whose
findings differ (apart from BN902, which by design is only reported for
files the pre-filter keeps) and exits 1 if any does. The second pass parses the whole
tree with libcst, so it takes minutes, not seconds.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from bnlint.config import load_config  # noqa: E402
from bnlint.engine import lint_bytes, read_file  # noqa: E402
from bnlint.files import discover  # noqa: E402

from fuzz_harness import every_rule  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkouts", nargs="+")
    parser.add_argument("--keras", choices=("auto", "2", "3"), default=None)
    args = parser.parse_args(argv)
    files = differ = findings = syntax_only = 0
    start = time.time()
    for root in args.checkouts:
        config = load_config(Path(root), None)
        if args.keras:
            config = replace(config, keras=args.keras)
        for path in discover([root], config):
            data, problem = read_file(path)
            if data is None:
                continue
            files += 1
            real = [f.to_dict() for f in lint_bytes(data, path, config)]
            with every_rule():
                full = [f.to_dict() for f in lint_bytes(data, path, config)]
            findings += len(full)
            # BN902 is by design only reported for files the pre-filter keeps
            # (rules/BN902.yaml): a syntax error elsewhere is not a lost finding.
            if real == full:
                continue
            if [f for f in full if f["code"] != "BN902"] == [f for f in real if f["code"] != "BN902"]:
                syntax_only += 1
            else:
                differ += 1
                print(f"DIFF {path}: with pre-filter {[(f['code'], f['line']) for f in real]}, "
                      f"without {[(f['code'], f['line']) for f in full]}", flush=True)
    print(f"{files} files, {findings} findings without the pre-filter, {differ} files differ, "
          f"{syntax_only} differ only by BN902 in files the pre-filter skips ({time.time() - start:.0f} s)")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
