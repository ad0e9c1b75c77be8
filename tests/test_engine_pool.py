"""The pool starts while lint_paths is still scanning: results are the
same as checking every file in one process, whatever the order in which
files arrive and finish."""

from pathlib import Path

from bnlint.config import Config
from bnlint.engine import POOL_MIN_FILES, RunStats, lint_paths

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").rglob("*.py"))


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
