"""Findings for code scanning: SARIF 2.1.0 logs and GitHub workflow annotation lines.

`--format sarif` writes one SARIF log (GitHub code scanning, GitLab, Azure DevOps and the
SARIF viewers read it); `--format github` writes `::error file=...,line=...,col=...::message`
lines that a GitHub Actions step turns into annotations on the pull request. Both carry the
same diagnostics as the text report, with the hint folded into the message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import quote

from cmf_config import __version__
from cmf_config.errors import Diagnostic, Severity, Span

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFO_URI = "https://pypi.org/project/cmf-config/"
_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}
_GITHUB = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def _uri(path: str) -> str:
    """A relative path stays a relative URI reference (resolved against the repository root by
    code scanning); an absolute one becomes a file: URI."""
    if Path(path).is_absolute():
        return Path(path).as_uri()
    return quote(Path(path).as_posix())


def _named(span: Span) -> bool:
    """Whether the span names a real path ("<none>", "<stdin>"... name none)."""
    return bool(span.path) and not span.path.startswith("<")


def _location(span: Span) -> dict[str, object] | None:
    """The span's file and region; a span of line 0 (a folder, a model as a whole) is the path
    alone, with no region, and one that names no path is no location."""
    if span.line < 1:
        if not _named(span):
            return None
        return {"physicalLocation": {"artifactLocation": {"uri": _uri(span.path)}}}
    region: dict[str, object] = {"startLine": span.line, "startColumn": max(span.col, 1)}
    if span.end_col is not None and span.end_col > span.col:
        region["endColumn"] = span.end_col
    return {"physicalLocation": {"artifactLocation": {"uri": _uri(span.path)}, "region": region}}


def _text(diag: Diagnostic) -> str:
    return f"{diag.message}\nhint: {diag.hint}" if diag.hint else diag.message


def _result(diag: Diagnostic) -> dict[str, object]:
    result: dict[str, object] = {
        "ruleId": diag.code,
        "level": _LEVELS[diag.severity],
        "message": {"text": _text(diag)},
    }
    where = _location(diag.span)
    result["locations"] = [where] if where else []
    related = [
        {"id": index, **found}
        for index, span in enumerate(diag.related)
        if (found := _location(span)) is not None
    ]
    if related:
        result["relatedLocations"] = related
    if diag.rule:
        result["properties"] = {"rule": diag.rule}
    return result


def sarif_log(
    diagnostics: Sequence[Diagnostic],
    *,
    command: str,
    checked: Sequence[str] = (),
    sources: Mapping[str, object] | None = None,
) -> str:
    """A SARIF 2.1.0 log of one run: every diagnostic a result, the files checked artifacts."""
    codes = sorted({d.code for d in diagnostics})
    run: dict[str, object] = {
        "tool": {
            "driver": {
                "name": "cmf-config",
                "version": __version__,
                "informationUri": INFO_URI,
                "rules": [
                    {"id": code, "shortDescription": {"text": f"cmf-config {code} (docs/cli.md)"}}
                    for code in codes
                ],
            }
        },
        "invocations": [
            {
                "commandLine": f"cmf-config {command}",
                "executionSuccessful": True,
            }
        ],
        "results": [_result(d) for d in diagnostics],
    }
    if checked:
        run["artifacts"] = [{"location": {"uri": _uri(path)}} for path in checked]
    if sources is not None:
        run["properties"] = {"sources": dict(sources)}
    log = {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


def _escape(text: str, prop: bool = False) -> str:
    """GitHub's workflow-command escaping (properties also escape ':' and ',')."""
    out = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        out = out.replace(":", "%3A").replace(",", "%2C")
    return out


def github_lines(diagnostics: Sequence[Diagnostic], notice: str | None = None) -> str:
    """One workflow annotation per diagnostic (`::error file=F,line=L,col=C::message`)."""
    lines = [f"::notice title=cmf-config::{_escape(notice)}"] if notice else []
    for diag in diagnostics:
        fields = []
        if diag.span.line >= 1:
            fields += [
                f"file={_escape(diag.span.path, prop=True)}",
                f"line={diag.span.line}",
                f"col={max(diag.span.col, 1)}",
            ]
            if diag.span.end_col is not None and diag.span.end_col > diag.span.col:
                fields.append(f"endColumn={diag.span.end_col}")
        elif _named(diag.span):  # a folder or a model as a whole: the path, no line
            fields.append(f"file={_escape(diag.span.path, prop=True)}")
        fields.append(f"title={_escape(f'cmf-config {diag.code}', prop=True)}")
        lines.append(f"::{_GITHUB[diag.severity]} {','.join(fields)}::{_escape(_text(diag))}")
    return "".join(line + "\n" for line in lines)
