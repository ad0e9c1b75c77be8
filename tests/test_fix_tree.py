"""fixes/tree.Located with the file's `ast` tree (positions only for the
innermost statement that holds a node) must answer exactly as without it
(positions for the whole top-level statement): the same libcst node, the
same character range, the same ancestors, the same edits."""

import ast

import libcst as cst
import pytest

from bnlint.fixes.edits import node_edits
from bnlint.fixes.layout import add_keyword
from bnlint.fixes.tree import Located

KINDS = {ast.Call: cst.Call, ast.FunctionDef: cst.FunctionDef, ast.Name: cst.Name, ast.keyword: cst.Arg}

SOURCES = {
    "class-methods": (
        "import tensorflow as tf\n\n\n"
        "class Net(tf.keras.Model):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.bn = tf.keras.layers.BatchNormalization()\n\n"
        "    # a comment before the method\n"
        "    def call(self, x, training=None):\n"
        "        y = self.bn(x)\n"
        "        return f(y,\n"
        "                 g(y))\n"
    ),
    "blocks": (
        "def step(model, x):\n"
        "    with tape() as t:\n"
        "        if a:\n"
        "            y = model(x)\n"
        "        elif b:\n"
        "            y = model(x); z = model(y)\n"
        "        else:\n"
        "            if c:\n"
        "                y = model(x)\n"
        "    for i in r(3):\n"
        "        model(i)\n"
        "    else:\n"
        "        model(0)\n"
        "    while w(1):\n"
        "        model(1)\n"
        "    try:\n"
        "        model(2)\n"
        "    except E as e:\n"
        "        model(3)\n"
        "    except (F, G):\n"
        "        model(4)\n"
        "    else:\n"
        "        model(5)\n"
        "    finally:\n"
        "        model(6)\n"
        "    if x: model(7)\n"
        "    return model(8)\n"
    ),
    "decorators": (
        "class A:\n"
        "    @property\n"
        "    def p(self):\n"
        "        return self.m(1)\n\n"
        "    @\\\n"
        "    deco(k(1))\n"
        "    def q(self):\n"
        "        return self.m(2)\n"
        "    @d1\n\n"
        "    # between\n"
        "    @d2(h(3))\n"
        "    async def r(self):\n"
        "        async with s(1) as v:\n"
        "            async for u in v(2):\n"
        "                await self.m(u)\n"
    ),
    "tabs-and-crlf": "class A:\r\n\tdef f(self):\r\n\t\tif x:\r\n\t\t    return g(1)\r\n\t\treturn g(2)\r\n",
    "lone-cr": "def f():\r    x = g(1)\r    return h(x)\r",
    "no-final-newline": "def f():\n    x = g(1)\n    return h(x)",
    "strings-and-continuations": (
        "def f():\n"
        "    s = '''a\n"
        "b''' + g(1)\n"
        "    t = h(2) \\\n"
        "        + k(3)\n"
        "    u = (m(4)\n"
        "# a comment at column 0\n"
        "         + n(5))\n"
        "    return s, t, u\n"
    ),
    "match": (
        "def f(v):\n"
        "    match v:\n"
        "        case 1:\n"
        "            return g(1)\n"
        "        case _:\n"
        "            return g(2)\n"
    ),
    "non-ascii": "class A:\n    def f(self):\n        é = g('ü')  # ß\n        return h(é, k='∂')\n",
    "nested-defs": (
        "def outer():\n"
        "    def inner(x):\n"
        "        def innermost(y):\n"
        "            return z(y)\n"
        "        return innermost(x)\n"
        "    class C:\n"
        "        def m(self):\n"
        "            return w(self)\n"
        "    return inner(1), C\n"
    ),
}


def _char_span(source, node):
    lines = source.splitlines(True)

    def column(line, col):
        return len(lines[line - 1].encode("utf-8")[:col].decode("utf-8"))

    return node.lineno, column(node.lineno, node.col_offset), node.end_lineno, column(node.end_lineno,
                                                                                      node.end_col_offset)


def _answers(source, tree):
    """What Located says about every Call/FunctionDef/Name/keyword of
    `source`, as comparable values (node identity by its position in a
    walk of the one libcst module both Located views share)."""
    module = cst.parse_module(source)
    order = {}
    stack = [module]
    while stack:  # number every node once
        node = stack.pop()
        order[id(node)] = len(order)
        stack.extend(node.children)
    where = Located(module, source, tree)
    out = []
    for node in ast.walk(ast.parse(source)):
        kind = KINDS.get(type(node))
        if kind is None:
            continue
        span = _char_span(source, node)
        found = where.locate(span, kind)
        if found is None:
            out.append((span, None))
            continue
        row = [span, order[id(found)], where.node_range(found), [order[id(a)] for a in where.ancestors(found)]]
        if isinstance(found, cst.Call):
            new = add_keyword(found, "training", cst.Name("True"))
            for changes in ({found: new}, {found: cst.Name("renamed")}):
                try:
                    row.append(node_edits(module, source, changes, where))
                except Exception as exc:  # the same refusal with and without the tree
                    row.append(type(exc).__name__)
        out.append(tuple(row))
    return out, where


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_the_innermost_statement_gives_the_same_answers(name):
    source = SOURCES[name]
    tree = ast.parse(source)
    narrow, where = _answers(source, tree)
    whole, _ = _answers(source, None)
    assert narrow == whole
    assert any(row[1] is not None for row in narrow)  # something was located
    tops = {id(stmt) for stmt in where.module.body}
    assert any(info is not None for key, info in where._index.items() if key not in tops)  # and narrowed


def test_only_the_innermost_statement_is_indexed():
    source = SOURCES["class-methods"]
    module = cst.parse_module(source)
    where = Located(module, source, ast.parse(source))
    call = where.locate((11, 12, 11, 22), cst.Call)  # `self.bn(x)` in `call`
    assert cst.Module(body=[]).code_for_node(call) == "self.bn(x)"
    assert where.node_range(call) == (source.index("self.bn(x)"), source.index("self.bn(x)") + len("self.bn(x)"))
    init = where.locate((7, 18, 7, 54), cst.Call)  # the BatchNormalization() in __init__
    assert cst.Module(body=[]).code_for_node(init) == "tf.keras.layers.BatchNormalization()"
    # Two statements of the class were indexed, not the class: a node of
    # the class header has no position.
    cls = module.body[1]
    assert isinstance(cls, cst.ClassDef)
    assert where.node_range(cls.name) is None
    assert [type(a).__name__ for a in where.ancestors(call)][-3:] == ["IndentedBlock", "ClassDef", "Module"]


def test_a_tree_of_other_text_falls_back_to_the_whole_statement():
    # The tree's lines are one off (another source): the rendered statement
    # is not the file's text at the line the tree gives, so it is not used.
    source = SOURCES["class-methods"]
    wrong = ast.parse("\n" + source)
    assert _answers(source, wrong)[0] == _answers(source, None)[0]


def test_the_same_statement_twice_is_located_at_its_own_line():
    source = "def f(m, x):\n    y = m(x)\n    y = m(x)\n    y = m(x)\n"
    tree = ast.parse(source)
    module = cst.parse_module(source)
    where = Located(module, source, tree)
    starts = []
    for line in (2, 3, 4):
        call = where.locate((line, 8, line, 12), cst.Call)
        starts.append(where.node_range(call)[0])
    assert starts == [source.index("m(x)"), source.index("m(x)", starts[0] + 1), source.rindex("m(x)")]


@pytest.mark.parametrize("name", ["class-methods", "blocks"])
def test_a_libcst_without_the_private_position_api_gives_the_same_answers(name, monkeypatch):
    """The fast path uses libcst internals (PositionProvider._gen_impl and
    _computed, PositionProvidingCodegenState, _codegen); a libcst release
    that changes them must give the same answers through its public
    MetadataWrapper and whole statements, not an error or another range."""
    from bnlint.fixes import tree as tree_module

    source = SOURCES[name]
    expected, _ = _answers(source, None)

    def gone(*args, **kwargs):
        raise AttributeError("no such internal")

    monkeypatch.setattr(tree_module, "_provider_positions", gone)
    monkeypatch.setattr(tree_module, "_indented_positions", gone)
    got, where = _answers(source, ast.parse(source))
    assert got == expected
    assert any(row[1] is not None for row in got)  # located through the public API
