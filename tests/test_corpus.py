"""Every bad input of tests/corpus gets its exact diagnostics and exit code, never a traceback.

Each case is a folder with `config.yaml` and `expected.txt` (what `cmf-config validate` prints
on stdout and stderr, then the exit code), validated against the mini catalog in tests/data/mini.
Rewrite the expected files with `pytest --update-goldens` and review the diff like code.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from clirun import run_cli
from golden import assert_golden

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
MINI = HERE / "data" / "mini"
CASES = sorted(p.name for p in CORPUS.iterdir() if p.is_dir())


@pytest.mark.parametrize("case", CASES)
def test_bad_input_gets_its_exact_diagnostic(
    case: str, capsys: pytest.CaptureFixture[str], update_goldens: bool
) -> None:
    """The whole rendered output and the exit code match the golden file."""
    config = f"tests/corpus/{case}/config.yaml"
    code, out, err = run_cli(
        capsys,
        [
            "validate",
            "--catalog",
            "tests/data/mini/catalog",
            "--rules",
            "tests/data/mini/rules",
            config,
        ],
    )
    got = f"--- stdout\n{out}--- stderr\n{err}--- exit {code}\n"
    assert_golden(CORPUS / case / "expected.txt", got, update_goldens)
    assert "Traceback" not in got
    assert code in (1, 2)


@pytest.mark.parametrize("case", CASES)
def test_bad_input_json_document(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    """With --format json every case still yields the validate document, with positions."""
    import json

    config = f"tests/corpus/{case}/config.yaml"
    code, out, _ = run_cli(
        capsys,
        [
            "validate",
            "--format",
            "json",
            "--catalog",
            "tests/data/mini/catalog",
            "--rules",
            "tests/data/mini/rules",
            config,
        ],
    )
    document = json.loads(out)
    (entry,) = document["files"]
    assert entry["file"] == config
    assert entry["valid"] is False
    assert entry["diagnostics"]
    for diag in entry["diagnostics"]:
        assert set(diag) >= {"severity", "code", "message", "file", "line", "column", "rule"}
        assert diag["line"] >= 1
        assert diag["column"] >= 1
    assert code in (1, 2)
