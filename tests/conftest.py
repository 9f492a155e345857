"""Shared test set-up: hypothesis profiles; tests import the oracle and strategies as plain modules.

Hypothesis profiles (the number of examples every property test runs):
- "dev" (the default): 60 examples, random, with the local example database;
- "ci" (chosen when the CI environment variable is set): 40 examples, derandomised (the same
  examples on every run, no database), so that a red CI run is reproducible;
- "thorough": 1000 examples, for a deliberate hunt (HYPOTHESIS_PROFILE=thorough).
HYPOTHESIS_PROFILE overrides the choice. Tests set no max_examples of their own.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))

settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile(
    "ci", max_examples=40, deadline=None, derandomize=True, database=None, print_blob=True
)
settings.register_profile("thorough", max_examples=1000, deadline=None)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


def pytest_addoption(parser: pytest.Parser) -> None:
    """--update-goldens rewrites the expected files of golden tests."""
    parser.addoption(
        "--update-goldens", action="store_true", default=False, help="rewrite golden files"
    )


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    """Whether golden files should be rewritten instead of compared."""
    return bool(request.config.getoption("--update-goldens"))
