"""The command line's two house rules, checked from outside by reading its source.

1. It uses only the public API (docs/api.md, "What the command line may import"): a command
   module imports `cmf_config.api`, names of `cmf_config.__all__`, presentation modules and
   the command line's own settings, nothing of the engine, the loaders or the analyses; and
   of a `Workspace` or a `FeatureAnalysis` it touches only the documented attributes.
2. report.py is the only module that writes English: no command builds a sentence; messages,
   hints, notes and report lines are report.py's (argparse help and docstrings aside).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import cmf_config

SRC = Path(__file__).parents[1] / "src" / "cmf_config"
COMMANDS = sorted((SRC / "commands").glob("*.py"))
FRONT = [*COMMANDS, SRC / "cli.py"]

PRESENTATION = {
    "report",
    "plainreport",
    "term",
    "sarif",
    "files",
    "errors",
    "diagram",
    "heatmap",
    "bomexport",
}
"""Modules that only present results: words (report), terminal, SARIF, atomic files, the
error types, Graphviz diagrams, the heatmap and BOM spreadsheets."""
SETTINGS = {"project", "projectfile", "cache", "quickstore"}
"""The command line's own settings: where the catalog and rules come from, the caches."""
ALLOWED = {"api", *PRESENTATION, *SETTINGS, "commands", "web"}
EXEMPT: dict[str, set[str]] = {}
"""Command modules allowed more than ALLOWED (none: the order-bank command uses
`api.check_orders`)."""

WORKSPACE_ATTRIBUTES = {"catalog", "rules", "problem", "loaded", "assignment", "product"}
ANALYSIS_ATTRIBUTES = {
    "compiled",
    "is_satisfiable",
    "complete_any",
    "count",
    "core_dead",
    "forced",
    "lint",
    "explain",
    "derive",
}


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def _bad_imports(path: Path) -> list[str]:
    """Every `cmf_config` import of the file the rule does not allow, as 'line: what'."""
    allowed = ALLOWED | EXEMPT.get(path.name, set())
    public = set(cmf_config.__all__)
    bad: list[str] = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module]
        else:
            continue
        for module in modules:
            parts = module.split(".")
            if parts[0] != "cmf_config":
                continue
            if len(parts) == 1 and isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.name not in public and alias.name not in allowed:
                        bad.append(f"{node.lineno}: cmf_config.{alias.name}")
            elif len(parts) > 1 and parts[1] not in allowed:
                bad.append(f"{node.lineno}: {module}")
    return bad


@pytest.mark.parametrize("path", FRONT, ids=lambda p: p.name)
def test_the_command_line_imports_only_the_public_api(path: Path) -> None:
    """Commands and cli.py import the API, public names and presentation modules only."""
    assert _bad_imports(path) == []


def test_the_import_rule_catches_an_internal_import(tmp_path: Path) -> None:
    """The check itself: an engine import, a private name of the package, a public name and
    a presentation module (only the first two are reported)."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from cmf_config.solver import Engine\n"
        "from cmf_config import api, report, Workspace, load\n"
        "import cmf_config.sat\n"
        "from cmf_config.files import write_atomic\n",
        encoding="utf-8",
    )
    assert _bad_imports(probe) == [
        "1: cmf_config.solver",
        "2: cmf_config.load",
        "3: cmf_config.sat",
    ]


def _attributes(path: Path, name: str) -> set[str]:
    return {
        node.attr
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == name
    }


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: p.name)
def test_commands_touch_only_documented_attributes(path: Path) -> None:
    """No `workspace.engine`, `workspace.positions`, ...: what a command needs beyond the
    documented attributes is an API function."""
    assert _attributes(path, "workspace") <= WORKSPACE_ATTRIBUTES
    assert _attributes(path, "analysis") <= ANALYSIS_ATTRIBUTES


def test_the_documented_attributes_are_those_of_the_api_page() -> None:
    """docs/api.md names every attribute the commands may touch."""
    page = (SRC.parents[1] / "docs" / "api.md").read_text(encoding="utf-8")
    for attribute in sorted(WORKSPACE_ATTRIBUTES | ANALYSIS_ATTRIBUTES):
        assert f"`{attribute}" in page, attribute
    for module in sorted(PRESENTATION | SETTINGS):
        assert f"`{module}`" in page, module


# ------------------------------------------------------------------ English only in report.py

WORDS = re.compile(r"[A-Za-z]{2,}[,;:]? +(--)?[A-Za-z]{2,}")
"""Two words in a row: a sentence or part of one (option names and keys are one word)."""
ARGPARSE = {
    "add_parser",
    "add_argument",
    "add_argument_group",
    "add_mutually_exclusive_group",
    "add_subparsers",
    "ArgumentParser",
}


def _docstrings(tree: ast.Module) -> set[int]:
    """Strings standing alone as statements: docstrings of modules, functions, classes and
    attributes."""
    return {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }


def _argparse_strings(tree: ast.Module) -> set[int]:
    """Strings inside argparse calls: help, descriptions and metavars document the options."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ARGPARSE:
                inside.update(id(sub) for sub in ast.walk(node))
    return inside


def _prose(path: Path) -> list[str]:
    """Every string literal or f-string piece of the file with two words in a row, outside
    docstrings and argparse calls, as 'line: text'."""
    tree = _tree(path)
    skip = _docstrings(tree) | _argparse_strings(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.JoinedStr):
            skip.update(id(sub) for sub in ast.walk(node))
            text = "".join(
                str(part.value) if isinstance(part, ast.Constant) else "word"
                for part in node.values
            )
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        else:
            continue
        if WORDS.search(str(text)):
            found.append(f"{node.lineno}: {text!r}")
    return found


PROSE_EXEMPT: set[str] = set()
"""Command modules allowed to word their own messages (none)."""


@pytest.mark.parametrize(
    "path", [p for p in COMMANDS if p.name not in PROSE_EXEMPT], ids=lambda p: p.name
)
def test_no_command_writes_english(path: Path) -> None:
    """Messages, hints, notes and report lines come from report.py, not from the commands."""
    assert _prose(path) == []


def test_the_prose_check_finds_a_sentence(tmp_path: Path) -> None:
    """The check itself: a message, an f-string and a hint are found; keys, options, help and
    docstrings are not."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        '"""A docstring with words."""\n'
        "import argparse\n"
        "p = argparse.ArgumentParser(description='Draw a diagram of it')\n"
        "p.add_argument('--limit', help='at most N rows')\n"
        "key = {'share_of_a_in_b': 1, 'format': 'json', 'flag': '--no-count'}\n"
        "def f(n: int) -> None:\n"
        '    """Words, words."""\n'
        "    raise ValueError(f'got {n} vehicles', 'write --limit 10')\n",
        encoding="utf-8",
    )
    assert [line.split(":")[0] for line in _prose(probe)] == ["8", "8"]


def test_the_orders_command_default_chunk_is_the_readers() -> None:
    """commands/orders.py repeats orderio.CHUNK_ROWS for its --help (importing the reader
    would load pyarrow on every start); the two stay equal."""
    from cmf_config.commands import orders as command
    from cmf_config.orderio import CHUNK_ROWS

    assert command.CHUNK_ROWS == CHUNK_ROWS
