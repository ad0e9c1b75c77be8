"""The BN1xx rules' TF/Keras tables: the "wider family" section of
rules/api.yaml, folded onto canonical names with the Api's prefixes.

It reads api.yaml through api.api_tables (parsed once per process) and
knows nothing of the rules. The facts behind each table (and where they
were measured) are written next to it in api.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Dict, FrozenSet

from ..api import Api, api_tables

_NAMES = (
    "tf1_graph_markers", "estimators", "estimator_specs", "savers", "trainable_variable_lists",
    "global_variable_lists",
    "collection_getters", "moments_functions", "nn_batch_norm_functions", "moving_average_classes",
    "functional_dropout", "learning_phase_setters", "learning_phase_readers",
    "placeholders_with_default", "jax_differentiators", "no_grad_contexts",
)
_WORDS = (
    "update_ops_keys", "keras_update_attributes", "trainable_collection_keys", "global_collection_keys", "fit_methods",
    "evaluate_methods", "stateless_call_methods", "backward_methods", "optimizer_step_methods",
    "keras_model_words", "graph_run_methods", "evaluation_words", "restore_methods",
)


@dataclass(frozen=True)
class FamilyTables:
    """Each field is a frozenset: qualified names (canonical) for the
    fields named in `_NAMES`, plain words (attributes, collection keys,
    method names) for the ones in `_WORDS`."""

    tf1_graph_markers: FrozenSet[str]
    estimators: FrozenSet[str]
    estimator_specs: FrozenSet[str]
    savers: FrozenSet[str]
    trainable_variable_lists: FrozenSet[str]
    global_variable_lists: FrozenSet[str]
    collection_getters: FrozenSet[str]
    moments_functions: FrozenSet[str]
    nn_batch_norm_functions: FrozenSet[str]
    moving_average_classes: FrozenSet[str]
    functional_dropout: FrozenSet[str]
    learning_phase_setters: FrozenSet[str]
    learning_phase_readers: FrozenSet[str]
    placeholders_with_default: FrozenSet[str]
    jax_differentiators: FrozenSet[str]
    no_grad_contexts: FrozenSet[str]
    update_ops_keys: FrozenSet[str]
    keras_update_attributes: FrozenSet[str]
    trainable_collection_keys: FrozenSet[str]
    global_collection_keys: FrozenSet[str]
    fit_methods: FrozenSet[str]
    evaluate_methods: FrozenSet[str]
    stateless_call_methods: FrozenSet[str]
    backward_methods: FrozenSet[str]
    optimizer_step_methods: FrozenSet[str]
    keras_model_words: FrozenSet[str]
    graph_run_methods: FrozenSet[str]
    evaluation_words: FrozenSet[str]
    restore_methods: FrozenSet[str]


@lru_cache(maxsize=8)
def family_tables(api: Api) -> FamilyTables:
    """The tables for `api` (its canonical folding); raises OSError or
    yaml.YAMLError only if the shipped api.yaml is missing or broken."""
    data = api_tables()
    values = {key: frozenset(api.canonical(str(x)) for x in data.get(key) or []) for key in _NAMES}
    values.update({key: frozenset(str(x) for x in data.get(key) or []) for key in _WORDS})
    return FamilyTables(**values)


@dataclass(frozen=True)
class DropoutBuilder:
    """A TF1 dropout builder (api.yaml `tf1_dropout_builders`): the
    argument that selects training mode, its default, and the 0-based
    position of `noise_shape` (where a flag passed third lands)."""

    name: str
    training_arg: str
    training_default: bool
    noise_shape_position: int


@lru_cache(maxsize=8)
def tf1_dropout_builders(api: Api) -> Dict[str, DropoutBuilder]:
    """Canonical name -> DropoutBuilder. Callers must not change the dict."""
    out = {}
    for name, spec in (api_tables().get("tf1_dropout_builders") or {}).items():
        canonical = api.canonical(str(name))
        out[canonical] = DropoutBuilder(canonical, str(spec["training_arg"]), bool(spec["training_default"]),
                                        int(spec["noise_shape_position"]))
    return out


@lru_cache(maxsize=8)
def tf1_mode_arguments(api: Api) -> Dict[str, str]:
    """Canonical name -> the argument that selects training mode, for the
    TF1 batch norm builders (api.yaml `tf1_batch_norm_builders`) and the
    TF1 dropout builders (`tf1_dropout_builders`). Callers must not
    change the returned dict."""
    out = {name: b.training_arg for name, b in api.tf1_builders.items()}
    out.update({name: b.training_arg for name, b in tf1_dropout_builders(api).items()})
    return out
