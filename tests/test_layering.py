"""Data flows one way: a module imports only from modules before it in the layer list."""

from __future__ import annotations

import ast
from pathlib import Path

import cmf_config

SRC = Path(__file__).parents[1] / "src" / "cmf_config"
LAYERS = [
    [
        "reprs",
        "errors",
        "suggest",
        "files",
        "sat",
        "derivation",
        "questions",
        "count",
        "yaml12",
        "cache",
        "term",
        "paths",
        "projectfile",
        "ruleeval",
        "plainreport",
        "quick",
    ],
    ["model", "source", "expr"],
    ["load", "dump", "project", "roundtrip", "orderio", "orderids"],
    ["problem"],
    ["rules"],
    ["encode", "fmodel", "schema"],
    ["guarded"],
    ["uvl", "dimacs", "uvlexport"],
    ["solver", "sharing", "bomtable"],
    ["featuremodel", "variantbom", "bounded"],
    ["workspace", "orders", "quickstore"],
    ["lint", "heatmap", "diagram", "configurator", "orderrun"],
    ["report", "sarif", "bomexport"],
    ["api"],
    ["commands", "web"],
    ["cli", "entry", "__main__"],
]


def _layer(name: str) -> int:
    for index, names in enumerate(LAYERS):
        if name in names:
            return index
    raise AssertionError(f"module {name} is in no layer: add it to LAYERS")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("cmf_config")
        ):
            parts = node.module.split(".")
            found.add(parts[1] if len(parts) > 1 else parts[0])
            if len(parts) == 1:
                # a public name counts as an import of its home module (cmf_config._HOMES)
                found.update(
                    cmf_config._HOME_OF.get(alias.name, alias.name)
                    for alias in node.names
                    if alias.name != "__version__"
                )
    return found - {"cmf_config"}


def test_no_module_imports_from_a_later_layer() -> None:
    """errors -> model -> load -> problem -> rules -> encode -> solver -> ... -> cli."""
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        name = rel.parts[0] if rel.parts[0] in ("commands", "web") else rel.stem
        if name == "__init__":
            continue
        for imported in _imports(path):
            assert _layer(imported) <= _layer(name), f"{rel} imports {imported} from a later layer"


_SPAN_FIELDS = {"line", "col", "end_col"}
_SHARED_FIELDS = {"path", "value", "raw", "style", "span", "end"}
_VALUE_CLASSES = {"Span", "ScalarNode"}


def _field_assignments(tree: ast.AST) -> list[tuple[str, str, int]]:
    """(class the assignment is in, 'target.field', line) of every attribute assignment to a
    field of a span or a scalar node: anywhere but in those classes' own bodies (their
    constructors), and but `self.<field>` in another class of its own."""
    found: list[tuple[str, str, int]] = []

    def visit(node: ast.AST, owner: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                if child.name not in _VALUE_CLASSES:
                    visit(child, child.name)
                continue
            targets: list[ast.expr] = []
            if isinstance(child, ast.Assign):
                targets = child.targets
            elif isinstance(child, ast.AugAssign | ast.AnnAssign):
                targets = [child.target]
            for target in targets:
                if not isinstance(target, ast.Attribute):
                    continue
                mine = isinstance(target.value, ast.Name) and target.value.id == "self"
                if target.attr in _SPAN_FIELDS or (target.attr in _SHARED_FIELDS and not mine):
                    found.append((owner, ast.unparse(target), target.lineno))
            visit(child, owner)

    visit(tree, "")
    return found


def test_no_module_assigns_to_a_span_or_a_scalar_node() -> None:
    """Spans and scalar nodes are values shared across a run (and hashed), though not frozen
    classes (those cost twice as much to create): nothing assigns to their fields."""
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert _field_assignments(tree) == [], path.relative_to(SRC)


def test_the_assignment_check_sees_an_assignment() -> None:
    """The check above finds what it is for."""
    tree = ast.parse(
        "def f(span, node):\n    span.line = 2\n    node.raw = 'x'\n"
        "class ScalarNode:\n    def __init__(self):\n        self.raw = ''\n"
        "class Other:\n    def __init__(self):\n        self.raw = ''\n"
        "    def f(self, node):\n        node.span = 1\n"
    )
    assert [found for _, found, _ in _field_assignments(tree)] == [
        "span.line",
        "node.raw",
        "node.span",
    ]
