"""The rules, one module each (logic, variants, fix, pre-filter needs),
beside their specs rules/BNxxx.yaml (which a wheel installs into this same
folder: the YAML and the modules do not collide). Adding a rule: a module
here, a spec, and a line in RULES."""

from __future__ import annotations

from typing import Dict, Type

from .base import Report, Rule, RuleContext
from .bn001 import TapeCallOfUnseenModel, TapeCallWithoutTraining
from .bn002 import CallLosesTraining
from .bn003 import TrainOpWithoutUpdateOps
from .bn101 import KerasBatchNormUpdateOps
from .bn102 import SaverTrainableOnly
from .bn103 import FrozenCallNotFrozen
from .bn104 import HandMadeBatchNorm
from .bn105 import DropoutIgnoresTraining
from .bn106 import LearningPhase
from .bn107 import IsTrainingNeverFedFalse
from .bn108 import FunctionalTrainingTrue
from .bn109 import KerasLayerInGraphWithoutTraining
from .bn110 import Tf1BuilderWithoutTraining
from .bn111 import StatelessCallWithoutTraining
from .bn112 import FrozenTrainingFlag
from .bn113 import DefaultTrainingBuilderEvaluated

RULES: Dict[str, Type[Rule]] = {
    cls.code: cls for cls in (TapeCallWithoutTraining, CallLosesTraining, TrainOpWithoutUpdateOps,
                              KerasBatchNormUpdateOps, SaverTrainableOnly, FrozenCallNotFrozen, HandMadeBatchNorm,
                              DropoutIgnoresTraining,
                              LearningPhase, IsTrainingNeverFedFalse, FunctionalTrainingTrue,
                              KerasLayerInGraphWithoutTraining, Tf1BuilderWithoutTraining,
                              StatelessCallWithoutTraining, FrozenTrainingFlag,
                              DefaultTrainingBuilderEvaluated, TapeCallOfUnseenModel)
}

__all__ = ["RULES", "Report", "Rule", "RuleContext"]
