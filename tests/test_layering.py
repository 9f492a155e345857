"""Data flows one way: a module imports only from modules before it in the layer list."""

from __future__ import annotations

import ast
from pathlib import Path

import cmf_config

SRC = Path(__file__).parents[1] / "src" / "cmf_config"
LAYERS = [
    [
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
