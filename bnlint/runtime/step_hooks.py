"""Counting optimizer steps, and stopping the user's loop after --max-steps.

A step is one application of gradients. Eagerly that is one call of the
optimizer's apply method (Keras, TF1's `Optimizer`, or, on PyTorch, a
`torch.optim` optimizer's `step`: torch_hooks.py). Under `tf.function` or
`jax.jit` the optimizer's Python code runs only while tracing, so the traced
function is marked as a step function and each later call of it counts as
one step (`call_step_function`); layers traced inside it take part in each
of those steps. `GradientTape` entry/exit is tracked so eager layer calls
inside a tape can be told from evaluation calls.

Importing this module does not import TensorFlow: whether TF is in graph
mode is asked only when TF is already loaded.
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
    """False only in a TF graph (TF1 graph code or a tf.function trace); a
    process without TensorFlow loaded is always eager."""
    context = sys.modules.get("tensorflow.python.eager.context")
    return context is None or context.executing_eagerly()


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
        if rec.function_stack:  # inside a tf.function / jax.jit call: its calls are the steps
            _marked_functions.add(rec.function_stack[0])
            return original(self, *args, **kwargs)
        if not _executing_eagerly():  # a TF1 graph: graph_hooks counts the Session.run
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


def call_step_function(fid: int, kind: str, call, /, *args, **kwargs):
    """Call a compiled function (`call(*args, **kwargs)`) whose id is `fid`:
    while it runs it is on the recorder's function stack, so an optimizer
    apply traced inside marks it; every call of a marked function is one
    step of `kind` ("tf.function", "jax.jit"). Calls inside another one
    are left alone (the outermost is the step)."""
    rec = _rec.RECORDER
    if rec is None:
        return call(*args, **kwargs)
    stack = rec.function_stack  # this thread's
    if stack or not _executing_eagerly():
        return call(*args, **kwargs)
    if fid in _marked_functions:
        rec.step_starting()
    stack.append(fid)
    try:
        result = call(*args, **kwargs)
    finally:
        stack.pop()
    if fid in _marked_functions:
        rec.step_finished(kind, fid)
    return result


def _patch_function_call(cls) -> None:
    original = cls.__call__

    @functools.wraps(original)
    def __call__(self, *args, **kwargs):
        return call_step_function(id(self), "tf.function", original, self, *args, **kwargs)

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
