"""What a report calls a file or folder: a file that could not be used is not "INVALID" (that
means rules broken, exit 1), and a folder has no line or column (regressions seen as a user)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clirun import run_cli


def test_an_unreadable_file_is_not_called_invalid(capsys: pytest.CaptureFixture[str]) -> None:
    """Regression: a missing file printed its E001, then "FILE: INVALID", though exit 2 says
    the input was unusable and no rule was checked."""
    code, out, _ = run_cli(capsys, ["validate", "examples/sedan.yaml", "no-such-file.yaml"])
    assert code == 2
    assert "no-such-file.yaml:1:1: error E001: cannot read the file" in out
    assert "no-such-file.yaml: could not be checked (see the errors above)\n" in out
    assert "INVALID" not in out
    assert "examples/sedan.yaml: valid\n" in out


def test_a_broken_file_is_still_invalid(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        capsys, ["validate", "examples/invalid/uk-sedan-with-lhd-cockpit.yaml", "missing.yaml"]
    )
    assert code == 2
    assert "examples/invalid/uk-sedan-with-lhd-cockpit.yaml: INVALID\n" in out
    assert "missing.yaml: could not be checked" in out


def test_a_folder_level_error_has_no_line_or_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Regression: an empty rules folder was positioned `folder:1:1`, a line a folder has not."""
    empty = tmp_path / "empty-rules"
    empty.mkdir()
    args = ["validate", "examples/sedan.yaml", "--rules", str(empty)]
    code, out, _ = run_cli(capsys, args)
    assert code == 2
    assert f"\n{empty}: error E002: the rules folder holds no rule files" in f"\n{out}"
    assert f"{empty}:1:1" not in out
    code, out, _ = run_cli(capsys, [*args, "--format", "json"])
    (diag,) = json.loads(out)["files"][0]["diagnostics"]
    assert (diag["code"], diag["file"], diag["line"], diag["column"]) == ("E002", str(empty), 0, 0)
    code, out, _ = run_cli(capsys, [*args, "--format", "sarif"])
    (result,) = json.loads(out)["runs"][0]["results"]
    assert result["ruleId"] == "E002"
    (location,) = result["locations"]
    assert "region" not in location["physicalLocation"]
    code, out, _ = run_cli(capsys, [*args, "--format", "github"])
    assert f"::error file={empty},title=cmf-config E002::" in out


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--rules", "the rules directory does not exist"),
        ("--catalog", "the catalog directory does not exist"),
    ],
)
def test_a_missing_folder_has_no_line_or_column(
    tmp_path: Path, option: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing"
    code, out, err = run_cli(capsys, ["validate", "examples/sedan.yaml", option, str(missing)])
    assert code == 2
    assert f"{missing}: error E001: {message}\n" in out + err
    assert f"{missing}:1:1" not in out + err
