"""Shared test set-up: tests import the oracle and strategies as plain modules."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


def pytest_addoption(parser: pytest.Parser) -> None:
    """--update-goldens rewrites the expected files of golden tests."""
    parser.addoption(
        "--update-goldens", action="store_true", default=False, help="rewrite golden files"
    )


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    """Whether golden files should be rewritten instead of compared."""
    return bool(request.config.getoption("--update-goldens"))
