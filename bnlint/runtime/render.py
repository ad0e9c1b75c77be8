"""Print the confirmation: one line per finding with its status, then the run."""

from __future__ import annotations

import json
from typing import Any, Dict, List

from .verdict import Verdict, display_path

_RUN_STATUS = {
    "finished": "the script finished",
    "step_limit": "stopped after {steps} optimizer step(s) (--max-steps {max_steps})",
    "timeout": "stopped by --timeout after {wall_seconds}s",
    "crashed": "the script crashed: {error}",
    "exited": "the script exited with code {exit_code}",
    "died": "the script died: {error}",
    "interrupted": "the script was interrupted",
    "not_started": "the script could not be started: {error}",
    "internal_error": "the runtime checker failed (a bug in bnlint): {error}",
    "terminated": "bnlint got {signal} and stopped the script after {wall_seconds}s",
}


def run_summary(record: Dict[str, Any]) -> str:
    status = record.get("status", "died")
    values = {k: record.get(k) for k in ("steps", "max_steps", "wall_seconds", "error", "exit_code", "signal")}
    values["error"] = (str(values["error"] or "").strip().splitlines() or [""])[0]
    text = _RUN_STATUS.get(status, status).format(**values)
    layers = record.get("layers", {})
    bn = sum(1 for layer in layers.values() if layer.get("kind") == "batch_norm")
    flavours = ", ".join(record.get("flavours", [])) or "no Keras layers seen"
    return (f"Run: {text}; {record.get('steps', 0)} optimizer step(s), {bn} batch norm and "
            f"{len(layers) - bn} dropout layer(s) instrumented ({flavours}), "
            f"{record.get('wall_seconds', 0)}s.")


def format_concise(verdicts: List[Verdict], new: List[Verdict], record: Dict[str, Any]) -> str:
    lines = []
    for v in verdicts + new:
        f = v.finding
        lines.append(f"{display_path(f.filename)}:{f.line}:{f.column}: {f.code} {v.status} — {v.evidence}")
    counts = {}
    for v in verdicts + new:
        counts[v.status] = counts.get(v.status, 0) + 1
    lines.append(run_summary(record))
    if counts:
        lines.append("Findings: " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) + ".")
    else:
        lines.append("Findings: none in the files the script ran.")
    for error in record.get("errors", []):
        lines.append(f"Checker error (bnlint's own; its verdicts are incomplete): {error}")
    if record.get("traceback"):
        lines.append("Traceback of bnlint's checker:" if record.get("status") == "internal_error"
                     else "Traceback of the script:")
        lines.append(record["traceback"].rstrip("\n"))
    return "\n".join(lines) + "\n"


def format_json(verdicts: List[Verdict], new: List[Verdict], record: Dict[str, Any]) -> str:
    from ..report.json import finding_record

    def item(v: Verdict) -> Dict[str, Any]:
        data = finding_record(v.finding)
        data["status"] = v.status
        data["evidence"] = v.evidence
        return data

    run = {k: record.get(k) for k in ("status", "steps", "max_steps", "exit_code", "error", "traceback",
                                      "wall_seconds", "flavours", "files", "notes", "signal", "errors")}
    run["layers"] = list(record.get("layers", {}).values())
    payload = {"run": run, "findings": [item(v) for v in verdicts],
               "runtime_findings": [item(v) for v in new]}
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


FORMATS = {"concise": format_concise, "json": format_json}
