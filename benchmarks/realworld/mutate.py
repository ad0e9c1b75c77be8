#!/usr/bin/env python3
"""Recall probe: break known-correct training code and see whether bnlint notices.

    python benchmarks/realworld/mutate.py CHECKOUTS [--keras 3]

For each row of mutants.csv: replace `find` by `replace` in the file, lint the
whole repository checkout with bnlint's API (no cache), restore the file,
and count the mutant as caught when a finding of the expected rule appears
anywhere in the repository that was not there before the edit. Rows whose
`find` string is missing are reported as errors. Writes
results/mutants.json and prints a table.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from dataclasses import replace as dc_replace
from pathlib import Path

HERE = Path(__file__).resolve().parent


def lint_repo(root: Path, keras: str):
    from bnlint.config import Config
    from bnlint.engine import lint_paths
    from bnlint.files import discover

    config = dc_replace(Config(), keras=keras)
    files = discover([str(root)], config)
    out = set()
    for res in lint_paths(files, config, jobs=1, use_cache=False):
        for f in res.findings:
            rel = Path(f.filename).resolve().relative_to(root.resolve()).as_posix()
            out.add((f.code, rel, getattr(f, "cell", None), f.line))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkouts")
    ap.add_argument("--mutants", default=str(HERE / "mutants.csv"))
    ap.add_argument("--results", default=str(HERE / "results"))
    ap.add_argument("--keras", default="3")
    args = ap.parse_args(argv)
    with open(args.mutants, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    report = []
    baselines = {}
    for row in rows:
        root = Path(args.checkouts) / row["repo"].replace("/", "+")
        path = root / row["file"]
        entry = {k: row[k] for k in ("repo", "file", "expect", "why")}
        if not path.is_file():
            entry["status"] = "missing checkout"
            report.append(entry)
            continue
        original = path.read_bytes()
        text = original.decode("utf-8")
        if row["find"] not in text:
            entry["status"] = "find string not found"
            report.append(entry)
            continue
        if row["repo"] not in baselines:
            baselines[row["repo"]] = lint_repo(root, args.keras)
        try:
            path.write_bytes(text.replace(row["find"], row["replace"]).encode("utf-8"))
            after = lint_repo(root, args.keras)
        finally:
            path.write_bytes(original)
        new = sorted(after - baselines[row["repo"]], key=lambda t: (t[1], t[3]))
        hits = [f"{c} {f}:{ln}" for c, f, _cell, ln in new if c == row["expect"]]
        entry["status"] = "caught" if hits else "missed"
        entry["new_findings"] = [f"{c} {f}:{ln}" for c, f, _cell, ln in new]
        report.append(entry)
    out = Path(args.results)
    out.mkdir(parents=True, exist_ok=True)
    (out / "mutants.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n",
                                      encoding="utf-8")
    caught = sum(1 for e in report if e["status"] == "caught")
    judged = sum(1 for e in report if e["status"] in ("caught", "missed"))
    for e in report:
        extra = "; ".join(e.get("new_findings", [])[:4])
        print(f"{e['status']:8s} {e['expect']} {e['repo']} {e['file']}  {extra}")
    print(f"\ncaught {caught} of {judged} mutants")
    return 0


if __name__ == "__main__":
    sys.exit(main())
