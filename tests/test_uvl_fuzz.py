"""Fuzzing: generated UVL text and mutated real models raise InputError or load, never anything else."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmf_config.dimacs import parse_dimacs
from cmf_config.errors import InputError
from cmf_config.featuremodel import FeatureAnalysis, compile_model
from cmf_config.fmodel import FeatureModel
from cmf_config.report import render_diagnostics
from cmf_config.uvl import parse_uvl

MODELS = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "models"
SEEDS_UVL = [
    "flamapy-benchmarking/pizzas.uvl",
    "flamapy-benchmarking/GPL.uvl",
    "flamapy-benchmarking/Truck.uvl",
    "flamapy-benchmarking/jHipster.uvl",
    "uvl-models/berkeleydb_featureide.uvl",
    "softvare-fmb/eshop_Lau2006.uvl",
]
LOCAL_SEEDS = sorted((Path(__file__).parent / "data" / "uvl").glob("*.uvl"))
SETTINGS = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

TOKENS = [
    "features",
    "constraints",
    "namespace",
    "include",
    "imports",
    "as",
    "mandatory",
    "optional",
    "alternative",
    "or",
    "cardinality",
    "Boolean",
    "Integer",
    "String",
    "Real",
    "Type",
    "constraint",
    "abstract",
    "true",
    "false",
    "A",
    "B",
    "C",
    "Root",
    '"x y"',
    '"a.b"',
    "'txt'",
    "1",
    "-2",
    "0.5",
    "[1..2]",
    "[0..*]",
    "[2]",
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    ",",
    ".",
    "..",
    "!",
    "&",
    "|",
    "=>",
    "<=>",
    "==",
    "<",
    "+",
    "*",
    "sum",
    "//c",
    "/*",
    "*/",
    "\t",
    "  ",
    "\n",
    "\n\t",
    "\n\t\t",
    "\n\t\t\t",
    "\r\n",
    "\x00",
    "é",
    "#",
]


def _check(text: str) -> None:
    """Loading either works (and the model compiles and answers) or raises InputError only."""
    try:
        model = parse_uvl(text, "fuzz.uvl")
    except InputError as exc:
        diagnostics = list(exc.diagnostics)
    else:
        _answer(model)
        return
    assert diagnostics
    assert render_diagnostics(diagnostics)


def _answer(model: FeatureModel) -> None:
    analysis = FeatureAnalysis(compile_model(model))
    if analysis.is_satisfiable() and len(model.features) <= 60:
        analysis.core_dead()


@SETTINGS
@given(st.lists(st.sampled_from(TOKENS), max_size=60).map(" ".join))
def test_token_soup_never_raises_anything_but_input_error(text: str) -> None:
    """Any sequence of UVL tokens, keywords and layout."""
    _check(text)


@SETTINGS
@given(st.text(max_size=200))
def test_arbitrary_text_never_raises_anything_but_input_error(text: str) -> None:
    """Any unicode text at all."""
    _check(text)


@st.composite
def _mutated(draw: st.DrawFn, seeds: list[str]) -> str:
    text = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 4))):
        if not text:
            break
        at = draw(st.integers(0, len(text) - 1))
        kind = draw(
            st.sampled_from(
                ("delete", "insert", "duplicate-line", "swap-lines", "indent", "dedent", "truncate")
            )
        )
        lines = text.split("\n")
        line = draw(st.integers(0, len(lines) - 1))
        if kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 8)) :]
        elif kind == "insert":
            text = text[:at] + draw(st.sampled_from(TOKENS)) + text[at:]
        elif kind == "duplicate-line":
            lines.insert(line, lines[line])
            text = "\n".join(lines)
        elif kind == "swap-lines":
            other = draw(st.integers(0, len(lines) - 1))
            lines[line], lines[other] = lines[other], lines[line]
            text = "\n".join(lines)
        elif kind == "indent":
            lines[line] = "\t" + lines[line]
            text = "\n".join(lines)
        elif kind == "dedent":
            lines[line] = lines[line][1:]
            text = "\n".join(lines)
        else:
            text = text[:at]
    return text


def _seeds() -> list[str]:
    found = [
        (MODELS / name).read_text(encoding="utf-8")
        for name in SEEDS_UVL
        if (MODELS / name).is_file()
    ]
    found += [p.read_text(encoding="utf-8") for p in LOCAL_SEEDS]
    return found


SEEDS = _seeds()


@SETTINGS
@given(_mutated(SEEDS))
def test_mutated_models_never_raise_anything_but_input_error(text: str) -> None:
    """Random edits of the shared models and the UVL project's test cases."""
    _check(text)


DIMACS_SEED = "c 1 Root\nc 2 A\nc 3 B\np cnf 4 4\n1 0\n-2 1 0\n-3 1 0\n2 3 -4 0\n"
SEEDS_DIMACS = ["softvare-fmb/eshop_Lau2006.dimacs", "softvare-fmb/berkeleydb_Hierons2020.dimacs"]
DIMACS_SEEDS = [DIMACS_SEED] + [
    (MODELS / name).read_text(encoding="utf-8")
    for name in SEEDS_DIMACS
    if (MODELS / name).is_file()
]


@SETTINGS
@given(_mutated(DIMACS_SEEDS))
def test_mutated_dimacs_never_raises_anything_but_input_error(text: str) -> None:
    """Random edits of a small DIMACS file and of the small shared DIMACS models."""
    try:
        model = parse_dimacs(text, "fuzz.dimacs")
    except InputError as exc:
        diagnostics = list(exc.diagnostics)
    else:
        _answer(model)
        return
    assert diagnostics


def test_the_mutation_seeds_are_there() -> None:
    """The local seeds always exist; the shared ones when the shared folder does."""
    assert LOCAL_SEEDS
    if not MODELS.is_dir():
        pytest.skip("the shared models are not beside the repository")
    assert len(SEEDS) == len(SEEDS_UVL) + len(LOCAL_SEEDS)
    assert len(DIMACS_SEEDS) == 1 + len(SEEDS_DIMACS)
