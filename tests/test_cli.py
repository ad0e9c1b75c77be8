"""The `bnlint` command as a user runs it: `cli.main` in this process (bn),
and a few smoke tests through a real subprocess (bn_process): the entry
point, exit codes, a piped stdin, the process pool, the cache across runs.

Exit codes (ruff's): 0 no findings, 1 findings, 2 usage/config error.
"""

import json
import os
import textwrap
from pathlib import Path

import pytest

from conftest import run_bnlint, run_cli
from helpers import TAPE

# One file per core rule, each with exactly one finding at a known place.
TAPE_AT = (8, 16, 8, 22)  # net(x): line, column, end_line, end_column (1-based)

SUBCLASS = textwrap.dedent("""\
    import keras

    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.bn = keras.layers.BatchNormalization()

        def call(self, x):
            return self.bn(x)
""")
SUBCLASS_LINE = 8

GRAPH = textwrap.dedent("""\
    import tensorflow.compat.v1 as tf

    x = tf.placeholder(tf.float32, [None, 4])
    is_training = tf.placeholder_with_default(True, [])
    h = tf.layers.batch_normalization(x, training=is_training)
    loss = tf.reduce_mean(h)
    train_op = tf.train.AdamOptimizer(0.01).minimize(loss)
""")
GRAPH_LINE = 7

CLEAN = textwrap.dedent("""\
    import tensorflow as tf

    net = tf.keras.Sequential([tf.keras.layers.BatchNormalization()])
    with tf.GradientTape() as tape:
        out = net(batch, training=True)
""")


def _no_cache(args):
    """ARGS with --no-cache (so each run really lints), except for `rule`."""
    if args and args[0] == "rule":
        return args
    if args and args[0] == "check":
        return ("check", "--no-cache", *args[1:])
    return ("--no-cache", *args)


def bn(*args, cwd=None, stdin=None, env=None):
    """bnlint without the cache, in this process (conftest.run_cli)."""
    return run_cli(*_no_cache(args), cwd=cwd, stdin=stdin, env=env)


def bn_process(*args, cwd=None, stdin=None, env=None):
    """bnlint without the cache, in a subprocess: the smoke tests."""
    return run_bnlint(*_no_cache(args), cwd=cwd, stdin=stdin, env=env)


def out(result) -> str:
    return result.stdout.decode("utf-8", "replace")


def err(result) -> str:
    return result.stderr.decode("utf-8", "replace")


def codes_of(result):
    """(file name, code) pairs from concise output."""
    pairs = set()
    for line in out(result).splitlines():
        parts = line.split(": ", 2)
        if len(parts) >= 2 and parts[1].split(" ")[0].startswith("BN"):
            pairs.add((Path(parts[0].split(":")[0]).name, parts[1].split(" ")[0]))
    return pairs


@pytest.fixture
def project(tmp_path):
    (tmp_path / "tape.py").write_text(TAPE)
    (tmp_path / "subclass.py").write_text(SUBCLASS)
    (tmp_path / "graph.py").write_text(GRAPH)
    (tmp_path / "clean.py").write_text(CLEAN)
    # Flavour is pinned so the Keras-3-only BN002 finding does not depend on
    # what is installed.
    (tmp_path / ".bnlint.yaml").write_text('keras: "3"\n')
    return tmp_path


ALL = {("tape.py", "BN001"), ("subclass.py", "BN002"), ("graph.py", "BN003")}


# -- exit codes -------------------------------------------------------------------
def test_exit_1_with_findings_and_lists_them(project):
    result = bn_process(".", cwd=project)
    assert result.returncode == 1, err(result)
    assert codes_of(result) == ALL
    assert "Found 3 findings in 4 files checked." in out(result)
    assert err(result) == ""


def test_exit_0_when_clean(project):
    result = bn("clean.py", cwd=project)
    assert result.returncode == 0, out(result) + err(result)
    assert "All checks passed!" in out(result)


def test_check_subcommand_is_the_same_as_bare(project):
    bare = bn(".", cwd=project)
    sub = bn("check", ".", cwd=project)
    assert sub.returncode == bare.returncode == 1
    assert out(sub) == out(bare)


def test_no_path_means_current_directory(project):
    result = bn(cwd=project)
    assert result.returncode == 1
    assert codes_of(result) == ALL


def test_empty_directory_is_clean(tmp_path):
    result = bn(str(tmp_path))
    assert result.returncode == 0
    assert "0 files checked" in out(result)


def test_exit_zero_keeps_output(project):
    result = bn("--exit-zero", ".", cwd=project)
    assert result.returncode == 0
    assert codes_of(result) == ALL


def test_missing_path_is_usage_error(project):
    result = bn("does_not_exist.py", cwd=project)
    assert result.returncode == 2
    assert "does_not_exist.py" in err(result)
    assert "Traceback" not in err(result)
    assert out(result) == ""


def test_missing_path_among_good_ones_is_usage_error(project):
    result = bn("tape.py", "nope/", cwd=project)
    assert result.returncode == 2
    assert "nope" in err(result)


@pytest.mark.parametrize("argv", [
    ("--bogus", "."),
    ("--output-format", "xml", "."),
    ("--select", "XYZ1", "."),
    ("--ignore", "BN0x", "."),
    ("--keras", "4", "."),
    ("-j", "many", "."),
])
def test_bad_flags_are_usage_errors(project, argv):
    result = bn(*argv, cwd=project)
    assert result.returncode == 2, out(result)
    assert err(result).strip(), "a usage error must say what is wrong"
    assert "Traceback" not in err(result)
    assert out(result) == ""


def test_help_and_version_exit_0():
    assert bn_process("--help").returncode == 0
    version = run_bnlint("--version")
    assert version.returncode == 0
    assert out(version).startswith("bnlint ")


# -- output formats ---------------------------------------------------------------------------
def test_concise_format_line(project):
    result = bn("tape.py", cwd=project)
    line = out(result).splitlines()[0]
    assert line.startswith(f"tape.py:{TAPE_AT[0]}:{TAPE_AT[1]}: BN001 ")
    assert "`net`" in line and "training=True" in line


def test_json_format_fields(project):
    result = bn("--output-format", "json", ".", cwd=project)
    assert result.returncode == 1
    records = json.loads(out(result))  # nothing but JSON on stdout
    assert isinstance(records, list) and len(records) == 3
    for rec in records:
        for key in ("code", "message", "filename", "line", "column", "end_line", "end_column", "fix"):
            assert key in rec, key
        # null, or (for rules that have one) a fix with edits
        assert rec["fix"] is None or {"message", "applicability", "edits"} <= set(rec["fix"])
        assert isinstance(rec["line"], int) and isinstance(rec["column"], int)
        assert rec["line"] <= rec["end_line"]
        assert rec["message"] and "\n" not in rec["message"]
    by_code = {rec["code"]: rec for rec in records}
    assert set(by_code) == {"BN001", "BN002", "BN003"}
    tape = by_code["BN001"]
    assert tape["fix"] is None or tape["fix"]["applicability"] in ("safe", "unsafe")
    assert Path(tape["filename"]).name == "tape.py"
    assert (tape["line"], tape["column"], tape["end_line"], tape["end_column"]) == TAPE_AT
    assert by_code["BN002"]["line"] == SUBCLASS_LINE
    assert by_code["BN003"]["line"] == GRAPH_LINE
    assert "line 5" in by_code["BN003"]["message"]  # where the BN was built


def test_json_span_matches_source_text(project):
    rec = json.loads(out(bn("--output-format", "json", "tape.py", cwd=project)))[0]
    line = TAPE.splitlines()[rec["line"] - 1]
    assert line[rec["column"] - 1:rec["end_column"] - 1] == "net(x)"


def test_json_with_no_findings_is_empty_list(project):
    result = bn("--output-format", "json", "clean.py", cwd=project)
    assert result.returncode == 0
    assert json.loads(out(result)) == []


def test_json_ignores_quiet_and_has_no_summary(project):
    for extra in ((), ("--quiet",)):
        result = bn("--output-format", "json", *extra, ".", cwd=project)
        assert len(json.loads(out(result))) == 3


def test_full_format_shows_source_and_caret(project):
    result = bn("--output-format", "full", "tape.py", cwd=project)
    assert result.returncode == 1
    lines = out(result).splitlines()
    head = lines.index(next(l for l in lines if l.startswith("tape.py:8:16: BN001")))
    src, caret = lines[head + 1], lines[head + 2]
    assert "pred = net(x)" in src
    # The caret sits under `net(x)`, as wide as it.
    code_start = src.index("|") + 2
    caret_start = caret.index("^")
    assert caret_start - code_start == TAPE_AT[1] - 1
    assert caret.count("^") == len("net(x)")
    assert any("bnlint rule BN001" in l for l in lines[head:head + 5])


def test_full_format_with_stdin_shows_source(project):
    result = bn("--output-format", "full", "-", "--stdin-filename", "tape.py",
                cwd=project, stdin=TAPE.encode())
    assert "pred = net(x)" in out(result)


# -- --statistics, --quiet --------------------------------------------------------------------
def test_statistics_counts_per_rule(project):
    (project / "tape2.py").write_text(TAPE)
    result = bn("--statistics", ".", cwd=project)
    assert result.returncode == 1
    stats = [l.split("\t") for l in out(result).splitlines() if "\t" in l]
    counts = {row[1]: int(row[0]) for row in stats}
    assert counts == {"BN001": 2, "BN002": 1, "BN003": 1}
    names = {row[1]: row[2] for row in stats}
    assert names["BN001"] == "[*] tape-call-without-training"  # as ruff: [*] when --fix fixes it
    assert stats[0][1] == "BN001"  # most frequent first
    assert len(out(result).splitlines()) == len(stats)  # only the table (ruff): no summary


def test_statistics_with_json_is_valid_json(project):
    result = bn("--statistics", "--output-format", "json", ".", cwd=project)
    assert result.returncode == 1
    # As ruff: the statistics replace the findings, as one JSON document.
    data = json.loads(out(result))
    assert sorted((row["code"], row["count"]) for row in data) == \
        [("BN001", 1), ("BN002", 1), ("BN003", 1)]
    assert {row["name"] for row in data} >= {"tape-call-without-training"}


def test_quiet_prints_findings_only(project):
    result = bn("--quiet", ".", cwd=project)
    assert result.returncode == 1
    assert codes_of(result) == ALL
    assert "Found" not in out(result)
    assert len(out(result).splitlines()) == 3


def test_quiet_clean_prints_nothing(project):
    result = bn("-q", "clean.py", cwd=project)
    assert result.returncode == 0
    assert out(result) == ""


# -- select / ignore / extend-select --------------------------------------------------------
@pytest.mark.parametrize("argv,want", [
    (("--select", "BN001"), {"BN001"}),
    (("--select", "BN001,BN003"), {"BN001", "BN003"}),
    (("--select", "BN0", "--ignore", "BN002"), {"BN001", "BN003"}),
    (("--ignore", "BN0"), set()),
    (("--ignore", "BN001", "--ignore", "BN003"), {"BN001", "BN002"}),  # the last one wins
    (("--select", "BN0", "--ignore", "BN00"), set()),
    (("--ignore", "BN0", "--select", "BN001"), {"BN001"}),  # more specific wins
    (("--select", "BN001", "--ignore", "BN001"), set()),  # a tie goes to ignore
    (("--select", "BN001", "--extend-select", "BN003"), {"BN001", "BN003"}),
    (("--select", "ALL", "--ignore", "BN003"), {"BN001", "BN002"}),
    (("--select", "bn001"), None),  # lower case is not a rule code
])
def test_select_ignore_on_command_line(project, argv, want):
    result = bn(*argv, ".", cwd=project)
    if want is None:
        assert result.returncode == 2
        return
    assert {c for _, c in codes_of(result)} == want
    assert result.returncode == (1 if want else 0)


@pytest.mark.parametrize("config,argv,want", [
    ('select: ["BN001"]', (), {"BN001"}),
    ('select: ["BN001"]', ("--select", "BN003"), {"BN003"}),  # CLI select replaces config select
    ('select: ["BN001"]', ("--extend-select", "BN002"), {"BN001", "BN002"}),
    ('ignore: ["BN002"]', (), {"BN001", "BN003"}),
    ('ignore: ["BN002"]', ("--ignore", "BN001"), {"BN003"}),  # both ignores apply
    ('extend-select: ["BN002"]\nselect: ["BN001"]', (), {"BN001", "BN002"}),
    # ruff: an explicit --select on the command line wins over the config's ignore,
    ('ignore: ["BN001"]', ("--select", "BN001"), {"BN001"}),
    # and --extend-select re-enables a rule the config ignores.
    ('ignore: ["BN001"]', ("--extend-select", "BN001"), {"BN001", "BN002", "BN003"}),
    ('select: ["BN003"]\nignore: ["BN001"]', ("--extend-select", "BN0"), {"BN001", "BN002", "BN003"}),
    ('ignore: ["BN0"]', ("--extend-select", "BN003"), {"BN003"}),
])
def test_select_ignore_config_and_command_line(project, config, argv, want):
    (project / ".bnlint.yaml").write_text('keras: "3"\n' + config + "\n")
    result = bn(*argv, ".", cwd=project)
    assert result.returncode in (0, 1), err(result)
    assert {c for _, c in codes_of(result)} == want


# -- file discovery and excludes -----------------------------------------------------------
DEFAULT_EXCLUDED = [".git", ".venv", "venv", "build", "site-packages", "__pycache__"]


def test_default_excludes(tmp_path):
    (tmp_path / "mine.py").write_text(TAPE)
    for d in DEFAULT_EXCLUDED:
        (tmp_path / d).mkdir()
        (tmp_path / d / "hidden.py").write_text(TAPE)
    nested = tmp_path / "env" / "lib" / "python3.12" / "site-packages" / "pkg"
    nested.mkdir(parents=True)
    (nested / "mod.py").write_text(TAPE)
    (tmp_path / "pkg" / "__pycache__").mkdir(parents=True)
    (tmp_path / "pkg" / "__pycache__" / "x.py").write_text(TAPE)
    (tmp_path / "pkg" / "real.py").write_text(TAPE)
    result = bn("--output-format", "json", ".", cwd=tmp_path)
    names = sorted(os.path.normpath(rec["filename"]) for rec in json.loads(out(result)))
    assert names == ["mine.py", os.path.join("pkg", "real.py")]


def test_default_exclude_names_are_whole_names(tmp_path):
    # `building/` and `my_venv/` are not `build/` and `venv/`.
    for d in ("building", "my_venv", "buildings"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "m.py").write_text(TAPE)
    result = bn("-q", ".", cwd=tmp_path)
    assert len(out(result).splitlines()) == 3


def test_only_python_files_are_discovered(tmp_path):
    (tmp_path / "notes.txt").write_text(TAPE)
    (tmp_path / "script").write_text(TAPE)
    (tmp_path / "stub.pyi").write_text("x: int\n")
    (tmp_path / "m.py").write_text(TAPE)
    result = bn(".", cwd=tmp_path)
    assert "2 files checked" in out(result)
    assert {f for f, _ in codes_of(result)} == {"m.py"}


def test_explicit_file_in_excluded_directory_is_checked(tmp_path):
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "gen.py").write_text(TAPE)
    result = bn("build/gen.py", cwd=tmp_path)
    assert result.returncode == 1


def test_exclude_replaces_defaults(tmp_path):
    (tmp_path / "venv").mkdir()
    (tmp_path / "venv" / "v.py").write_text(TAPE)
    (tmp_path / "gen").mkdir()
    (tmp_path / "gen" / "g.py").write_text(TAPE)
    (tmp_path / "m.py").write_text(TAPE)
    result = bn("--exclude", "gen", ".", cwd=tmp_path)
    assert {f for f, _ in codes_of(result)} == {"v.py", "m.py"}


def test_extend_exclude_keeps_defaults(tmp_path):
    (tmp_path / "venv").mkdir()
    (tmp_path / "venv" / "v.py").write_text(TAPE)
    (tmp_path / "gen").mkdir()
    (tmp_path / "gen" / "g.py").write_text(TAPE)
    (tmp_path / "m_pb2.py").write_text(TAPE)
    (tmp_path / "m.py").write_text(TAPE)
    result = bn("--extend-exclude", "gen,*_pb2.py", ".", cwd=tmp_path)
    assert {f for f, _ in codes_of(result)} == {"m.py"}


def test_exclude_glob_with_directory_part(tmp_path):
    (tmp_path / "src" / "legacy").mkdir(parents=True)
    (tmp_path / "src" / "legacy" / "old.py").write_text(TAPE)
    (tmp_path / "src" / "new.py").write_text(TAPE)
    result = bn("--extend-exclude", "src/legacy", ".", cwd=tmp_path)
    assert {f for f, _ in codes_of(result)} == {"new.py"}


def test_config_exclude_is_relative_to_the_config_file(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.bnlint]\nextend-exclude = ["src/legacy"]\n')
    (tmp_path / "src" / "legacy").mkdir(parents=True)
    (tmp_path / "src" / "legacy" / "old.py").write_text(TAPE)
    (tmp_path / "src" / "new.py").write_text(TAPE)
    for cwd, arg in ((tmp_path, "."), (tmp_path, "src"), (tmp_path / "src", ".")):
        result = bn(arg, cwd=cwd)
        assert {f for f, _ in codes_of(result)} == {"new.py"}, (cwd, arg)


def test_files_are_never_written(project):
    before = {p: p.read_bytes() for p in project.rglob("*.py")}
    bn(".", cwd=project)
    assert {p: p.read_bytes() for p in project.rglob("*.py")} == before


def test_many_files_in_parallel_same_result(tmp_path):
    for i in range(20):
        (tmp_path / f"m{i:02}.py").write_text(TAPE if i % 2 else CLEAN)
    serial = bn("-j", "1", "--output-format", "json", ".", cwd=tmp_path)
    parallel = bn_process("-j", "4", "--output-format", "json", ".", cwd=tmp_path)
    assert json.loads(out(serial)) == json.loads(out(parallel))
    assert len(json.loads(out(serial))) == 10


def test_cache_gives_same_result_and_follows_edits(tmp_path):
    target = tmp_path / "m.py"
    target.write_text(TAPE)
    first = run_bnlint(".", cwd=tmp_path)
    second = run_bnlint(".", cwd=tmp_path)
    assert first.returncode == second.returncode == 1
    assert out(first) == out(second)
    target.write_text(CLEAN)
    third = run_bnlint(".", cwd=tmp_path)
    assert third.returncode == 0, out(third)


# -- stdin ------------------------------------------------------------------------------
def test_stdin_with_filename(project):
    result = bn_process("-", "--stdin-filename", "pkg/train.py", cwd=project, stdin=TAPE.encode())
    assert result.returncode == 1
    assert out(result).startswith("pkg/train.py:8:16: BN001 ")


def test_stdin_without_filename(project):
    result = bn("-", cwd=project, stdin=TAPE.encode())
    assert result.returncode == 1
    assert "BN001" in out(result)


def test_stdin_clean(project):
    result = bn("-", "--stdin-filename", "x.py", cwd=project, stdin=CLEAN.encode())
    assert result.returncode == 0


def test_stdin_json(project):
    result = bn("--output-format", "json", "-", "--stdin-filename", "t.py",
                cwd=project, stdin=TAPE.encode())
    rec = json.loads(out(result))[0]
    assert rec["filename"] == "t.py" and rec["line"] == 8


def test_stdin_uses_config_near_the_stdin_filename(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / ".bnlint.yaml").write_text('ignore: ["BN001"]\n')
    # The file exists on disk (an editor sending a buffer) ...
    (pkg / "train.py").write_text(CLEAN)
    result = bn("-", "--stdin-filename", "pkg/train.py", cwd=tmp_path, stdin=TAPE.encode())
    assert result.returncode == 0, out(result)
    # ... or not yet (a new buffer): the config is still the one of its directory.
    result = bn("-", "--stdin-filename", "pkg/new_module.py", cwd=tmp_path, stdin=TAPE.encode())
    assert result.returncode == 0, out(result)


def test_stdin_respects_per_file_ignores(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.bnlint]\nper-file-ignores = { "scripts/*" = ["BN001"] }\n')
    (tmp_path / "scripts").mkdir()
    ignored = bn("-", "--stdin-filename", "scripts/run.py", cwd=tmp_path, stdin=TAPE.encode())
    assert ignored.returncode == 0, out(ignored)
    other = bn("-", "--stdin-filename", "lib/run.py", cwd=tmp_path, stdin=TAPE.encode())
    assert other.returncode == 1


# -- bnlint rule ----------------------------------------------------------------------------
def test_rule_prints_docs():
    result = bn("rule", "BN001")
    assert result.returncode == 0
    text = out(result)
    assert "BN001" in text and "tape-call-without-training" in text
    for heading in ("What it does", "Why"):
        assert heading.lower() in text.lower()
    assert "training=True" in text


def test_rule_lower_case_code():
    assert out(bn("rule", "bn003")) == out(bn("rule", "BN003"))


def test_rule_all_lists_every_rule():
    result = bn("rule", "--all")
    assert result.returncode == 0
    text = out(result)
    for code, name in (("BN001", "tape-call-without-training"),
                       ("BN002", "call-loses-training-mode"),
                       ("BN003", "train-op-without-update-ops")):
        assert code in text and name in text
    assert len(text) > len(out(bn("rule", "BN001"))) * 2


@pytest.mark.parametrize("argv", [("rule", "BN999"), ("rule", "E501"), ("rule",)])
def test_rule_unknown_or_missing_code_is_usage_error(argv):
    result = bn(*argv)
    assert result.returncode == 2
    assert err(result).strip() and "Traceback" not in err(result)


# -- more edges found while writing the above ---------------------------------------------
def test_full_format_caret_under_tab_indented_code(tmp_path):
    (tmp_path / "tabs.py").write_text(
        "import tensorflow as tf\n"
        "net = tf.keras.Sequential([tf.keras.layers.BatchNormalization()])\n"
        "def step(x):\n"
        "\twith tf.GradientTape() as tape:\n"
        "\t\ty = net(x)\n")
    result = bn("--output-format", "full", "tabs.py", cwd=tmp_path)
    lines = out(result).splitlines()
    src = next(l for l in lines if "y = net(x)" in l)
    caret = lines[lines.index(src) + 1]
    assert caret.index("^") == src.index("net(x)")
    assert caret.count("^") == len("net(x)")


def test_stdin_filename_without_dash_reads_stdin(project):
    # As ruff: --stdin-filename alone means the source comes on stdin.
    result = bn("--stdin-filename", "piped.py", cwd=project, stdin=SUBCLASS.encode())
    assert result.returncode == 1
    assert out(result).startswith(f"piped.py:{SUBCLASS_LINE}:")
    assert "tape.py" not in out(result)  # the directory was not linted


def test_exit_zero_does_not_hide_config_errors(tmp_path):
    (tmp_path / ".bnlint.yaml").write_text('select: ["nope"]\n')
    (tmp_path / "m.py").write_text(TAPE)
    assert bn("--exit-zero", ".", cwd=tmp_path).returncode == 2


def test_exit_zero_does_not_hide_usage_errors(tmp_path):
    assert bn("--exit-zero", "missing.py", cwd=tmp_path).returncode == 2


def test_cache_follows_config_changes(tmp_path):
    (tmp_path / "m.py").write_text(TAPE)
    assert run_cli(".", cwd=tmp_path).returncode == 1
    (tmp_path / ".bnlint.yaml").write_text('ignore: ["BN001"]\n')
    assert run_cli(".", cwd=tmp_path).returncode == 0
    assert run_cli("--select", "BN001", ".", cwd=tmp_path).returncode == 1
    (tmp_path / ".bnlint.yaml").write_text('per-file-ignores: {"m.py": ["BN0"]}\n')
    assert run_cli(".", cwd=tmp_path).returncode == 0
    (tmp_path / ".bnlint.yaml").unlink()
    assert run_cli(".", cwd=tmp_path).returncode == 1


def test_cache_follows_noqa_edits(tmp_path):
    target = tmp_path / "m.py"
    target.write_text(TAPE)
    assert run_cli(".", cwd=tmp_path).returncode == 1
    target.write_text(TAPE.replace("pred = net(x)", "pred = net(x)  # noqa: BN001"))
    assert run_cli(".", cwd=tmp_path).returncode == 0


def test_same_file_by_two_spellings_is_checked_once(project):
    result = bn("--output-format", "json", ".", "tape.py", "./tape.py", "subclass.py", ".", cwd=project)
    names = sorted(Path(r["filename"]).name for r in json.loads(out(result)))
    assert names == ["graph.py", "subclass.py", "tape.py"]


def test_multiline_span_in_json(tmp_path):
    (tmp_path / "m.py").write_text(textwrap.dedent("""\
        import tensorflow as tf
        net = tf.keras.Sequential([tf.keras.layers.Dropout(0.1)])
        with tf.GradientTape() as tape:
            out = net(
                batch,
            )
    """))
    rec = json.loads(out(bn("--output-format", "json", "m.py", cwd=tmp_path)))[0]
    assert (rec["line"], rec["column"], rec["end_line"], rec["end_column"]) == (4, 11, 6, 6)


# -- smoke: config per file and the new flags through a real process -------------------------
def test_smoke_nearest_config_per_file_in_a_subprocess(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.py").write_text(TAPE)
    (tmp_path / "sub" / "a.py").write_text(TAPE)
    (tmp_path / "sub" / "pyproject.toml").write_text('[tool.bnlint]\nignore = ["BN001"]\n')
    outputs = [bn_process("--output-format", "json", *order, cwd=tmp_path) for order in
               (("a.py", "sub/a.py"), ("sub/a.py", "a.py"), (".",))]
    found = [sorted(Path(f["filename"]).as_posix() for f in json.loads(out(r))) for r in outputs]
    assert found == [["a.py"], ["a.py"], ["a.py"]]
    bad = bn_process("--select", "BN004", "a.py", cwd=tmp_path)
    assert bad.returncode == 2 and "unknown rule selector 'BN004'" in err(bad) and out(bad) == ""
