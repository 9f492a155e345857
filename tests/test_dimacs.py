"""The DIMACS reader: names from comments, clauses across lines, positioned errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmf_config.dimacs import load_dimacs, parse_dimacs
from cmf_config.errors import InputError
from cmf_config.featuremodel import Attributes, FeatureAnalysis, compile_model
from cmf_config.report import render_diagnostics
from cmf_config.uvl import parse_uvl
from cmf_config.uvlexport import feature_model_uvl

MODELS = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "models"


def _errors(text: str) -> str:
    with pytest.raises(InputError) as info:
        parse_dimacs(text, "m.dimacs")
    return render_diagnostics(list(info.value.diagnostics))


def test_names_come_from_comment_lines() -> None:
    """`c <n> <name>` names variable n; an unnamed variable is x<n>."""
    model = parse_dimacs("c 1 Root\nc 2 Engine\np cnf 3 2\n1 0\n-2 1 0\n")
    assert model.feature_names() == ["Root", "Engine", "x3"]
    assert [f.span.line for f in model.features] == [1, 2, 3]  # an unnamed one: the header
    assert [c.text for c in model.constraints] == ["Root", "!Engine | Root"]


def test_kconfig_types_after_the_name_become_an_attribute() -> None:
    """`c 1 CONFIG_KILL bool` (Oh et al.) names CONFIG_KILL and keeps the type."""
    model = parse_dimacs('c 1 CONFIG_KILL bool\nc 2 CONFIG_PATH nonbool "/var/run"\np cnf 2 0\n')
    assert model.feature_names() == ["CONFIG_KILL", "CONFIG_PATH"]
    assert model.features[0].attributes == Attributes((("type", "bool"),))


def test_clauses_span_lines_and_percent_ends_them() -> None:
    """A clause ends at 0, not at the end of a line; SATLIB's % ends the clauses."""
    model = parse_dimacs("p cnf 3 2\n1 2\n 3 0 -1\n0\n%\n0\n")
    assert [c.clause for c in model.constraints] == [(1, 2, 3), (-1,)]
    assert (model.constraints[0].span.line, model.constraints[0].span.col) == (2, 1)
    assert FeatureAnalysis(compile_model(model)).count() == 3


def test_count_matches_the_cnf() -> None:
    """The count of a DIMACS model is the model count of its CNF over all variables."""
    model = parse_dimacs("p cnf 4 3\n1 2 0\n-1 -2 0\n3 -4 0\n")
    assert FeatureAnalysis(compile_model(model)).count() == 6


def test_an_empty_clause_makes_the_model_void() -> None:
    """A lone 0 is the empty clause: no configuration."""
    analysis = FeatureAnalysis(compile_model(parse_dimacs("p cnf 2 1\n0\n")))
    assert not analysis.is_satisfiable()
    assert analysis.count() == 0


def test_out_of_range_literal_is_positioned() -> None:
    """A literal beyond the declared variables: E170 at its column."""
    assert _errors("p cnf 2 1\n1 -3 0\n") == (
        "m.dimacs:2:3: error E170: literal -3 is out of range: the header declares 2 variables\n"
        "  hint: fix the literal or the header\n"
        "1 error, 0 warnings\n"
    )


def test_missing_or_bad_header_and_bad_tokens() -> None:
    """No header, a bad header, a word among the literals: each a positioned E170."""
    assert "E170: no 'p cnf' header" in _errors("c only comments\n")
    assert "E170: bad header 'p cnf x 2'" in _errors("p cnf x 2\n")
    assert "m.dimacs:2:3: error E170: 'a' is not a literal" in _errors("p cnf 2 1\n1 a 0\n")
    assert "E170: a clause before the 'p cnf' header" in _errors("1 2 0\np cnf 2 1\n")


def test_written_uvl_of_a_dimacs_model_has_the_same_count() -> None:
    """A DIMACS model written as UVL (variables under an abstract root) counts alike."""
    model = parse_dimacs("c 1 a\nc 2 b.c\np cnf 3 2\n1 2 0\n-1 -3 0\n")
    again = parse_uvl(feature_model_uvl(model), "again.uvl")
    assert (
        FeatureAnalysis(compile_model(again)).count()
        == FeatureAnalysis(compile_model(model)).count()
        == 4
    )


@pytest.mark.parametrize("name", ["busybox-1.28.0_Oh2020.dimacs", "automotive01_Kowal2016.dimacs"])
def test_shared_dimacs_models_load_and_are_satisfiable(name: str) -> None:
    """The shared DIMACS models load with their names and are satisfiable."""
    path = MODELS / "softvare-fmb" / name
    if not path.is_file():
        pytest.skip("the shared models are not beside the repository")
    model = load_dimacs(path)
    assert not any(n.startswith("x") and n[1:].isdigit() for n in model.feature_names())
    assert FeatureAnalysis(compile_model(model)).is_satisfiable()
