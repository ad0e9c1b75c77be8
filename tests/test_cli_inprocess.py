"""The CLI in-process (`cli.main([...])` with capsys): per-file config, loud
mistakes and ruff's habits (issue 13 part A, 14.7, 14.15, 11's gitignore).
A few subprocess smoke tests sit in test_cli.py."""

import io
import json
import os
import sys
import textwrap
from pathlib import Path

import pytest

from bnlint import cli

TAPE = textwrap.dedent("""\
    import tensorflow as tf

    net = tf.keras.Sequential([tf.keras.layers.Dense(4), tf.keras.layers.BatchNormalization()])
    opt = tf.keras.optimizers.Adam()

    def step(x, y):
        with tf.GradientTape() as tape:
            pred = net(x)
            loss = tf.reduce_mean((pred - y) ** 2)
        grads = tape.gradient(loss, net.trainable_variables)
        opt.apply_gradients(zip(grads, net.trainable_variables))
""")
TAPE_LINE = 8


def run(capsys, *argv):
    """(exit code, stdout, stderr) of `bnlint --no-cache ARGV` in this process."""
    code = cli.main(["--no-cache", *argv] if argv[:1] not in (["rule"], ["--version"]) else list(argv))
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
