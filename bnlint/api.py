"""The TF/Keras knowledge tables of rules/api.yaml, loaded once.

Rules ask these tables questions ("is this a mode-sensitive layer?")
instead of carrying their own lists, so one YAML edit (or a config entry)
teaches every rule a new layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Dict, FrozenSet, Optional, Tuple

import yaml

from .resources import rules_dir


@dataclass(frozen=True)
class BatchNormBuilder:
    name: str
    training_arg: str
    training_default: bool


def _last(name: str) -> str:
    return name.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class Api:
    mode_sensitive: FrozenSet[str]
    batch_norm: FrozenSet[str]
    extra_mode_sensitive: FrozenSet[str]
    applications_prefix: str
    plain_applications: FrozenSet[str]
    model_bases: FrozenSet[str]
    layer_bases: FrozenSet[str]
    opaque_factories: FrozenSet[str]
    functional_constructors: FrozenSet[str]
    sequential_constructors: FrozenSet[str]
    keras_evidence: FrozenSet[str]
    gradient_tapes: FrozenSet[str]
    train_step_methods: FrozenSet[str]
    tf1_builders: Dict[str, BatchNormBuilder] = field(hash=False)
    train_op_methods: FrozenSet[str] = frozenset()
    gradient_methods: FrozenSet[str] = frozenset()
    update_aware_builders: FrozenSet[str] = frozenset()
    clean_libraries: FrozenSet[str] = frozenset()
    non_keras_model_libraries: FrozenSet[str] = frozenset()
    builder_words: Tuple[str, ...] = ()
    variable_attributes: FrozenSet[str] = frozenset()
    canonical_prefixes: Tuple[Tuple[str, str], ...] = ()
    tracked_roots: FrozenSet[str] = frozenset()
    star_submodules: FrozenSet[str] = frozenset()
    keras2_modules: Tuple[str, ...] = ()
    tf1_compat_modules: FrozenSet[str] = frozenset()
    symbolic_inputs: FrozenSet[str] = frozenset()
    conventional_imports: Tuple[Tuple[str, str], ...] = ()
    model_call_parameters: Tuple[str, ...] = ()
    control_dependency_functions: FrozenSet[str] = frozenset()
    grouping_functions: FrozenSet[str] = frozenset()

    def last_names(self, qualified: FrozenSet[str]) -> FrozenSet[str]:
        """The last dotted part of each name (`tensorflow.group` -> `group`)."""
        return frozenset(q.rsplit(".", 1)[-1] for q in qualified)

    def canonical(self, qualified: str) -> str:
        """Fold one spelling of a TF/Keras name onto the canonical one of
        api.yaml's `canonical_prefixes` (`tensorflow.keras.layers.X` ->
        `keras.layers.X`); other names come back unchanged."""
        return fold(self.canonical_prefixes, qualified)

    def may_build_layers(self, qualified: str) -> bool:
        """Could a call of this function from another module add layers?"""
        if qualified.split(".")[0] in self.clean_libraries:
            return False
        name = qualified.rsplit(".", 1)[-1]
        if name[:1].isupper():
            return True
        lowered = name.lower()
        return any(word in lowered for word in self.builder_words)

    # Keras names can be spelled with deep module paths
    # (keras.src.layers.normalization.batch_normalization.BatchNormalization);
    # a Keras name matches a table entry when the class names agree.
    def _keras_match(self, name: str, table: FrozenSet[str]) -> bool:
        if name in table:
            return True
        if name.startswith("keras.layers.") or name.startswith("keras."):
            last = _last(name)
            return any(_last(entry) == last for entry in table if entry.startswith("keras."))
        return False

    def is_mode_sensitive_layer(self, name: str) -> bool:
        return self._keras_match(name, self.mode_sensitive) or name in self.extra_mode_sensitive

    def is_batch_norm_layer(self, name: str) -> bool:
        return self._keras_match(name, self.batch_norm)

    def is_keras_layer(self, name: str) -> bool:
        return name.startswith("keras.layers.") or self.is_mode_sensitive_layer(name)

    def is_application(self, name: str) -> bool:
        """A pretrained-model constructor (keras.applications.ResNet50,
        keras.applications.resnet50.ResNet50), not a helper such as
        preprocess_input or decode_predictions."""
        return name.startswith(self.applications_prefix) and _last(name)[:1].isupper()

    def application_is_plain(self, name: str) -> bool:
        return _last(name) in self.plain_applications

    def is_model_base(self, name: str) -> bool:
        return name in self.model_bases

    def is_layer_base(self, name: str) -> bool:
        return name in self.layer_bases or name.startswith("keras.layers.")

    def tf1_builder(self, name: str) -> Optional[BatchNormBuilder]:
        return self.tf1_builders.get(name)

    def all_known_names(self) -> FrozenSet[str]:
        """Names a `from X import *` may bring in that the rules care about."""
        return frozenset(
            self.mode_sensitive | self.model_bases | self.layer_bases | self.gradient_tapes
            | self.sequential_constructors | self.functional_constructors
            | frozenset(self.tf1_builders)
        )


def fold(prefixes: Tuple[Tuple[str, str], ...], qualified: str) -> str:
    """`qualified` with its longest matching prefix replaced (the table is
    ordered longest first)."""
    for prefix, repl in prefixes:
        if qualified == prefix or qualified.startswith(prefix + "."):
            return repl + qualified[len(prefix):]
    return qualified


def canonical(qualified: str) -> str:
    """`Api.canonical` with the shipped tables."""
    return load_api().canonical(qualified)


# libyaml's safe loader when PyYAML was built with it (about 10x faster on
# the shipped specs: 0.43 -> 0.04 s of every run); the pure-Python one else.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path) -> dict:
    """A YAML file shipped with bnlint (rules/*.yaml), safely loaded."""
    with open(path, "r", encoding="utf-8") as fh:
        return yaml.load(fh, Loader=SAFE_LOADER) or {}


@lru_cache(maxsize=1)
def api_tables() -> dict:
    """rules/api.yaml as parsed YAML, read once per process (load_api and
    the BN1xx rules' tables both read it; callers must not change it)."""
    return load_yaml(rules_dir() / "api.yaml")


@lru_cache(maxsize=8)
def load_api(extra_mode_sensitive: Tuple[str, ...] = ()) -> Api:
    data = api_tables()
    builders = {
        name: BatchNormBuilder(name, spec["training_arg"], bool(spec["training_default"]))
        for name, spec in (data.get("tf1_batch_norm_builders") or {}).items()
    }
    prefixes = tuple((str(a), str(b)) for a, b in data.get("canonical_prefixes") or [])
    prefixes = tuple(sorted(prefixes, key=lambda p: -len(p[0])))
    canonical = lambda x: fold(prefixes, x)  # noqa: E731
    fs = lambda key: frozenset(canonical(x) for x in data.get(key) or [])  # noqa: E731
    return Api(
        mode_sensitive=fs("mode_sensitive_layers"),
        batch_norm=fs("batch_norm_layers"),
        extra_mode_sensitive=frozenset(canonical(x) for x in extra_mode_sensitive),
        applications_prefix=data.get("applications_prefix", "keras.applications."),
        plain_applications=frozenset(data.get("plain_applications") or []),
        model_bases=fs("model_bases"),
        layer_bases=fs("layer_bases"),
        opaque_factories=fs("opaque_model_factories"),
        functional_constructors=fs("functional_model_constructors"),
        sequential_constructors=fs("sequential_constructors"),
        keras_evidence=frozenset(data.get("keras_object_evidence") or []),
        gradient_tapes=fs("gradient_tapes"),
        train_step_methods=frozenset(data.get("train_step_methods") or []),
        tf1_builders=builders,
        train_op_methods=frozenset(data.get("train_op_methods") or []),
        gradient_methods=frozenset(data.get("gradient_methods") or []),
        update_aware_builders=fs("update_aware_train_op_builders"),
        clean_libraries=frozenset(data.get("clean_libraries") or []),
        non_keras_model_libraries=frozenset(data.get("non_keras_model_libraries") or []),
        builder_words=tuple(data.get("builder_name_words") or []),
        variable_attributes=frozenset(data.get("variable_attributes") or []),
        canonical_prefixes=prefixes,
        tracked_roots=frozenset(data.get("tracked_roots") or []),
        star_submodules=frozenset(data.get("star_submodules") or []),
        keras2_modules=tuple(data.get("keras2_modules") or []),
        tf1_compat_modules=frozenset(data.get("tf1_compat_modules") or []),
        symbolic_inputs=fs("symbolic_inputs"),
        conventional_imports=tuple(sorted((str(k), str(v)) for k, v in
                                          (data.get("conventional_imports") or {}).items())),
        model_call_parameters=tuple(data.get("model_call_parameters") or []),
        control_dependency_functions=fs("control_dependency_functions"),
        grouping_functions=fs("grouping_functions"),
    )
