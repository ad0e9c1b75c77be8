"""The layer-call wrapper must look exactly like the original to Keras'
introspection (tf_keras uses getfullargspec, which ignores functools.wraps)."""

import inspect

from bnlint.runtime.wrapping import same_signature


def _record(seen):
    def hook(original, first, watched, args, kwargs):
        seen.append(watched)
        return original(*args, **kwargs)
    return hook


def test_signature_and_values_pass_through_unchanged():
    def call(self, inputs, training=None, *rest, mask=None, **extra):
        return (inputs, training, rest, mask, extra)

    seen = []
    wrapper = same_signature(call, _record(seen), "training")
    assert inspect.getfullargspec(wrapper) == inspect.getfullargspec(call)
    assert wrapper("self", 1, True, 7, mask=3, z=4) == (1, True, (7,), 3, {"z": 4})
    assert wrapper("self", 2) == (2, None, (), None, {})
    assert seen == [True, None]
    assert wrapper.__module__ == call.__module__ and wrapper.__qualname__ == call.__qualname__


def test_keyword_only_and_positional_only_parameters():
    def call(self, x, /, *, training=False):
        return x, training

    seen = []
    wrapper = same_signature(call, _record(seen), "training")
    assert str(inspect.signature(wrapper)) == str(inspect.signature(call))
    assert wrapper("self", 5, training=True) == (5, True)
    assert seen == [True]


def test_a_function_without_the_watched_parameter_reports_none():
    def call(self, x):
        return x * 2

    seen = []
    assert same_signature(call, _record(seen), "training")("self", 4) == 8
    assert seen == [None]


def test_parameters_named_like_builtins_and_annotations_pass_through():
    # a parameter named `dict` shadowed the builtin the wrapper used to pass keywords: TypeError
    def call(self, inputs: int, dict=None, *, training: bool = False) -> tuple:
        return inputs, dict, training

    seen = []
    wrapper = same_signature(call, _record(seen), "training")
    assert wrapper("self", 1, {"a": 1}, training=True) == (1, {"a": 1}, True)
    assert seen == [True]
    assert inspect.signature(wrapper) == inspect.signature(call)
    assert inspect.getfullargspec(wrapper) == inspect.getfullargspec(call)
