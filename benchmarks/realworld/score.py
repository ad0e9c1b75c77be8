#!/usr/bin/env python3
"""Precision per rule from the hand labels, against a run's findings.

    python benchmarks/realworld/score.py [results/findings.json]

labels.csv: one row per labelled finding
    repo, file, line, rule, verdict (TP or FP), reason
A label matches the findings of that rule on that line of that file. Labels
whose finding no longer appears (fixed since, or moved) are listed as
stale; findings without a label are counted as unlabelled.

known_correct.csv: training code read by hand and judged correct
    repo, file, start, end, rules, why
Any finding of the listed rules (`*` for all three) between start and end
is a false positive on known-correct code; a loop with none counts as
clean. Misses noticed while reading are in labels.csv with verdict FN; an
FN row whose finding a later run reports counts as a TP of that run.
"""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, Iterable, List, Optional

HERE = Path(__file__).resolve().parent
RULES = ("BN001", "BN002", "BN003", "BN110", "BN112", "BN113")  # BN1xx: the ones labelled in labels.csv


def _read_csv(path: Path) -> List[Dict[str, str]]:
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        rows = [{k.strip(): (v or "").strip() for k, v in row.items() if k}
                for row in csv.DictReader(line for line in fh if not line.startswith("#"))]
    return [r for r in rows if any(r.values())]


def evaluate(findings: List[dict], labels_path: Path, known_path: Path,
             repos: Optional[Iterable[str]] = None) -> dict:
    """Labels and known-correct rows of repositories outside `repos` (the
    repositories of this run; default: those with findings) are ignored."""
    scope = set(repos) if repos is not None else {f["repo"] for f in findings}
    present = defaultdict(int)
    for f in findings:
        if f["code"] in RULES:
            present[(f["repo"], f["file"], int(f["line"]), f["code"])] += 1
    labels = _read_csv(labels_path)
    counts: Dict[str, Counter] = {r: Counter() for r in RULES}
    stale, misses = [], []
    labelled = set()
    for row in labels:
        if row["repo"] not in scope:
            continue
        rule, verdict = row["rule"], row["verdict"].upper()
        key = (row["repo"], row["file"], int(row["line"]), rule)
        if verdict == "FN":
            if key not in present:
                misses.append(row)
                continue
            verdict = "TP"  # a miss labelled earlier that this run finds: a true positive now
        if key not in present:
            stale.append(row)
            continue
        if key in labelled:
            continue  # one verdict per finding (an FN row and a later TP row for the same line)
        labelled.add(key)
        counts.setdefault(rule, Counter())[verdict] += 1
        if verdict == "TP" and row.get("reason", "").lower().startswith("latent"):
            counts[rule]["latent"] += 1
    unlabelled = Counter(k[3] for k in present if k not in labelled)
    precision = {}
    for rule in RULES:
        tp, fp = counts[rule]["TP"], counts[rule]["FP"]
        precision[rule] = {
            "tp": tp, "fp": fp, "labelled": tp + fp, "unlabelled": unlabelled.get(rule, 0),
            "findings": sum(n for k, n in present.items() if k[3] == rule),
            "precision": round(tp / (tp + fp), 3) if tp + fp else None,
            "latent": counts[rule]["latent"],
            # latent TPs (defect real but not reached by the repo's own code) counted as FP
            "strict_precision": round((tp - counts[rule]["latent"]) / (tp + fp), 3) if tp + fp else None,
        }
    known = []
    for row in _read_csv(known_path):
        if row["repo"] not in scope:
            continue
        rules = RULES if row.get("rules", "*") in ("", "*") else tuple(row["rules"].split())
        lo, hi = int(row["start"]), int(row["end"])
        hits = [f for f in findings
                if f["repo"] == row["repo"] and f["file"] == row["file"] and f["code"] in rules
                and lo <= int(f["line"]) <= hi]
        known.append({"repo": row["repo"], "file": row["file"], "start": lo, "end": hi,
                      "findings": [f"{h['code']}:{h['line']}" for h in hits]})
    return {
        "precision": precision,
        "stale": stale,
        "misses": misses,
        "known_correct": {
            "loops": len(known),
            "clean": sum(1 for k in known if not k["findings"]),
            "flagged": [k for k in known if k["findings"]],
        },
    }


def render(report: dict) -> str:
    lines = ["## Precision from labels.csv", "",
             "| rule | findings | labelled | TP | of which latent | FP | precision | strict precision |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for rule, p in report["precision"].items():
        prec = "n/a" if p["precision"] is None else f"{p['precision']:.2f}"
        strict = "n/a" if p["strict_precision"] is None else f"{p['strict_precision']:.2f}"
        lines.append(f"| {rule} | {p['findings']} | {p['labelled']} | {p['tp']} | {p['latent']} | "
                     f"{p['fp']} | {prec} | {strict} |")
    lines += ["", "precision = TP / labelled; strict precision counts `latent` TPs (a real defect "
              "that the repository's own code never reaches, e.g. a `training=True` default that "
              "every caller overrides) as false positives."]
    kc = report["known_correct"]
    lines += ["", f"Known-correct training code: {kc['clean']} of {kc['loops']} regions have no "
              "finding."]
    for k in kc["flagged"]:
        lines.append(f"- flagged: {k['repo']} {k['file']}:{k['start']}-{k['end']} "
                     f"({', '.join(k['findings'])})")
    if report["misses"]:
        lines += ["", f"Misses (FN) noticed while reading: {len(report['misses'])}"]
        for m in report["misses"]:
            lines.append(f"- {m['rule']} {m['repo']} {m['file']}:{m['line']}: {m['reason']}")
    if report["stale"]:
        lines += ["", f"Stale labels (their finding is gone): {len(report['stale'])}"]
        for s in report["stale"]:
            lines.append(f"- {s['rule']} {s['verdict']} {s['repo']} {s['file']}:{s['line']}")
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    path = Path(argv[0]) if argv else HERE / "results" / "findings.json"
    findings = json.loads(path.read_text(encoding="utf-8"))
    summary = path.with_name("summary.json")
    repos = None
    if summary.exists():  # the run's repositories, also those without findings
        repos = [r["repo"] for r in json.loads(summary.read_text(encoding="utf-8"))["repos"]]
    report = evaluate(findings, HERE / "labels.csv", HERE / "known_correct.csv", repos)
    print(render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
