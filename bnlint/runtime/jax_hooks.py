"""JAX: which compiled functions are training steps, and when gradients are
being taken.

`jax.jit` is wrapped so that each function it returns is called through
step_hooks.call_step_function: the Keras optimizer's apply (reached from
`optimizer.apply` and `optimizer.stateless_apply`) traced inside marks it,
and each later call of it is one optimizer step, as for `tf.function`. This
covers a user's `@jax.jit` training step and Keras 3's own `fit()` on JAX
(its trainer compiles `train_step` with `jax.jit`). The functions returned by
`jax.grad` / `jax.value_and_grad` count as a gradient context while they run
(the recorder's tape depth), so the layers their function calls are known
to be computing gradients, jitted or not.

The wrapper of a jitted function is transparent apart from `type()`: it
shares the jitted function's attributes (`lower`, `trace`, `__wrapped__`,
`__doc__`, ...), its `__class__`, pickling and copying, passes every
argument through (keywords named like call_step_function's own parameters
too) and binds as a method like the original. Only Keras marks steps and
only Keras layers are watched, so while `keras` is not imported `jax.jit`
and the differentiators return JAX's own objects untouched.
"""

from __future__ import annotations

import functools
import sys
import types

from . import recorder as _rec
from .step_hooks import call_step_function


class _Jitted:
    """A `jax.jit` result whose calls go through call_step_function, and
    otherwise is the jitted function: attributes (`lower`, `trace`,
    `__wrapped__` = the user's function, `__doc__`, ...) are read from and
    written to it, `__class__`, `repr`, `dir`, pickling and copying are its
    own (a copy is the plain jitted function), and it binds as a method."""

    __slots__ = ("_bnlint_jitted", "__dict__", "__weakref__")

    def __init__(self, jitted):
        object.__setattr__(self, "_bnlint_jitted", jitted)
        try:  # the jitted function's own attribute dict (functools.wraps' names): `__doc__`, `__module__`
            object.__setattr__(self, "__dict__", jitted.__dict__)
        except (AttributeError, TypeError):
            pass

    def __call__(self, /, *args, **kwargs):
        return call_step_function(id(self), "jax.jit", self._bnlint_jitted, *args, **kwargs)

    def __get__(self, instance, owner=None):
        return self if instance is None else types.MethodType(self, instance)

    def __getattr__(self, name):
        try:
            jitted = object.__getattribute__(self, "_bnlint_jitted")
        except AttributeError:  # not initialised (e.g. made by object.__new__): no recursion
            raise AttributeError(name) from None
        return getattr(jitted, name)

    def __setattr__(self, name, value):
        setattr(self._bnlint_jitted, name, value)

    def __delattr__(self, name):
        delattr(self._bnlint_jitted, name)

    @property
    def __class__(self):
        return type(self._bnlint_jitted)

    def __dir__(self):
        return dir(self._bnlint_jitted)

    def __reduce_ex__(self, protocol):
        return self._bnlint_jitted.__reduce_ex__(protocol)

    def __reduce__(self):
        return self._bnlint_jitted.__reduce__()

    def __repr__(self):
        return repr(self._bnlint_jitted)


def _keras_loaded() -> bool:
    """Only Keras' optimizers mark a jitted function as a training step and
    only Keras layers are watched: without Keras, JAX is left untouched."""
    return "keras" in sys.modules


def _wrap_jit(original):
    @functools.wraps(original)
    def jit(*args, **kwargs):
        result = original(*args, **kwargs)  # raises what jax.jit raises for these arguments
        if not args and "fun" not in kwargs and callable(result):
            # `jax.jit(static_argnums=...)` as a decorator factory (where JAX has it)
            return functools.wraps(result)(lambda fun: jit(fun, **kwargs))
        if isinstance(result, _Jitted) or not callable(result) or not _keras_loaded():
            return result
        return _Jitted(result)

    return jit


def _wrap_differentiator(original):
    @functools.wraps(original)
    def differentiator(*args, **kwargs):
        gradient_fn = original(*args, **kwargs)
        if not callable(gradient_fn) or not _keras_loaded():
            return gradient_fn

        @functools.wraps(gradient_fn)
        def taking_gradients(*a, **k):
            rec = _rec.RECORDER
            if rec is None:
                return gradient_fn(*a, **k)
            rec.tape_depth += 1
            try:
                return gradient_fn(*a, **k)
            finally:
                rec.tape_depth = max(0, rec.tape_depth - 1)

        return taking_gradients

    return differentiator


def instrument_jax(jax_module) -> None:
    """Patch `jax.jit`, `jax.grad` and `jax.value_and_grad` on the `jax`
    module (the names user code and Keras look up; JAX's internals keep
    their own references)."""
    if getattr(jax_module.jit, "__bnlint_wrapped__", False):
        return
    jax_module.jit = _wrap_jit(jax_module.jit)
    jax_module.jit.__bnlint_wrapped__ = True
    for name in ("grad", "value_and_grad"):
        original = getattr(jax_module, name, None)
        if callable(original):
            setattr(jax_module, name, _wrap_differentiator(original))
