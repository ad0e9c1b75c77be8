"""The child process: install the hooks, run the user's script, write the result.

Started by launcher.py as `python -c <bootstrap> --result FILE --max-steps N
[--module] -- TARGET ARGS...`. TensorFlow is not imported here: the hooks are
applied when the script's own imports of tensorflow / jax / torch / keras /
tf_keras finish (import_hook.py), and Keras 3 on JAX or PyTorch never loads
TensorFlow. The script runs as `__main__` with its own argv and
sys.path[0], like `python TARGET ARGS` or `python -m TARGET ARGS`.
"""

from __future__ import annotations

import argparse
import atexit
import os
import runpy
import signal
import sys
import threading
import traceback

from . import native_log
from . import recorder as _rec
from .import_hook import install
from .reaper import die_with_parent

_RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__))
_OWN_FILES = {os.path.abspath(__file__), os.path.abspath(runpy.__file__)}


def _instrumentation_failed(name: str, exc: BaseException, formatted: str) -> None:
    sys.stderr.write(f"bnlint: could not instrument {name}:\n{formatted}")
    if _rec.RECORDER is not None:
        _rec.RECORDER.internal_error(f"could not instrument {name}: {type(exc).__name__}: {exc}")


def _install_hooks() -> None:
    finder = install(_instrumentation_failed)

    def on_tensorflow(module):
        from .graph_hooks import instrument_graph_mode
        from .step_hooks import instrument_tensorflow

        instrument_tensorflow(module)
        instrument_graph_mode()

    def on_keras(module):
        from .layer_hooks import instrument_keras3

        instrument_keras3(module)

    def on_tf_keras(module):
        from .layer_hooks import instrument_tf_keras

        instrument_tf_keras(module)

    def on_jax(module):
        from .jax_hooks import instrument_jax

        instrument_jax(module)

    def on_torch(module):
        from .torch_hooks import instrument_torch

        instrument_torch(module)

    finder.add("tensorflow", on_tensorflow)
    finder.add("jax", on_jax)  # before keras: Keras 3's JAX trainer binds `jax.jit` on import
    finder.add("torch", on_torch)
    finder.add("keras", on_keras)
    finder.add("tf_keras", on_tf_keras)
    finder.wrap("tensorflow", native_log.once)


def _on_sigterm(signum, frame):
    raise _rec.TimeLimitReached("bnlint: stopped by --timeout")


# Sent by a thread that reached --max-steps to the main thread: a signal, so
# that a main thread blocked waiting (a queue, a join, a sleep) wakes up. Not
# SIGTERM, which a training script may handle itself (checkpoint and exit).
_STEP_LIMIT_SIGNAL = (signal.SIGRTMIN + 7 if hasattr(signal, "SIGRTMIN")
                      else getattr(signal, "SIGUSR2", None) if hasattr(signal, "pthread_kill") else None)
_script_running = False


def _on_step_limit_signal(signum, frame):
    if _script_running:
        raise _rec.StepLimitReached("bnlint: stopped after --max-steps optimizer steps (in another thread)")


def _stop_main_thread() -> None:
    signal.pthread_kill(threading.main_thread().ident, _STEP_LIMIT_SIGNAL)


def _quiet_thread_excepthook(previous):
    """threading.excepthook that says nothing of a thread ended by --max-steps
    (a traceback the script would never print), and defers to `previous`."""
    def excepthook(args):
        if args.exc_type is not None and issubclass(args.exc_type, _rec.StepLimitReached):
            return
        previous(args)

    return excepthook


def _ours(filename: str) -> bool:
    return (filename.startswith("<frozen runpy")
            or os.path.abspath(filename) in _OWN_FILES
            or os.path.dirname(os.path.abspath(filename)) == _RUNTIME_DIR)


def _user_traceback(exc: BaseException) -> str:
    """The script's traceback without bnlint's and runpy's frames."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not _ours(f.filename)]
    return ("Traceback (most recent call last):\n" + "".join(traceback.format_list(frames))
            + "".join(traceback.format_exception_only(type(exc), exc)))


def _module_file(name: str) -> str:
    """The file `python -m name` would run, so its findings are reported even
    when no layer call passes through it."""
    import importlib.util

    sys.path.insert(0, os.getcwd())
    try:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations is not None:
            spec = importlib.util.find_spec(name + ".__main__")
        return spec.origin if spec is not None and spec.origin else ""
    except (ImportError, ValueError):
        return ""
    finally:
        sys.path.pop(0)


def run(argv) -> int:
    parser = argparse.ArgumentParser(prog="bnlint-confirm-child")
    parser.add_argument("--result", required=True)
    parser.add_argument("--max-steps", type=int, required=True)
    parser.add_argument("--module", action="store_true")
    parser.add_argument("--parent", type=int, default=0)
    parser.add_argument("target")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    opts = parser.parse_args(argv)
    # If bnlint dies without a chance to stop us (SIGKILL), stop too.
    if die_with_parent(signal.SIGTERM) and opts.parent and os.getppid() != opts.parent:
        return 0  # bnlint is already gone
    script = _module_file(opts.target) if opts.module else os.path.abspath(opts.target)
    rec = _rec.Recorder(opts.result, opts.max_steps, script)
    _rec.RECORDER = rec
    _install_hooks()
    signal.signal(signal.SIGTERM, _on_sigterm)
    if _STEP_LIMIT_SIGNAL is not None:
        signal.signal(_STEP_LIMIT_SIGNAL, _on_step_limit_signal)
        rec.stop_main_thread = _stop_main_thread
    threading.excepthook = _quiet_thread_excepthook(threading.excepthook)
    rec.write()
    global _script_running
    _script_running = True
    try:
        try:
            if opts.module:
                sys.argv = [opts.target, *opts.args]
                sys.path[0] = os.getcwd()
                runpy.run_module(opts.target, run_name="__main__", alter_sys=True)
            else:
                sys.argv = [opts.target, *opts.args]
                sys.path[0] = os.path.dirname(script)
                runpy.run_path(script, run_name="__main__")
        finally:  # before the handlers below run: a late stop signal is then ignored
            _script_running = False
        rec.status = "finished"
    except _rec.StepLimitReached:
        rec.status = "step_limit"
    except _rec.TimeLimitReached:
        rec.status = "timeout"
    except SystemExit as exc:
        code = exc.code
        rec.exit_code = code if isinstance(code, int) else (0 if code is None else 1)
        rec.status = "finished" if rec.exit_code == 0 else "exited"
        if not isinstance(code, (int, type(None))):
            rec.error = str(code)
    except KeyboardInterrupt:
        rec.status = "interrupted"
    except BaseException as exc:  # the user's script crashed: that is a result, not our error
        # (the hooks catch their own failures and record them as internal errors)
        rec.status = "crashed"
        rec.error = f"{type(exc).__name__}: {exc}"
        rec.traceback = _user_traceback(exc)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    rec.write()
    return 0


def main() -> None:
    code = run(sys.argv[1:])
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    try:
        atexit._run_exitfuncs()  # e.g. AutoGraph's temp-file cleanup
    except BaseException:
        pass
    # Skip interpreter teardown: after a loop stopped mid-epoch, TensorFlow's
    # and tf.data's threads can make it slow or hang.
    os._exit(code)


if __name__ == "__main__":
    main()
