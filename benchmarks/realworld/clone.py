#!/usr/bin/env python3
"""Clone every manifest repository at its pinned commit.

    python benchmarks/realworld/clone.py CHECKOUTS [--source URL_TEMPLATE]

Makes CHECKOUTS/owner+name for each entry of manifest.yaml,
manifest_heldout.yaml, manifest_heldout2.yaml and manifest_recall.yaml (or the --manifest files given) and checks out
the pinned commit (detached). Existing checkouts are only moved to the
pinned commit. URL_TEMPLATE defaults to https://github.com/{repo}.git;
`{repo}` is owner/name and `{dir}` is owner+name, so a local mirror works
too, e.g. --source /srv/mirrors/{dir} (a bare mirror works).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import load_manifest  # noqa: E402


def sh(*cmd: str) -> int:
    print("+", " ".join(cmd), file=sys.stderr)
    return subprocess.run(cmd).returncode


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkouts")
    ap.add_argument("--manifest", action="append",
                    help="manifest(s) to clone (default: all four manifests)")
    ap.add_argument("--source", default="https://github.com/{repo}.git")
    args = ap.parse_args(argv)
    root = Path(args.checkouts)
    root.mkdir(parents=True, exist_ok=True)
    failed = []
    manifests = args.manifest or [str(HERE / name) for name in
                                  ("manifest.yaml", "manifest_heldout.yaml", "manifest_heldout2.yaml",
                                   "manifest_recall.yaml")]
    entries = [e for m in manifests for e in load_manifest(Path(m))]
    for entry in entries:
        dest = root / entry["dir"]
        if not dest.exists():
            url = args.source.format(repo=entry["repo"], dir=entry["dir"])
            if sh("git", "clone", "--quiet", "--no-checkout", url, str(dest)) != 0:
                failed.append(entry["repo"])
                continue
        if sh("git", "-C", str(dest), "checkout", "--quiet", "--detach", entry["commit"]) != 0:
            failed.append(entry["repo"])
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
