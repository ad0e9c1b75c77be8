"""The CLI in-process (`cli.main([...])` with capsys): per-file config, loud
mistakes and ruff's habits (issue 13 part A, 14.7, 14.15, 11's gitignore).
A few subprocess smoke tests sit in test_cli.py."""

import io
import json
import os
import sys
from pathlib import Path

import pytest

from bnlint import cli
from bnlint.config import Config, known_codes, settings_for
from helpers import TAPE

TAPE_LINE = 8


def run(capsys, *argv):
    """(exit code, stdout, stderr) of `bnlint --no-cache ARGV` in this process."""
    code = cli.main(["--no-cache", *argv] if list(argv[:1]) not in (["rule"], ["--version"]) else list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def json_findings(capsys, *argv):
    code, out, err = run(capsys, "--output-format", "json", *argv)
    assert code in (0, 1), err
    return sorted((Path(f["filename"]).as_posix(), f["code"], f["line"]) for f in json.loads(out))


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# -- 1. the nearest config for each file -------------------------------------------
@pytest.fixture
def nested(tmp_path, monkeypatch):
    write(tmp_path / "a.py", TAPE)
    write(tmp_path / "sub" / "a.py", TAPE)
    write(tmp_path / "sub" / "pyproject.toml", '[tool.bnlint]\nignore = ["BN001"]\n')
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_each_file_gets_its_nearest_config_whatever_the_order(nested, capsys):
    want = [("a.py", "BN001", TAPE_LINE)]
    assert json_findings(capsys, "a.py", "sub/a.py") == want
    assert json_findings(capsys, "sub/a.py", "a.py") == want
    assert [(Path(f).name, c, n) for f, c, n in json_findings(capsys, ".")] == want


def test_config_per_file_shares_the_user_cache_directory(nested, capsys, monkeypatch):
    """Each file's entries are keyed by its own config, all in the anchor's
    project directory under XDG_CACHE_HOME, which (the user's own cache)
    gets no .gitignore: that is only for a --cache-dir inside a tree."""
    from bnlint.cache import default_cache_dir

    monkeypatch.setenv("XDG_CACHE_HOME", str(nested / "xdg"))
    want = [("a.py", "BN001", TAPE_LINE)]
    for _ in range(2):  # cold, then from the cache
        code = cli.main(["--output-format", "json", "."])
        found = [(Path(f["filename"]).name, f["code"], f["line"])
                 for f in json.loads(capsys.readouterr().out)]
        assert (code, found) == (1, want)
    directory = default_cache_dir(str(nested))
    assert list(directory.glob("*/*.json"))  # the entries are there
    assert not (directory / ".gitignore").exists()


def test_nested_config_excludes_apply_in_its_own_directory(nested, capsys):
    write(nested / "sub" / "pyproject.toml", '[tool.bnlint]\nextend-exclude = ["gen/"]\n')
    write(nested / "sub" / "gen" / "b.py", TAPE)
    write(nested / "gen" / "b.py", TAPE)  # the top has no such exclude
    code, out, _ = run(capsys, "--show-files", ".")
    assert code == 0
    files = sorted(Path(line).as_posix() for line in out.splitlines())
    assert files == ["a.py", "gen/b.py", "sub/a.py"]


def test_command_line_overrides_every_files_config(nested, capsys):
    assert json_findings(capsys, "--extend-select", "BN001", "a.py", "sub/a.py") == \
        [("a.py", "BN001", TAPE_LINE), ("sub/a.py", "BN001", TAPE_LINE)]


def test_explicit_config_is_used_for_every_file(nested, capsys):
    write(nested / "other.toml", "")  # not a pyproject.toml: read as YAML, empty = defaults
    write(nested / "all.yaml", "ignore: [BN001]\n")
    assert json_findings(capsys, "--config", "all.yaml", "a.py", "sub/a.py") == []


def test_settings_for_is_the_shared_entry_point(nested):
    assert settings_for(nested / "sub" / "a.py").ignore == ("BN001",)
    assert settings_for(nested / "a.py") == Config()
    # an unsaved buffer in a folder that does not exist yet: its nearest existing ancestor
    assert settings_for(nested / "sub" / "new" / "deeper" / "x.py").ignore == ("BN001",)
    # an edit to the config file is seen (cache keyed by the file's stamp)
    write(nested / "sub" / "pyproject.toml", '[tool.bnlint]\nignore = ["BN002"]\nkeras = "2"\n')
    assert settings_for(nested / "sub" / "a.py").ignore == ("BN002",)
    # a config file that appears later is found (a long editor session)
    assert settings_for(nested / "a.py") == Config()
    write(nested / ".bnlint.yaml", "ignore: [BN003]\n")
    assert settings_for(nested / "a.py").ignore == ("BN003",)


# -- 2. unknown rule codes are a usage error --------------------------------------------
@pytest.mark.parametrize("argv", [
    ("--select", "BN004"), ("--ignore", "BN7"), ("--extend-select", "BN001,BN0042"), ("--select", "E501"),
])
def test_unknown_code_on_the_command_line_exits_2(nested, capsys, argv):
    code, out, err = run(capsys, *argv, "a.py")
    assert code == 2 and out == ""
    assert "unknown rule selector" in err and argv[0] in err
    assert all(known in err for known in known_codes())


@pytest.mark.parametrize("body", [
    'select = ["BN004"]', 'ignore = ["BN2"]', 'extend-select = ["BN0011"]',
    '[tool.bnlint.per-file-ignores]\n"a.py" = ["BN005"]',
])
def test_unknown_code_in_config_exits_2(nested, capsys, body):
    write(nested / "pyproject.toml", f"[tool.bnlint]\n{body}\n")
    code, out, err = run(capsys, "a.py")
    assert code == 2 and out == ""
    assert "unknown rule selector" in err and "pyproject.toml" in err and "BN001" in err


def test_known_prefixes_and_all_still_work(nested, capsys):
    for selector in ("BN", "BN0", "BN00", "BN001", "ALL"):
        code, _, err = run(capsys, "--select", selector, "a.py")
        assert code == 1, (selector, err)


# -- 4. BN905 keeps the JSON error message whole ---------------------------------------
def test_bn905_message_is_not_cut(tmp_path, monkeypatch, capsys):
    text = '{"cells": [{"cell_type": "code", "source": ' + json.dumps(TAPE)[:-1] + "\n"  # unterminated
    write(tmp_path / "nb.ipynb", text)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(json.JSONDecodeError) as info:
        json.loads(text)
    code, out, _ = run(capsys, "--output-format", "json", "nb.ipynb")
    (finding,) = json.loads(out)
    assert code == 1 and finding["code"] == "BN905"
    assert finding["message"] == f"cannot check this notebook: not valid JSON: {info.value}"
    assert finding["message"].endswith(")")  # "... (char 38)": the sentence ends


# -- 5. fixable findings are marked ----------------------------------------------------
def test_fixable_marks_and_summary(nested, capsys):
    code, out, _ = run(capsys, "a.py")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith(f"a.py:{TAPE_LINE}:16: BN001 [*] ")
    assert lines[1:] == ["Found 1 finding in 1 file checked.", "[*] 1 fixable with the `--fix` option."]


def test_unsafe_fixes_are_hidden_until_asked(tmp_path, monkeypatch, capsys):
    from bnlint.finding import Edit, Finding, Fix
    from bnlint.report.concise import format_concise, summary_lines

    unsafe = Finding("BN002", "m", "a.py", 1, 1, 1, 2, fix=Fix("f", "unsafe", (Edit(0, 0, "x"),)))
    safe = Finding("BN001", "m", "a.py", 2, 1, 2, 2, fix=Fix("f", "safe", (Edit(0, 0, "x"),)))
    bare = Finding("BN003", "m", "a.py", 3, 1, 3, 2)
    assert format_concise([unsafe, bare], {}) == "a.py:1:1: BN002 m\na.py:3:1: BN003 m\n"
    assert format_concise([unsafe], {}, unsafe=True) == "a.py:1:1: BN002 [*] m\n"
    assert summary_lines([unsafe, bare], 1, False)[1] == \
        "No fixes available (1 hidden fix can be enabled with the `--unsafe-fixes` option)."
    assert summary_lines([safe, unsafe, unsafe], 1, False)[1] == (
        "[*] 1 fixable with the `--fix` option "
        "(2 hidden fixes can be enabled with the `--unsafe-fixes` option).")
    assert summary_lines([safe, unsafe], 1, True)[1] == "[*] 2 fixable with the `--fix` option."
    assert summary_lines([bare], 1, False) == ["Found 1 finding in 1 file checked."]


# -- 6. file-level noqa and --add-noqa -------------------------------------------------
@pytest.mark.parametrize("header,silenced", [
    ("# bnlint: noqa\n", True),
    ("#!/usr/bin/env python\n# bnlint: noqa: BN001\n", True),
    ("# BNLINT:NOQA:BN0\n", True),
    ("# bnlint: noqa: BN002, BN003\n", False),
    ("x = 1  # bnlint: noqa\n", False),  # a file directive is a comment line of its own
])
def test_file_level_noqa(tmp_path, monkeypatch, capsys, header, silenced):
    write(tmp_path / "a.py", header + TAPE)
    monkeypatch.chdir(tmp_path)
    found = json_findings(capsys, "a.py")
    assert (found == []) == silenced, found


def test_add_noqa_silences_every_finding_once(tmp_path, monkeypatch, capsys):
    body = TAPE.replace("pred = net(x)", "pred = net(x)  # noqa: E501").replace(
        "loss = tf.reduce_mean", "loss = net(y) + tf.reduce_mean")
    path = write(tmp_path / "a.py", body.replace("\n", "\r\n"))
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "--add-noqa", "a.py")
    assert (code, out) == (0, "Added 2 noqa directives.\n")
    data = path.read_bytes()
    assert b"pred = net(x)  # noqa: E501, BN001\r\n" in data
    assert b"loss = net(y) + tf.reduce_mean((pred - y) ** 2)  # noqa: BN001\r\n" in data
    assert data.count(b"\r\n") == body.count("\n") and b"\n" not in data.replace(b"\r\n", b"")
    assert json_findings(capsys, "a.py") == []
    code, out, _ = run(capsys, "--add-noqa", "a.py")  # idempotent
    assert (code, out) == (0, "Added 0 noqa directives.\n") and path.read_bytes() == data


def test_add_noqa_never_puts_a_comment_inside_a_string(tmp_path, monkeypatch, capsys):
    body = TAPE.replace("pred = net(x)", 'pred = net(x) + f("""\n            """)')
    path = write(tmp_path / "a.py", body)
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "--add-noqa", "a.py")
    assert (code, out) == (0, "Added 0 noqa directives.\n") and path.read_text() == body


@pytest.mark.parametrize("kind", ["read-only", "hard link", "symlink out of the tree", "encoding"])
def test_add_noqa_keeps_the_fix_writers_guarantees(tmp_path, monkeypatch, capsys, kind):
    """--add-noqa writes through fixes/write.py's checks, as --fix does: a
    file --fix must not write is named, left byte for byte, exit 1 (it
    was an internal error: NotWritable is not an OSError)."""
    tree, outside = tmp_path / "tree", tmp_path / "outside"
    tree.mkdir()
    outside.mkdir()
    target = write((outside if kind.startswith("symlink") else tree) / "a.py", TAPE)
    name = tree / "a.py"
    if kind == "read-only":
        target.chmod(0o444)
    elif kind == "hard link":
        os.link(target, tmp_path / "other.py")
    elif kind.startswith("symlink"):
        name.symlink_to(target)
    else:  # unicode_escape decodes and encodes to other bytes: not written
        target.write_bytes(b"# -*- coding: unicode_escape -*-\n" + TAPE.encode())
    before = target.read_bytes()
    monkeypatch.chdir(tree)
    code, out, err = run(capsys, "--add-noqa", "a.py")
    assert (code, out) == (1, "Added 0 noqa directives.\n"), err
    assert "a.py: no noqa added:" in err and "internal error" not in err
    assert target.read_bytes() == before


# -- 7. --statistics, --show-files, --show-settings, -o, --color, --exit-non-zero-on-fix --
@pytest.mark.parametrize("fmt", ["concise", "full", "json", "json-lines"])
def test_statistics_prints_only_the_table(nested, capsys, fmt):
    code, out, _ = run(capsys, "--statistics", "--output-format", fmt, "a.py")
    assert code == 1
    if fmt == "json":
        assert json.loads(out) == [{"code": "BN001", "name": "tape-call-without-training",
                                    "count": 1, "fixable": True}]
    elif fmt == "json-lines":
        assert [json.loads(line)["code"] for line in out.splitlines()] == ["BN001"]
    else:
        assert out == "    1\tBN001\t[*] tape-call-without-training\n"


@pytest.mark.parametrize("fmt", ["sarif", "junit", "github"])
def test_statistics_refuses_formats_without_a_table(nested, capsys, fmt):
    code, out, err = run(capsys, "--statistics", "--output-format", fmt, "a.py")
    assert code == 2 and out == "" and "--statistics" in err and fmt in err


def test_show_settings_lists_the_default_excludes(nested, capsys):
    code, out, _ = run(capsys, "--show-settings", "sub/a.py")
    assert code == 0
    assert f"Settings path: {nested / 'sub' / 'pyproject.toml'}" in out
    assert 'ignore = ["BN001"]' in out and '"node_modules"' in out and '"site-packages"' in out
    assert "respect-gitignore = true" in out


def test_output_file(nested, capsys, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")  # for terminals; a report file stays plain
    code, out, _ = run(capsys, "-o", "report.txt", "a.py")
    assert code == 1 and out == ""
    text = (nested / "report.txt").read_text()
    assert text.startswith("a.py:8:16: BN001") and "\033[" not in text


class _Tty(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("flag,env,tty,colored", [
    ("auto", {}, False, False), ("auto", {}, True, True), ("auto", {"NO_COLOR": "1"}, True, False),
    ("auto", {"FORCE_COLOR": "1"}, False, True), ("always", {"NO_COLOR": "1"}, False, True),
    ("never", {"FORCE_COLOR": "1"}, True, False),
])
def test_color(nested, monkeypatch, capsys, flag, env, tty, colored):
    for name in ("NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    stream = _Tty() if tty else io.StringIO()
    monkeypatch.setattr(sys, "stdout", stream)
    assert cli.main(["--no-cache", "--color", flag, "a.py"]) == 1
    assert ("\033[1;31mBN001\033[0m" in stream.getvalue()) == colored


def test_exit_non_zero_on_fix(nested, capsys):
    (nested / "b.py").write_text(TAPE)
    assert run(capsys, "--fix", "b.py")[0] == 0  # fixed, nothing left
    (nested / "b.py").write_text(TAPE)
    code, out, _ = run(capsys, "--fix", "--exit-non-zero-on-fix", "b.py")
    assert code == 1 and "Fixed 1 finding" in out and "All checks passed!" in out
    assert run(capsys, "--fix", "--exit-non-zero-on-fix", "b.py")[0] == 0  # nothing to fix now


def test_unrecognised_flag_names_the_nearest(nested, capsys):
    code, out, err = run(capsys, "--selct", "BN001", "a.py")
    assert code == 2 and out == ""
    assert err.splitlines()[0] == "usage: bnlint check [options] [paths ...]"
    assert err.splitlines()[1] == "bnlint check: error: unrecognized argument '--selct'; did you mean '--select'?"
    code, out, err = run(capsys, "rule", "BN001", "--alll")
    assert code == 2 and "did you mean '--all'?" in err and err.startswith("usage: bnlint rule")


# -- 8. progress on a terminal only ------------------------------------------------------
@pytest.mark.parametrize("tty,ci,shown", [(True, None, True), (True, "true", False), (False, None, False)])
def test_progress_only_on_a_terminal_outside_ci(nested, monkeypatch, tty, ci, shown):
    stream = _Tty() if tty else io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    monkeypatch.setattr(cli._Progress, "DELAY", 0.0)  # a slow run, without waiting for one
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    assert cli.main(["--no-cache", "-j1", "a.py", "sub/a.py"]) == 1
    assert ("bnlint: 2/2 files" in stream.getvalue()) == shown
    if shown:
        assert stream.getvalue().endswith("\r\033[K")  # the line is cleared at the end


# -- 9. .gitignore, and gitignore-style patterns everywhere --------------------------------
@pytest.fixture
def repo(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    write(tmp_path / ".gitignore", "generated/\n/top_only.py\nkeep.py\n")
    write(tmp_path / "keep.py", TAPE)
    write(tmp_path / "pkg" / "keep.py", TAPE)  # pkg/.gitignore's `!keep.py` wins there
    write(tmp_path / "a.py", TAPE)
    write(tmp_path / "generated" / "g.py", TAPE)
    write(tmp_path / "top_only.py", TAPE)
    write(tmp_path / "pkg" / "top_only.py", TAPE)  # anchored pattern: not this one
    write(tmp_path / "pkg" / ".gitignore", "local.py\n!keep.py\n")
    write(tmp_path / "pkg" / "local.py", TAPE)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_gitignore_is_respected_by_default(repo, capsys):
    code, out, _ = run(capsys, "--show-files", ".")
    assert sorted(Path(p).as_posix() for p in out.splitlines()) == ["a.py", "pkg/keep.py", "pkg/top_only.py"]
    code, out, _ = run(capsys, "--show-files", "--no-respect-gitignore", ".")
    assert len(out.splitlines()) == 7


def test_gitignore_off_in_config(repo, capsys):
    write(repo / "pyproject.toml", "[tool.bnlint]\nrespect-gitignore = false\n")
    assert len(run(capsys, "--show-files", ".")[1].splitlines()) == 7


def test_gitignore_needs_a_repository(repo, capsys):
    (repo / ".git").rmdir()
    assert len(run(capsys, "--show-files", ".")[1].splitlines()) == 7


def test_explicit_files_are_checked_even_if_gitignored(repo, capsys):
    assert json_findings(capsys, "generated/g.py") == [("generated/g.py", "BN001", TAPE_LINE)]


def test_exclude_patterns_are_gitignore_style(tmp_path, monkeypatch, capsys):
    write(tmp_path / "pyproject.toml",
          '[tool.bnlint]\nextend-exclude = ["/a.py", "legacy/", "**/gen_*.py"]\n'
          '[tool.bnlint.per-file-ignores]\n"tests/**" = ["BN001"]\n')
    for name in ("a.py", "sub/a.py", "legacy/x.py", "sub/legacy/y.py", "deep/er/gen_1.py", "tests/t/x.py"):
        write(tmp_path / name, TAPE)
    monkeypatch.chdir(tmp_path)
    files = sorted(Path(p).as_posix() for p in run(capsys, "--show-files", ".")[1].splitlines())
    assert files == ["sub/a.py", "tests/t/x.py"]
    assert json_findings(capsys, ".") == [("sub/a.py", "BN001", TAPE_LINE)]


# -- 10. a directory that cannot be listed is not a clean result ---------------------------
def test_unreadable_directory_is_bn901(tmp_path, monkeypatch, capsys):
    write(tmp_path / "ok" / "a.py", "x = 1\n")
    write(tmp_path / "locked" / "b.py", TAPE)
    monkeypatch.chdir(tmp_path)
    real_scandir = os.scandir

    def scandir(path="."):  # as chmod 000 would, for any user (root included)
        if os.path.basename(os.fspath(path)) == "locked":
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    code, out, _ = run(capsys, ".")
    assert code == 1
    assert "locked:1:1: BN901 cannot check this file: cannot list this directory: Permission denied" in out
    assert "All checks passed" not in out


def test_unreadable_directory_given_on_the_command_line(tmp_path, monkeypatch, capsys):
    write(tmp_path / "locked" / "b.py", TAPE)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    code, out, _ = run(capsys, "locked")
    assert code == 1 and "locked:1:1: BN901" in out and "Permission denied" in out


def test_a_fifo_named_gitignore_does_not_block(repo, capsys):
    (repo / "pkg" / ".gitignore").unlink()
    os.mkfifo(repo / "pkg" / ".gitignore")
    code, out, _ = run(capsys, "--show-files", ".")
    assert code == 0 and "pkg/local.py" in out.replace(os.sep, "/")


def test_an_abbreviated_flag_is_unknown_as_in_ruff(nested, capsys):
    """argparse would take `--sel` for `--select` (and `--stat` for
    `--statistics`): a new flag with the same prefix would then change
    what an old command line means. ruff refuses them; so does bnlint."""
    code, out, err = run(capsys, "--sel", "BN001", "a.py")
    assert code == 2 and out == ""
    assert err.splitlines()[1] == "bnlint check: error: unrecognized argument '--sel'; did you mean '--select'?"
    code, _, err = run(capsys, "--output-form", "json", "a.py")
    assert code == 2 and "unrecognized argument '--output-form'" in err
    code, _, err = run(capsys, "rule", "BN001", "--al")
    assert code == 2 and "unrecognized argument '--al'" in err
