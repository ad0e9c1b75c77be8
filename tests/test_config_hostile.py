"""Configuration files that try to break bnlint: each is a clean config error.

A config comes from the linted repository (found upward) or from
`--config`; either way a hostile one must end in exit code 2 and a short
message naming the file, never an internal error, a hang or a memory kill.
The CLI cases run in a subprocess under a 2 GB address-space limit, so a
blow-up fails the test instead of the machine; the loader is also fuzzed
in-process with hypothesis.
"""

import os
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from bnlint.config import Config, ConfigError, MAX_CONFIG_BYTES, load_config_file
from bnlint.engine import lint_bytes

from fuzz_harness import internal_errors, lint_within

ROOT = Path(__file__).resolve().parent.parent
BUGGY = (ROOT / "examples" / "buggy" / "bn001_gradient_tape.py").read_bytes()
TIMEOUT = 120  # hang guard per CLI run
MEMORY = 2 * 1024 ** 3


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def cli(tmp_path: Path, *args: str):
    (tmp_path / "train.py").write_bytes(BUGGY)
    return subprocess.run([sys.executable, "-m", "bnlint", "--no-cache", *args, "train.py"],
                          cwd=tmp_path, capture_output=True, timeout=TIMEOUT, preexec_fn=_limit_memory)


def assert_config_error(proc, *words):
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 2, (proc.returncode, err[-2000:])
    assert proc.stdout == b""
    assert "Traceback" not in err and "internal error" not in err, err[-2000:]
    assert len(err.strip().splitlines()) <= 6, err[:2000]
    for w in words:
        assert w in err, err


def billion_laughs() -> str:
    """342 bytes that expand to 9**9 strings if aliases are followed."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join(["*" + prev] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused(tmp_path):
    # Under a known key, so the loader's value checks see the expanded lists.
    body = "exclude:\n" + "".join("  - " + line.split(": ", 1)[1] + "\n" for line in billion_laughs().splitlines())
    (tmp_path / ".bnlint.yaml").write_text(body)
    assert_config_error(cli(tmp_path), ".bnlint.yaml", "aliases")


def test_alias_under_unknown_keys_is_refused(tmp_path):
    (tmp_path / ".bnlint.yaml").write_text(billion_laughs())
    assert_config_error(cli(tmp_path), ".bnlint.yaml")


def test_tool_not_a_table_in_explicit_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text("tool = 5\n")
    assert_config_error(cli(tmp_path, "--config", "pyproject.toml"), "pyproject.toml", "tool")


def test_tool_not_a_table_in_found_pyproject_is_not_ours(tmp_path):
    (tmp_path / "pyproject.toml").write_text("tool = 5\n")
    proc = cli(tmp_path)
    assert proc.returncode == 1 and b"BN001" in proc.stdout, proc.stderr.decode()


@pytest.mark.parametrize("body", [
    'extra-mode-sensitive-layers: ["My\\ud800Norm"]\n',
    'exclude: ["\\udcff"]\n',
    'per-file-ignores: {"\\ud800*.py": [BN001]}\n',
])
def test_lone_surrogate_in_a_string(tmp_path, body):
    (tmp_path / ".bnlint.yaml").write_text(body)
    assert_config_error(cli(tmp_path), ".bnlint.yaml", "surrogate")


@pytest.mark.parametrize("name", ["My Norm", "mylib.", "MyNorm()", ""])
def test_layer_name_that_is_not_a_dotted_name(tmp_path, name):
    (tmp_path / ".bnlint.yaml").write_text(yaml.safe_dump({"extra-mode-sensitive-layers": [name]}))
    assert_config_error(cli(tmp_path), ".bnlint.yaml", "extra-mode-sensitive-layers")


def test_config_dev_zero(tmp_path):
    assert_config_error(cli(tmp_path, "--config", "/dev/zero"), "/dev/zero", "not a regular file")


def test_config_fifo_does_not_block(tmp_path):
    os.mkfifo(tmp_path / "cfg.yaml")
    assert_config_error(cli(tmp_path, "--config", "cfg.yaml"), "cfg.yaml", "FIFO")


def test_config_directory(tmp_path):
    (tmp_path / "cfg.yaml").mkdir()
    assert_config_error(cli(tmp_path, "--config", "cfg.yaml"), "cfg.yaml", "directory")


@pytest.mark.parametrize("name", [".bnlint.yaml", "pyproject.toml"])
def test_huge_config(tmp_path, name):
    head = "[tool.bnlint]\nselect = [" if name == "pyproject.toml" else "select: ["
    with open(tmp_path / name, "w") as fh:
        fh.write(head + '"BN001", ' * (MAX_CONFIG_BYTES // 9 + 1) + "]\n")
    assert_config_error(cli(tmp_path), name, "limit")


@pytest.mark.parametrize("name,body", [
    (".bnlint.yaml", "select: " + "[" * 100_000 + "]" * 100_000 + "\n"),
    (".bnlint.yaml", "select: " + "{a: " * 50_000 + "1" + "}" * 50_000 + "\n"),
    ("pyproject.toml", "[tool.bnlint]\nselect = " + "[" * 100_000 + "]" * 100_000 + "\n"),
    ("pyproject.toml", "[tool.bnlint]\nselect = " + "{a = " * 50_000 + "1" + "}" * 50_000 + "\n"),
])
def test_deeply_nested_config(tmp_path, name, body):
    (tmp_path / name).write_text(body)
    assert_config_error(cli(tmp_path), name)


# -- the loader, fuzzed in-process ------------------------------------------------
KEYS = ["select", "ignore", "extend-select", "exclude", "extend-exclude", "force-exclude",
        "per-file-ignores", "extra-mode-sensitive-layers", "keras", "extend_exclude", "bogus"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                    st.text(max_size=20), st.sampled_from(["BN", "BN001", "ALL", "2", "auto", "*.py",
                                                          "keras.layers.X", "a.b", "\ud800"]))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)
configs = st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=10)), values, max_size=5)
FUZZ = settings(deadline=None, suppress_health_check=list(HealthCheck), max_examples=150)


def _use(cfg: Config) -> None:
    """What a run does with a config: must not raise, must not crash a checker."""
    cfg.ignored_for("pkg/train.py")
    cfg.cache_key()
    findings, _ = lint_within(BUGGY, 20, cfg, "pkg/train.py")
    assert not internal_errors(findings), [f.message for f in findings]


def _load(path: Path) -> None:
    try:
        cfg = load_config_file(path)
    except ConfigError as exc:
        assert str(path) in str(exc)
        str(exc).encode("utf-8")  # printable: lone surrogates escaped
        return
    _use(cfg)


@FUZZ
@given(configs)
def test_fuzz_yaml_structures(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("cfg") / ".bnlint.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=False), encoding="ascii")
    _load(path)


@FUZZ
@given(st.binary(max_size=600), st.sampled_from([".bnlint.yaml", "pyproject.toml"]))
def test_fuzz_config_bytes(tmp_path_factory, data, name):
    path = tmp_path_factory.mktemp("cfg") / name
    path.write_bytes((b"[tool.bnlint]\n" if name == "pyproject.toml" else b"") + data)
    _load(path)


TOML_LINES = st.lists(st.sampled_from([
    'select = ["BN001"]', 'ignore = "BN002"', "keras = 2", 'keras = "3"', "force-exclude = 1",
    'extra-mode-sensitive-layers = ["a.B", "x y"]', 'per-file-ignores = { "*.py" = ["BN"] }',
    "tool = 5", "[tool]", "[tool.bnlint]", "bnlint = []", 'exclude = ["\\u00e9", ""]',
    '[tool.bnlint.per-file-ignores]', '"x/*" = ["BN003"]', "a = [[[]]]",
]), max_size=8)


@FUZZ
@given(TOML_LINES)
def test_fuzz_pyproject_lines(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("cfg") / "pyproject.toml"
    path.write_text("\n".join(lines) + "\n")
    _load(path)


def test_a_good_config_still_loads(tmp_path):
    path = tmp_path / ".bnlint.yaml"
    path.write_text(textwrap.dedent("""\
        select: [BN001]
        extra-mode-sensitive-layers: [my_pkg.layers.MyNorm]
        per-file-ignores: {"tests/*": [BN002]}
        """))
    cfg = load_config_file(path)
    assert cfg.select == ("BN001",) and cfg.extra_mode_sensitive_layers == ("my_pkg.layers.MyNorm",)
    assert [f.code for f in lint_bytes(BUGGY, "train.py", cfg)] == ["BN001"]
