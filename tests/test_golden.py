"""The golden-file helper: a missing file fails, only --update-goldens writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from golden import assert_golden


def test_a_missing_golden_file_fails_and_is_not_written(tmp_path: Path) -> None:
    """Without --update-goldens, a missing golden file is a failure, and no file appears."""
    path = tmp_path / "expected.txt"
    with pytest.raises(pytest.fail.Exception, match="is missing"):
        assert_golden(path, "output\n", update=False)
    assert not path.exists()


def test_update_writes_and_a_later_run_compares(tmp_path: Path) -> None:
    """--update-goldens writes the file; afterwards a different output fails the comparison."""
    path = tmp_path / "expected.dot"
    assert_golden(path, b"digraph {}\n", update=True)
    assert_golden(path, b"digraph {}\n", update=False)
    with pytest.raises(AssertionError):
        assert_golden(path, b"digraph { a }\n", update=False)
