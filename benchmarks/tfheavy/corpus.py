#!/usr/bin/env python3
"""Materialise the TF-heavy benchmark corpus: every manifest repository at its pinned commit.

    python benchmarks/tfheavy/corpus.py [DEST] [--manifest M] [--source TEMPLATE] [--all-files]

DEST (default: benchmarks/tfheavy/corpus, git-ignored) gets one folder per
repository, owner+name, holding the tree of the pinned commit. Only `.py`
files are written unless --all-files (the benchmark lints `.py` files; the
notebooks of these repositories are left out so that flake8 and ruff see
the same files as bnlint).

TEMPLATE locates a git directory to read the commit from; `{dir}` is
owner+name and `{repo}` owner/name. The default tries a local mirror
(/work/.mirror/{dir}/repo, bare or with a .git inside) and otherwise clones
https://github.com/{repo}.git into DEST/.git-cache/{dir}. Blobs a mirror
lacks (large files are often left out of snapshots) are skipped and
counted; a missing `.py` blob is reported as an error.

Also importable: `materialise(git_dir, commit, dest, keep)` -> (written, missing),
used by benchmarks/realworld/recall.py.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable, List, Optional, Tuple

import yaml

HERE = Path(__file__).resolve().parent
MIRROR = "/work/.mirror/{dir}/repo"


def load_manifest(path: Path) -> List[dict]:
    """Entries of a manifest (`repos:` list of repo/commit/...), each with `dir` = owner+name."""
    with open(path, encoding="utf-8") as fh:
        repos = yaml.safe_load(fh)["repos"]
    for entry in repos:
        entry.setdefault("dir", entry["repo"].replace("/", "+"))
    return repos


def find_git_dir(entry: dict, template: Optional[str], cache: Path) -> Optional[str]:
    """A git directory holding entry['commit']: the template's, a local mirror, or a fresh clone."""
    candidates = []
    if template:
        candidates.append(template.format(dir=entry["dir"], repo=entry["repo"]))
    candidates.append(MIRROR.format(dir=entry["dir"]))
    for cand in candidates:
        for gd in (os.path.join(cand, ".git"), cand):
            if os.path.isdir(gd) and subprocess.run(
                    ["git", "--git-dir", gd, "cat-file", "-e", entry["commit"] + "^{commit}"],
                    capture_output=True).returncode == 0:
                return gd
    clone = cache / entry["dir"]
    if not clone.exists():
        url = f"https://github.com/{entry['repo']}.git"
        if subprocess.run(["git", "clone", "--quiet", "--bare", url, str(clone)]).returncode:
            return None
    return str(clone)


def materialise(git_dir: str, commit: str, dest: Path,
                keep: Callable[[str], bool] = lambda p: p.endswith(".py")) -> Tuple[int, List[str]]:
    """Write the blobs of `commit` whose path passes `keep` under `dest`.

    Returns (files written, paths whose blob the git directory lacks).
    Symlinks and submodules are skipped.
    """
    tree = subprocess.run(["git", "--git-dir", git_dir, "ls-tree", "-r", "-z", commit],
                          capture_output=True, check=True).stdout
    wanted = []
    for rec in tree.split(b"\0"):
        if not rec:
            continue
        meta, path = rec.split(b"\t", 1)
        mode, kind, sha = meta.split()
        name = path.decode("utf-8", "surrogateescape")
        if kind == b"blob" and mode in (b"100644", b"100755") and keep(name):
            wanted.append((sha.decode(), name))
    written, missing = 0, []
    if not wanted:
        return 0, []
    proc = subprocess.Popen(["git", "--git-dir", git_dir, "cat-file", "--batch"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin and proc.stdout
    for sha, name in wanted:
        proc.stdin.write(sha.encode() + b"\n")
        proc.stdin.flush()
        header = proc.stdout.readline().split()
        if len(header) < 3 or header[1] == b"missing":
            missing.append(name)
            continue
        data = proc.stdout.read(int(header[2]))
        proc.stdout.read(1)  # the newline after each object
        out = dest / name
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        written += 1
    proc.stdin.close()
    proc.wait()
    return written, missing


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dest", nargs="?", default=str(HERE / "corpus"))
    ap.add_argument("--manifest", default=str(HERE / "manifest.yaml"))
    ap.add_argument("--source", default=None, help="git directory template ({dir}, {repo})")
    ap.add_argument("--all-files", action="store_true", help="write every file, not only .py")
    args = ap.parse_args(argv)
    dest = Path(args.dest)
    cache = dest / ".git-cache"
    keep = (lambda p: True) if args.all_files else (lambda p: p.endswith(".py"))
    total, failed = 0, []
    for entry in load_manifest(Path(args.manifest)):
        target = dest / entry["dir"]
        if target.exists():
            n = sum(1 for _ in target.rglob("*.py"))
            print(f"{entry['repo']}: present ({n} .py)")
            total += n
            continue
        git_dir = find_git_dir(entry, args.source, cache)
        if git_dir is None:
            failed.append(entry["repo"])
            continue
        n, missing = materialise(git_dir, entry["commit"], target, keep)
        bad = [m for m in missing if m.endswith(".py")]
        print(f"{entry['repo']}@{entry['commit'][:10]}: {n} files"
              + (f", {len(missing)} blobs absent from the mirror" if missing else ""))
        if bad:
            failed.append(f"{entry['repo']} ({len(bad)} .py blobs missing)")
        total += n
    print(f"total: {total} files under {dest}")
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
