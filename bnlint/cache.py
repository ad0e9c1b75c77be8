"""Content-hash cache of findings under .bnlint_cache/.

Key: the file's bytes, its path, bnlint's version, the config, the rule
data files and the Keras flavour of the environment. Entries are written
atomically (temp file + rename), so two runs at once never see half an
entry; each entry carries the SHA-256 of its findings, so a truncated or
bit-flipped entry (a full disk, a bad copy) is a miss, never a wrong answer.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import List, Optional, Sequence

from . import __version__
from .config import Config
from .finding import Finding
from .flavour import installed_flavour
from .resources import rules_dir

CACHE_DIR_NAME = ".bnlint_cache"


@lru_cache(maxsize=1)
def _rules_digest() -> str:
    h = hashlib.sha256()
    for path in sorted(rules_dir().glob("*.yaml")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


class Cache:
    def __init__(self, directory: Optional[str], config: Config) -> None:
        root = Path(directory) if directory else Path(config.root or os.getcwd()) / CACHE_DIR_NAME
        self.dir = root
        salt = "\0".join((__version__, config.cache_key(), _rules_digest(), installed_flavour()))
        self.salt = salt.encode()
        self.writable = True

    def _key(self, path: str, data: bytes) -> str:
        h = hashlib.sha256(self.salt)
        h.update(b"\0" + os.fsencode(path) + b"\0")
        h.update(data)
        return h.hexdigest()

    def _file(self, key: str) -> Path:
        return self.dir / key[:2] / f"{key}.json"

    def get(self, path: str, data: bytes) -> Optional[List[Finding]]:
        key = self._key(path, data)
        try:
            with open(self._file(key), "r", encoding="utf-8") as fh:
                entry = json.load(fh)
            payload = entry["findings"]
            if entry["key"] != key or entry["sha256"] != hashlib.sha256(payload.encode()).hexdigest():
                return None
            findings = [Finding.from_dict(d) for d in json.loads(payload)]
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        if not all(_well_typed(f, path) for f in findings):
            return None
        if not _dependencies_unchanged(entry.get("dependencies", [])):
            return None
        return findings

    def put(self, path: str, data: bytes, findings: List[Finding],
            dependencies: Sequence[str] = ()) -> None:
        if not self.writable:
            return
        key = self._key(path, data)
        target = self._file(key)
        try:
            payload = json.dumps([f.to_dict() for f in findings])
        except (TypeError, ValueError):
            return  # not serialisable (a bug elsewhere): just not cached
        entry = {"key": key, "sha256": hashlib.sha256(payload.encode()).hexdigest(), "findings": payload,
                 "dependencies": [[dep, _digest_of(dep)] for dep in dependencies]}
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            ignore = self.dir / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# Created by bnlint.\n*\n", encoding="utf-8")
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(entry, fh)
                os.replace(tmp, target)
            except BaseException:
                _unlink_quietly(tmp)
                raise
        except OSError:
            self.writable = False  # read-only tree or a full disk: run without a cache


def _digest_of(path: str) -> Optional[str]:
    try:
        with open(path, "rb") as fh:
            return hashlib.sha256(fh.read()).hexdigest()
    except OSError:
        return None


def _dependencies_unchanged(dependencies) -> bool:
    """Each [path, sha256] a cached result was computed from still holds
    (a null digest: the file did not exist, and still must not)."""
    try:
        return all(_digest_of(dep) == digest for dep, digest in dependencies)
    except (TypeError, ValueError):
        return False


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _well_typed(f: Finding, path: str) -> bool:
    """A cached finding must look like one bnlint made for this very file."""
    ints = (f.line, f.column, f.end_line, f.end_column)
    return (isinstance(f.code, str) and isinstance(f.message, str) and f.filename == path
            and all(isinstance(n, int) and not isinstance(n, bool) for n in ints)
            and (f.cell is None or isinstance(f.cell, int)))
