"""What the child observes, kept small and written out as JSON.

One `Recorder` per child process. Hooks call into it: a mode-sensitive layer
ran (with which `training`, from which user frames, inside a tape or a traced
step function), an optimizer step started or ended, a TF1 train op ran. At
the end of every step it snapshots the moving statistics of the layers that
took part and counts whether they changed. `write()` dumps everything to the
result file the parent named; it is called after steps too (throttled), so a
child killed by the timeout still leaves what it saw.
"""

from __future__ import annotations

import json
import os
import threading
import time
import weakref
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from . import lines
from .sites import loaded_user_files, lost_mode_site, mode_site, user_frames


class StepLimitReached(BaseException):
    """Raised into the user's loop at the start of step max_steps + 1.

    A BaseException so that the user's `except Exception:` does not swallow it.
    """


class TimeLimitReached(BaseException):
    """Raised in the main thread when the parent asks the child to stop."""


BN_KIND = "batch_norm"
DROPOUT_KIND = "dropout"


class LayerState:
    __slots__ = ("lid", "ref", "name", "cls", "kind", "flavour", "baseline", "steps_seen",
                 "steps_changed", "reader", "trainable", "graph_vars", "at_init",
                 "stateless_kept", "stateless_updated")

    def __init__(self, lid: int, layer, kind: str, flavour: str, reader: Optional[Callable]):
        self.lid = lid
        self.ref = weakref.ref(layer)
        self.name = str(getattr(layer, "name", type(layer).__name__))
        self.cls = type(layer).__name__
        self.kind = kind
        self.flavour = flavour
        self.reader = reader  # layer -> tuple of numpy arrays (moving stats), eager only
        self.baseline = None
        self.steps_seen = 0
        self.steps_changed = 0
        self.trainable = bool(getattr(layer, "trainable", True))
        self.graph_vars = None  # TF1: (moving_mean, moving_variance), kept alive for the session
        self.at_init = None  # moving_mean all 0 and moving_variance all 1 at the last look
        self.stateless_kept = 0  # Keras 3 stateless_call returned its statistics as passed in
        self.stateless_updated = 0  # ... returned new values for them


def _at_init(stats) -> bool:
    """Moving mean all 0 and moving variance all 1: what a never-updated layer holds."""
    mean, variance = stats[0], stats[1]
    return bool((mean == 0).all() and (variance == 1).all())


class Recorder:
    def __init__(self, result_path: str, max_steps: int, script: str):
        self.result_path = result_path
        self.max_steps = max_steps
        self.script = script
        self.started = time.monotonic()
        self.pid = os.getpid()  # a process the script forks inherits this object, not the result file
        self.status = "running"
        self.exit_code: Optional[int] = None
        self.traceback: Optional[str] = None
        self.error: Optional[str] = None
        self.steps = 0
        self.step_kinds: Dict[str, int] = {}
        self.flavours: Set[str] = set()
        self.layers: Dict[int, LayerState] = {}
        self._layer_ids: Dict[int, int] = {}  # id(layer) -> lid
        # (lid, training, frames, in_tape, fn) -> [count, first step index]
        self.calls: Dict[Tuple, List[int]] = {}
        # same key -> (where the mode was lost, where it was set), see sites.py
        self.call_sites: Dict[Tuple, Tuple[Optional[Tuple[str, int]], Optional[Tuple[str, int]]]] = {}
        self.sites: Dict[Tuple[str, int], int] = {}  # user call of any Keras layer -> count
        # per thread (properties below): a tape open in one thread says nothing of another's calls
        self._thread = threading.local()
        # more ways of being in code that records gradients (PyTorch: grad mode on)
        self.gradient_checks: List[Callable[[], bool]] = []
        self.step_functions: Dict[int, int] = {}  # fn id -> steps it ran
        self.function_layers: Dict[int, Set[int]] = {}  # fn id -> lids traced inside it
        self.eager_touched: Set[int] = set()  # lids called in a tape since the last step
        self.train_ops: Dict[Tuple[int, str], Dict[str, Any]] = {}  # TF1: (graph_hooks.graph_key, op name) -> record
        self.learning_phases: List[Dict[str, Any]] = []  # tf_keras set_learning_phase calls: value, frames
        self.files: Set[str] = set()
        self._last_write = 0.0
        self._write_lock = threading.Lock()
        self.notes: List[str] = []
        self.errors: List[str] = []  # failures of bnlint's own instrumentation
        # set by the child: make the main thread stop too (called once, from
        # the first other thread that reaches --max-steps)
        self.stop_main_thread: Optional[Callable[[], None]] = None
        self._main_thread_told = False

    @property
    def tape_depth(self) -> int:
        """Open GradientTapes and running jax.grad / value_and_grad functions
        in the calling thread."""
        return getattr(self._thread, "tape_depth", 0)

    @tape_depth.setter
    def tape_depth(self, value: int) -> None:
        self._thread.tape_depth = value

    @property
    def function_stack(self) -> List[int]:
        """Ids of the tf.function / jax.jit functions the calling thread is
        inside, outermost first (each thread traces and runs its own)."""
        try:
            return self._thread.function_stack
        except AttributeError:
            self._thread.function_stack = []
            return self._thread.function_stack

    def internal_error(self, message: str) -> None:
        """Record a failure of the checker itself (not of the script).

        A run with one is never reported as clean: the parent turns the
        verdicts it could not back into `unchecked` and exits 2. At most 20
        distinct messages are kept."""
        if message not in self.errors and len(self.errors) < 20:
            self.errors.append(message)

    # -- layers ---------------------------------------------------------------
    def layer_state(self, layer, kind: str, flavour: str, reader: Optional[Callable]) -> LayerState:
        key = id(layer)
        lid = self._layer_ids.get(key)
        state = self.layers.get(lid) if lid is not None else None
        if state is None or state.ref() is not layer:
            lid = len(self.layers) + 1
            state = LayerState(lid, layer, kind, flavour, reader)
            self.layers[lid] = state
            self._layer_ids[key] = lid
            self.flavours.add(flavour)
        return state

    def layer_called(self, state: LayerState, training: str, frame, traced: bool,
                     chain: Optional[Callable[[], list]] = None) -> None:
        """A mode-sensitive layer ran with `training` (describe_training's
        words) from `frame`; `chain()` gives the user calls of Keras layers
        on the stack (sites.user_calls), asked once per distinct call path."""
        frames = tuple(user_frames(frame))
        fn = self.function_stack[0] if (traced and self.function_stack) else None
        key = (state.lid, training, frames, self.in_gradient_context(), fn)
        entry = self.calls.get(key)
        if entry is None:
            self.calls[key] = [1, self.steps + 1]
            calls = chain() if chain is not None else []
            self.call_sites[key] = (lost_mode_site(calls), mode_site(calls))
            for f in frames:
                self.files.add(f[0])
        else:
            entry[0] += 1
        if fn is not None:
            self.function_layers.setdefault(fn, set()).add(state.lid)
        elif key[3]:
            self.eager_touched.add(state.lid)

    def in_gradient_context(self) -> bool:
        """Inside a GradientTape, a running `jax.grad` function, or (Keras 3
        on PyTorch) with torch's grad mode on."""
        if self.tape_depth > 0:
            return True
        for check in self.gradient_checks:
            try:
                if check():
                    return True
            except Exception:
                pass
        return False

    def site_called(self, frame) -> None:
        try:
            self._site_called(frame)
        except Exception as exc:
            self.internal_error(f"call site bookkeeping failed: {type(exc).__name__}: {exc}")

    def _site_called(self, frame) -> None:
        frames = user_frames(frame, limit=60)
        if frames:
            key = (frames[0][0], frames[0][1])
            self.sites[key] = self.sites.get(key, 0) + 1

    def take_baseline(self, state: LayerState) -> None:
        if state.baseline is None and state.reader is not None:
            layer = state.ref()
            if layer is not None:
                try:
                    state.baseline = state.reader(layer)
                except Exception:  # not readable here (e.g. a TF1 graph variable)
                    state.reader = None

    # -- steps ----------------------------------------------------------------
    def step_starting(self) -> None:
        """Raise StepLimitReached when --max-steps steps are done. In a thread
        other than the main one (a worker applying gradients, as in A3C),
        that ends only the thread, so the main thread, which may be waiting
        for the workers, is told to stop too (`stop_main_thread`, once)."""
        if self.steps >= self.max_steps:
            if (threading.current_thread() is not threading.main_thread() and not self._main_thread_told
                    and self.stop_main_thread is not None):
                self._main_thread_told = True
                try:
                    self.stop_main_thread()
                except Exception as exc:
                    self.internal_error(f"could not stop the main thread: {type(exc).__name__}: {exc}")
            raise StepLimitReached(f"bnlint: stopped after {self.steps} optimizer steps (--max-steps)")

    def step_finished(self, kind: str, fn: Optional[int] = None) -> None:
        """Count a step and compare the statistics of the layers in it. Never
        raises into the script: a failure is recorded as an internal error."""
        try:
            self._step_finished(kind, fn)
        except Exception as exc:
            self.internal_error(f"step bookkeeping failed: {type(exc).__name__}: {exc}")

    def _step_finished(self, kind: str, fn: Optional[int]) -> None:
        self.steps += 1
        self.step_kinds[kind] = self.step_kinds.get(kind, 0) + 1
        lids = set(self.eager_touched)
        self.eager_touched.clear()
        if fn is not None:
            self.step_functions[fn] = self.step_functions.get(fn, 0) + 1
            lids |= self.function_layers.get(fn, set())
        for lid in lids:
            self._compare(self.layers[lid])
        self.write(throttle=True)

    def _compare(self, state: LayerState) -> None:
        layer = state.ref()
        if layer is None:
            return
        state.trainable = bool(getattr(layer, "trainable", True))
        if state.reader is None:  # it took part; its statistics cannot be read here (JAX)
            state.steps_seen += 1
            return
        try:
            now = state.reader(layer)
        except Exception:
            return
        state.steps_seen += 1
        state.at_init = _at_init(now)
        if state.baseline is not None and any(
                a.shape != b.shape or bool((a != b).any()) for a, b in zip(now, state.baseline)):
            state.steps_changed += 1
        state.baseline = now

    def stateless_state(self, state: LayerState, kept: bool) -> None:
        """A Keras 3 `stateless_call` ran `state`'s layer and returned its
        moving statistics as passed in (`kept`) or updated."""
        if kept:
            state.stateless_kept += 1
        else:
            state.stateless_updated += 1

    def graph_step(self, states: List[LayerState], before: List[Tuple], after: List[Tuple]) -> None:
        """A TF1 train-op run: the session read the stats before and after."""
        for state, a, b in zip(states, before, after):
            state.steps_seen += 1
            state.at_init = _at_init(b)
            if any(x.shape != y.shape or bool((x != y).any()) for x, y in zip(a, b)):
                state.steps_changed += 1

    # -- output ---------------------------------------------------------------
    def as_dict(self) -> Dict[str, Any]:
        calls = []
        for key, (count, first_step) in list(self.calls.items()):  # copies: other threads may add
            lid, training, frames, in_tape, fn = key
            lost_at, mode_at = self.call_sites.get(key, (None, None))
            if fn is not None:
                in_step = self.step_functions.get(fn, 0) > 0
                steps = self.step_functions.get(fn, 0)
            else:
                in_step = in_tape and first_step <= self.steps
                steps = 0
            calls.append({
                "layer": lid, "training": training, "frames": [list(f) for f in frames],
                "in_tape": in_tape, "traced": fn is not None, "in_step": in_step,
                "function_steps": steps, "count": count,
                "lost_at": list(lost_at) if lost_at else None, "mode_at": list(mode_at) if mode_at else None,
            })
        files = set(self.files) | set(loaded_user_files())
        if os.path.isfile(self.script):
            files.add(os.path.realpath(self.script))
        return {
            "status": self.status,
            "exit_code": self.exit_code,
            "traceback": self.traceback,
            "error": self.error,
            "steps": self.steps,
            "step_kinds": dict(self.step_kinds),
            "max_steps": self.max_steps,
            "elapsed": round(time.monotonic() - self.started, 3),
            "flavours": sorted(self.flavours),
            "layers": {str(s.lid): {
                "name": s.name, "class": s.cls, "kind": s.kind, "flavour": s.flavour,
                "trainable": s.trainable, "steps_seen": s.steps_seen, "steps_changed": s.steps_changed,
                "stats_readable": s.reader is not None or s.kind == DROPOUT_KIND or s.graph_vars is not None,
                "stats_at_initial_values": s.at_init,
                "stateless_kept": s.stateless_kept, "stateless_updated": s.stateless_updated,
            } for s in list(self.layers.values())},
            "calls": calls,
            "sites": [[f, line, n] for (f, line), n in list(self.sites.items())],
            "train_ops": [dict(t) for t in list(self.train_ops.values())],
            "learning_phases": list(self.learning_phases),
            "files": sorted(files),
            "notes": list(self.notes),
            "errors": list(self.errors),
            "lines_traced": lines.traced(),
            "lines": lines.executed() if lines.traced() else {},
            "tape_sites": lines.tape_sites(),
        }

    def write(self, throttle: bool = False) -> None:
        """Dump as_dict() to the result file (atomically). Only from the
        process that made the recorder: a worker the script forked has a
        copy, and its writes would replace the script's record."""
        if os.getpid() != self.pid:
            return
        with self._write_lock:  # threads that step (A3C workers) write too: one temp file at a time
            now = time.monotonic()
            if throttle and now - self._last_write < 0.5:
                return
            self._last_write = now
            tmp = self.result_path + ".tmp"
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(self.as_dict(), fh)
            os.replace(tmp, self.result_path)


RECORDER: Optional[Recorder] = None
