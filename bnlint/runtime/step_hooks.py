"""Counting optimizer steps, and stopping the user's loop after --max-steps.

A step is one application of gradients. Eagerly that is one call of the
optimizer's apply method. Under `tf.function` the optimizer's Python code
runs only while tracing, so the traced function is marked as a step function
and each later call of it counts as one step; layers traced inside it take
part in each of those steps. `GradientTape` entry/exit is tracked so eager
layer calls inside a tape can be told from evaluation calls.
"""

from __future__ import annotations

import functools
import sys
import threading

from . import lines
from . import recorder as _rec
from .sites import note_autograph_source_map

_patched = set()
_apply_depth = threading.local()
_marked_functions = set()  # ids of tf.function objects whose trace applied gradients


def _executing_eagerly() -> bool:
    from tensorflow.python.eager import context

    return context.executing_eagerly()


def patch_optimizer_method(cls, name: str) -> None:
    if (cls, name) in _patched or name not in cls.__dict__:
        return
    _patched.add((cls, name))
    original = cls.__dict__[name]

    @functools.wraps(original)
    def apply(self, *args, **kwargs):
        rec = _rec.RECORDER
        depth = getattr(_apply_depth, "n", 0)
        if rec is None or depth > 0:
            return original(self, *args, **kwargs)
        if not _executing_eagerly():
            if rec.function_stack:  # tracing a tf.function: its calls are the steps
                _marked_functions.add(rec.function_stack[0])
            return original(self, *args, **kwargs)
        rec.step_starting()
        _apply_depth.n = depth + 1
        try:
            result = original(self, *args, **kwargs)
        finally:
            _apply_depth.n = depth
        rec.step_finished("eager")
        return result

    apply.__module__ = original.__module__
    setattr(cls, name, apply)


def instrument_tensorflow(tf_module) -> None:
    """Count steps of `tf.function`s, track GradientTape, map AutoGraph lines.

    TF1 sessions are graph_hooks.instrument_graph_mode's (the child calls both).
    """
    from tensorflow.python.autograph.pyct import loader
    from tensorflow.python.eager import backprop
    from tensorflow.python.eager.polymorphic_function import polymorphic_function

    _patch_function_call(polymorphic_function.Function)
    _patch_tape(backprop.GradientTape)
    _patch_autograph_loader(loader)


def _patch_function_call(cls) -> None:
    original = cls.__call__

    @functools.wraps(original)
    def __call__(self, *args, **kwargs):
        rec = _rec.RECORDER
        if rec is None or rec.function_stack or not _executing_eagerly():
            return original(self, *args, **kwargs)
        fid = id(self)
        if fid in _marked_functions:
            rec.step_starting()
        rec.function_stack.append(fid)
        try:
            result = original(self, *args, **kwargs)
        finally:
            rec.function_stack.pop()
        if fid in _marked_functions:
            rec.step_finished("tf.function", fid)
        return result

    __call__.__module__ = original.__module__
    cls.__call__ = __call__


def _patch_tape(cls) -> None:
    enter, exit_ = cls.__enter__, cls.__exit__

    @functools.wraps(enter)
    def __enter__(self):
        result = enter(self)
        if _rec.RECORDER is not None:
            _rec.RECORDER.tape_depth += 1
            try:
                lines.tape_entered(sys._getframe(1))
            except Exception as exc:
                _rec.RECORDER.internal_error(f"line tracing failed: {type(exc).__name__}: {exc}")
        return result

    @functools.wraps(exit_)
    def __exit__(self, *exc):
        if _rec.RECORDER is not None:
            _rec.RECORDER.tape_depth = max(0, _rec.RECORDER.tape_depth - 1)
            lines.tape_exited()
        return exit_(self, *exc)

    __enter__.__module__ = __exit__.__module__ = enter.__module__
    cls.__enter__, cls.__exit__ = __enter__, __exit__


def _patch_autograph_loader(loader) -> None:
    original = loader.load_ast

    @functools.wraps(original)
    def load_ast(*args, **kwargs):
        result = original(*args, **kwargs)
        source_map = result[2] if isinstance(result, tuple) and len(result) > 2 else None
        if source_map:
            note_autograph_source_map(source_map)
        return result

    load_ast.__module__ = original.__module__
    loader.load_ast = load_ast
