"""Patches on Keras layers: which mode each mode-sensitive layer really ran in.

Keras 3 (`keras`, also `tf.keras` on TF >= 2.16) and Keras 2 (`tf_keras`)
resolve `training` in `Layer.__call__` (explicit argument, else the call
context, else the signature default) and hand the result to `call`. So the
value `call` receives is the mode the layer ran in. Eager calls are seen one
by one; under `tf.function` only the trace is seen, which is why the moving
statistics are also compared across steps (recorder.py).

`Layer.__call__` is wrapped too, cheaply: the outermost call from user code
records its site, so a static finding on a model call that ran but held no
mode-sensitive layer can be told apart from one that never ran.

TensorFlow is imported only for the flavours that run on it (tf_keras, and
Keras 3 whose backend is "tensorflow"): under Keras 3 on JAX or PyTorch the
user's process never loads it. There a call is traced when it runs inside
a `jax.jit` function being traced (jax_hooks.py), and the moving statistics
are read only on PyTorch, whose variables hold the values eagerly (JAX
keeps the state in the arrays the training function passes around, so the
variables say nothing about it).
"""

from __future__ import annotations

import functools
import inspect
import sys
import threading

import numpy as np

from . import recorder as _rec
from .sites import user_calls, user_frames
from .wrapping import same_signature

BATCH_NORM_NAMES = ("BatchNormalization",)
DROPOUT_NAMES = ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
                 "GaussianNoise", "GaussianDropout", "AlphaDropout")

_patched = set()
_depth = threading.local()


def _read_moving_stats(layer):
    values = tuple(np.array(v.numpy(), copy=True) for v in (layer.moving_mean, layer.moving_variance))
    if any(v.size == 0 for v in values):
        # Keras 3 creates variables lazily while tracing a tf.function: no
        # value yet, but their initializers say what the value will be.
        values = tuple(
            np.array(getattr(init, "numpy", lambda: init)(), copy=True)
            for init in (_initial_value(layer, "moving_mean"), _initial_value(layer, "moving_variance")))
    return values


def _initial_value(layer, attr: str):
    variable = getattr(layer, attr)
    initializer = getattr(layer, attr + "_initializer")
    return initializer(shape=tuple(variable.shape), dtype=getattr(variable, "dtype", "float32"))


def describe_training(value) -> str:
    if value is None or isinstance(value, (bool, np.bool_)):
        return str(None if value is None else bool(value))
    if isinstance(value, (int, np.integer)) and value in (0, 1):
        return str(bool(value))
    return "tensor"  # a symbolic value (placeholder, tf.function input): decided at run time


def _in_symbolic_scope() -> bool:
    from keras.src.backend.common.symbolic_scope import in_symbolic_scope

    return in_symbolic_scope()


def _tensorflow():
    """TensorFlow's eager context and ops modules; only for flavours on TF."""
    from tensorflow.python.eager import context
    from tensorflow.python.framework import ops

    return context, ops


def _mode_hook(kind: str, flavour: str, backend: str = "tensorflow"):
    """The hook around `call` of a mode-sensitive layer class; `backend` is
    Keras 3's backend ("tensorflow", "jax", "torch", "numpy"), or
    "tensorflow" for tf_keras."""
    if backend == "tensorflow":
        context, ops = _tensorflow()
        return _tf_mode_hook(kind, flavour, context, ops)
    reader = _read_moving_stats if kind == _rec.BN_KIND and backend == "torch" else None

    def hook(original, layer, training, args, kwargs):
        rec = _rec.RECORDER
        if rec is not None:
            try:
                if _in_symbolic_scope():  # building a model or inferring shapes, not a run
                    return original(*args, **kwargs)
                state = rec.layer_state(layer, kind, flavour, reader)
                traced = bool(rec.function_stack)
                if state.baseline is None and state.reader is not None and not traced:
                    rec.take_baseline(state)
                caller = sys._getframe(1)
                rec.layer_called(state, describe_training(training), caller, traced,
                                 lambda: user_calls(caller, _WRAPPER_CODE, _passed_training))
            except Exception as exc:  # never break the user's model
                rec.internal_error(f"layer hook failed: {type(exc).__name__}: {exc}")
        return original(*args, **kwargs)

    return hook


def _tf_mode_hook(kind: str, flavour: str, context, ops):
    reader = _read_moving_stats if kind == _rec.BN_KIND else None

    def hook(original, layer, training, args, kwargs):
        rec = _rec.RECORDER
        if rec is not None:
            try:
                state = rec.layer_state(layer, kind, flavour, reader)
                eager = context.executing_eagerly()
                if not eager and not rec.function_stack and ops.executing_eagerly_outside_functions():
                    # A symbolic call while Keras builds a model (functional
                    # construction, shape inference), not a real run.
                    return original(*args, **kwargs)
                if flavour == "keras3" and _in_symbolic_scope():
                    return original(*args, **kwargs)
                if state.baseline is None and state.reader is not None:
                    if eager:
                        rec.take_baseline(state)
                    elif rec.function_stack:
                        with ops.init_scope():
                            rec.take_baseline(state)
                    else:  # a TF1 graph: the session reads the statistics
                        state.reader = None
                if not eager and not rec.function_stack and kind == _rec.BN_KIND and state.graph_vars is None:
                    state.graph_vars = (layer.moving_mean, layer.moving_variance)
                caller = sys._getframe(1)
                rec.layer_called(state, describe_training(training), caller, not eager,
                                 lambda: user_calls(caller, _WRAPPER_CODE, _passed_training))
            except Exception as exc:  # never break the user's model
                rec.internal_error(f"layer hook failed: {type(exc).__name__}: {exc}")
        return original(*args, **kwargs)

    return hook


def _site_wrapper(original):
    @functools.wraps(original)
    def __call__(self, *args, **kwargs):
        depth = getattr(_depth, "n", 0)
        if depth == 0 and _rec.RECORDER is not None:
            _rec.RECORDER.site_called(sys._getframe(1))
        _depth.n = depth + 1
        try:
            return original(self, *args, **kwargs)
        finally:
            _depth.n = depth

    __call__.__module__ = original.__module__
    return __call__


_WRAPPER_CODE = _site_wrapper(_site_wrapper).__code__  # every Layer.__call__ wrapper runs this code
_TRAINING_INDEX = {}


def _training_index(cls):
    """Position of `training` among the positional parameters of `cls.call`
    (after self), or None; Layer.__call__ hands its arguments to `call`."""
    try:
        return _TRAINING_INDEX[cls]
    except KeyError:
        pass
    index = None
    try:
        params = list(inspect.signature(cls.call).parameters.values())[1:]
        for i, p in enumerate(params):
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name == "training":
                index = i
                break
    except (TypeError, ValueError, AttributeError):
        pass
    _TRAINING_INDEX[cls] = index
    return index


def _passed_training(frame) -> str:
    """What the `Layer.__call__` running in `frame` was passed as `training`
    (describe_training's words), "absent" when nothing, "unknown" on doubt."""
    try:
        local = frame.f_locals
        layer, args, kwargs = local["self"], local["args"], local["kwargs"]
        if "training" in kwargs:
            return describe_training(kwargs["training"])
        index = _training_index(type(layer))
        if index is not None and len(args) > index:
            return describe_training(args[index])
        return "absent"
    except Exception:
        return "unknown"


def _patch_call(cls, kind: str, flavour: str, backend: str = "tensorflow") -> None:
    owner = next((c for c in cls.__mro__ if "call" in c.__dict__), None)
    if owner is None or owner in _patched:
        return
    _patched.add(owner)
    owner.call = same_signature(owner.__dict__["call"], _mode_hook(kind, flavour, backend), "training")


def _patch_site(cls) -> None:
    if cls in _patched or "__call__" not in cls.__dict__:
        return
    _patched.add(cls)
    cls.__call__ = _site_wrapper(cls.__dict__["__call__"])


def _patch_layers(layers_module, flavour: str, backend: str = "tensorflow") -> None:
    for names, kind in ((BATCH_NORM_NAMES, _rec.BN_KIND), (DROPOUT_NAMES, _rec.DROPOUT_KIND)):
        for name in names:
            cls = getattr(layers_module, name, None)
            if isinstance(cls, type):
                _patch_call(cls, kind, flavour, backend)


def _stateless_wrapper(original):
    """Around Keras 3's `Layer.stateless_call(trainable, non_trainable, ...)`:
    for each batch norm layer instrumented so far whose moving statistics
    are among `non_trainable`, note whether the returned state holds them as
    passed in (the same objects: nothing assigned them, also when traced by
    `jax.jit`) or updated (recorder.stateless_state)."""
    @functools.wraps(original)
    def stateless_call(self, trainable_variables, non_trainable_variables, *args, **kwargs):
        result = original(self, trainable_variables, non_trainable_variables, *args, **kwargs)
        rec = _rec.RECORDER
        if rec is not None:
            try:
                _note_stateless(rec, self, list(non_trainable_variables), list(result[1]))
            except Exception as exc:
                rec.internal_error(f"stateless_call hook failed: {type(exc).__name__}: {exc}")
        return result

    stateless_call.__module__ = original.__module__
    return stateless_call


def _note_stateless(rec, model, before, after) -> None:
    position = {id(v): i for i, v in enumerate(model.non_trainable_variables)}
    for state in list(rec.layers.values()):
        layer = state.ref()
        if state.kind != _rec.BN_KIND or layer is None:
            continue
        indices = [position.get(id(getattr(layer, name, None))) for name in ("moving_mean", "moving_variance")]
        if None in indices or max(indices) >= min(len(before), len(after)):
            continue
        rec.stateless_state(state, all(after[i] is before[i] for i in indices))


def keras3_flavour(backend: str) -> str:
    """The flavour name of Keras 3 on `backend`: "keras3" on TensorFlow (as
    before backends were told apart), else e.g. "keras3-jax"."""
    return "keras3" if backend == "tensorflow" else f"keras3-{backend}"


def instrument_keras3(keras_module) -> None:
    """Patch Keras 3 through its own modules (layers, Layer, BaseOptimizer);
    TensorFlow is imported only when `keras.backend.backend()` is it."""
    from keras.src.layers import layer as layer_module
    from keras.src.optimizers import base_optimizer

    from .step_hooks import patch_optimizer_method

    backend = keras_module.backend.backend()
    _patch_layers(keras_module.layers, keras3_flavour(backend), backend)
    _patch_site(layer_module.Layer)
    patch_optimizer_method(base_optimizer.BaseOptimizer, "apply")
    if backend != "tensorflow" and ("stateless_call", layer_module.Layer) not in _patched:
        _patched.add(("stateless_call", layer_module.Layer))
        layer_module.Layer.stateless_call = _stateless_wrapper(layer_module.Layer.stateless_call)
    if backend == "torch":
        from .torch_hooks import torch_grad_enabled

        if _rec.RECORDER is not None:
            _rec.RECORDER.gradient_checks.append(torch_grad_enabled)


def instrument_tf_keras(tf_keras_module) -> None:
    from tf_keras.src.engine import base_layer

    from .step_hooks import patch_optimizer_method

    _patch_layers(tf_keras_module.layers, "tf_keras")
    _patch_site(base_layer.Layer)
    try:
        from tf_keras.src.engine import base_layer_v1

        _patch_site(base_layer_v1.Layer)
    except ImportError:
        pass
    try:
        from tf_keras.src.layers.normalization import batch_normalization_v1

        _patch_call(batch_normalization_v1.BatchNormalization, _rec.BN_KIND, "tf_keras")
    except ImportError:
        pass
    from tf_keras.src import backend as tf_keras_backend
    from tf_keras.src.optimizers import optimizer as new_optimizer
    from tf_keras.src.optimizers.legacy import optimizer_v2

    from .graph_hooks import instrument_graph_functions, record_graph_train_ops

    patch_optimizer_method(new_optimizer._BaseOptimizer, "apply_gradients")
    patch_optimizer_method(optimizer_v2.OptimizerV2, "apply_gradients")
    record_graph_train_ops(optimizer_v2.OptimizerV2, "apply_gradients")  # graph-mode fit()
    instrument_graph_functions(tf_keras_backend.GraphExecutionFunction, tf_keras_backend.get_session)
    _patch_learning_phase(tf_keras_backend)


def _patch_learning_phase(backend_module) -> None:
    """Record each `set_learning_phase(value)` of tf_keras (its public
    function, under any name, calls this module-level implementation)."""
    name = "deprecated_internal_set_learning_phase"
    original = getattr(backend_module, name, None)
    if original is None or getattr(original, "__bnlint_original__", None) is not None:
        return

    @functools.wraps(original)
    def set_phase(value):
        rec = _rec.RECORDER
        if rec is not None:
            try:
                shown = str(int(value)) if isinstance(value, (int, np.integer)) else describe_training(value)
                rec.learning_phases.append({"value": shown,
                                            "frames": [list(f) for f in user_frames(sys._getframe(1))]})
            except Exception as exc:
                rec.internal_error(f"learning phase hook failed: {type(exc).__name__}: {exc}")
        return original(value)

    set_phase.__bnlint_original__ = original
    setattr(backend_module, name, set_phase)
