"""Configuration: [tool.bnlint] in pyproject.toml or .bnlint.yaml.

Discovery and error reporting go through the CLI's `main` (conftest.run_cli:
its own cwd, stdout and stderr); the loader is also exercised directly
where that is clearer.
"""

import json
import textwrap
from pathlib import Path

import pytest

from bnlint.config import Config, ConfigError, DEFAULT_EXCLUDE, find_config_file, load_config

from conftest import run_cli
from helpers import found, lint

TAPE = textwrap.dedent("""\
    import tensorflow as tf

    net = tf.keras.Sequential([tf.keras.layers.Dense(4), tf.keras.layers.BatchNormalization()])

    def step(x):
        with tf.GradientTape() as tape:
            out = net(x)
        return tape.gradient(out, net.trainable_variables)
""")

# BN002 (Keras 3 only): a Model subclass whose call() has no `training`.
SUBCLASS = textwrap.dedent("""\
    import tensorflow as tf

    class Net(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.bn = tf.keras.layers.BatchNormalization()

        def call(self, x):
            return self.bn(x)
""")

# A model made of a layer from the user's own package, trained in a tape.
CUSTOM = textwrap.dedent("""\
    import tensorflow as tf
    from mypkg import MyBN

    net = tf.keras.Sequential([tf.keras.layers.Dense(4), MyBN()])

    with tf.GradientTape() as tape:
        out = net(batch)
    grads = tape.gradient(out, net.trainable_variables)
""")


def bn(*args, cwd):
    return run_cli("--no-cache", "--output-format", "json", *args, cwd=cwd)


def records(result):
    assert result.returncode in (0, 1), result.stderr.decode()
    return json.loads(result.stdout)


def codes_by_file(result):
    return {(Path(r["filename"]).as_posix(), r["code"]) for r in records(result)}


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


# -- discovery ----------------------------------------------------------------------------
def test_pyproject_found_upward(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.bnlint]\nignore = ["BN001"]\n')
    write(tmp_path / "a" / "b" / "train.py", TAPE)
    assert records(bn("train.py", cwd=tmp_path / "a" / "b")) == []
    assert records(bn("a/b", cwd=tmp_path)) == []
    assert find_config_file(tmp_path / "a" / "b" / "train.py") == (tmp_path / "pyproject.toml").resolve()


def test_bnlint_yaml_found_upward(tmp_path):
    write(tmp_path / ".bnlint.yaml", 'ignore: ["BN001"]\n')
    write(tmp_path / "pkg" / "sub" / "train.py", TAPE)
    assert records(bn("pkg", cwd=tmp_path)) == []
    assert records(bn(".", cwd=tmp_path / "pkg" / "sub")) == []


def test_without_config_defaults_apply(tmp_path):
    write(tmp_path / "train.py", TAPE)
    assert codes_by_file(bn(".", cwd=tmp_path)) == {("train.py", "BN001")}
    assert load_config(tmp_path) == Config()


def test_pyproject_without_tool_bnlint_is_skipped(tmp_path):
    write(tmp_path / ".bnlint.yaml", 'ignore: ["BN001"]\n')
    write(tmp_path / "proj" / "pyproject.toml", '[project]\nname = "x"\n[tool.ruff]\nline-length = 99\n')
    write(tmp_path / "proj" / "train.py", TAPE)
    assert records(bn(".", cwd=tmp_path / "proj")) == []


def test_nearest_config_wins(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.bnlint]\nignore = ["BN001"]\n')
    write(tmp_path / "inner" / ".bnlint.yaml", 'select: ["BN001"]\n')
    write(tmp_path / "inner" / "train.py", TAPE)
    write(tmp_path / "outer.py", TAPE)
    # inner's config selects BN001; the root one (for outer.py) ignores it.
    assert codes_by_file(bn(".", cwd=tmp_path / "inner")) == {("train.py", "BN001")}
    assert records(bn("outer.py", cwd=tmp_path)) == []


def test_yaml_and_pyproject_in_one_directory_yaml_wins(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.bnlint]\nselect = ["BN001"]\n')
    write(tmp_path / ".bnlint.yaml", 'ignore: ["BN001"]\n')
    write(tmp_path / "train.py", TAPE)
    assert records(bn(".", cwd=tmp_path)) == []


def test_explicit_config_flag(tmp_path):
    write(tmp_path / "train.py", TAPE)
    write(tmp_path / "elsewhere" / "quiet.yaml", 'ignore: ["BN0"]\n')
    write(tmp_path / ".bnlint.yaml", 'select: ["BN"]\n')
    assert records(bn("--config", "elsewhere/quiet.yaml", ".", cwd=tmp_path)) == []
    assert len(records(bn(".", cwd=tmp_path))) == 1


def test_explicit_config_missing_is_error(tmp_path):
    write(tmp_path / "train.py", TAPE)
    result = bn("--config", "nope.toml", ".", cwd=tmp_path)
    assert result.returncode == 2
    assert "nope.toml" in result.stderr.decode()
    assert b"Traceback" not in result.stderr


# -- each key ------------------------------------------------------------------------------
@pytest.fixture
def three(tmp_path):
    write(tmp_path / "tape.py", TAPE)
    write(tmp_path / "sub.py", SUBCLASS)
    write(tmp_path / "graph.py", """\
        import tensorflow.compat.v1 as tf
        flag = tf.placeholder_with_default(True, [])
        h = tf.layers.batch_normalization(tf.placeholder(tf.float32), training=flag)
        op = tf.train.AdamOptimizer().minimize(tf.reduce_sum(h))
    """)
    return tmp_path


def codes_with(root: Path, toml_body: str):
    write(root / "pyproject.toml", "[tool.bnlint]\n" + 'keras = "3"\n' + toml_body)
    return {c for _, c in codes_by_file(bn(".", cwd=root))}


def test_key_select(three):
    assert codes_with(three, 'select = ["BN002"]\n') == {"BN002"}
    assert codes_with(three, 'select = ["BN0"]\n') == {"BN001", "BN002", "BN003"}
    assert codes_with(three, 'select = "BN001, BN003"\n') == {"BN001", "BN003"}


def test_key_ignore(three):
    assert codes_with(three, 'ignore = ["BN001", "BN003"]\n') == {"BN002"}
    assert codes_with(three, 'ignore = ["BN0"]\n') == set()


def test_key_extend_select(three):
    assert codes_with(three, 'select = ["BN001"]\nextend-select = ["BN003"]\n') == {"BN001", "BN003"}
    assert codes_with(three, 'select = ["BN001"]\nextend_select = ["BN002"]\n') == {"BN001", "BN002"}


def test_key_exclude(three):
    write(three / "venv" / "v.py", TAPE)
    write(three / "generated" / "g.py", TAPE)
    write(three / "pyproject.toml", '[tool.bnlint]\nkeras = "3"\nexclude = ["generated", "graph.py"]\n')
    files = {f for f, _ in codes_by_file(bn(".", cwd=three))}
    # exclude replaces the default list: venv/ is checked now.
    assert files == {"tape.py", "sub.py", "venv/v.py"}


def test_key_extend_exclude(three):
    write(three / "venv" / "v.py", TAPE)
    write(three / "generated" / "g.py", TAPE)
    write(three / "pyproject.toml", '[tool.bnlint]\nkeras = "3"\nextend-exclude = ["generated", "*.pyi"]\n')
    files = {f for f, _ in codes_by_file(bn(".", cwd=three))}
    assert files == {"tape.py", "sub.py", "graph.py"}
    assert set(DEFAULT_EXCLUDE) >= {".git", ".venv", "venv", "build", "site-packages", "__pycache__"}


def test_key_per_file_ignores(three):
    write(three / "tests" / "test_train.py", TAPE)
    write(three / "scripts" / "run.py", TAPE)
    write(three / "pyproject.toml", textwrap.dedent("""\
        [tool.bnlint]
        keras = "3"
        [tool.bnlint.per-file-ignores]
        "tests/*" = ["BN001"]
        "sub.py" = ["BN0"]
        "graph.py" = ["BN002"]
    """))
    got = codes_by_file(bn(".", cwd=three))
    assert got == {("tape.py", "BN001"), ("graph.py", "BN003"), ("scripts/run.py", "BN001")}


def test_per_file_ignores_relative_to_config_not_cwd(three):
    write(three / "pkg" / "tests" / "t.py", TAPE)
    write(three / "pyproject.toml", '[tool.bnlint]\nkeras = "3"\nper-file-ignores = { "pkg/tests/*" = ["BN001"] }\n')
    assert records(bn("tests", cwd=three / "pkg")) == []
    assert records(bn("pkg/tests/t.py", cwd=three)) == []


def test_per_file_ignores_in_yaml(three):
    write(three / ".bnlint.yaml", """\
        keras: "3"
        per-file-ignores:
          "tape.py": [BN001]
          "*.py": [BN003]
    """)
    assert codes_by_file(bn(".", cwd=three)) == {("sub.py", "BN002")}


def test_extra_mode_sensitive_layers_makes_custom_layer_count(tmp_path):
    write(tmp_path / "train.py", CUSTOM)
    # Unknown layer, model otherwise harmless: no guess.
    assert records(bn(".", cwd=tmp_path)) == []
    write(tmp_path / "pyproject.toml", '[tool.bnlint]\nextra-mode-sensitive-layers = ["mypkg.MyBN"]\n')
    recs = records(bn(".", cwd=tmp_path))
    assert [(r["code"], r["line"]) for r in recs] == [("BN001", 7)]
    # Another class of the same package is still unknown.
    write(tmp_path / "pyproject.toml", '[tool.bnlint]\nextra-mode-sensitive-layers = ["mypkg.Other"]\n')
    assert records(bn(".", cwd=tmp_path)) == []


def test_extra_mode_sensitive_layer_through_module_alias():
    code = """\
        import tensorflow as tf
        import mypkg.layers as ml
        net = tf.keras.Sequential([ml.MyBN()])
        with tf.GradientTape() as tape:
            out = net(batch)
    """
    assert lint(code, Config()) == []
    assert found(lint(code, Config(extra_mode_sensitive_layers=("mypkg.layers.MyBN",)))) == {(5, "BN001")}


def test_extra_mode_sensitive_layer_in_a_subclass():
    code = """\
        import keras
        from mypkg import MyBN

        class Net(keras.Model):
            def __init__(self):
                super().__init__()
                self.norm = MyBN()

            def call(self, x):
                return self.norm(x)
    """
    assert lint(code, Config(keras="3")) == []
    got = found(lint(code, Config(keras="3", extra_mode_sensitive_layers=("mypkg.MyBN",))))
    assert got == {(9, "BN002")}


def test_key_keras_2_turns_off_keras3_only_findings(tmp_path):
    write(tmp_path / "sub.py", SUBCLASS)
    write(tmp_path / "pyproject.toml", '[tool.bnlint]\nkeras = "3"\n')
    recs = records(bn(".", cwd=tmp_path))
    assert [r["code"] for r in recs] == ["BN002"]
    assert recs[0]["message"].startswith("[Keras 3]")
    write(tmp_path / "pyproject.toml", '[tool.bnlint]\nkeras = "2"\n')
    assert records(bn(".", cwd=tmp_path)) == []
    # The command line overrides the file.
    assert [r["code"] for r in records(bn("--keras", "3", ".", cwd=tmp_path))] == ["BN002"]


def test_key_keras_2_keeps_both_flavour_findings(tmp_path):
    write(tmp_path / "tape.py", TAPE)
    write(tmp_path / ".bnlint.yaml", 'keras: "2"\n')
    assert [r["code"] for r in records(bn(".", cwd=tmp_path))] == ["BN001"]


def test_keras_accepts_bare_number_in_yaml(tmp_path):
    write(tmp_path / ".bnlint.yaml", "keras: 2\n")
    assert load_config(tmp_path).keras == "2"


def test_loader_reads_every_key(tmp_path):
    write(tmp_path / "pyproject.toml", textwrap.dedent("""\
        [tool.bnlint]
        select = ["BN0"]
        ignore = ["BN003"]
        extend-select = ["BN9"]
        exclude = ["gen"]
        extend-exclude = ["old"]
        extra-mode-sensitive-layers = ["mypkg.MyBN"]
        keras = "2"
        [tool.bnlint.per-file-ignores]
        "tests/*" = ["BN001"]
    """))
    cfg = load_config(tmp_path / "src" / "x.py")
    assert cfg.select == ("BN0",) and cfg.ignore == ("BN003",) and cfg.extend_select == ("BN9",)
    assert cfg.exclude == ("gen",) and cfg.extend_exclude == ("old",)
    assert cfg.extra_mode_sensitive_layers == ("mypkg.MyBN",)
    assert cfg.keras == "2"
    assert cfg.per_file_ignores == (("tests/*", ("BN001",)),)
    assert cfg.is_selected("BN001") and cfg.is_selected("BN901") and not cfg.is_selected("BN003")
    assert cfg.ignored_for(str(tmp_path / "tests" / "t.py")) == ("BN001",)
    assert cfg.ignored_for(str(tmp_path / "src" / "t.py")) == ()


# -- bad values -----------------------------------------------------------------------------
BAD_TOML = [
    ('select = ["XX1"]', "select"),
    ('select = 3', "select"),
    ('ignore = [1, 2]', "ignore"),
    ('extend-select = ["BNx"]', "extend-select"),
    ('exclude = "build"', "exclude"),
    ('extend-exclude = [1]', "extend-exclude"),
    ('extra-mode-sensitive-layers = "mypkg.MyBN"', "extra-mode-sensitive-layers"),
    ('keras = "4"', "keras"),
    ('keras = "auto2"', "keras"),
    ('per-file-ignores = ["tests/*"]', "per-file-ignores"),
    ('per-file-ignores = { "tests/*" = "nope" }', "per-file-ignores"),
    ('per-file-ignores = { "tests/*" = [3] }', "per-file-ignores"),
    ('selct = ["BN001"]', "selct"),
]


@pytest.mark.parametrize("body,key", BAD_TOML, ids=[b for b, _ in BAD_TOML])
def test_bad_value_in_pyproject(tmp_path, body, key):
    cfg = write(tmp_path / "pyproject.toml", "[tool.bnlint]\n" + body + "\n")
    write(tmp_path / "train.py", TAPE)
    result = bn(".", cwd=tmp_path)
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert result.stdout == b""
    assert "Traceback" not in stderr
    assert str(cfg.resolve()) in stderr or "pyproject.toml" in stderr
    assert key in stderr
    assert len(stderr.strip().splitlines()) <= 3


BAD_YAML = [
    ("select: BN\x001", None),
    ("- just\n- a list\n", None),
    ("keras: [2]\n", "keras"),
    ("ignore: {BN001: true}\n", "ignore"),
    ("per-file-ignores: {'*.py': 5}\n", "per-file-ignores"),
    ("select: [BN001\n", None),
    ("bogus: 1\n", "bogus"),
]


@pytest.mark.parametrize("body,key", BAD_YAML, ids=[repr(b) for b, _ in BAD_YAML])
def test_bad_value_in_yaml(tmp_path, body, key):
    cfg = tmp_path / ".bnlint.yaml"
    cfg.write_text(body)
    write(tmp_path / "train.py", TAPE)
    result = bn(".", cwd=tmp_path)
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert "Traceback" not in stderr
    assert ".bnlint.yaml" in stderr
    if key:
        assert key in stderr


def test_broken_toml_with_bnlint_section_is_an_error(tmp_path):
    write(tmp_path / "pyproject.toml", '[tool.bnlint]\nselect = ["BN001"\n')
    write(tmp_path / "train.py", TAPE)
    result = bn(".", cwd=tmp_path)
    assert result.returncode == 2, result.stdout.decode()
    assert "pyproject.toml" in result.stderr.decode()
    assert b"Traceback" not in result.stderr


def test_broken_unrelated_pyproject_is_not_our_business(tmp_path):
    # A pyproject.toml that never mentions bnlint does not stop the run.
    write(tmp_path / "pyproject.toml", '[project\nname = "x"\n')
    write(tmp_path / "train.py", TAPE)
    result = bn(".", cwd=tmp_path)
    assert result.returncode == 1
    assert [r["code"] for r in records(result)] == ["BN001"]


def test_bad_value_from_command_line_names_flag(tmp_path):
    write(tmp_path / "train.py", TAPE)
    result = bn("--select", "BN001,nope", ".", cwd=tmp_path)
    assert result.returncode == 2
    assert "--select" in result.stderr.decode() and "nope" in result.stderr.decode()


def test_config_error_in_process_names_key_and_file(tmp_path):
    cfg = write(tmp_path / ".bnlint.yaml", 'keras: "1"\n')
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert "keras" in str(info.value) and str(cfg) in str(info.value)


def test_a_rule_off_by_default_runs_only_when_named():
    """BN011 (spec `default: false`): the default selection `BN` leaves it
    off; its full code, a longer prefix or `ALL` turn it on, in the file or
    on the command line (as flake8-bugbear's opinionated B9 checks)."""
    from bnlint.config import Config, with_command_line_selection
    from bnlint.rules import RULES

    known = tuple(sorted(RULES))
    assert not Config().is_selected("BN011") and Config().is_selected("BN001")
    assert Config(extend_select=("BN011",)).is_selected("BN011")
    assert Config(select=("BN011",)).is_selected("BN011")
    on = lambda cfg: with_command_line_selection(cfg, known, *args).is_selected("BN011")  # noqa: E731
    for args, want in [((("BN",), None, None), False), ((("BN0",), None, None), True),
                       ((("ALL",), None, None), True),
                       ((("BN011",), None, None), True), ((None, None, ("BN011",)), True),
                       ((None, ("BN001",), None), False)]:
        assert on(Config()) is want, args
    args = (None, ("BN001",), None)
    assert on(Config(extend_select=("BN011",))) is True  # the file's own choice stands
