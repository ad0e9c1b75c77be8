#!/usr/bin/env python3
"""Run bnlint over the pinned public repositories of manifest.yaml.

    python benchmarks/realworld/run.py CHECKOUTS [--results DIR] [--select ALL] [--cli]

CHECKOUTS is a folder holding one checkout per manifest entry, named
owner+name (clone.py makes it). For each repository this runs bnlint with
no cache and records its findings, how many files it saw, parsed with
libcst, skipped by the pre-filter, and the wall time. It writes

    results/findings.json   every finding (repo, file relative to the repo, line, ...)
    results/summary.json    per-repository counts and run metadata
    results/summary.md      the same as a markdown table, plus precision
                            from labels.csv (see score.py)

By default bnlint's Python API runs in this process (it reports the
parsed/skipped counts). `--cli` runs the `bnlint` command instead, with
`--output-format json --no-cache`, for a check that the CLI agrees; the
parsed/skipped columns then stay empty.

`--select` is bnlint's rule selection, comma-separated (default `ALL`:
every rule, also those off by default, so that every finding can be
labelled). Tables 1-11 of README.md were made with bnlint's default
selection; `--select BN` reproduces it.

The evaluation pins Keras 3 (`--keras 3`, what `pip install tensorflow`
gives today); files that import tf_keras are still treated as Keras 2, as
bnlint decides that per file.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import platform
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

HERE = Path(__file__).resolve().parent
RULES = ("BN001", "BN002", "BN003")  # always a column of summary.md, even with no finding
META = ("BN901", "BN902", "BN903", "BN904", "BN905")

sys.path.insert(0, str(HERE))
import score  # noqa: E402  (benchmarks/realworld/score.py)


def load_manifest(path: Path) -> List[dict]:
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    repos = data["repos"]
    for entry in repos:
        entry.setdefault("dir", entry["repo"].replace("/", "+"))
    return repos


def git_head(path: Path) -> Optional[str]:
    try:
        out = subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True,
                             text=True, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def _rel(filename: str, root: Path) -> str:
    try:
        return Path(filename).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return filename


def _file_key(rel: str, cell: Optional[int]) -> str:
    """A notebook finding's line counts within its cell: key it as nb.ipynb#cell4."""
    return f"{rel}#cell{cell}" if cell is not None else rel


def run_api(root: Path, keras: str, jobs: Optional[int], select: Tuple[str, ...]) -> dict:
    """bnlint in this process: findings plus the engine's file counts.
    `select`: rule selectors as in bnlint's `select` setting (`ALL`, `BN`, codes)."""
    from dataclasses import replace

    from bnlint.config import Config
    from bnlint.engine import RunStats, lint_paths
    from bnlint.files import discover

    config = replace(Config(), keras=keras, select=tuple(select))
    stats = RunStats()
    start = time.perf_counter()
    files = discover([str(root)], config)
    results = lint_paths(files, config, jobs=jobs, use_cache=False, stats=stats)
    elapsed = time.perf_counter() - start
    findings = [f for r in results for f in r.findings]
    return {
        "findings": [
            {"code": f.code, "file": _file_key(_rel(f.filename, root), getattr(f, "cell", None)),
             "line": f.line, "column": f.column,
             "message": f.message, "flavour": getattr(f, "flavour", None)}
            for f in findings
        ],
        "files": stats.files,
        "parsed": stats.parsed,
        "skipped": stats.skipped,
        "seconds": round(elapsed, 3),
    }


def run_cli(root: Path, keras: str, jobs: Optional[int], bnlint: str,
            select: Tuple[str, ...]) -> dict:
    """The `bnlint` command with JSON output; file counts come from discovery only."""
    cmd = [bnlint, "check", "--output-format", "json", "--no-cache", "--exit-zero",
           "--keras", keras, "--select", ",".join(select), str(root)]
    if jobs:
        cmd[2:2] = ["-j", str(jobs)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.strip()[:500]}")
    raw = json.loads(proc.stdout or "[]")
    files = None
    try:
        from bnlint.config import Config
        from bnlint.files import discover
        files = len(discover([str(root)], Config()))
    except Exception:  # the CLI mode must not depend on the API
        pass
    return {
        "findings": [
            {"code": f["code"], "file": _file_key(_rel(f["filename"], root), f.get("cell")),
             "line": f["line"],
             "column": f["column"], "message": f["message"], "flavour": f.get("flavour")}
            for f in raw
        ],
        "files": files,
        "parsed": None,
        "skipped": None,
        "seconds": round(elapsed, 3),
    }


def bnlint_version() -> str:
    try:
        import bnlint
        return bnlint.__version__
    except Exception:
        return "unknown"


def bnlint_commit() -> Optional[str]:
    return git_head(HERE.parent.parent)


def fmt(value) -> str:
    return "" if value is None else str(value)


def markdown(summary: dict, precision_md: str) -> str:
    """summary.md: one row per repository, a column per rule code that has a
    finding in any repository (BN001-BN003 always), BN9xx summed."""
    rows = summary["repos"]
    codes = sorted(set(RULES) | {k for r in rows for k in r.get("counts", {}) if k not in META})
    lines = [
        "# bnlint on public repositories",
        "",
        f"Run {summary['date']} with bnlint {summary['bnlint_version']}"
        f" (commit {str(summary['bnlint_commit'])[:12]}), {summary['mode']} mode,"
        f" Keras setting `{summary['keras']}`, rule selection `{','.join(summary['select'])}`,"
        f" {summary['python']}.",
        "",
        "| repository | commit | " + " | ".join(codes) + " | BN9xx | files | parsed | skipped | time (s) |",
        "|---|---|" + "---:|" * (len(codes) + 5),
    ]
    tot = Counter()
    for r in rows:
        if r.get("status") != "ok":
            lines.append(f"| {r['repo']} | {r['commit'][:10]} | {r['status']} |" + " |" * (len(codes) + 4))
            continue
        c = r["counts"]
        meta = sum(c.get(m, 0) for m in META)
        lines.append(
            f"| {r['repo']} | {r['commit'][:10]} | " + " | ".join(str(c.get(k, 0)) for k in codes)
            + f" | {meta} | {fmt(r['files'])} | {fmt(r['parsed'])} | "
            f"{fmt(r['skipped'])} | {r['seconds']:.2f} |")
        for k in codes:
            tot[k] += c.get(k, 0)
        tot["meta"] += meta
        for k in ("files", "parsed", "skipped"):
            tot[k] += r[k] or 0
        tot["seconds"] += r["seconds"]
    lines.append(
        f"| **total** ({sum(1 for r in rows if r.get('status') == 'ok')} repos) | | "
        + " | ".join(f"**{tot[k]}**" for k in codes) + f" | {tot['meta']} | "
        f"{tot['files']} | {tot['parsed']} | {tot['skipped']} | {tot['seconds']:.2f} |")
    lines += ["", "`files`: files bnlint looked at; `parsed`: reached libcst; `skipped`: ruled out "
              "by the byte/ast pre-filter. BN9xx: unreadable / unparsable files (mostly Python 2 "
              "sources).", "", precision_md, ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkouts", help="folder holding the owner+name checkouts")
    ap.add_argument("--manifest", default=str(HERE / "manifest.yaml"))
    ap.add_argument("--results", default=str(HERE / "results"), help="output folder")
    ap.add_argument("--labels", default=str(HERE / "labels.csv"))
    ap.add_argument("--known-correct", default=str(HERE / "known_correct.csv"))
    ap.add_argument("--keras", default="3", choices=("auto", "2", "3"))
    ap.add_argument("--select", default="ALL",
                    help="bnlint rule selectors, comma-separated (default ALL; `BN` = bnlint's default)")
    ap.add_argument("--cli", action="store_true", help="run the bnlint command instead of the API")
    ap.add_argument("--bnlint", default=shutil.which("bnlint") or "bnlint",
                    help="bnlint executable for --cli")
    ap.add_argument("-j", "--jobs", type=int, default=None)
    ap.add_argument("--only", action="append", help="only this repo (owner/name), repeatable")
    args = ap.parse_args(argv)
    select = tuple(s.strip() for s in args.select.split(",") if s.strip())

    checkouts = Path(args.checkouts)
    out = Path(args.results)
    out.mkdir(parents=True, exist_ok=True)
    repos = load_manifest(Path(args.manifest))
    if args.only:
        repos = [r for r in repos if r["repo"] in args.only]

    all_findings: List[dict] = []
    rows: List[dict] = []
    for entry in repos:
        root = checkouts / entry["dir"]
        row: Dict[str, object] = {"repo": entry["repo"], "commit": entry["commit"]}
        if not root.is_dir():
            row["status"] = "missing"
            rows.append(row)
            print(f"{entry['repo']}: no checkout at {root}", file=sys.stderr)
            continue
        head = git_head(root)
        if head and head != entry["commit"]:
            print(f"{entry['repo']}: checkout is at {head[:12]}, manifest pins "
                  f"{entry['commit'][:12]}", file=sys.stderr)
            row["checkout_commit"] = head
        res = (run_cli(root, args.keras, args.jobs, args.bnlint, select) if args.cli
               else run_api(root, args.keras, args.jobs, select))
        for f in res["findings"]:
            f["repo"] = entry["repo"]
        res["findings"].sort(key=lambda f: (f["file"], f["line"], f["column"], f["code"]))
        all_findings.extend(res["findings"])
        row.update(status="ok", counts=dict(Counter(f["code"] for f in res["findings"])),
                   files=res["files"], parsed=res["parsed"], skipped=res["skipped"],
                   seconds=res["seconds"])
        rows.append(row)
        c = row["counts"]
        print(f"{entry['repo']:55s} " + " ".join(f"{k}={n}" for k, n in sorted(c.items()))
              + f" files={res['files']} {res['seconds']:.2f}s", file=sys.stderr)

    summary = {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "bnlint_version": bnlint_version(),
        "bnlint_commit": bnlint_commit(),
        "mode": "cli" if args.cli else "api",
        "keras": args.keras,
        "select": list(select),
        "python": f"Python {platform.python_version()}",
        "repos": rows,
    }
    (out / "findings.json").write_text(json.dumps(all_findings, indent=1) + "\n", encoding="utf-8")
    report = score.evaluate(all_findings, Path(args.labels), Path(args.known_correct),
                            [r["repo"] for r in rows])
    summary["precision"] = report["precision"]
    summary["known_correct"] = report["known_correct"]
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    (out / "summary.md").write_text(markdown(summary, score.render(report)), encoding="utf-8")
    print((out / "summary.md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
