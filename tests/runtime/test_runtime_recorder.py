"""The child's Recorder under threads and forks, without TensorFlow: worker
threads that step (A3C style) write the record while others add to it, and
a forked process never writes the parent's record."""

import json
import os
import threading

from bnlint.runtime.recorder import Recorder


def test_threads_writing_and_adding_at_once_never_fail(tmp_path):
    # before: two threads shared one temp file (FileNotFoundError at os.replace) and
    # json.dump iterated dicts another thread was growing (RuntimeError)
    result = tmp_path / "result.json"
    rec = Recorder(str(result), 10, str(tmp_path / "train.py"))
    failures, start = [], threading.Barrier(9)

    def writer():
        start.wait()
        try:
            for _ in range(20):
                rec.write()
        except Exception as exc:  # noqa: BLE001 - the test reports any failure
            failures.append(repr(exc))

    def grower():
        start.wait()
        for i in range(3000):
            rec.sites[("train.py", i)] = 1
            rec.step_kinds[f"kind{i}"] = i

    threads = [threading.Thread(target=writer) for _ in range(8)] + [threading.Thread(target=grower)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)  # hang guard
    assert not any(t.is_alive() for t in threads)
    assert failures == []
    rec.write()
    assert len(json.loads(result.read_text())["sites"]) == 3000
    assert sorted(os.listdir(tmp_path)) == ["result.json"]


def test_a_forked_process_does_not_write_the_record(tmp_path):
    result = tmp_path / "result.json"
    rec = Recorder(str(result), 10, str(tmp_path / "train.py"))
    rec.write()
    before = result.read_text()
    pid = os.fork()
    if pid == 0:  # the forked copy steps and writes: nothing may reach the file
        try:
            rec.status = "forked"
            rec.write()
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert result.read_text() == before
