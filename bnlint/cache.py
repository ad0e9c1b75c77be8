"""Content-hash cache of findings under .bnlint_cache/.

Key: the file's bytes, its path, bnlint's version, the config, the rule
data files and the Keras flavour of the environment. Entries are written
atomically (temp file + rename); an unreadable or corrupt entry is a miss,
never a wrong answer.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import List, Optional

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
            if entry.get("key") != key:
                return None
            return [Finding.from_dict(d) for d in entry["findings"]]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, path: str, data: bytes, findings: List[Finding]) -> None:
        if not self.writable:
            return
        key = self._key(path, data)
        target = self._file(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            ignore = self.dir / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# Created by bnlint.\n*\n", encoding="utf-8")
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"key": key, "findings": [f.to_dict() for f in findings]}, fh)
            os.replace(tmp, target)
        except OSError:
            self.writable = False  # read-only tree: run without a cache
