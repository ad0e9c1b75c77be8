#!/usr/bin/env python3
"""The whole real-world evaluation in one command.

    python benchmarks/realworld/evaluate.py CHECKOUTS [--cli]

Runs run.py on manifest.yaml (results/), manifest_heldout.yaml
(results/heldout/), manifest_heldout2.yaml (results/heldout2/) and
manifest_recall.yaml (results/recall_set/), then the recall probe mutate.py
(results/mutants.json) and the recall scorer recall.py (results/recall.json),
and prints the precision tables, the probe summary and the recall table.
CHECKOUTS is the folder clone.py filled.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkouts")
    ap.add_argument("--cli", action="store_true", help="pass --cli to run.py")
    args = ap.parse_args(argv)
    py = sys.executable
    extra = ["--cli"] if args.cli else []
    runs = [
        ("main set", HERE / "manifest.yaml", HERE / "results"),
        ("held-out set", HERE / "manifest_heldout.yaml", HERE / "results" / "heldout"),
        ("second held-out set", HERE / "manifest_heldout2.yaml", HERE / "results" / "heldout2"),
        ("recall set", HERE / "manifest_recall.yaml", HERE / "results" / "recall_set"),
    ]
    for title, manifest, results in runs:
        print(f"== {title}: {manifest.name} -> {results.relative_to(HERE)}", flush=True)
        rc = subprocess.run([py, str(HERE / "run.py"), args.checkouts, "--manifest", str(manifest),
                             "--results", str(results)] + extra, stdout=subprocess.DEVNULL).returncode
        if rc:
            return rc
        text = (results / "summary.md").read_text(encoding="utf-8")
        print(text[text.index("## Precision"):])
    print("== recall probe (mutate.py)", flush=True)
    out = subprocess.run([py, str(HERE / "mutate.py"), args.checkouts], capture_output=True, text=True)
    print(out.stdout)
    if out.returncode:
        return out.returncode
    print("== recall on bugs labelled by reading (recall.py)", flush=True)
    out = subprocess.run([py, str(HERE / "recall.py"), args.checkouts], capture_output=True, text=True)
    print(out.stdout)
    return out.returncode


if __name__ == "__main__":
    sys.exit(main())
