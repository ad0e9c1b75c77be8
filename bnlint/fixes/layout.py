"""Add a keyword argument or a parameter the way the user laid out the rest.

One line stays one line (`f(a, b)` -> `f(a, b, training=True)`); one item
a line gets one more line at the same indentation; a trailing comma stays
trailing; a comment stays on the line of the item it was written after.
"""

from __future__ import annotations

from typing import List, Optional, Sequence

import libcst as cst

_NO_SPACE = cst.SimpleWhitespace("")


def _breaks(ws) -> bool:
    return isinstance(ws, cst.ParenthesizedWhitespace)


def _bare(ws):
    """`ws` without its comment and blank lines (to copy it elsewhere)."""
    if _breaks(ws):
        return ws.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
    return ws


def _separator(items: Sequence, opening) -> cst.Comma:
    """The comma (and what follows it) that separates items here."""
    if len(items) >= 2 and isinstance(items[-2].comma, cst.Comma):
        comma = items[-2].comma
        return comma.with_changes(whitespace_after=_bare(comma.whitespace_after))
    if _breaks(opening):
        return cst.Comma(whitespace_before=_NO_SPACE, whitespace_after=_bare(opening))
    return cst.Comma(whitespace_before=_NO_SPACE, whitespace_after=cst.SimpleWhitespace(" "))


def append_item(items: Sequence, new, opening, after: str) -> List:
    """`items` (Args or Params, closed by `)`) with `new` added last.

    `opening` is the whitespace after `(`; `after` names the attribute that
    holds an item's whitespace before the closing paren.
    """
    items = list(items)
    if not items:
        return [new]
    last = items[-1]
    comma = last.comma
    tail_after = getattr(last, after)
    tail_in_comma = isinstance(comma, cst.Comma) and _breaks(comma.whitespace_after)
    sep = _separator(items, opening)
    if not _breaks(sep.whitespace_after) or not (tail_in_comma or _breaks(tail_after)):
        # Same line as the closing paren: the new item goes right after the last.
        items[-1] = last.with_changes(comma=sep, **{after: _NO_SPACE})
        items.append(new.with_changes(comma=comma, **{after: tail_after}))
        return items
    line = {"indent": sep.whitespace_after.indent, "last_line": sep.whitespace_after.last_line}
    if tail_in_comma:  # `x,  # note\n)` -> `x,  # note\n    new,\n)`
        tail = comma.whitespace_after
        items[-1] = last.with_changes(comma=comma.with_changes(
            whitespace_after=tail.with_changes(empty_lines=[], **line)))
        items.append(new.with_changes(
            comma=comma.with_changes(whitespace_after=tail.with_changes(first_line=cst.TrailingWhitespace())),
            **{after: tail_after}))
    else:  # `x  # note\n)` -> `x,  # note\n    new\n)`
        items[-1] = last.with_changes(
            comma=cst.Comma(whitespace_before=_NO_SPACE, whitespace_after=_NO_SPACE),
            **{after: tail_after.with_changes(empty_lines=[], **line)})
        items.append(new.with_changes(
            comma=comma, **{after: tail_after.with_changes(first_line=cst.TrailingWhitespace())}))
    return items


def insert_before_follower(items: Sequence, new) -> List:
    """`items` with `new` added last, when something (`**kwargs`) follows them."""
    items = list(items)
    if not items:
        return [new.with_changes(comma=cst.Comma(whitespace_before=_NO_SPACE,
                                                 whitespace_after=cst.SimpleWhitespace(" ")))]
    comma = items[-1].comma
    if not isinstance(comma, cst.Comma):
        comma = cst.Comma(whitespace_before=_NO_SPACE, whitespace_after=cst.SimpleWhitespace(" "))
    return items + [new.with_changes(comma=comma.with_changes(whitespace_after=_bare(comma.whitespace_after)))]


def keyword_arg(name: str, value: cst.BaseExpression) -> cst.Arg:
    return cst.Arg(value=value, keyword=cst.Name(name),
                   equal=cst.AssignEqual(whitespace_before=_NO_SPACE, whitespace_after=_NO_SPACE))


def add_keyword(call: cst.Call, name: str, value: cst.BaseExpression) -> Optional[cst.Call]:
    """`call` with `name=value` after its arguments; None if `**` comes last."""
    if any(arg.star == "**" for arg in call.args):
        return None
    args = append_item(call.args, keyword_arg(name, value), call.whitespace_before_args,
                       "whitespace_after_arg")
    return call.with_changes(args=args)


def add_parameter(fn: cst.FunctionDef, name: str, default: cst.BaseExpression) -> cst.FunctionDef:
    """`fn` with `name=default` added: before `**kwargs`, keyword-only after `*args`."""
    params = fn.params
    new = cst.Param(name=cst.Name(name), default=default,
                    equal=cst.AssignEqual(whitespace_before=_NO_SPACE, whitespace_after=_NO_SPACE))
    star = params.star_arg if isinstance(params.star_arg, cst.Param) else None
    flat = list(params.params) + ([star] if star is not None else []) + list(params.kwonly_params)
    if params.star_kwarg is not None:
        flat = insert_before_follower(flat, new)
    else:
        flat = append_item(flat, new, fn.whitespace_before_params, "whitespace_after_param")
    n = len(params.params)
    if star is None and not isinstance(params.star_arg, cst.ParamStar):
        return fn.with_changes(params=params.with_changes(params=flat))
    if star is not None:
        return fn.with_changes(params=params.with_changes(
            params=flat[:n], star_arg=flat[n], kwonly_params=flat[n + 1:]))
    return fn.with_changes(params=params.with_changes(params=flat[:n], kwonly_params=flat[n:]))
