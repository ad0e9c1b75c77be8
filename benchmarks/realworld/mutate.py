#!/usr/bin/env python3
"""Recall probe: break known-correct training code and see whether bnlint notices.

    python benchmarks/realworld/mutate.py CHECKOUTS [--keras 3]

For each row of mutants.csv: replace `find` by `replace` in the file (several
edits in one mutant: `find` and `replace` hold as many ` ||| `-separated
parts, applied in order, each of which must be present), lint the
whole repository checkout with bnlint's API (no cache), restore the file,
and count the mutant as caught when a finding of the expected rule appears
anywhere in the repository that was not there before the edit. Rows whose
`find` string is missing are reported as errors. The `kind` column says how
a mutant was made: `edit` = one literal edit whose result is the bug's usual
form, `token` = a one-token edit that matches the rule's own pattern (a weak
test of recall), `realistic` = the bug as it is written in
the wild (several edits, the code still runs). Writes results/mutants.json
and prints a table with a count per kind.
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
        entry["kind"] = row.get("kind") or "token"
        if not path.is_file():
            entry["status"] = "missing checkout"
            report.append(entry)
            continue
        original = path.read_bytes()
        text = original.decode("utf-8")
        finds, replaces = row["find"].split(" ||| "), row["replace"].split(" ||| ")
        if len(finds) != len(replaces) or any(f not in text for f in finds):
            entry["status"] = "find string not found"
            report.append(entry)
            continue
        mutated = text
        for f, r in zip(finds, replaces):
            mutated = mutated.replace(f, r)
        if row["repo"] not in baselines:
            baselines[row["repo"]] = lint_repo(root, args.keras)
        try:
            path.write_bytes(mutated.encode("utf-8"))
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
        print(f"{e['status']:8s} {e['expect']} {e['kind']:<9} {e['repo']} {e['file']}  {extra}")
    print(f"\ncaught {caught} of {judged} mutants")
    for kind in sorted({e["kind"] for e in report}):
        mine = [e for e in report if e["kind"] == kind]
        for rule in sorted({e["expect"] for e in mine}):
            sel = [e for e in mine if e["expect"] == rule and e["status"] in ("caught", "missed")]
            print(f"  {kind:<9} {rule}: {sum(e['status'] == 'caught' for e in sel)}/{len(sel)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
