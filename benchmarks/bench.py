"""bnlint against flake8, ruff and Fixit on one or more checkouts, in one run.

    python benchmarks/bench.py /work/bench/keras /work/bench/tfheavy [--jobs 2]
        [--flake8 CMD] [--ruff CMD] [--fixit CMD] [--fixit-timeout 300]
        [--copies 1,2,4] [--select ALL] [--json out.json]

For each checkout given (e.g. keras and the TF-heavy corpus of
benchmarks/tfheavy), measures, each tool in its own child process: bnlint
cold (fresh cache directory), bnlint warm (same cache again), `flake8 -j N`
(use one with its default plugins only), `ruff check --select E,F,W
--no-cache` when ruff is installed, and `fixit lint` when it is installed
(stopped at --fixit-timeout; the time is then a lower bound). Then bnlint
cold and warm on the tree copied 2x and 4x into a temp directory, with the
time per file, to show that growth is linear. The last lines compare every
checkout with the targets (cold <= 0.2x flake8, warm <= 0.5 s, peak RSS <=
500 MB). `--select SEL` (repeatable) adds bnlint cold and warm rows with
`--select SEL` (e.g. ALL: every rule on, BN105 and BN011 too), held to the
same targets against the same flake8 run.

bnlint runs as an installed package does: with its bytecode cached
(`PYTHONPYCACHEPREFIX` in the scratch directory, filled by unmeasured
runs first, even when PYTHONDONTWRITEBYTECODE is set for this process), so
no measured run pays for compiling modules.

Peak RSS is given two ways: the largest sum over the live process tree
(parent plus workers, sampled from /proc every 10 ms) and the largest
single process (wait4's ru_maxrss, i.e. RUSAGE_CHILDREN of that child).
Each bnlint and flake8 figure is the fastest of --repeat runs (load can only
add time; peak RSS is the largest of the runs). Ratios within one run are
the figure to read; absolute seconds move with the machine's load.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional

PAGE = os.sysconf("SC_PAGE_SIZE")
FLAKE8_DEFAULT_EXCLUDE = {".svn", "CVS", ".bzr", ".hg", ".git", "__pycache__", ".tox", ".nox", ".eggs"}


# -- measuring one command ---------------------------------------------------
def _tree_rss(root: int) -> int:
    """Bytes resident in `root` and all its descendants right now."""
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/statm") as fh:
                total += int(fh.read().split()[1]) * PAGE
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except (OSError, ValueError):
            continue  # the process ended between two reads
    return total


def measure(cmd: List[str], cwd: Optional[str] = None, timeout: Optional[float] = None,
            env: Optional[Dict[str, str]] = None) -> Dict:
    """Run `cmd`; wall time, exit code, stdout, and peak RSS (tree and single)."""
    out = tempfile.TemporaryFile()
    start = time.perf_counter()
    err = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, start_new_session=True, env=env)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(proc.pid))
            done.wait(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    timed_out = False
    timer = None
    if timeout:
        def stop() -> None:
            nonlocal timed_out
            timed_out = True
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the tool and its workers
            except ProcessLookupError:
                pass
        timer = threading.Timer(timeout, stop)
        timer.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if timer:
        timer.cancel()
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    err.seek(0)
    text = out.read().decode("utf-8", "replace")
    return {"wall": wall, "rc": proc.returncode, "timed_out": timed_out, "stdout": text,
            "stderr": err.read().decode("utf-8", "replace")[-4000:],
            "rss_tree_mb": peak[0] / 2**20, "rss_single_mb": usage.ru_maxrss / 1024,
            "cpu_s": usage.ru_utime + usage.ru_stime}


# -- the tools ---------------------------------------------------------------
BNLINT_ENV: Optional[Dict[str, str]] = None  # set by main(): bytecode cached in the scratch directory


def bnlint_env(scratch: str) -> Dict[str, str]:
    """This environment, with bnlint's bytecode kept under `scratch`."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(scratch, "pycache")
    return env


def run_bnlint(path: str, cache_dir: str, jobs: int, select: Optional[str] = None) -> Dict:
    """The real CLI (`bnlint.cli.main`) in a fresh interpreter, plus its RunStats."""
    stats_file = tempfile.mktemp(suffix=".json")
    cmd = [sys.executable, __file__, "--_bnlint", stats_file, "--", "check", path,
           "--cache-dir", cache_dir, "-j", str(jobs), "--output-format", "json", "-q"]
    if select:
        cmd += ["--select", select]
    res = measure(cmd, env=BNLINT_ENV)
    try:
        with open(stats_file) as fh:
            res.update(json.load(fh))
        os.unlink(stats_file)
    except (OSError, ValueError):
        res.update({"files": None, "parsed": None, "findings": None})
    return res


def _bnlint_child(stats_file: str, argv: List[str]) -> int:
    from dataclasses import asdict

    from bnlint import cli, engine

    seen = {}
    real = engine.lint_paths  # cli imports it from the engine at call time

    def counting(*args, **kwargs):
        results = real(*args, **kwargs)
        seen.update(asdict(kwargs["stats"]))
        return results

    engine.lint_paths = counting
    buf = io.StringIO()
    sys.stdout = buf
    try:
        rc = cli.main(argv)
    finally:
        sys.stdout = sys.__stdout__
    findings = json.loads(buf.getvalue() or "[]")
    seen["findings"] = len(findings)
    seen["by_code"] = {}
    for f in findings:
        seen["by_code"][f["code"]] = seen["by_code"].get(f["code"], 0) + 1
    with open(stats_file, "w") as fh:
        json.dump(seen, fh)
    return rc


def count_py_files(path: str) -> int:
    n = 0
    for root, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if d not in FLAKE8_DEFAULT_EXCLUDE and not d.endswith(".egg")]
        n += sum(1 for f in files if f.endswith(".py"))
    return n


def run_flake8(cmd: List[str], path: str, jobs: int) -> Dict:
    res = measure(cmd + ["-j", str(jobs), path])
    res["findings"] = sum(1 for line in res["stdout"].splitlines() if line.strip())
    res["files"] = res["parsed"] = count_py_files(path)
    return res


def run_ruff(cmd: List[str], path: str) -> Dict:
    """`ruff check --select E,F,W` without its cache (a cold run, as flake8's)."""
    res = measure(cmd + ["check", "--select", "E,F,W", "--no-cache", "--output-format", "concise",
                         "--exit-zero", path])
    res["findings"] = sum(1 for line in res["stdout"].splitlines() if re.match(r".+:\d+:\d+: ", line))
    res["files"] = res["parsed"] = count_py_files(path)
    return res


def run_fixit(cmd: List[str], path: str, timeout: float) -> Dict:
    res = measure(cmd + ["lint", path], timeout=timeout)
    res["findings"] = len(re.findall(r"@\d+:\d+ ", res["stdout"]))
    m = re.search(r"(\d+) files? (?:checked|clean)", res["stdout"] + res["stderr"])
    res["files"] = res["parsed"] = int(m.group(1)) if m else None
    return res


def tool_version(cmd: List[str]) -> str:
    try:
        out = subprocess.run(cmd + ["--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return "not found"
    return " ".join(out.split())


def best(runs) -> Dict:
    """Run each thunk in turn; the fastest result, with every wall time kept."""
    done = [run() for run in runs]
    for r in done:
        if r["rc"] not in (0, 1):
            print(f"warning: a run exited {r['rc']}: {r.get('stderr', '')[-500:]}", file=sys.stderr)
    fastest = min(done, key=lambda r: r["wall"])
    fastest["walls"] = [round(r["wall"], 3) for r in done]
    fastest["rss_tree_mb"] = max(r["rss_tree_mb"] for r in done)
    fastest["rss_single_mb"] = max(r["rss_single_mb"] for r in done)
    return fastest


def warm_up(scratch: str) -> None:
    """One unmeasured bnlint run that imports every module a cold `-j 2`
    run does (files with findings: rules, semantic model, libcst, the
    process pool), so that the measured runs find their bytecode cached
    (BNLINT_ENV's prefix), as after an install."""
    tree = os.path.join(scratch, "warm-up")
    os.makedirs(tree)
    for i in range(12):  # enough candidates for the process pool (its modules load too)
        with open(os.path.join(tree, f"train{i}.py"), "w") as fh:
            fh.write("import tensorflow as tf\nmodel = tf.keras.Sequential([tf.keras.layers.BatchNormalization()])\n"
                     "with tf.GradientTape() as tape:\n    y = model(x)\n")
    run_bnlint(tree, os.path.join(scratch, "cache-warm-up"), 2)


# -- copies ------------------------------------------------------------------
def make_copies(src: str, n: int, root: str) -> str:
    """`n` copies of the tree (without .git) under root/xN/copyK."""
    target = Path(root) / f"x{n}"
    for k in range(n):
        shutil.copytree(src, target / f"copy{k}", symlinks=True,
                        ignore=shutil.ignore_patterns(".git"))
    return str(target)


# -- report ------------------------------------------------------------------
def fmt_row(name: str, r: Dict) -> str:
    wall = f"{r['wall']:.2f}" + ("+" if r.get("timed_out") else "")
    files = r.get("files")
    per = f"{1000 * r['wall'] / files:.2f}" if files else "-"
    return (f"{name:<22} {wall:>9} {r['cpu_s']:>8.1f} {r['rss_tree_mb']:>10.0f} {r['rss_single_mb']:>10.0f} "
            f"{str(files):>7} {str(r.get('parsed')):>7} {str(r.get('findings')):>9} {per:>9}")


HEADER = (f"{'run':<22} {'wall s':>9} {'cpu s':>8} {'RSS tree':>10} {'RSS 1 proc':>10} "
          f"{'files':>7} {'parsed':>7} {'findings':>9} {'ms/file':>9}")


TARGETS = {"cold/flake8": 0.2, "warm s": 0.5, "rss MB": 500.0}


def bench_one(path: str, args, flake8: List[str], ruff: Optional[List[str]],
              fixit: Optional[List[str]], scratch: str) -> Dict[str, Dict]:
    """Every measurement of one checkout; keys are the row names printed."""
    results: Dict[str, Dict] = {}
    tag = Path(path).name
    caches = [os.path.join(scratch, f"cache-{tag}-x1-{i}") for i in range(args.repeat)]
    results["bnlint cold"] = best([lambda c=c: run_bnlint(path, c, args.jobs) for c in caches])
    results["bnlint warm"] = best([lambda: run_bnlint(path, caches[0], args.jobs)] * args.repeat)
    for sel in args.select:
        caches = [os.path.join(scratch, f"cache-{tag}-{sel}-{i}") for i in range(args.repeat)]
        results[f"bnlint cold --select {sel}"] = best(
            [lambda c=c, sel=sel: run_bnlint(path, c, args.jobs, sel) for c in caches])
        results[f"bnlint warm --select {sel}"] = best(
            [lambda sel=sel, c=caches[0]: run_bnlint(path, c, args.jobs, sel)] * args.repeat)
    results[f"flake8 -j{args.jobs}"] = best([lambda: run_flake8(flake8, path, args.jobs)] * args.repeat)
    if ruff:
        results["ruff E,F,W"] = best([lambda: run_ruff(ruff, path)] * args.repeat)
    if fixit:
        results["fixit lint"] = run_fixit(fixit, path, args.fixit_timeout)
    for n in [int(x) for x in args.copies.split(",") if x.strip() and int(x) > 1]:
        tree = make_copies(path, n, os.path.join(scratch, tag))
        caches = [os.path.join(scratch, f"cache-{tag}-x{n}-{i}") for i in range(args.repeat)]
        results[f"bnlint cold x{n}"] = best([lambda c=c: run_bnlint(tree, c, args.jobs) for c in caches])
        results[f"bnlint warm x{n}"] = best([lambda: run_bnlint(tree, caches[0], args.jobs)] * args.repeat)
        shutil.rmtree(tree, ignore_errors=True)
    return results


def report_one(path: str, head: str, results: Dict[str, Dict], args) -> Dict[str, float]:
    """Print one checkout's table and ratios; return the ratios."""
    print()
    print(f"== {path} @ {head or 'unknown'}")
    print(HEADER)
    for name, r in results.items():
        print(fmt_row(name, r))
    print(f"(wall: fastest of {args.repeat} runs, except Fixit: one run; + : stopped at the time cap, a lower bound)")
    for name, r in results.items():
        if "walls" in r:
            print(f"  {name}: {r['walls']}")
    cold, warm = results["bnlint cold"], results["bnlint warm"]
    f8 = results[f"flake8 -j{args.jobs}"]
    ratios = {
        "cold/flake8": cold["wall"] / f8["wall"],
        "warm/flake8": warm["wall"] / f8["wall"],
        "warm s": warm["wall"],
    }
    print(f"bnlint cold / flake8 -j{args.jobs}: {ratios['cold/flake8']:.3f}   (target <= 0.2)")
    print(f"bnlint warm / flake8 -j{args.jobs}: {ratios['warm/flake8']:.3f}   warm {warm['wall']:.2f} s (target <= 0.5 s)")
    for sel in args.select:
        c_sel, w_sel = results[f"bnlint cold --select {sel}"], results[f"bnlint warm --select {sel}"]
        ratios[f"cold/flake8 --select {sel}"] = c_sel["wall"] / f8["wall"]
        ratios[f"warm s --select {sel}"] = w_sel["wall"]
        print(f"with --select {sel}: bnlint cold / flake8 -j{args.jobs}: "
              f"{ratios[f'cold/flake8 --select {sel}']:.3f} (target <= 0.2); warm {w_sel['wall']:.2f} s "
              f"(target <= 0.5 s)")
    if "ruff E,F,W" in results:
        ratios["cold/ruff"] = cold["wall"] / results["ruff E,F,W"]["wall"]
        print(f"ruff E,F,W: {results['ruff E,F,W']['wall']:.2f} s; bnlint cold / ruff: {ratios['cold/ruff']:.1f}")
    if "fixit lint" in results:
        fx = results["fixit lint"]
        bound = "<=" if fx["timed_out"] else "="
        ratios["cold/fixit"] = cold["wall"] / fx["wall"]
        print(f"bnlint cold / fixit: {bound} {ratios['cold/fixit']:.4f}")
    peak = max(r["rss_tree_mb"] for k, r in results.items() if k.startswith("bnlint"))
    ratios["rss MB"] = peak
    print(f"bnlint peak RSS (process tree, any run): {peak:.0f} MB (target <= 500 MB)")
    per = {k: 1000 * r["wall"] / r["files"] for k, r in results.items()
           if k.startswith("bnlint cold") and "--select" not in k and r.get("files")}
    if len(per) > 1:
        base = per["bnlint cold"]
        growth = ", ".join(f"{(k.split()[-1] if k != 'bnlint cold' else 'x1')}: {v:.2f} ms/file "
                           f"({v / base:.2f}x)" for k, v in per.items())
        print(f"growth (cold, time per file): {growth}")
    return ratios


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--_bnlint"]:
        return _bnlint_child(argv[1], argv[3:])
    parser = argparse.ArgumentParser(description="bnlint vs flake8, ruff and Fixit on one or more checkouts")
    parser.add_argument("paths", nargs="+", metavar="path",
                        help="checkouts, e.g. /work/bench/keras benchmarks/tfheavy/corpus")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--flake8", default=None,
                        help="flake8 command (default: flake8 on PATH); use one with default plugins only")
    parser.add_argument("--ruff", default=None, help="ruff command (default: ruff next to this Python, or on PATH)")
    parser.add_argument("--fixit", default=None, help="fixit command (default: fixit next to this Python, or on PATH)")
    parser.add_argument("--no-fixit", action="store_true", help="skip Fixit even when it is installed")
    parser.add_argument("--fixit-timeout", type=float, default=300.0)
    parser.add_argument("--copies", default="1,2,4", help="tree multiples for the growth check")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each bnlint, flake8 and ruff measurement; the fastest counts (load only adds)")
    parser.add_argument("--select", action="append", default=[], metavar="SEL",
                        help="also measure bnlint with --select SEL (e.g. ALL: every rule on); repeatable")
    parser.add_argument("--json", help="also write every figure to this file")
    args = parser.parse_args(argv)

    paths = [os.path.abspath(p) for p in args.paths]
    bindir = Path(sys.executable).parent
    flake8 = shlex.split(args.flake8) if args.flake8 else [shutil.which("flake8") or str(bindir / "flake8")]
    ruff_path = shutil.which("ruff", path=str(bindir)) or shutil.which("ruff")
    ruff = shlex.split(args.ruff) if args.ruff else ([ruff_path] if ruff_path else None)
    fixit_path = shutil.which("fixit", path=str(bindir)) or shutil.which("fixit")
    fixit = None if args.no_fixit else (shlex.split(args.fixit) if args.fixit else ([fixit_path] if fixit_path else None))

    from bnlint import __version__
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, jobs={args.jobs}, "
          f"load average {os.getloadavg()[0]:.1f} at start")
    print(f"bnlint {__version__}; flake8: {tool_version(flake8)}")
    print(f"ruff: {tool_version(ruff) if ruff else 'not installed'}; fixit: {tool_version(fixit) if fixit else 'not run'}")
    every: Dict[str, Dict] = {}
    scratch = tempfile.mkdtemp(prefix="bnlint-bench-")
    global BNLINT_ENV
    BNLINT_ENV = bnlint_env(scratch)
    warm_up(scratch)
    try:
        for path in paths:
            head = subprocess.run(["git", "-C", path, "rev-parse", "HEAD"], capture_output=True,
                                  text=True).stdout.strip()
            results = bench_one(path, args, flake8, ruff, fixit, scratch)
            every[path] = {"commit": head, "results": results,
                           "ratios": report_one(path, head, results, args)}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    print()
    print(f"load average {os.getloadavg()[0]:.1f} at the end (figures are rough when the machine is loaded)")
    print(f"{'checkout':<40} {'files':>6} {'cold/flake8':>12} {'warm s':>8} {'RSS MB':>8} {'ruff s':>7}  targets met")
    for path, data in every.items():
        ra, res = data["ratios"], data["results"]
        ruff_s = f"{res['ruff E,F,W']['wall']:.2f}" if "ruff E,F,W" in res else "-"
        for sel in [None] + args.select:
            suffix = f" --select {sel}" if sel else ""
            row = {k: ra[k + suffix] if k != "rss MB" else ra[k] for k in TARGETS}
            met = [k for k, limit in TARGETS.items() if row[k] <= limit]
            name = Path(path).name + suffix
            print(f"{name:<40} {str(res['bnlint cold'].get('files')):>6} {row['cold/flake8']:>12.3f} "
                  f"{row['warm s']:>8.2f} {row['rss MB']:>8.0f} {ruff_s:>7}  "
                  f"{len(met)}/{len(TARGETS)}" + ("" if len(met) == len(TARGETS) else
                                                  " (missed: " + ", ".join(k for k in TARGETS if k not in met) + ")"))
    if args.json:
        for data in every.values():
            for r in data["results"].values():
                r.pop("stdout", None)
                r.pop("stderr", None)
        with open(args.json, "w") as fh:
            json.dump({"jobs": args.jobs, "targets": TARGETS, "checkouts": every}, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
