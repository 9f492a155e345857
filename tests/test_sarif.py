"""Code scanning: --format sarif (checked against the published SARIF 2.1.0 schema) and
--format github (workflow annotation lines)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft4Validator

from clirun import run_cli
from cmf_config.errors import Diagnostic, Severity, Span
from cmf_config.sarif import github_lines, sarif_log

ROOT = Path(__file__).parents[1]
SARIF = Draft4Validator(
    json.loads((ROOT / "tests" / "data" / "sarif" / "sarif-2.1.0-rtm.5.json").read_text("utf-8"))
)
MINI = ["--catalog", "tests/data/mini/catalog", "--rules", "tests/data/mini/rules"]
DEFECTS = ["--catalog", "tests/data/variantbom/catalog", "--rules", "tests/data/variantbom/rules"]

CASES: dict[str, tuple[list[str], int]] = {
    "validate-broken": (
        [
            "validate",
            "examples/invalid/city-ev-with-ice-bay.yaml",
            "examples/invalid/uk-sedan-with-lhd-cockpit.yaml",
            "examples/sedan.yaml",
        ],
        1,
    ),
    "validate-unusable": (["validate", "examples/invalid/typos.yaml"], 2),
    "validate-clean": (["validate", "examples/sedan.yaml"], 0),
    "lint": (["lint", *MINI], 1),
    "bom-check": (["bom-check", *DEFECTS], 1),
    "model-lint": (["model", "lint", "tests/data/uvl/boolean02.uvl"], 1),
    "missing-catalog": (["lint", "--catalog", "tests/data/none"], 2),
}
# a folder-level finding (missing-catalog) names its path with no line (GitHub allows file alone)
ANNOTATION = re.compile(
    r"^::(error|warning|notice) (file=[^,:]+,(line=\d+,col=\d+(,endColumn=\d+)?,)?)?title=[^:,]+::\S.*$"
)


def _text_count(capsys: pytest.CaptureFixture[str], args: list[str]) -> int:
    """How many findings the JSON output of the same command holds."""
    _, out, _ = run_cli(capsys, [*args, "--format", "json"])
    document = json.loads(out)
    if "files" in document:
        return sum(len(f["diagnostics"]) for f in document["files"])
    if "diagnostics" in document:
        return len(document["diagnostics"])
    return len(document["findings"])


@pytest.mark.parametrize("case", sorted(CASES))
def test_sarif_is_valid_and_holds_every_finding(
    case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The log validates against the SARIF 2.1.0 schema; one result per finding the JSON
    output has; exit codes as for text; every located result names its file, and line and
    column unless it is about a folder as a whole (missing-catalog: the path alone)."""
    args, exit_code = CASES[case]
    code, out, err = run_cli(capsys, [*args, "--format", "sarif"])
    assert code == exit_code, err
    log = json.loads(out)
    errors = sorted(SARIF.iter_errors(log), key=str)
    assert errors == [], errors[0].message if errors else ""
    (run,) = log["runs"]
    assert run["tool"]["driver"]["name"] == "cmf-config"
    assert len(run["results"]) == _text_count(capsys, args)
    for result in run["results"]:
        for location in result["locations"]:
            assert location["physicalLocation"]["artifactLocation"]["uri"]
            region = location["physicalLocation"].get("region")
            assert region is not None or case == "missing-catalog"
            if region is not None:
                assert region["startLine"] >= 1
                assert region["startColumn"] >= 1
    if args[0] != "model":
        assert run["properties"]["sources"]["catalog"]["path"]


def test_sarif_lists_the_files_checked(capsys: pytest.CaptureFixture[str]) -> None:
    """A clean validate run has no results but names what it checked (never an empty pass)."""
    _, out, _ = run_cli(capsys, ["validate", "examples/sedan.yaml", "--format", "sarif"])
    run = json.loads(out)["runs"][0]
    assert run["results"] == []
    assert run["artifacts"] == [{"location": {"uri": "examples/sedan.yaml"}}]


@pytest.mark.parametrize("case", sorted(CASES))
def test_github_annotations(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    """One `::level file=...,line=...,col=...,title=...::message` line per finding, after a
    notice naming the catalog and rules; exit codes as for text."""
    args, exit_code = CASES[case]
    code, out, _ = run_cli(capsys, [*args, "--format", "github"])
    assert code == exit_code
    lines = out.splitlines()
    if args[0] != "model":
        assert lines.pop(0).startswith("::notice title=cmf-config::catalog: ")
    assert len(lines) == _text_count(capsys, args)
    for line in lines:
        assert ANNOTATION.match(line), line


def test_github_escapes_newlines_percent_and_property_separators() -> None:
    """Messages escape %, CR and LF; properties also escape ':' and ','."""
    diag = Diagnostic(
        code="E203",
        severity=Severity.WARNING,
        span=Span("dir,a:b/c.yaml", 3, 5, 9),
        message="100% wrong\nsecond line",
        hint="fix: it",
    )
    assert github_lines([diag]) == (
        "::warning file=dir%2Ca%3Ab/c.yaml,line=3,col=5,endColumn=9,title=cmf-config E203"
        "::100%25 wrong%0Asecond line%0Ahint: fix: it\n"
    )


def test_sarif_related_locations_and_absolute_paths(tmp_path: Path) -> None:
    """Related spans become relatedLocations; an absolute path a file: URI; still valid."""
    path = str(tmp_path / "a b.yaml")
    diag = Diagnostic(
        code="E301",
        span=Span(path, 2, 3, 7),
        message="broken",
        rule="r1",
        related=(Span("rules/x.yaml", 4, 1), Span("<none>", 0, 0)),
    )
    log = json.loads(sarif_log([diag], command="validate"))
    assert list(SARIF.iter_errors(log)) == []
    result = log["runs"][0]["results"][0]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.startswith("file:///")
    assert uri.endswith("/a%20b.yaml")
    assert [r["id"] for r in result["relatedLocations"]] == [0]
    assert result["properties"] == {"rule": "r1"}
