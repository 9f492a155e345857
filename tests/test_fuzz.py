"""Fuzzing in CI: every kind of generated and broken input keeps the contract (a fixed budget).

The strategies and the contract are in fuzz_strategies.py; the long campaign that runs them
with a large budget before a release is benchmarks/fuzz_campaign.py (docs/fuzzing.md).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fuzz_strategies as fz

BUDGET = settings(
    max_examples=max(8, settings().max_examples // 4),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
STRATEGIES = {
    "config": fz.config_cases(),
    "catalog": fz.catalog_cases(),
    "rules": fz.rule_cases(),
    "dimacs": fz.dimacs_cases(),
    "uvl": fz.uvl_cases(),
    "csv": fz.csv_cases(),
    "special": fz.special_cases(),
}


@pytest.mark.parametrize("kind", sorted(STRATEGIES))
def test_generated_inputs_keep_the_contract(kind: str) -> None:
    """exit 0/1/2 only, no traceback, exit 2 positioned, counts = oracle, -o untouched on failure."""

    @BUDGET
    @given(case=STRATEGIES[kind])
    def check(case: fz.Case) -> None:
        with tempfile.TemporaryDirectory() as folder:
            fz.run_case(case, Path(folder))

    check()


@BUDGET
@given(st.data())
def test_the_oracle_side_is_exercised(data: st.DataObject) -> None:
    """Whole inputs reach the oracle comparison (a fuzz run that never compares is no check)."""
    case = data.draw(fz.dimacs_cases(whole=True))
    assert case.expected_count is not None
    with tempfile.TemporaryDirectory() as folder:
        outcome = fz.run_case(case, Path(folder))
    assert outcome.code == 0
