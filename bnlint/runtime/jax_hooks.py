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

The wrapper of a jitted function keeps its attributes (`lower`, `trace`,
`eval_shape`, ...) by delegation and binds as a method like the original.
"""

from __future__ import annotations

import functools
import types

from . import recorder as _rec
from .step_hooks import call_step_function


class _Jitted:
    """A `jax.jit` result whose calls go through call_step_function."""

    __slots__ = ("__wrapped__", "__weakref__")

    def __init__(self, jitted):
        object.__setattr__(self, "__wrapped__", jitted)

    def __call__(self, *args, **kwargs):
        return call_step_function(id(self), "jax.jit", self.__wrapped__, *args, **kwargs)

    def __get__(self, instance, owner=None):
        return self if instance is None else types.MethodType(self, instance)

    def __getattr__(self, name):
        return getattr(self.__wrapped__, name)

    def __repr__(self):
        return repr(self.__wrapped__)


def _wrap_jit(original):
    @functools.wraps(original)
    def jit(*args, **kwargs):
        if not args and "fun" not in kwargs:  # `jax.jit(static_argnums=...)` as a decorator factory
            return lambda fun: jit(fun, **kwargs)
        result = original(*args, **kwargs)
        return result if isinstance(result, _Jitted) or not callable(result) else _Jitted(result)

    return jit


def _wrap_differentiator(original):
    @functools.wraps(original)
    def differentiator(*args, **kwargs):
        gradient_fn = original(*args, **kwargs)
        if not callable(gradient_fn):
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
