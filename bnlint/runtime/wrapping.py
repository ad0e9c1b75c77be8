"""Wrappers that keep the wrapped function's exact signature.

Keras decides whether to pass `training` by inspecting `call`'s signature,
and tf_keras uses `getfullargspec`, which ignores `functools.wraps`. So a
`*args, **kwargs` wrapper would silently change which mode a layer runs in;
the wrapper is generated from the original's parameter list instead.
"""

from __future__ import annotations

import inspect
from typing import Callable

_KIND_FORMAT = {
    inspect.Parameter.POSITIONAL_ONLY: "{0}",
    inspect.Parameter.POSITIONAL_OR_KEYWORD: "{0}",
    inspect.Parameter.VAR_POSITIONAL: "*{0}",
    inspect.Parameter.KEYWORD_ONLY: "{0}={0}",
    inspect.Parameter.VAR_KEYWORD: "**{0}",
}


def same_signature(original: Callable, hook: Callable, watched: str) -> Callable:
    """Return f(<original's parameters>) that calls
    `hook(original, self, watched_value, args, kwargs)`.

    `watched` names the parameter whose value the hook wants (e.g. `training`);
    the hook must call `original(*args, **kwargs)` itself. The wrapper claims
    the original's module so AutoGraph's allow-list treats it like the original.
    """
    sig = inspect.signature(original)
    params = list(sig.parameters.values())
    # `dict` too comes from here: a parameter may be named `dict`
    namespace = {"__hook": hook, "__original": original, "__dict": dict}
    header, positional, keywords = [], [], []
    seen_kw_only = False
    for i, p in enumerate(params):
        text = p.name
        if p.default is not inspect.Parameter.empty:
            namespace[f"__default{i}"] = p.default
            text += f"=__default{i}"
        if p.kind is inspect.Parameter.VAR_POSITIONAL:
            text = "*" + p.name
            seen_kw_only = True
        elif p.kind is inspect.Parameter.VAR_KEYWORD:
            text = "**" + p.name
        elif p.kind is inspect.Parameter.KEYWORD_ONLY and not seen_kw_only:
            header.append("*")
            seen_kw_only = True
        header.append(text)
        if p.kind is inspect.Parameter.POSITIONAL_ONLY and (
                i + 1 == len(params) or params[i + 1].kind is not inspect.Parameter.POSITIONAL_ONLY):
            header.append("/")
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                      inspect.Parameter.VAR_POSITIONAL):
            positional.append(_KIND_FORMAT[p.kind].format(p.name))
        else:
            keywords.append(_KIND_FORMAT[p.kind].format(p.name))
    names = {p.name for p in params}
    value = watched if watched in names else "None"
    first = params[0].name if params else "None"
    source = (
        f"def {original.__name__}({', '.join(header)}):\n"
        f"    return __hook(__original, {first}, {value}, ({''.join(a + ', ' for a in positional)}),"
        f" __dict({', '.join(keywords)}))\n"
    )
    exec(compile(source, f"<bnlint wrapper of {original.__qualname__}>", "exec"), namespace)
    wrapper = namespace[original.__name__]
    wrapper.__qualname__ = original.__qualname__
    wrapper.__module__ = original.__module__
    wrapper.__doc__ = original.__doc__
    wrapper.__annotations__ = dict(getattr(original, "__annotations__", None) or {})
    wrapper.__bnlint_original__ = original
    return wrapper
