#!/usr/bin/env python3
"""Precision per rule from the hand labels, against a run's findings.

    python benchmarks/realworld/score.py [FINDINGS.json ...]

With several findings files (say the four manifests' results/**/findings.json)
the table is over all of them together.

labels.csv: one row per labelled finding
    repo, file, line, rule, verdict (TP or FP), reason
A label matches the findings of that rule on that line of that file. Labels
whose finding no longer appears (fixed since, or moved) are listed as
stale; findings without a label are counted as unlabelled.

known_correct.csv: training code read by hand and judged correct
    repo, file, start, end, rules, why
Any finding of the listed rules (`*` for BN001-BN003, the rules the
regions were read for) between start and end is a false positive on
known-correct code; a loop with none counts as clean. Misses noticed while reading are in labels.csv with verdict FN; an
FN row whose finding a later run reports counts as a TP of that run.

Every rule code bnlint has (rules/*.yaml), and any other code of the
run's findings or of the labels, is scored: not a fixed list. BN8xx
(runtime) and BN9xx (file-level) codes say nothing about the mode and are
left out. Each rule shows its default (on/off, the spec's `default:`), and
every unlabelled finding is listed.
"""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Dict, Iterable, List, Optional

HERE = Path(__file__).resolve().parent
CORE = ("BN001", "BN002", "BN003")  # known_correct.csv's `*`; always in the table


def is_rule(code: str) -> bool:
    """A code about the code's train/inference mode (BN0xx, BN1xx), not a
    runtime (BN8xx) or file-level (BN9xx) report."""
    return code.startswith("BN") and code[2:3] in ("0", "1")


def known_rules() -> List[str]:
    """The rule codes (BN0xx, BN1xx) of the imported bnlint's specs."""
    from bnlint.specs import load_specs

    return [c for c in load_specs() if is_rule(c)]


def default_on(code: str) -> Optional[bool]:
    """The rule's `default:` from bnlint's spec (rules/CODE.yaml of the bnlint
    that is imported); None when bnlint does not know the code."""
    from bnlint.specs import load_specs

    spec = load_specs().get(code)
    return None if spec is None else bool(spec.default)


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
        if is_rule(f["code"]):
            present[(f["repo"], f["file"], int(f["line"]), f["code"])] += 1
    labels = _read_csv(labels_path)
    rules = sorted(set(CORE) | set(known_rules()) | {k[3] for k in present}
                   | {r["rule"] for r in labels if r["repo"] in scope and is_rule(r["rule"])})
    counts: Dict[str, Counter] = {r: Counter() for r in rules}
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
    for rule in rules:
        tp, fp = counts[rule]["TP"], counts[rule]["FP"]
        precision[rule] = {
            "tp": tp, "fp": fp, "labelled": tp + fp, "unlabelled": unlabelled.get(rule, 0),
            "findings": sum(n for k, n in present.items() if k[3] == rule),
            "precision": round(tp / (tp + fp), 3) if tp + fp else None,
            "default": default_on(rule),
            "latent": counts[rule]["latent"],
            # latent TPs (defect real but not reached by the repo's own code) counted as FP
            "strict_precision": round((tp - counts[rule]["latent"]) / (tp + fp), 3) if tp + fp else None,
        }
    known = []
    for row in _read_csv(known_path):
        if row["repo"] not in scope:
            continue
        rules = CORE if row.get("rules", "*") in ("", "*") else tuple(row["rules"].split())
        lo, hi = int(row["start"]), int(row["end"])
        hits = [f for f in findings
                if f["repo"] == row["repo"] and f["file"] == row["file"] and f["code"] in rules
                and lo <= int(f["line"]) <= hi]
        known.append({"repo": row["repo"], "file": row["file"], "start": lo, "end": hi,
                      "findings": [f"{h['code']}:{h['line']}" for h in hits]})
    return {
        "precision": precision,
        "stale": stale,
        "unlabelled": sorted(k for k in present if k not in labelled),
        "misses": misses,
        "known_correct": {
            "loops": len(known),
            "clean": sum(1 for k in known if not k["findings"]),
            "flagged": [k for k in known if k["findings"]],
        },
    }


def render(report: dict) -> str:
    lines = ["## Precision from labels.csv", "",
             "| rule | default | findings | labelled | TP | of which latent | FP | precision "
             "| strict precision |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for rule, p in report["precision"].items():
        prec = "n/a" if p["precision"] is None else f"{p['precision']:.2f}"
        strict = "n/a" if p["strict_precision"] is None else f"{p['strict_precision']:.2f}"
        default = {True: "on", False: "off", None: "?"}[p.get("default")]
        lines.append(f"| {rule} | {default} | {p['findings']} | {p['labelled']} | {p['tp']} | "
                     f"{p['latent']} | {p['fp']} | {prec} | {strict} |")
    low = [r for r, p in report["precision"].items()
           if p.get("default") and p["precision"] is not None and p["precision"] < 0.95]
    lines += ["", "On-by-default rules below 0.95 precision: " + (", ".join(low) if low else "none") + "."]
    lines += ["", "`findings` counts findings, `labelled` the lines labelled (two findings of one rule "
              "on one line share a label); precision = TP / labelled; strict precision counts "
              "`latent` TPs (a real defect that the repository's own code never reaches, e.g. a "
              "`training=True` default that every caller overrides) as false positives."]
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
    if report.get("unlabelled"):
        lines += ["", f"Unlabelled findings: {len(report['unlabelled'])}"]
        for repo, file, line, rule in report["unlabelled"]:
            lines.append(f"- {rule} {repo} {file}:{line}")
    if report["stale"]:
        lines += ["", f"Stale labels (their finding is gone): {len(report['stale'])}"]
        for s in report["stale"]:
            lines.append(f"- {s['rule']} {s['verdict']} {s['repo']} {s['file']}:{s['line']}")
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    paths = [Path(a) for a in argv] or [HERE / "results" / "findings.json"]
    findings: List[dict] = []
    repos: Optional[List[str]] = []
    for path in paths:
        findings += json.loads(path.read_text(encoding="utf-8"))
        summary = path.with_name("summary.json")
        if summary.exists() and repos is not None:  # the run's repositories, also those without findings
            repos += [r["repo"] for r in json.loads(summary.read_text(encoding="utf-8"))["repos"]]
        else:
            repos = None  # then: the repositories with findings
    report = evaluate(findings, HERE / "labels.csv", HERE / "known_correct.csv", repos)
    print(render(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
