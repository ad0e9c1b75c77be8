"""Content-hash cache of findings, kept in the user's cache directory.

The cache is untrusted input: a repository can commit files where a cache
might be, and anyone can compute a content hash. So:

- Where: `$XDG_CACHE_HOME/bnlint/projects/<sha256 of the project's real
  absolute path>/` (`~/.cache/...` without XDG_CACHE_HOME), never inside
  the linted tree unless `--cache-dir` says so.
- Bound to the user: each entry carries an HMAC-SHA256 under a per-user
  secret (`$XDG_CACHE_HOME/bnlint/secret`, 32 random bytes, mode 0600,
  checked to be a regular file of this user that nobody else can read).
  An entry made anywhere else (a committed `.bnlint_cache/`, another user)
  is a miss, so it can neither hide a finding nor inject one.
- Bounded: an entry is read only if it is a regular file (opened without
  following a symlink, without blocking on a FIFO) of at most
  MAX_ENTRY_BYTES; a dependency is hashed only if it is a regular file of
  at most MAX_DEPENDENCY_BYTES (a dependency named `/dev/zero` or a FIFO is
  a miss, never a hang or a memory blow-up). On disk: the stat index
  keeps the MAX_KEYS_PER_PATH newest entries and skips of each path and
  deletes the older ones (an edited file's earlier versions), and every
  SWEEP_EVERY entries written, entry files no path keeps (files no longer
  linted, a concurrent run's lost index) are swept once older than
  SWEEP_AGE_SECONDS; the index itself is bounded by MAX_INDEX_BYTES.
- Not written through links: the cache directory and its shard
  directories must not be symlinks; temp files are created exclusively and
  renamed into place.

Key: the file's bytes (their sha256), its path as given and its real path
(the same relative path from another folder is another file), bnlint's
version and code (the stat of its modules: an edited checkout is a new
key), the config, the rule data files and the Keras flavour. An entry also
lists the other files its result rests on (sibling modules read, candidates
found absent, the project root markers and `sys.path` folders that decided
where to look; a directory counts by its presence), each with its digest;
one changed less than RACY_SECONDS before the run began, or during it, is
not recorded (the result may rest on other bytes than the ones hashed). Entries are written
atomically (temp file + rename), so two runs at once never see half an
entry; a truncated or altered entry fails its HMAC and is a miss, never a
wrong answer.

The stat index (`StatIndex`, one file `index` per cache directory, under
the same HMAC, bounds and no-link rules) lets a warm run skip reading
files: for each path it keeps the sha256 of the bytes last read with the
stat that went with them (size, mtime and ctime in ns, inode, device,
mode, as ruff keys its cache by path, mtime, size and permissions), and
the keys of files the byte pre-filter ruled out, each with the digests of
the project modules it read to decide (and the candidate paths it found
absent, which must stay absent). A path whose stat is
unchanged has the recorded digest; any difference, and any file changed
less than RACY_SECONDS before it was read (the same timestamp could hide
a second edit, git's "racy" case), is read and hashed again: the content
hash stays the truth. Dependencies (sibling modules) are checked the same
way, stat first.
"""

from __future__ import annotations

import copy
import errno
import hashlib
import hmac
import json
import os
import stat
import tempfile
import time
from functools import lru_cache
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from . import __version__
from .bounded import TooLarge, read_regular_file
from .config import Config
from .finding import Finding
from .flavour import installed_flavour
from .resources import rules_dir

CACHE_DIR_NAME = ".bnlint_cache"  # the old in-tree location (still excluded from linting)
MAX_ENTRY_BYTES = 16 * 1024 * 1024  # bytes; a larger entry is a miss
MAX_DEPENDENCY_BYTES = 8 * 1024 * 1024  # bytes; as engine.MAX_FILE_BYTES
MAX_INDEX_BYTES = 64 * 1024 * 1024  # bytes; a larger stat index is not read (every file is then hashed)
MAX_INDEX_SKIPS = 500_000  # pre-filter decisions kept; past this only the last run's are written
RACY_SECONDS = 2  # a file changed this recently when read is hashed again next time
SECRET_BYTES = 32
INDEX_NAME = "index"
DIRECTORY = "directory"  # the recorded "digest" of a dependency that is a directory (no sha256 is this)
_INDEX_MAGIC = b"bnlint-stat-index 3\n"
# Entries live in shard directories named by the first hex digit of their
# key: 16 directories, not 256 (a directory made costs about 1 ms on an
# overlay file system: a cold run over 1867 files made 235 of them).
SHARD_LENGTH = 1
MAX_KEYS_PER_PATH = 4  # entries and skips kept per path (configs, older versions); older ones are deleted
SWEEP_EVERY = 1000  # entries written between two sweeps of the entries no path keeps
SWEEP_AGE_SECONDS = 3600  # a file younger than this is never swept (a concurrent run may have just made it)

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


@lru_cache(maxsize=1)
def _rules_digest() -> str:
    h = hashlib.sha256()
    for path in sorted(rules_dir().glob("*.yaml")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


@lru_cache(maxsize=1)
def _code_digest(root: Optional[Path] = None) -> str:
    """sha256 over the (relative path, size, mtime in ns) of every `.py`
    file of the bnlint package: an edited bnlint (an editable install, a
    source checkout) never reads results an earlier copy of its code cached
    under the same version. Stats only (about 100 files), no reads.
    `root`: another package directory (tests); by default bnlint's."""
    root = root or Path(__file__).resolve().parent
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith(".py"):
                full = os.path.join(dirpath, name)
                try:
                    st = os.stat(full)
                except OSError:
                    continue
                h.update(f"{os.path.relpath(full, root)}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    return h.hexdigest()


def user_cache_root() -> Path:
    """`$XDG_CACHE_HOME/bnlint` (an absolute XDG_CACHE_HOME only, as the XDG
    spec says), else `~/.cache/bnlint`."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "bnlint"


def default_cache_dir(project_root: str) -> Path:
    """The cache directory of the project at `project_root` (any path to it)."""
    real = os.path.realpath(os.path.abspath(project_root))
    return user_cache_root() / "projects" / hashlib.sha256(os.fsencode(real)).hexdigest()[:32]


def read_bounded(path: str, limit: int, follow: bool = False) -> Optional[bytes]:
    """The bytes of the regular file at `path` if it has at most `limit`
    bytes, else None (missing, too large, a directory, FIFO, device or
    socket, or a symlink when not `follow`). Never blocks on a FIFO
    (bounded.read_regular_file)."""
    try:
        return read_regular_file(path, limit, follow=follow)
    except (OSError, ValueError, TooLarge):
        return None


def _secret_ok(st: os.stat_result) -> bool:
    return (stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid()
            and not st.st_mode & 0o077 and st.st_size == SECRET_BYTES)


def user_secret(root: Optional[Path] = None) -> Optional[bytes]:
    """The per-user HMAC key in `root` (user_cache_root()), made on first
    use; None when it cannot be made or is not trustworthy (then there is
    no cache)."""
    root = root or user_cache_root()
    path = root / "secret"
    for _ in range(2):
        try:
            fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC)
        except FileNotFoundError:
            if not _make_secret(root, path):
                return None
            continue
        except OSError:
            return None
        try:
            if not _secret_ok(os.fstat(fd)):
                return None
            data = os.read(fd, SECRET_BYTES + 1)
        except OSError:
            return None
        finally:
            os.close(fd)
        return data if len(data) == SECRET_BYTES else None
    return None


def _make_secret(root: Path, path: Path) -> bool:
    """Create the secret whole or not at all: a private temp file, linked
    to its name only if no one else got there first."""
    try:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=root, prefix=".secret-")  # mode 0600
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(os.urandom(SECRET_BYTES))
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another run made it first: use theirs
        return True
    except OSError:
        return False
    finally:
        _unlink_quietly(tmp)


def _real_path(path: str, folders: Optional[dict] = None) -> str:
    """os.path.realpath of `path`, or `path` itself when that fails.
    `folders`: a memo of the real path of each folder, for one run (a file
    that is not a symlink is its real folder joined with its name)."""
    try:
        if folders is None or os.path.islink(path):
            return os.path.realpath(path)
        folder, name = os.path.split(path)
        return os.path.join(_real_folder(folder, folders), name)
    except (OSError, ValueError):
        return path


def _real_folder(folder: str, folders: dict) -> str:
    """os.path.realpath(folder), from its parent's (memo `folders`): one
    lstat per folder instead of one per component of each."""
    if folder in folders:
        return folders[folder]
    parent, name = os.path.split(folder)
    if name in ("", ".", "..") or parent == folder:
        real = os.path.realpath(folder or os.curdir)
    else:
        real = os.path.join(_real_folder(parent, folders) if parent else os.path.realpath(os.curdir), name)
        if os.path.islink(real):
            real = os.path.realpath(real)
    folders[folder] = real
    return real


def _real_dir(path: Path) -> bool:
    """A directory that is not a symlink."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _salt(config: Config, fixes: bool = True) -> bytes:
    """What besides a file's path and bytes decides its findings (with or
    without their fixes)."""
    parts = (__version__, _code_digest(), config.cache_key(), _rules_digest(), installed_flavour()) + (() if fixes else ("no fixes",))
    return "\0".join(parts).encode()


class Cache:
    """Findings by (path, content, config); see the module docstring.

    `directory`: `--cache-dir`, else default_cache_dir(config.root or the
    working directory). `secret`: the HMAC key (tests); by default the
    user's (user_secret)."""

    def __init__(self, directory: Optional[str], config: Config, secret: Optional[bytes] = None,
                 fixes: bool = True) -> None:
        """`fixes`: entries hold findings with their fixes (False: without;
        the two kinds have different keys)."""
        self.dir = Path(directory) if directory else default_cache_dir(config.root or os.getcwd())
        self.in_user_dir = directory is None
        self.fixes = fixes
        self.salt = _salt(config, fixes)
        self.secret = secret if secret is not None else user_secret()
        self.writable = self.secret is not None
        self.index: Optional["StatIndex"] = None  # set by open_index()
        self._ready: set = set()  # directories checked (made, not a link) by this object and its copies
        self._real_folders: dict = {}  # folder -> its realpath, for this run (key_for)

    def open_index(self) -> "StatIndex":
        """The stat index of this cache directory (read once; empty when
        missing, damaged or of another secret), shared by for_config copies."""
        if self.index is None:
            self.index = StatIndex.load(self)
        return self.index

    def for_config(self, config: Config) -> "Cache":
        """A cache in the same directory, with the same key, for files linted
        with another `config` (config per file: each entry's key includes
        its config)."""
        other = copy.copy(self)
        other.salt = _salt(config, self.fixes)
        return other

    def _key(self, path: str, data: bytes) -> str:
        return self.key_for(path, hashlib.sha256(data).hexdigest())

    def key_for(self, path: str, digest: str) -> str:
        """The entry key of `path` whose bytes have sha256 `digest` (hex)
        under this cache's salt (version, bnlint's code, config, rule data,
        flavour). The key holds the path as given (findings name it) and
        the file it is now (os.path.realpath): the same relative path from
        another working directory, or a symlink pointed elsewhere, is
        another file, with other sibling modules and per-file-ignores."""
        h = hashlib.sha256(self.salt)
        h.update(b"\0" + os.fsencode(path) + b"\0" + os.fsencode(_real_path(path, self._real_folders))
                 + b"\0" + digest.encode("ascii"))
        return h.hexdigest()

    def _mac(self, key: str, payload: str, dependencies: str) -> str:
        message = "\0".join((key, payload, dependencies)).encode("utf-8", "surrogatepass")
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def _file(self, key: str) -> Path:
        return self.dir / key[:SHARD_LENGTH] / f"{key}.json"

    def get(self, path: str, data: bytes) -> Optional[List[Finding]]:
        """The findings cached for `path` with these bytes, or None (a miss)."""
        return self.lookup(path, self._key(path, data))

    def lookup(self, path: str, key: str) -> Optional[List[Finding]]:
        """The findings of the entry `key` (key_for) for `path`, or None: no
        entry, a bad one (HMAC, shape, bounds), or a changed dependency."""
        if self.secret is None:
            return None
        raw = read_bounded(str(self._file(key)), MAX_ENTRY_BYTES)
        if raw is None:
            return None
        try:
            entry = json.loads(raw)
            payload, dependencies = entry["findings"], entry["dependencies"]
            if not isinstance(payload, str) or not isinstance(dependencies, str) or entry["key"] != key:
                return None
            if not hmac.compare_digest(str(entry["mac"]), self._mac(key, payload, dependencies)):
                return None
            findings = [Finding.from_dict(d) for d in json.loads(payload)]
            deps = json.loads(dependencies)
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            return None
        if not all(_well_typed(f, path) for f in findings):
            return None
        if not _dependencies_unchanged(deps, self.index):
            return None
        return findings

    def put(self, path: str, data: bytes, findings: List[Finding],
            dependencies: Sequence[str] = (), key: Optional[str] = None) -> None:
        """Store `findings` for `path` with these bytes (`key`: their
        key_for, when already known), and the digests of `dependencies`."""
        if not self.writable:
            return
        key = key or self._key(path, data)
        target = self._file(key)
        digests = []
        for dep in dependencies:
            ok, digest = _digest_of(dep, self.index, settled=True)
            if not ok:
                return  # a dependency we cannot hash safely: not cached
            digests.append([dep, digest])
        try:
            payload = json.dumps([f.to_dict() for f in findings])
            deps = json.dumps(digests)
        except (TypeError, ValueError):
            return  # not serialisable (a bug elsewhere): just not cached
        entry = {"key": key, "findings": payload, "dependencies": deps, "mac": self._mac(key, payload, deps)}
        self._write(target, json.dumps(entry).encode("utf-8"), shard=True)
        if self.writable and self.index is not None:
            self.index.keep(path, key, put=True)

    def forget(self, key: str) -> None:
        """Delete the entry `key` (if it is a file in a real shard directory;
        a key is 64 hex digits, never a path)."""
        if not _sweepable(f"{key}.json") or key.startswith("."):
            return
        target = self._file(key)
        if _real_dir(target.parent):
            _unlink_quietly(str(target))

    def sweep(self) -> None:
        """Delete the entry files (and stale temp files) that no path of the
        index keeps, older than SWEEP_AGE_SECONDS; never through a link (a
        linked shard is not entered, a link in a shard is removed itself)."""
        keep = {k for keys in self.index.keys.values() for k in keys} if self.index is not None else set()
        old = time.time() - SWEEP_AGE_SECONDS
        try:
            shards = [e for e in os.scandir(self.dir) if e.is_dir(follow_symlinks=False)
                      and len(e.name) == SHARD_LENGTH]
        except OSError:
            return
        for shard in shards:
            try:
                files = list(os.scandir(shard.path))
            except OSError:
                continue
            for entry in files:
                try:
                    if _sweepable(entry.name) and entry.name[:64] not in keep \
                            and not entry.is_dir(follow_symlinks=False) \
                            and entry.stat(follow_symlinks=False).st_mtime < old:
                        os.unlink(entry.path)
                except OSError:
                    continue

    def _write(self, target: Path, data: bytes, shard: bool) -> None:
        """Write `data` to `target` (in the cache directory, or in a shard
        directory of it) atomically, never through a symlinked directory."""
        try:
            if self.dir not in self._ready:
                self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
                if not _real_dir(self.dir):
                    self.writable = False  # a symlinked cache directory is not written through
                    return
                if not self.in_user_dir:
                    _write_gitignore(self.dir)
                self._ready.add(self.dir)
            if shard and target.parent not in self._ready:
                target.parent.mkdir(exist_ok=True, mode=0o700)
                if not _real_dir(target.parent):
                    return  # nor a symlinked shard
                self._ready.add(target.parent)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, target)
            except BaseException:
                _unlink_quietly(tmp)
                raise
        except OSError:
            self.writable = False  # read-only tree or a full disk: run without a cache


def _sweepable(name: str) -> bool:
    """An entry file's name (64 hex digits + .json) or a temp file's."""
    if name.startswith(".tmp-"):
        return name.endswith(".json")
    return len(name) == 69 and name.endswith(".json") and all(c in "0123456789abcdef" for c in name[:64])


def _write_gitignore(directory: Path) -> None:
    """`*` in a `--cache-dir` inside a repository; created exclusively,
    never through a symlink."""
    try:
        fd = os.open(directory / ".gitignore", os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno in (errno.EEXIST, errno.ELOOP):
            return
        raise
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("# Created by bnlint.\n*\n")


def _digest_of(path: str, index: Optional["StatIndex"] = None,
               settled: bool = False) -> Tuple[bool, Optional[str]]:
    """(True, sha256) for a regular file within MAX_DEPENDENCY_BYTES,
    (True, None) when nothing is there, (True, DIRECTORY) for a directory
    (a project root marker such as `.git`, a `sys.path` folder: only its
    presence counts), (False, None) for anything else (a device, a FIFO,
    too large, unreadable): never blocks or reads without bound.

    With an `index`, a file whose stat is unchanged since it was last
    hashed is not read again (StatIndex.digest), and each path is looked
    at once per run (StatIndex.run). `settled`: (False, None) also for a
    file changed less than RACY_SECONDS before this run began, or during
    it: a result computed from it may rest on other bytes than the ones
    hashed here, so it is not recorded."""
    if index is None or not isinstance(path, str):
        return _look(path, None)[:2]
    if path not in index.run:
        index.run[path] = _look(path, index)
    ok, digest, changed = index.run[path]
    if settled and changed is not None and changed > index.started_ns - RACY_SECONDS * 10**9:
        return False, None
    return ok, digest


def _look(path: str, index: Optional["StatIndex"]) -> Tuple[bool, Optional[str], Optional[int]]:
    """_digest_of's answer, with the time (ns) the file last changed (its
    mtime or ctime, the later; None when nothing is there or a directory)."""
    if not isinstance(path, str):
        return False, None, None
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):  # nothing there (a folder on the way is a file)
        return True, None, None
    except (OSError, ValueError):
        return False, None, None
    if stat.S_ISDIR(st.st_mode):
        return True, DIRECTORY, None
    changed = max(st.st_mtime_ns, st.st_ctime_ns)
    if index is not None and stat.S_ISREG(st.st_mode):
        known = index.digest(path, st)
        if known is not None:
            return True, known, changed
    data = read_bounded(path, MAX_DEPENDENCY_BYTES, follow=True)
    if data is None:
        return False, None, None
    digest = hashlib.sha256(data).hexdigest()
    if index is not None:
        index.observe(path, st, digest)
    return True, digest, changed


def _dependencies_unchanged(dependencies, index: Optional["StatIndex"] = None) -> bool:
    """Each [path, sha256] a cached result was computed from still holds
    (a null digest: the file did not exist, and still must not)."""
    try:
        for dep, digest in dependencies:
            ok, now = _digest_of(dep, index)
            if not ok or now != digest:
                return False
        return True
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


def stat_signature(st: os.stat_result) -> List[int]:
    """What of a stat must be unchanged for a file's bytes to count as
    unchanged: size, mtime and ctime (ns), inode, device, mode."""
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev, st.st_mode]


class StatIndex:
    """Path -> (stat signature, sha256 of the bytes), and the entry keys of
    files the byte pre-filter ruled out, for one cache directory (see the
    module docstring). Stored as one file: a magic line, the HMAC-SHA256
    (hex) of the JSON payload under the user's secret, the payload. A
    damaged, oversized, linked or foreign index is read as empty."""

    def __init__(self, cache: Cache, files: Optional[dict] = None, skips: Optional[dict] = None) -> None:
        self.cache = cache
        self.files: dict = files if files is not None else {}  # path -> [signature list, digest]
        # entry key -> [[path, sha256 or None], ...]: the project modules the
        # pre-filter read to rule the file out (empty: its bytes alone)
        self.skips: dict = skips if skips is not None else {}
        self.new_skips: set = set()
        # path -> the entry/skip keys kept for it, newest first (at most MAX_KEYS_PER_PATH)
        self.keys: dict = {}
        self.puts = 0  # entries written since the last sweep
        self.seen: set = set()  # paths this run looked up or recorded
        self.run: dict = {}  # path -> _look's answer in this run (each dependency looked at once)
        self.started_ns = time.time_ns()  # when this run began (the index is loaded first)
        self.dirty = False

    @property
    def path(self) -> Path:
        return self.cache.dir / INDEX_NAME

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self.cache.secret, _INDEX_MAGIC + payload, hashlib.sha256).hexdigest().encode()

    @classmethod
    def load(cls, cache: Cache) -> "StatIndex":
        index = cls(cache)
        if cache.secret is None:
            return index
        raw = read_bounded(str(index.path), MAX_INDEX_BYTES)
        if raw is None or not raw.startswith(_INDEX_MAGIC):
            return index
        mac, _, payload = raw[len(_INDEX_MAGIC):].partition(b"\n")
        if not hmac.compare_digest(mac, index._mac(payload)):
            return index
        try:
            data = json.loads(payload)
            files, skips, keys, puts = data["files"], data["skips"], data["keys"], data["puts"]
            if not isinstance(files, dict) or not isinstance(skips, dict) or not isinstance(keys, dict) \
                    or not isinstance(puts, int):
                return index
            index.files = {p: v for p, v in files.items() if _well_formed_record(v)}
            index.skips = {k: v for k, v in skips.items() if isinstance(v, list)}
            index.keys = {p: v[:MAX_KEYS_PER_PATH] for p, v in keys.items()
                          if isinstance(v, list) and all(isinstance(k, str) for k in v)}
            index.puts = puts
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            return cls(cache)
        return index

    def digest(self, path: str, st: os.stat_result) -> Optional[str]:
        """The recorded sha256 of `path` if `st` (its stat now) is the one
        recorded with it, else None (read and hash the file)."""
        self.seen.add(path)
        record = self.files.get(path)
        if record is None or record[0] != stat_signature(st):
            return None
        return record[1]

    def observe(self, path: str, st: os.stat_result, digest: str) -> None:
        """`path` had stat `st` (taken before its bytes were read) and bytes
        of sha256 `digest`. A file changed within RACY_SECONDS of now is
        recorded without its stat, so it is hashed again next time."""
        signature = stat_signature(st)
        racy = max(st.st_mtime_ns, st.st_ctime_ns) > time.time_ns() - RACY_SECONDS * 10**9
        record = [None if racy else signature, digest]
        self.seen.add(path)
        if self.files.get(path) != record:
            self.files[path] = record
            self.dirty = True

    def _payload(self, files: dict, skips: dict, keys: dict) -> bytes:
        return json.dumps({"files": files, "skips": skips, "keys": keys, "puts": self.puts}, separators=(",", ":"),
                          sort_keys=True).encode("utf-8", "surrogatepass")

    def keep(self, path: str, key: str, put: bool = False) -> None:
        """`key` (an entry or a skip of `path`) is the newest of that path:
        of its keys, the MAX_KEYS_PER_PATH newest are kept, and the entry
        files and skips of the older ones deleted (an edited file's old
        versions, configs no longer used), so the cache does not grow with
        every edit. `put`: an entry file was written (counts to a sweep)."""
        old = self.keys.get(path, [])
        self.puts += int(put)
        if old[:1] == [key]:
            return
        new = [key] + [k for k in old if k != key]
        self.keys[path] = new[:MAX_KEYS_PER_PATH]
        self.dirty = True
        for gone in new[MAX_KEYS_PER_PATH:]:
            if self.skips.pop(gone, None) is not None:
                self.new_skips.discard(gone)
            self.cache.forget(gone)

    def skipped(self, key: str) -> bool:
        """Did the pre-filter rule out the file of entry `key` (key_for),
        with every project module it read then still as it was?"""
        deps = self.skips.get(key)
        return deps is not None and (not deps or _dependencies_unchanged(deps, self))

    def add_skip(self, key: str, dependencies: Sequence[str] = (), path: Optional[str] = None) -> None:
        """The pre-filter ruled out the file of entry `key`, having read
        `dependencies` (paths; absent ones too). Not kept when one of them
        cannot be hashed safely (_digest_of). `path`: the file's (keep)."""
        digests = []
        for dep in dict.fromkeys(dependencies):
            ok, digest = _digest_of(dep, self, settled=True)
            if not ok:
                return
            digests.append([dep, digest])
        if self.skips.get(key) != digests:
            self.skips[key] = digests
            self.new_skips.add(key)
            self.dirty = True
        if path is not None:
            self.keep(path, key)

    def save(self) -> None:
        """Write the index if anything changed (atomically; a concurrent run's
        additions may be lost, which costs only a re-hash)."""
        if not self.dirty or not self.cache.writable:
            return
        if self.puts >= SWEEP_EVERY:
            self.cache.sweep()
            self.puts = 0
        new = {k: self.skips[k] for k in self.new_skips if k in self.skips}
        skips = self.skips if len(self.skips) <= MAX_INDEX_SKIPS else new
        payload = self._payload(self.files, skips, self.keys)
        if len(payload) > MAX_INDEX_BYTES - 200:  # too big: keep what this run saw
            payload = self._payload({p: r for p, r in self.files.items() if p in self.seen}, new,
                                    {p: k for p, k in self.keys.items() if p in self.seen})
            if len(payload) > MAX_INDEX_BYTES - 200:
                return
        self.cache._write(self.path, _INDEX_MAGIC + self._mac(payload) + b"\n" + payload, shard=False)
        self.dirty = False


def _well_formed_record(record) -> bool:
    """[signature (6 ints) or None, sha256 hex]."""
    if not isinstance(record, list) or len(record) != 2 or not isinstance(record[1], str):
        return False
    sig = record[0]
    return sig is None or (isinstance(sig, list) and len(sig) == 6
                           and all(isinstance(n, int) and not isinstance(n, bool) for n in sig))
