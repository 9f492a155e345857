"""Rule files: names resolved against the catalog at load time, with exact positions."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmf_config.errors import InputError
from cmf_config.load import load_catalog
from cmf_config.problem import Problem, catalog_problem
from cmf_config.rules import evaluate, load_rules

MINI = Path(__file__).parent / "data" / "mini"


@pytest.fixture(scope="module")
def problem() -> Problem:
    """The mini catalog's problem."""
    return catalog_problem(load_catalog(MINI / "catalog"))


def _load(tmp_path: Path, problem: Problem, text: str) -> list[str]:
    (tmp_path / "r.yaml").write_text(text, encoding="utf-8")
    try:
        load_rules(tmp_path, problem)
    except InputError as exc:
        return [f"{d.span.line}:{d.span.col} {d.code} {d.message}" for d in exc.diagnostics]
    return []


def test_bundled_mini_rules_load(problem: Problem) -> None:
    """The mini rules resolve without diagnostics."""
    rules = load_rules(MINI / "rules", problem)
    assert [r.id for r in rules][:2] == ["bay-accepts-powertrain", "platform-powertrain"]


def test_unknown_names_ids_and_attributes_are_positioned(tmp_path: Path, problem: Problem) -> None:
    """Every unresolved name is reported at its column, with a suggestion, all at once."""
    text = (
        "rules:\n"
        "  - id: a\n"
        "    constraint: \"cokpit.steering_side == 'rhd'\"\n"
        "  - id: b\n"
        "    constraint: \"cockpit.steering == 'rhd'\"\n"
        "  - id: c\n"
        "    constraint: \"platform == 'plat-evv'\"\n"
        "  - id: d\n"
        "    constraint: \"cockpit.steering_side == 'rhs'\"\n"
        "  - id: e\n"
        "    when: {platfrom: [plat-ev]}\n"
        "    constraint: \"battery_kwh + 'x' > 1\"\n"
    )
    assert _load(tmp_path, problem, text) == [
        "3:18 E240 unknown name 'cokpit'; did you mean 'cockpit'?",
        "5:18 E241 cockpit has no attribute 'steering'; did you mean 'steering_side'?",
        "7:30 E242 unknown platform 'plat-evv'; did you mean 'plat-ev' or 'plat-ice'?",
        "9:43 E242 unknown cockpit.steering_side value 'rhs'; did you mean 'rhd'?",
        "11:12 E240 unknown name 'platfrom' in 'when'; did you mean 'platform'?",
        "12:32 E243 expected a number here, but this is a text value",
    ]


def test_syntax_error_position_inside_the_expression(tmp_path: Path, problem: Problem) -> None:
    """A syntax error points into the quoted expression."""
    text = "rules:\n  - id: a\n    constraint: \"cockpit = 'x'\"\n"
    assert _load(tmp_path, problem, text) == [
        "3:26 E120 syntax error in the constraint: unexpected '='"
    ]


def test_duplicate_rule_ids(tmp_path: Path, problem: Problem) -> None:
    """Two rules with one id are an error at the second."""
    text = "rules:\n  - id: a\n    constraint: tow_bar\n  - id: a\n    constraint: not tow_bar\n"
    got = _load(tmp_path, problem, text)
    assert got == [
        "4:9 E210 duplicate rule id 'a' (first defined at " + str(tmp_path / "r.yaml") + ":2:9)"
    ]


def test_sum_of_module_attributes_evaluates(problem: Problem) -> None:
    """sum(modules.mass_kg) adds the five chosen variants' masses."""
    rules = {r.id: r for r in load_rules(MINI / "rules", problem)}
    mass = rules["mass-limit"].constraint
    assignment = {s.name: 0 for s in problem.slots}
    # index 0 of each module slot: ec-emotor, ck-lhd, fu-std, ru-ev, ee-12 (sorted by id)
    assert evaluate(problem, mass, assignment) is True
