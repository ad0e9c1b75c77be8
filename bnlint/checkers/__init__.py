"""The rules, one module each. Adding a rule: a module here, a spec in
rules/BNxxx.yaml, and a line in CHECKERS."""

from __future__ import annotations

from typing import Dict, Type

from .base import Checker
from .bn001_tape_call_without_training import TapeCallWithoutTraining
from .bn002_call_loses_training import CallLosesTraining
from .bn003_train_op_without_update_ops import TrainOpWithoutUpdateOps

CHECKERS: Dict[str, Type[Checker]] = {
    cls.code: cls
    for cls in (TapeCallWithoutTraining, CallLosesTraining, TrainOpWithoutUpdateOps)
}

__all__ = ["CHECKERS", "Checker"]
