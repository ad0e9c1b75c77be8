"""Judge each static finding against what the run observed.

Statuses: `confirmed` (the run showed the bug), `refuted` (the code ran and
the mode was right), `not reached` (the code never ran), and `unchecked`
when the run cannot decide: codes the runtime has no evidence for, or code
that ran but not in the way the bug needs (e.g. never in a training step).
A finding whose code ran is never `not reached`: the evidence says what was
seen there.

Which rules are judged how (rule codes from rules/*.yaml):
- the mode of the layers that ran under the finding in training steps:
  BN001, BN002, BN109 (a Keras layer in TF1 graph code or a `model_fn`
  without `training`), BN110 (a TF1 builder without `training`), BN111
  (Keras 3 `stateless_call` without `training=True` under `jax.grad`);
- the TF1 train op built at or under the finding: BN003, BN101 (Keras batch
  norm relying on the empty UPDATE_OPS);
- BN106 (the global learning phase): the `set_learning_phase` calls the run
  recorded and the mode of the layer calls it governs, or, under Keras 3,
  the script's AttributeError on that line.
Runtime-only findings (BN801) are batch norm layers that took part in steps
that applied gradients yet never changed their moving statistics (on JAX:
every `stateless_call` that ran them returned them as passed in), and TF1
train ops that ran without the update ops while the statistics stayed put,
when no static finding already accounts for them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Set, Tuple

from ..finding import Finding
from .call_source import enclosing_tapes, literal_training, with_block

CONFIRMED, REFUTED, NOT_REACHED, UNCHECKED, NEW = "confirmed", "refuted", "not reached", "unchecked", "new"
RUNTIME_CODE = "BN801"
RUNTIME_NAME = "moving-stats-never-updated"

_MODE_CODES = ("BN001", "BN002", "BN109", "BN110", "BN111")
_TRAIN_OP_CODES = ("BN003", "BN101")
# where the layers of a flavour compute gradients, for the evidence
_GRADIENT_CONTEXT = {"keras3-jax": "under jax.grad", "keras3-torch": "with torch grad mode on"}
# BN002 variants whose bug is training mode at inference, not inference in training.
_INFERENCE_VARIANTS = ("true_default", "bn_training_true")
_RUN_CUT_SHORT = {
    "crashed": "the script crashed",
    "timeout": "it hit --timeout",
    "step_limit": "it stopped at --max-steps",
    "died": "the script died",
    "exited": "the script exited early",
    "terminated": "bnlint was terminated",
    "internal_error": "the runtime checker failed",
}


@dataclass
class Verdict:
    finding: Finding
    status: str
    evidence: str
    layers: List[int] = field(default_factory=list)


def layer_message(label: str, lost_here: bool) -> str:
    """BN801's one-line message for a batch norm layer whose moving
    statistics never moved in training steps (the evidence, with the step
    counts and the training values seen, goes to the finding's detail)."""
    todo = "pass `training=True` to this call" if lost_here else "pass `training=True` when training"
    return f"{label}: moving statistics never updated; {todo}"


def train_op_message(name: str) -> str:
    """BN801's one-line message for a TF1 train op that ran without the
    batch norm UPDATE_OPS while the moving statistics stayed put."""
    return f"train op '{name}' ran without UPDATE_OPS: build it under `tf.control_dependencies(...)`"


def _real(path: str) -> str:
    return os.path.realpath(path)


def display_path(path: str) -> str:
    """Relative to the current directory when inside it, as the static report does."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def _frame_hits(frame, path: str, first: int, last: int) -> bool:
    return frame[0] == path and (first <= frame[1] <= last or frame[2] == first)


class Judge:
    def __init__(self, record: Dict[str, Any]):
        self.record = record
        self.layers: Dict[int, Dict[str, Any]] = {int(k): v for k, v in record.get("layers", {}).items()}
        self.calls: List[Dict[str, Any]] = record.get("calls", [])
        self.sites = [(s[0], s[1], s[2]) for s in record.get("sites", [])]
        self.train_ops: List[Dict[str, Any]] = record.get("train_ops", [])
        self.status = record.get("status", "running")
        self.judged_train_ops: Set[Tuple[str, Any]] = set()  # (name, graph id)
        # TF1 graph calls are steps through the train ops that ran with their layers
        ran_layers = {lid for t in self.train_ops if t.get("runs") for lid in t.get("layers", [])}
        for c in self.calls:
            if not c["in_step"] and c["layer"] in ran_layers:
                c["graph_step"] = True

    # -- helpers ---------------------------------------------------------------
    def _calls_at(self, f: Finding) -> List[Dict[str, Any]]:
        path, last = _real(f.filename), max(f.line, f.end_line)
        return [c for c in self.calls if any(_frame_hits(fr, path, f.line, last) for fr in c["frames"])]

    def _site_runs(self, f: Finding) -> int:
        path, last = _real(f.filename), max(f.line, f.end_line)
        return sum(n for p, line, n in self.sites if p == path and f.line <= line <= last)

    def _line_ran(self, f: Finding) -> Optional[bool]:
        """Whether a line of the finding ran; None when the run cannot tell
        (lines are traced only inside GradientTape blocks, see lines.py)."""
        path = _real(f.filename)
        tapes = enclosing_tapes(path, f.line) if self.record.get("lines_traced") else None
        if not tapes:
            return None
        entered = {line for p, line in self.record.get("tape_sites", []) if p == path}
        if not any(first <= line <= last for first, last in tapes for line in entered):
            return False  # no enclosing tape block was ever entered
        ran = set(self.record.get("lines", {}).get(path, ()))
        return any(line in ran for line in range(f.line, max(f.line, f.end_line) + 1))

    def _nothing_seen(self, f: Finding) -> Verdict:
        """No Keras layer or model ran under the finding: did its line run?"""
        ran = self._line_ran(f)
        if ran:
            return Verdict(f, UNCHECKED, "this line ran, but what it calls is not a Keras layer or model, "
                                         "so nothing under it was instrumented")
        if ran is None:
            return Verdict(f, NOT_REACHED, self._not_reached(
                "no Keras layer or model call was seen here (either this code never ran, or what it "
                "calls is not a Keras layer or model)"))
        return Verdict(f, NOT_REACHED, self._not_reached("this code never ran"))

    def _not_reached(self, what: str) -> str:
        reason = _RUN_CUT_SHORT.get(self.status)
        return f"{what} (the run ended early: {reason})" if reason else what

    def _layer_label(self, lid: int) -> str:
        layer = self.layers.get(lid, {})
        return f"layer '{layer.get('name', lid)}' ({layer.get('class', '?')})"

    def _stats_phrase(self, lid: int) -> str:
        layer = self.layers.get(lid, {})
        if layer.get("kind") != "batch_norm":
            return ""
        if not layer.get("stats_readable", True):
            kept, updated = layer.get("stateless_kept", 0), layer.get("stateless_updated", 0)
            if kept and not updated:
                return "; stateless_call returned moving_mean/moving_variance as passed in (unchanged)"
            if updated and not kept:
                return "; stateless_call returned updated moving_mean/moving_variance"
            return ""
        seen, changed = layer.get("steps_seen", 0), layer.get("steps_changed", 0)
        if not seen:
            return ""
        if changed == 0:
            if layer.get("stats_at_initial_values"):
                return "; moving_mean/moving_variance unchanged, still 0 and 1"
            return "; moving_mean/moving_variance unchanged"
        return f"; moving statistics changed in {changed}/{seen} steps"

    def _effective_training(self, call: Dict[str, Any]) -> str:
        """The mode a call ran in; a symbolic `training` is decided by the statistics."""
        value = call["training"]
        if value != "tensor":
            return value
        layer = self.layers.get(call["layer"], {})
        if layer.get("kind") == "batch_norm" and layer.get("stats_readable", True) and layer.get("steps_seen"):
            return "True" if layer.get("steps_changed") else "False"
        kept, updated = layer.get("stateless_kept", 0), layer.get("stateless_updated", 0)
        if layer.get("kind") == "batch_norm" and (kept or updated) and not (kept and updated):
            return "True" if updated else "False"
        return "tensor"

    # -- judging ---------------------------------------------------------------
    def _where_computed(self, lid: int, calls: List[Dict[str, Any]]) -> str:
        if any(c.get("graph_step") for c in calls):
            return "in a TF1 train op's Session.run"
        if any(c["in_tape"] for c in calls):
            flavour = self.layers.get(lid, {}).get("flavour", "")
            return _GRADIENT_CONTEXT.get(flavour, "inside GradientTape")
        return "in a training step"

    def _seen_here(self, calls: List[Dict[str, Any]]) -> str:
        """What ran under a finding: layers, the training values, how often."""
        by_layer: Dict[int, Set[str]] = {}
        counts: Dict[int, int] = {}
        for c in calls:
            by_layer.setdefault(c["layer"], set()).add(c["training"])
            counts[c["layer"]] = counts.get(c["layer"], 0) + c.get("count", 1)
        parts = [f"{self._layer_label(lid)} ran {counts[lid]} time(s) with training={'/'.join(sorted(v))}"
                 for lid, v in sorted(by_layer.items())[:3]]
        more = len(by_layer) - 3
        return "; ".join(parts) + (f" (and {more} other layer(s))" if more > 0 else "")

    def judge(self, f: Finding) -> Verdict:
        if f.code in _MODE_CODES:
            if f.extra.get("variant") in _INFERENCE_VARIANTS:
                return self._judge_inference_default(f)
            return self._judge_training_mode(f)
        if f.code in _TRAIN_OP_CODES:
            return self._judge_train_op(f)
        if f.code == "BN106":
            return self._judge_learning_phase(f)
        calls = self._calls_at(f)
        if calls:  # the code ran: say what was seen, even with no check for the rule
            return Verdict(f, UNCHECKED, "no runtime check for this rule; here "
                           + self._seen_here(calls), sorted({c["layer"] for c in calls}))
        runs = self._site_runs(f)
        if runs:
            return Verdict(f, UNCHECKED, f"no runtime check for this rule; the call here ran {runs} time(s)")
        return Verdict(f, UNCHECKED, "the runtime checker has no evidence for this rule")

    def _judge_training_mode(self, f: Finding) -> Verdict:
        calls = self._calls_at(f)
        if not calls:
            runs = self._site_runs(f)
            if runs:
                return Verdict(f, REFUTED, f"the call ran {runs} time(s) but no BatchNormalization "
                                           "or Dropout layer ran under it")
            return self._nothing_seen(f)
        in_step = [c for c in calls if c["in_step"] or c.get("graph_step")]
        if not in_step:  # the code ran, only not in a training step: say what was seen
            steps = self.record.get("steps", 0)
            why = (f"in none of the run's {steps} step(s) that applied gradients" if steps
                   else "and the run applied no gradients")
            return Verdict(f, UNCHECKED, self._not_reached(f"{self._seen_here(calls)}, but {why}"),
                           sorted({c["layer"] for c in calls}))
        by_layer: Dict[int, Set[str]] = {}
        for c in in_step:
            by_layer.setdefault(c["layer"], set()).add(self._effective_training(c))
        bad = {lid: v for lid, v in by_layer.items() if v & {"False", "None"}}
        lids = sorted(by_layer)
        frozen = [lid for lid in bad if not self.layers.get(lid, {}).get("trainable", True)]
        if bad and len(frozen) == len(bad):
            return Verdict(f, REFUTED, f"{self._layer_label(frozen[0])} ran with training=False/None, but it "
                                       "is frozen (trainable=False), so it runs in inference mode whatever "
                                       "`training` says", lids)
        bad = {lid: v for lid, v in bad.items() if lid not in frozen}
        if bad:
            parts = []
            for lid, values in sorted(bad.items()):
                seen = self.layers.get(lid, {}).get("steps_seen", 0)
                shown = "/".join(sorted(v for v in values if v in ("False", "None")))
                where = self._where_computed(lid, [c for c in in_step if c["layer"] == lid])
                total = max(seen, self.record.get("steps", 0))
                parts.append(f"{self._layer_label(lid)} ran with training={shown} in {seen}/{total} "
                             f"steps that applied gradients, {where}{self._stats_phrase(lid)}")
            more = len(lids) - len(bad)
            tail = f" ({more} other layer(s) ran in training mode)" if more else ""
            return Verdict(f, CONFIRMED, "; ".join(parts) + tail, lids)
        if all(v == {"True"} for v in by_layer.values()):
            first = lids[0]
            extra = f" and {len(lids) - 1} other layer(s)" if len(lids) > 1 else ""
            return Verdict(f, REFUTED, f"{self._layer_label(first)}{extra} ran with training=True in every "
                                       f"step{self._stats_phrase(first)}", lids)
        return Verdict(f, UNCHECKED, "the layers ran with a symbolic `training` whose value the run "
                                     "could not observe", lids)

    def _judge_learning_phase(self, f: Finding) -> Verdict:
        """BN106: Keras 3's missing `set_learning_phase` crashes the script
        at the line; tf_keras' global phase decides the mode of every layer
        call that passes no `training`: phase 0 in training steps, phase 1
        outside them (prediction) are the bugs."""
        path, last = _real(f.filename), max(f.line, f.end_line)
        variant = f.extra.get("variant")
        if variant == "removed":
            trace = self.record.get("traceback") or ""
            here = f'{os.path.basename(path)}", line {f.line},'
            if self.status == "crashed" and here in trace and (self.record.get("error") or "").startswith(
                    "AttributeError"):
                return Verdict(f, CONFIRMED, f"the script crashed here: {self.record['error']}")
            return Verdict(f, UNCHECKED, "the run did not crash on this line")
        phases = [p for p in self.record.get("learning_phases", [])
                  if any(_frame_hits(fr, path, f.line, last) for fr in p["frames"])]
        if not phases:
            return Verdict(f, NOT_REACHED, self._not_reached("set_learning_phase was never called here"))
        value = phases[-1]["value"]
        # the phase decides only calls that no line of the user's passes `training` to
        phased = [c for c in self.calls
                  if not c.get("mode_at") or literal_training(c["mode_at"][0], c["mode_at"][1]) is None]
        stepped = [c for c in phased if c["in_step"] or c.get("graph_step")]
        if variant == "phase_off_then_fit":
            if not stepped:
                return Verdict(f, UNCHECKED, self._not_reached(
                    f"set_learning_phase({value}) ran, but no mode-sensitive layer left to the learning phase "
                    "ran in a training step"))
            by_layer: Dict[int, Set[str]] = {}
            for c in stepped:
                by_layer.setdefault(c["layer"], set()).add(self._effective_training(c))
            off = sorted(lid for lid, v in by_layer.items() if v & {"False", "None"}
                         and self.layers.get(lid, {}).get("trainable", True))
            if off:
                lid = off[0]
                seen = self.layers.get(lid, {}).get("steps_seen", 0)
                total = max(seen, self.record.get("steps", 0))
                more = f" and {len(off) - 1} other layer(s)" if len(off) > 1 else ""
                return Verdict(f, CONFIRMED, f"set_learning_phase({value}) ran; {self._layer_label(lid)}{more} "
                                             f"ran with training=False in {seen}/{total} steps that applied "
                                             f"gradients{self._stats_phrase(lid)}", sorted(by_layer))
            if all(v == {"True"} for v in by_layer.values()):
                first = sorted(by_layer)[0]
                return Verdict(f, REFUTED, f"set_learning_phase({value}) ran, but every mode-sensitive layer "
                                           f"ran with training=True in the training steps"
                                           f"{self._stats_phrase(first)}", sorted(by_layer))
            return Verdict(f, UNCHECKED, "the layers ran with a symbolic `training` whose value the run "
                                         "could not observe", sorted(by_layer))
        outside = [c for c in phased if not c["in_step"] and not c["in_tape"] and not c.get("graph_step")]
        if not outside:
            return Verdict(f, UNCHECKED, self._not_reached(
                f"set_learning_phase({value}) ran, but no mode-sensitive layer ran outside training steps"))
        wrong = sorted({c["layer"] for c in outside if c["training"] == "True"})
        lids = sorted({c["layer"] for c in outside})
        if wrong:
            return Verdict(f, CONFIRMED, f"set_learning_phase({value}) ran; {self._layer_label(wrong[0])} ran "
                                         "with training=True outside training steps", lids)
        return Verdict(f, REFUTED, f"set_learning_phase({value}) ran, but outside training steps every "
                                   "mode-sensitive layer ran in inference mode", lids)

    def _judge_inference_default(self, f: Finding) -> Verdict:
        """`training=True` hard-coded or as default: the harm is outside training steps."""
        calls = self._calls_at(f)
        if not calls:
            return self._nothing_seen(f) if not self._site_runs(f) else Verdict(
                f, REFUTED, "the call ran but no BatchNormalization or Dropout layer ran under it")
        outside = [c for c in calls if not c["in_step"] and not c["in_tape"] and not c.get("graph_step")]
        lids = sorted({c["layer"] for c in calls})
        if not outside:  # it ran, only in training: the harm (inference) was not exercised
            return Verdict(f, UNCHECKED, f"{self._seen_here(calls)}, only in training steps; no inference "
                                         "call went through this code", lids)
        wrong = sorted({c["layer"] for c in outside if c["training"] == "True"})
        if wrong:
            return Verdict(f, CONFIRMED, f"{self._layer_label(wrong[0])} ran with training=True outside "
                                         "training steps (inference uses batch statistics)", lids)
        return Verdict(f, REFUTED, "outside training steps every mode-sensitive layer here ran in "
                                   "inference mode", lids)

    def _train_ops_at(self, f: Finding) -> List[Dict[str, Any]]:
        """Train ops built on the finding's lines (BN003), or, for BN101's
        `control_dependencies(...)`, inside the `with` block it heads."""
        path, last = _real(f.filename), max(f.line, f.end_line)
        if f.code == "BN101":
            block = with_block(path, f.line)
            if block is not None:
                last = max(last, block[1])
        return [t for t in self.train_ops if any(_frame_hits(fr, path, f.line, last) for fr in t["frames"])]

    def _judge_train_op(self, f: Finding) -> Verdict:
        ops = self._train_ops_at(f)
        self.judged_train_ops.update((t["name"], t.get("graph")) for t in ops)
        if not ops:
            return Verdict(f, NOT_REACHED, self._not_reached("no train op was built here"))
        ran = [t for t in ops if t["runs"]]
        if not ran:  # the line ran (the op was built): not "not reached"
            return Verdict(f, UNCHECKED, self._not_reached(
                f"train op '{ops[0]['name']}' was built here but no Session.run executed it"))
        # The line may have built several train ops (one per graph, e.g. a
        # builder called for each experiment): one that ran without the
        # updates while its statistics stayed put confirms the finding.
        judged = [self._judge_one_train_op(f, t) for t in ran]
        verdict = next((v for v in judged if v.status == CONFIRMED), judged[0])
        if len(ran) > 1:
            verdict.evidence += f" (one of {len(ran)} train ops built here that ran)"
            verdict.layers = sorted({lid for t in ran for lid in t.get("layers", [])})
        return verdict

    def _judge_one_train_op(self, f: Finding, t: Dict[str, Any]) -> Verdict:
        lids = sorted(t.get("layers", []))
        deps = f"it depends on {t['update_ops_run']} of the graph's {t['update_ops']} UPDATE_OPS"
        if t["runs_changed"]:
            return Verdict(f, REFUTED, f"train op '{t['name']}' ran {t['runs']} time(s); {deps}; moving "
                                       f"statistics changed in {t['runs_changed']}/{t['runs']} runs", lids)
        if t["update_ops"] and t["update_ops_run"] == t["update_ops"]:
            return Verdict(f, REFUTED, f"train op '{t['name']}' ran {t['runs']} time(s); {deps}", lids)
        if not t["bn_layers"] and not t["update_ops"]:
            return Verdict(f, REFUTED, f"train op '{t['name']}' ran, but the graph has no batch norm "
                                       "layer and no UPDATE_OPS", lids)
        return Verdict(f, CONFIRMED, f"train op '{t['name']}' ran {t['runs']} time(s); {deps}; moving "
                                     f"statistics of {t['bn_layers']} batch norm layer(s) unchanged", lids)

    # -- runtime-only ----------------------------------------------------------
    def runtime_findings(self, explained: Set[int]) -> List[Verdict]:
        out = []
        for lid, layer in sorted(self.layers.items()):
            # JAX: no variable to read, but every stateless_call returned the statistics it was given
            stateless_kept = layer.get("stateless_kept") and not layer.get("stateless_updated")
            if (lid in explained or layer.get("kind") != "batch_norm" or not layer.get("trainable", True)
                    or not (layer.get("stats_readable", True) or stateless_kept) or not layer.get("steps_seen")
                    or layer.get("steps_changed")):
                continue
            where = self._where(lid)
            if where is None or self._always_training(lid):
                continue
            seen = layer["steps_seen"]
            values = sorted({c["training"] for c in self.calls if c["layer"] == lid and c["in_step"]})
            mode = f" (it ran with training={'/'.join(values)})" if values else ""
            lost = any(c["layer"] == lid and c.get("lost_at") and list(where) == c["lost_at"][:2]
                       for c in self.calls)
            here = "; this call passed it no training=True" if lost else ""
            evidence = (f"{self._layer_label(lid)} never updated its moving statistics in {seen} step(s) "
                        f"that applied gradients{mode}{here}, so at inference it normalises with statistics "
                        "that training never updated")
            finding = Finding(RUNTIME_CODE, layer_message(self._layer_label(lid), lost),
                              display_path(where[0]), where[1], 1, where[1], 1, name=RUNTIME_NAME,
                              extra={"detail": evidence})
            out.append(Verdict(finding, NEW, evidence, [lid]))
        return out

    def train_op_findings(self) -> List[Verdict]:
        """TF1 train ops that ran, never with the update ops, and left the statistics alone."""
        out = []
        for t in self.train_ops:
            if ((t["name"], t.get("graph")) in self.judged_train_ops or not t["runs"] or t["runs_changed"]
                    or not t["bn_layers"] or t["update_ops_run"] >= t["update_ops"] or not t["frames"]
                    or all(self._always_training(lid) for lid in t.get("layers", []))):
                continue
            evidence = (f"train op '{t['name']}' ran {t['runs']} time(s) without the batch norm updates "
                        f"(it depends on {t['update_ops_run']} of the graph's {t['update_ops']} UPDATE_OPS) "
                        f"and the moving statistics of {t['bn_layers']} batch norm layer(s) never changed "
                        "in those runs")
            path, line = t["frames"][0][0], t["frames"][0][1]
            finding = Finding(RUNTIME_CODE, train_op_message(t["name"]), display_path(path), line, 1, line, 1,
                              name=RUNTIME_NAME, extra={"detail": evidence})
            out.append(Verdict(finding, NEW, evidence, list(t.get("layers", []))))
        return out

    def _always_training(self, lid: int) -> bool:
        """Only ever called with training=True, written as a literal where the
        mode is set: this program never reads the moving statistics, so their
        staying put harms nothing. A True that came through a parameter
        (`model_fn(x, is_training=True)`) does not count: the same code builds
        the inference graph that reads them (call_source.py)."""
        calls = [c for c in self.calls if c["layer"] == lid]
        if {c["training"] for c in calls} != {"True"}:
            return False
        return not any(c.get("mode_at") and literal_training(c["mode_at"][0], c["mode_at"][1]) is False
                       for c in calls)

    def _where(self, lid: int) -> Optional[Tuple[str, int]]:
        """Where to report a layer: the user call that lost its mode (the
        outermost one on the stack that passed no `training`), else the
        innermost user frame of its first call."""
        for c in self.calls:
            if c["layer"] == lid and c.get("lost_at") and (c["in_step"] or c["in_tape"]):
                return c["lost_at"][0], c["lost_at"][1]
        for c in self.calls:
            if c["layer"] == lid and c["frames"]:
                return c["frames"][0][0], c["frames"][0][1]
        for t in self.train_ops:
            if lid in t.get("layers", []) and t["frames"]:
                return t["frames"][0][0], t["frames"][0][1]
        return None


def checker_failed(record: Dict[str, Any]) -> bool:
    """Whether the checker itself failed during the run (its evidence is incomplete)."""
    return bool(record.get("errors")) or record.get("status") == "internal_error"


def judge_all(findings: List[Finding], record: Dict[str, Any]) -> Tuple[List[Verdict], List[Verdict]]:
    """Verdicts on the static findings, and the runtime-only (BN801) ones.

    When the checker failed during the run, a verdict that rests on the
    absence of evidence (refuted, not reached) is not given: it becomes
    `unchecked`, saying why."""
    judge = Judge(record)
    verdicts = [judge.judge(f) for f in findings]
    if checker_failed(record):
        verdicts = [v if v.status in (CONFIRMED, NEW, UNCHECKED) else
                    Verdict(v.finding, UNCHECKED, "not judged: the runtime checker failed during the run "
                                                  "(see its errors)", v.layers) for v in verdicts]
    train_ops = judge.train_op_findings()
    explained = {lid for v in verdicts + train_ops for lid in v.layers}
    return verdicts, train_ops + judge.runtime_findings(explained)
