#!/usr/bin/env python3
"""Recall of bnlint on bugs labelled by reading code (recall.csv), per rule.

    python benchmarks/realworld/recall.py CHECKOUTS [--bnlint CMD] [--keras 3] [--json OUT]

For each repository of recall.csv and recall_correct.csv, CHECKOUTS/owner+name
is made at the pinned commit if it is missing (from a local mirror or a clone;
see benchmarks/tfheavy/corpus.py). Then the bnlint command runs from that
repository's root (`bnlint check --output-format json --no-cache --exit-zero
--keras 3 .`, so sibling modules are there, as a user would run it), and:

- a labelled bug is *found* when bnlint reports the label's rule at that file
  on a line from `line` to `end` (the statement's lines; a notebook finding is keyed nb.ipynb#cellN, N 1-based over all
  cells, line inside the cell); a `cousin:` label (a member of the wider
  family, labelled before BN1xx existed) counts as found if any BN0xx or
  BN1xx finding is on that line;
- recall per rule = found / labelled, printed with every miss;
- a finding of BN001-BN003 inside a region of recall_correct.csv is a false
  positive on code read and judged correct.

Labels are only as good as one reader: `sure=no` rows are counted separately.
A hit whose findings are all worded "if it holds ..." (bnlint's wording, in
the message or the JSON `detail`, for a model whose contents it could not
see) is counted as `hedged`: a
guess that happened to be right, which the same guess makes wrong on
BN-free models.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shlex
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, List

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tfheavy"))
from corpus import find_git_dir, materialise  # noqa: E402

RULES = ("BN001", "BN002", "BN003")


def read_rows(path: Path) -> List[Dict[str, str]]:
    """CSV rows (comment lines starting with '#' skipped), values stripped."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = [{k.strip(): (v or "").strip() for k, v in row.items() if k}
                for row in csv.DictReader(line for line in fh if not line.startswith("#"))]
    return [r for r in rows if any(r.values())]


def checkout(root: Path, repo: str, commit: str) -> Path:
    """root/owner+name at `commit` (made once; an existing folder is trusted)."""
    dest = root / repo.replace("/", "+")
    if dest.exists():
        return dest
    git_dir = find_git_dir({"repo": repo, "dir": dest.name, "commit": commit}, None, root / ".git-cache")
    if git_dir is None:
        raise RuntimeError(f"cannot get {repo}@{commit}")
    materialise(git_dir, commit, dest, keep=lambda p: True)
    return dest


def run_bnlint(cmd: List[str], repo_root: Path, keras: str) -> List[dict]:
    """bnlint's JSON findings for one repository, run from its root; file keys relative to it."""
    proc = subprocess.run(cmd + ["check", "--output-format", "json", "--no-cache", "--exit-zero",
                                 "--keras", keras, "."], cwd=repo_root, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"bnlint exited {proc.returncode} in {repo_root}: {proc.stderr[-800:]}")
    out = []
    for f in json.loads(proc.stdout or "[]"):
        rel = os.path.relpath(os.path.join(repo_root, f["filename"]), repo_root).replace(os.sep, "/")
        key = f"{rel}#cell{f['cell']}" if f.get("cell") is not None else rel
        # the explanation moved from `message` to `detail` after 06dc799: keep both
        text = f["message"] + (" " + f["detail"] if f.get("detail") else "")
        out.append({"code": f["code"], "file": key, "line": int(f["line"]), "message": text})
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkouts")
    ap.add_argument("--bnlint", default=f"{shlex.quote(sys.executable)} -m bnlint",
                    help="bnlint command (default: this Python's -m bnlint)")
    ap.add_argument("--keras", default="3", choices=("auto", "2", "3"))
    ap.add_argument("--labels", default=str(HERE / "recall.csv"))
    ap.add_argument("--correct", default=str(HERE / "recall_correct.csv"))
    ap.add_argument("--json", default=str(HERE / "results" / "recall.json"))
    args = ap.parse_args(argv)
    root = Path(args.checkouts)
    root.mkdir(parents=True, exist_ok=True)
    labels = read_rows(Path(args.labels))
    regions = read_rows(Path(args.correct))
    repos = {}
    for row in labels + regions:
        prev = repos.setdefault(row["repo"], row["commit"])
        if prev != row["commit"]:
            raise SystemExit(f"{row['repo']}: two commits in the labels ({prev}, {row['commit']})")
    cmd = shlex.split(args.bnlint)
    findings: Dict[str, List[dict]] = {}
    for repo, commit in sorted(repos.items()):
        findings[repo] = run_bnlint(cmd, checkout(root, repo, commit), args.keras)
        print(f"{repo}@{commit[:10]}: {len(findings[repo])} findings", file=sys.stderr)

    at = defaultdict(set)  # (repo, file, line) -> codes
    for repo, fs in findings.items():
        for f in fs:
            at[(repo, f["file"], f["line"])].add(f["code"])
    per_rule: Dict[str, Counter] = defaultdict(Counter)
    misses, hits = [], []
    for row in labels:
        rule = row["rule"]
        first, last = int(row["line"]), int(row.get("end") or row["line"])
        codes = set().union(*(at.get((row["repo"], row["path"], ln), set()) for ln in range(first, last + 1)))
        found = (rule in codes) if rule in RULES else any(c.startswith(("BN0", "BN1")) for c in codes)
        group = rule if rule in RULES else "cousins"
        per_rule[group]["labelled"] += 1
        per_rule[group]["found"] += found
        if row.get("sure", "yes") != "yes":
            per_rule[group]["unsure"] += 1
        msgs = [f["message"] for f in findings.get(row["repo"], [])
                if f["file"] == row["path"] and first <= f["line"] <= last and f["code"] == rule]
        # bnlint 0.1 words a finding on a model whose contents it could not see as "if it holds ...":
        # such a hit is a guess that happened to be right, not evidence that bnlint saw the layer
        hedged = bool(msgs) and all("if it holds" in m for m in msgs)
        per_rule[group]["hedged"] += found and hedged
        (hits if found else misses).append({**row, "reported": sorted(codes), "hedged": found and hedged})
    false_pos = []
    for reg in regions:
        rules = RULES if reg["rules"] == "*" else tuple(reg["rules"].split())
        for f in findings.get(reg["repo"], []):
            if (f["file"] == reg["path"] and int(reg["start"]) <= f["line"] <= int(reg["end"])
                    and f["code"] in rules):
                false_pos.append({**f, "repo": reg["repo"], "why_correct": reg["why"]})

    labelled_lines = {(r["repo"], r["path"], ln) for r in labels
                      for ln in range(int(r["line"]), int(r.get("end") or r["line"]) + 1)}
    unlabelled = Counter(f["code"] for repo, fs in findings.items() for f in fs
                         if f["code"] in RULES and (repo, f["file"], f["line"]) not in labelled_lines)
    print(f"recall on {len(labels)} labelled bugs in {len({r['repo'] for r in labels})} repositories "
          f"(bnlint run from each repository's root, --keras {args.keras}):")
    print(f"{'rule':<8} {'found':>5} {'labelled':>8} {'recall':>7} {'unsure':>6} {'hedged':>6}")
    for group in list(RULES) + ["cousins"]:
        c = per_rule.get(group, Counter())
        rec = f"{c['found'] / c['labelled']:.2f}" if c["labelled"] else "n/a"
        print(f"{group:<8} {c['found']:>5} {c['labelled']:>8} {rec:>7} {c['unsure']:>6} {c['hedged']:>6}")
    tot = sum(c["found"] for g, c in per_rule.items() if g in RULES)
    lab = sum(c["labelled"] for g, c in per_rule.items() if g in RULES)
    print(f"{'BN001-3':<8} {tot:>5} {lab:>8} {(tot / lab if lab else 0):>7.2f}")
    print("hedged = found, but only by a finding worded 'if it holds ...' (a model whose contents bnlint"
          " could not see)")
    print(f"\nmisses ({len(misses)}):")
    for m in misses:
        extra = f" (reported there: {', '.join(m['reported'])})" if m["reported"] else ""
        print(f"  {m['rule']:<22} {m['repo']} {m['path']}:{m['line']}{extra}")
    print(f"\nknown-correct regions: {len(regions)}, findings inside: {len(false_pos)}")
    for f in false_pos:
        print(f"  FP {f['code']} {f['repo']} {f['file']}:{f['line']}: {f['message'][:100]}")
    print(f"findings of BN001-BN003 outside the labelled lines (not judged here): {dict(unlabelled)}")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    with open(args.json, "w", encoding="utf-8") as fh:
        json.dump({"per_rule": {g: dict(c) for g, c in per_rule.items()}, "misses": misses, "hits": hits,
                   "false_positives_in_correct_regions": false_pos, "unlabelled": dict(unlabelled),
                   "findings_per_repo": {repo: len(fs) for repo, fs in findings.items()}}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
