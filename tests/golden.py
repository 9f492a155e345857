"""Golden files: compare output with a reviewed file; a missing file fails the test.

`pytest --update-goldens` is the only way to (re)write one, so that a golden file deleted or
never added cannot turn into a pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest


def assert_golden(path: Path, got: str | bytes, update: bool) -> None:
    """Assert that `got` equals the golden file (rewrite it instead under --update-goldens)."""
    if update:
        if isinstance(got, bytes):
            path.write_bytes(got)
        else:
            path.write_text(got, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(
            f"golden file {path} is missing: run `pytest --update-goldens` and review it",
            pytrace=False,
        )
    expected: str | bytes = (
        path.read_bytes() if isinstance(got, bytes) else path.read_text(encoding="utf-8")
    )
    assert got == expected
