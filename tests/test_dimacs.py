"""The DIMACS reader: names from comments, clauses across lines, positioned errors."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cmf_config.dimacs import _parse_dimacs, _parse_plain, load_dimacs, parse_dimacs
from cmf_config.errors import InputError
from cmf_config.featuremodel import FeatureAnalysis, compile_model
from cmf_config.fmodel import Attributes, Constraint
from cmf_config.report import render_diagnostics
from cmf_config.rules import Ref
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
    assert [c.text for c in model.all_constraints()] == ["Root", "!Engine | Root"]


def test_kconfig_types_after_the_name_become_an_attribute() -> None:
    """`c 1 CONFIG_KILL bool` (Oh et al.) names CONFIG_KILL and keeps the type."""
    model = parse_dimacs('c 1 CONFIG_KILL bool\nc 2 CONFIG_PATH nonbool "/var/run"\np cnf 2 0\n')
    assert model.feature_names() == ["CONFIG_KILL", "CONFIG_PATH"]
    assert model.features[0].attributes == Attributes((("type", "bool"),))


def test_clauses_span_lines_and_percent_ends_them() -> None:
    """A clause ends at 0, not at the end of a line; SATLIB's % ends the clauses."""
    model = parse_dimacs("p cnf 3 2\n1 2\n 3 0 -1\n0\n%\n0\n")
    assert [c.clause for c in model.all_constraints()] == [(1, 2, 3), (-1,)]
    assert (model.all_constraints()[0].span.line, model.all_constraints()[0].span.col) == (2, 1)
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


_PIECES = [
    "0",
    "1",
    "-1",
    "2",
    "-3",
    "00",
    "-0",
    "+1",
    "x",
    "c",
    "%",
    "\n",
    "\n\n",
    " ",
    "\t",
    "-",
    "--2",
    "1-2",
    "p cnf 3 2",
    "c 1 a",
    "1e3",
    "99999999999999999999",
    "\r\n",
    "4",
]


@st.composite
def _dimacs_texts(draw: st.DrawFn) -> str:
    head = "".join(
        draw(
            st.lists(
                st.sampled_from(["c 1 a\n", "c 2 b bool\n", "c\n", "\n", "cx\n", " c 3 z\n"]),
                max_size=3,
            )
        )
    )
    clauses = draw(
        st.lists(
            st.lists(st.sampled_from(["1", "-1", "2", "-2", "3", "-3"]), max_size=3), max_size=5
        )
    )
    text = head + f"p cnf 3 {len(clauses)}\n" + "\n".join(" ".join([*c, "0"]) for c in clauses)
    text += draw(st.sampled_from(["", "\n", "\r\n", "  \n"]))
    for piece, at in draw(
        st.lists(st.tuples(st.sampled_from(_PIECES), st.integers(0, 10**6)), max_size=2)
    ):
        k = at % (len(text) + 1)
        text = text[:k] + piece + text[k:]
    return text


@given(_dimacs_texts())
def test_the_fast_reader_agrees_with_the_general_one(text: str) -> None:
    """Where the numpy path takes a file, it reads what the line-by-line reader reads."""
    fast = _parse_plain(text, "f")
    if fast is None:
        return
    slow = _parse_dimacs(text, "f")  # raises if the fast path took a file it should refuse
    assert fast.features == slow.features
    assert fast.cnf is not None
    assert slow.cnf is not None
    assert fast.cnf.clauses == slow.cnf.clauses
    assert [fast.cnf.span("f", i) for i in range(len(fast.cnf.clauses))] == [
        slow.cnf.span("f", i) for i in range(len(slow.cnf.clauses))
    ]


def test_the_fast_reader_takes_the_common_layout() -> None:
    """Comments, header, one clause per line (CRLF too): the numpy path, same clauses and lines."""
    text = "c 1 a\r\nc 2 b\r\np cnf 2 2\r\n1 -2 0\r\n-1 0\r\n"
    fast = _parse_plain(text, "f")
    assert fast is not None
    assert fast.cnf is not None
    assert fast.cnf.clauses == ((1, -2), (-1,))
    assert fast.cnf.lines == (4, 5)
    assert _parse_plain("p cnf 2 1\n1 0 2 0\n", "f") is None  # two clauses on a line


def test_an_explanation_names_dimacs_clauses_with_their_lines() -> None:
    """Clause rules are made on demand, with the clause's text and line."""
    compiled = compile_model(parse_dimacs("c 1 a\nc 2 b\np cnf 2 2\n-1 2 0\n-2 0\n"))
    conflict = FeatureAnalysis(compiled).explain({"a": True})
    assert conflict is not None
    assert conflict.choices == ("a",)
    rules = compiled.rule_map()
    assert [(r, rules[r].constraint_text, rules[r].span.line) for r in sorted(conflict.rules)] == [
        ("clause:1", "!a | b", 4),
        ("clause:2", "!b", 5),
    ]
    assert len(rules) == compiled.rule_count() == 2
    with pytest.raises(KeyError):
        compiled.rule("clause:3")


def test_a_dimacs_model_with_a_constraint_counts_each_clause_once() -> None:
    """Given extra constraints, the clauses become named rules, not a second copy."""
    model = parse_dimacs("p cnf 3 2\n1 2 0\n-1 -3 0\n")
    extra = attrs.evolve(model, constraints=(Constraint(formula=Ref("x2"), text="x2"),))
    compiled = compile_model(extra)
    assert compiled.rule_count() == 3
    assert FeatureAnalysis(compiled).count() == 3  # x2 and not (x1 and x3)
    assert FeatureAnalysis(compile_model(model)).count() == 4
