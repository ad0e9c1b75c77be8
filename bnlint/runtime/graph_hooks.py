"""TF1 graphs: which `Session.run` calls are training steps, and do they run
the batch norm updates?

`Optimizer.apply_gradients` (also reached through `minimize`; TF1's
optimizers and tf_keras' OptimizerV2, which graph-mode `fit()` uses) in
graph mode returns the train op; its creation site is recorded. At
`Session.run`, and at each call of a tf_keras graph function (graph-mode
`fit()` runs `backend.function`s through a session callable, not
`Session.run`), the fetched ops' ancestors (inputs and control inputs,
transitively) are walked once per distinct fetch list: a fetch that depends
on a recorded train op is a step, and the walk says how many of the graph's
`UPDATE_OPS` it depends on. The moving statistics of the batch norm layers
in that graph are read before and after the step with the same session.
Train ops are told apart by graph and name (two graphs may each have a
'GradientDescent'; graphs by graph_key, not their id, which is reused).
"""

from __future__ import annotations

import functools
import itertools
import sys
import weakref
from collections.abc import Mapping
from typing import Dict, List, Set, Tuple

from . import recorder as _rec
from .sites import user_frames

_walks: Dict[Tuple, Tuple[List[Tuple[int, str]], int, int]] = {}
_graph_keys: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_next_graph_key = itertools.count(1)


def graph_key(graph) -> int:
    """A number for `graph` that no other graph of the run gets. Not
    `id(graph)`: a script that builds a graph per experiment frees them,
    and the next graph often gets the freed one's id (its train ops and
    cached fetch walks would be taken for the dead graph's)."""
    try:
        key = _graph_keys.get(graph)
        if key is None:
            key = _graph_keys[graph] = next(_next_graph_key)
        return key
    except TypeError:  # not weakly referenceable: the id is all there is
        return id(graph)


def _ancestors(ops) -> Set[object]:
    seen, todo = set(), list(ops)
    while todo:
        op = todo.pop()
        if op in seen:
            continue
        seen.add(op)
        todo.extend(t.op for t in op.inputs)
        todo.extend(op.control_inputs)
    return seen


def _fetch_elements(graph, fetches) -> List[object]:
    """The tensors and operations a `Session.run(fetches)` would fetch or run.

    Uses TensorFlow's own parser of fetch structures (`session._FetchMapper`,
    the one `Session.run` uses: any nesting of lists, tuples, namedtuples,
    dicts with arbitrary keys such as MonitoredSession's hook objects, attrs
    classes, and registered expansions such as SparseTensor), so what is
    walked is what runs. Raises whatever `Session.run` would raise for the
    same fetches. Falls back to a walk of the same structures where that
    private class is missing.
    """
    mapper = getattr(sys.modules.get("tensorflow.python.client.session"), "_FetchMapper", None)
    if mapper is not None:
        with graph.as_default():
            return list(mapper.for_fetch(fetches).unique_fetches())
    return list(_walk_fetches(graph, fetches))


def _walk_fetches(graph, fetches):
    todo = [fetches]
    while todo:
        item = todo.pop()
        if isinstance(item, Mapping):
            todo.extend(item.values())
        elif isinstance(item, (list, tuple)):
            todo.extend(item)
        elif hasattr(type(item), "__attrs_attrs__"):
            todo.extend(getattr(item, a.name) for a in type(item).__attrs_attrs__)
        else:
            parts = [getattr(item, n) for n in ("indices", "values", "dense_shape") if hasattr(item, n)]
            if len(parts) == 3:  # SparseTensor / SparseTensorValue
                todo.extend(parts)
                continue
            yield graph.as_graph_element(item, allow_tensor=True, allow_operation=True)


def _fetched_ops(graph, fetches) -> List[object]:
    ops = []
    for element in _fetch_elements(graph, fetches):
        op = getattr(element, "op", element)
        if op is not None and hasattr(op, "control_inputs"):
            ops.append(op)
    return ops


def _classify(graph, fetches) -> Tuple[List[Tuple[int, str]], int, int]:
    """(train op keys (graph_key(graph), name) among the ancestors, update ops in
    the graph, update ops among them)."""
    ops = _fetched_ops(graph, fetches)
    gkey = graph_key(graph)
    key = (gkey, tuple(sorted(op.name for op in ops)))
    if key in _walks:
        return _walks[key]
    ancestors = _ancestors(ops)
    rec = _rec.RECORDER
    train = [key for key in ((gkey, op.name) for op in ancestors) if key in rec.train_ops]
    updates = [getattr(u, "op", u) for u in graph.get_collection("update_ops")]
    found = sum(1 for u in updates if u in ancestors)
    _walks[key] = (train, len(updates), found)
    return _walks[key]


def _graph_bn_states(graph) -> List[_rec.LayerState]:
    rec = _rec.RECORDER
    states = []
    for state in rec.layers.values():
        if state.graph_vars is not None and getattr(state.graph_vars[0], "graph", None) is graph:
            states.append(state)
    return states


def _read_stats(rec, original_run, session, variables):
    """The moving statistics of `variables` (list of (mean, variance) pairs),
    or None after recording why they could not be read."""
    if not variables:
        return []
    try:
        return original_run(session, variables)
    except Exception as exc:
        rec.internal_error(f"could not read the moving statistics: {type(exc).__name__}: {exc}")
        return None


def record_graph_train_ops(cls, name: str) -> None:
    """Wrap `cls.<name>` (an optimizer's apply_gradients) so that in graph
    mode (not eager, not tracing a tf.function) the op it returns is
    recorded as a train op with the user frames that built it."""
    from tensorflow.python.eager import context

    if (cls, name, "graph") in _patched or name not in cls.__dict__:
        return
    _patched.add((cls, name, "graph"))
    original_apply = cls.__dict__[name]

    @functools.wraps(original_apply)
    def apply_gradients(self, *args, **kwargs):
        rec = _rec.RECORDER
        if rec is None or context.executing_eagerly() or rec.function_stack:
            return original_apply(self, *args, **kwargs)  # counted by the step hook
        op = original_apply(self, *args, **kwargs)
        op_name, graph = getattr(op, "name", None), getattr(op, "graph", None)
        if op_name and graph is not None:
            rec.train_ops[(graph_key(graph), op_name)] = {
                "name": op_name, "graph": graph_key(graph),
                "frames": [list(f) for f in user_frames(sys._getframe(1))],
                "runs": 0, "runs_changed": 0, "update_ops": 0, "update_ops_run": 0,
                "bn_layers": 0,
            }
        return op

    apply_gradients.__module__ = original_apply.__module__
    setattr(cls, name, apply_gradients)


_patched: Set[Tuple] = set()
_original_run = []  # BaseSession.run before the patch, to read statistics without stepping


def _stepped(rec, session, graph, fetches, execute):
    """`execute()` (a run of `fetches` in `graph` with `session`), counted
    as a step with the statistics read before and after when the fetches
    depend on a recorded train op; else just `execute()`."""
    try:
        train, n_updates, n_found = _classify(graph, fetches)
    except Exception as exc:
        # Fetches TensorFlow cannot read either: its own run reports the
        # script's mistake. Only if it accepts them is this our failure.
        result = execute()
        rec.internal_error(f"could not read the fetches of Session.run: {type(exc).__name__}: {exc}")
        return result
    if not train:
        return execute()
    rec.step_starting()
    # unpatched when instrument_graph_mode ran; else the session's own (then
    # a read is a Session.run that depends on no train op: not a step)
    original_run = _original_run[0] if _original_run else type(session).run
    states = _graph_bn_states(graph)
    variables = [s.graph_vars for s in states]
    before = _read_stats(rec, original_run, session, variables) if session is not None else None
    result = execute()
    after = _read_stats(rec, original_run, session, variables) if before is not None else None
    try:
        _record_step(rec, train, n_updates, n_found, states, before, after)
    except Exception as exc:
        rec.internal_error(f"train op bookkeeping failed: {type(exc).__name__}: {exc}")
    rec.step_finished("session")
    return result


def instrument_graph_mode() -> None:
    """Patch TF1's `Optimizer.apply_gradients` (records train ops built in
    graph mode) and `BaseSession.run` (a run whose fetches depend on a train
    op is a step: counted, bounded by --max-steps, statistics compared)."""
    from tensorflow.python.client import session
    from tensorflow.python.training import optimizer

    from .step_hooks import patch_optimizer_method

    patch_optimizer_method(optimizer.Optimizer, "apply_gradients")  # eager use counts steps
    record_graph_train_ops(optimizer.Optimizer, "apply_gradients")
    if _original_run:
        return
    original_run = session.BaseSession.run
    _original_run.append(original_run)

    @functools.wraps(original_run)
    def run(self, fetches, *args, **kwargs):
        rec = _rec.RECORDER
        if rec is None or not rec.train_ops:
            return original_run(self, fetches, *args, **kwargs)
        return _stepped(rec, self, self.graph, fetches, lambda: original_run(self, fetches, *args, **kwargs))

    run.__module__ = original_run.__module__
    session.BaseSession.run = run


def instrument_graph_functions(function_cls, get_session) -> None:
    """Patch tf_keras' `GraphExecutionFunction.__call__` (graph-mode
    `fit()` / `train_on_batch()` run their training through it): a call
    whose outputs and updates depend on a recorded train op is a step.
    `get_session(inputs)` is tf_keras' own `backend.get_session`."""
    if function_cls in _patched:
        return
    _patched.add(function_cls)
    original_call = function_cls.__call__

    @functools.wraps(original_call)
    def __call__(self, inputs):
        rec = _rec.RECORDER
        updates_op = getattr(self, "updates_op", None)
        if rec is None or not rec.train_ops or updates_op is None:
            return original_call(self, inputs)
        fetches = list(self.outputs) + [updates_op] + list(getattr(self, "fetches", []))
        try:
            session = get_session(inputs)
        except Exception:
            session = None
        return _stepped(rec, session, updates_op.graph, fetches, lambda: original_call(self, inputs))

    __call__.__module__ = original_call.__module__
    function_cls.__call__ = __call__


def _record_step(rec, train, n_updates, n_found, states, before, after) -> None:
    """Book one run of train ops `train`: statistics before/after, update ops."""
    if before is None or after is None:
        states, before, after = [], [], []
    rec.graph_step(states, before, after)
    changed = any(any((x != y).any() for x, y in zip(a, b)) for a, b in zip(before, after))
    for key in train:
        record = rec.train_ops[key]
        record["runs"] += 1
        record["runs_changed"] += int(changed)
        record["update_ops"] = n_updates
        record["update_ops_run"] = n_found
        record["bn_layers"] = len(states)
        record["layers"] = sorted(set(record.get("layers", [])) | {s.lid for s in states})
