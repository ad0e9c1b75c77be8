"""The semantic model on its own (bnlint/semantic): scopes and the binding
in force where a name is read, qualified names through bindings, the call
graph. Each case is a small program and a question about one of its names."""

import ast
import textwrap

import pytest

from bnlint.api import load_api
from bnlint.semantic import SemanticModel
from bnlint.semantic.scopes import BindingKind


def model(source: str) -> SemanticModel:
    return SemanticModel.build(ast.parse(textwrap.dedent(source)), load_api())


def reads(m: SemanticModel, name: str):
    """Every Name node reading `name`, in source order."""
    found = [n for n in ast.walk(m.tree) if isinstance(n, ast.Name) and n.id == name
             and isinstance(n.ctx, ast.Load)]
    return sorted(found, key=lambda n: (n.lineno, n.col_offset))


def values_in_force(m: SemanticModel, node: ast.Name):
    return [ast.unparse(b.value) if b.value is not None else b.kind.value for b in m.names.bindings_of(node)]


def test_the_binding_in_force_is_the_last_one_written_before():
    m = model("""\
        model = load_model(p)
        model = Sequential()
        model(x)
        """)
    [use] = reads(m, "model")
    assert values_in_force(m, use) == ["Sequential()"]


def test_a_branch_keeps_the_earlier_binding_possible():
    m = model("""\
        model = a()
        if flag:
            model = b()
        model(x)
        """)
    [use] = reads(m, "model")
    assert values_in_force(m, use) == ["b()", "a()"]


def test_both_branches_of_an_if_else():
    m = model("""\
        if flag:
            model = a()
        else:
            model = b()
        model(x)
        """)
    [use] = reads(m, "model")
    assert sorted(values_in_force(m, use)) == ["a()", "b()"]


def test_a_loop_body_sees_its_own_later_binding():
    m = model("""\
        x = start()
        for i in range(3):
            y = f(x)
            x = g(y)
        """)
    first_read = reads(m, "x")[0]
    assert values_in_force(m, first_read) == ["g(y)", "start()"]


def test_class_scope_is_invisible_to_methods():
    m = model("""\
        layer = outer()
        class Net:
            layer = inner()
            def call(self):
                return layer
        """)
    [use] = reads(m, "layer")
    assert values_in_force(m, use) == ["outer()"]


def test_a_nested_function_sees_every_binding_of_the_enclosing_scope():
    m = model("""\
        model = a()
        def step():
            return model(x)
        model = b()
        """)
    [use] = reads(m, "model")
    assert values_in_force(m, use) == ["b()", "a()"]


def test_global_declaration_binds_in_the_module():
    m = model("""\
        def setup():
            global model
            model = build()
        def step():
            return model(x)
        """)
    [use] = reads(m, "model")
    assert values_in_force(m, use) == ["build()"]


def test_comprehension_variable_does_not_leak():
    m = model("""\
        x = outer()
        ys = [x for x in items]
        x(1)
        """)
    last_read = reads(m, "x")[-1]
    assert values_in_force(m, last_read) == ["outer()"]


def test_a_parameter_and_its_default():
    m = model("""\
        def train(model=None, training=True):
            return model(x, training=training)
        """)
    [use] = reads(m, "training")
    [b] = m.names.bindings_of(use)
    assert b.kind is BindingKind.ARGUMENT and ast.unparse(b.value) == "True"


@pytest.mark.parametrize("source,expr,want", [
    ("import tensorflow as tf", "tf.keras.layers.BatchNormalization", "keras.layers.BatchNormalization"),
    ("import tensorflow as tf\ntf = tf.compat.v1", "tf.layers.batch_normalization",
     "tensorflow.layers.batch_normalization"),
    ("import tensorflow.contrib.eager as tfe", "tfe.GradientTape", "tensorflow.GradientTape"),
    ("from tensorflow.keras import layers as L", "L.Dropout", "keras.layers.Dropout"),
    ("import tensorflow as tf\ndef tf():\n    pass", "tf.GradientTape", None),  # rebound by a def
    ("", "np.zeros", None),
])
def test_qualified_names_through_bindings(source, expr, want):
    m = model(source + "\n" + expr + "\n")
    assert m.names.qualify(m.tree.body[-1].value) == want


def test_an_import_inside_a_function_stays_there():
    m = model("""\
        def f():
            import tensorflow as tf
            return tf.GradientTape
        tf.GradientTape
        """)
    inner = m.tree.body[0].body[1].value
    outer = m.tree.body[1].value
    assert m.names.qualify(inner) == "tensorflow.GradientTape"
    assert m.names.qualify(outer) == "tensorflow.GradientTape"  # unbound `tf`: the usual import
    assert m.names.assumed == {"tf": "tensorflow"}


def test_call_graph_targets_follow_bindings():
    m = model("""\
        def make():
            return 1
        def other():
            def make():
                return 2
            return make()
        class Net:
            def build(self):
                return self.block()
            def block(self):
                return make()
        """)
    targets = {}
    for site in m.scopes.sites:
        t = m.graph.target(site)
        where = site.scope.name or "<module>"
        targets[(where, ast.unparse(site.call))] = (t.name, t.node.lineno) if t else None
    assert targets[("other", "make()")] == ("make", 4)
    assert targets[("block", "make()")] == ("make", 1)
    assert targets[("build", "self.block()")] == ("block", 10)
    [module_make] = [s for s in m.scopes.functions if s.name == "make" and s.node.lineno == 1]
    assert [(scope.name, call.lineno) for call, scope in m.graph.callers(module_make)] == [("block", 11)]
