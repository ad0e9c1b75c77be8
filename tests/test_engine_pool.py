"""The pool starts while lint_paths is still scanning: results are the
same as checking every file in one process, whatever the order in which
files arrive and finish."""

from pathlib import Path

from bnlint.config import Config
from bnlint.engine import POOL_MIN_FILES, RunStats, lint_paths

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").rglob("*.py"))


def test_a_path_given_twice_is_linted_twice(tmp_path):
    path = tmp_path / "a.py"
    path.write_bytes(EXAMPLES[0].read_bytes())
    for jobs in (1, 2):
        results = lint_paths([str(path)] * (2 * POOL_MIN_FILES), Config(), jobs=jobs, use_cache=False)
        assert len({tuple(f.to_dict().items().__repr__() for f in r.findings) for r in results}) == 1
        assert len(results) == 2 * POOL_MIN_FILES and results[0].findings


def test_pool_while_scanning_matches_one_process(tmp_path):
    files = []
    for i in range(4):  # candidates of different sizes, with plain files between them
        for j, path in enumerate(EXAMPLES):
            big = tmp_path / f"{i}_{j}_{path.name}"
            big.write_bytes(path.read_bytes() + b"\n# padding\n" * (i * 200))
            plain = tmp_path / f"{i}_{j}_plain.py"
            plain.write_text("x = 1\n")
            files += [str(big), str(plain)]
    assert len(files) // 2 > 2 * POOL_MIN_FILES

    def run(jobs):
        stats = RunStats()
        results = lint_paths(files, Config(), jobs=jobs, use_cache=False, stats=stats)
        return [(r.filename, [f.to_dict() for f in r.findings], r.skipped) for r in results], stats

    one, one_stats = run(1)
    two, two_stats = run(2)
    assert [name for name, _, _ in two] == files
    assert two == one and any(found for _, found, _ in one)
    assert two_stats == one_stats and one_stats.skipped == len(files) // 2


_NO_FIX_RUN = """
import sys
from bnlint import cli
rc = cli.main(["check", *sys.argv[1:], "-j", "1", "--no-cache"])
print("libcst loaded" if "libcst" in sys.modules else "libcst not loaded", file=sys.stderr)
sys.exit(rc)
"""


def test_formats_without_fixes_build_none_and_print_the_same(tmp_path):
    """github and junit show neither fixes nor `[*]`: no fix is built (libcst
    is never loaded), and the report is the one made from findings with fixes."""
    import subprocess
    import sys

    from bnlint.engine import lint_paths as lint
    from bnlint.report import FORMATS

    files = []
    for path in EXAMPLES:
        name = f"{path.parent.name}_{path.name}"
        (tmp_path / name).write_bytes(path.read_bytes())
        files.append(str(tmp_path / name))
    with_fixes = [f for r in lint(sorted(files), Config(), jobs=1, use_cache=False) for f in r.findings]
    assert any(f.fix is not None for f in with_fixes)
    for fmt in ("github", "junit"):
        proc = subprocess.run([sys.executable, "-c", _NO_FIX_RUN, *sorted(files), "--output-format", fmt],
                              capture_output=True, timeout=300)  # a hang guard
        assert proc.returncode == 1, proc.stderr.decode()
        assert proc.stderr.decode().strip().endswith("libcst not loaded")
        assert proc.stdout.decode() == FORMATS[fmt](with_fixes, {})
