"""Options every command shares, what each report says it checked against, and output."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cmf_config import cache, report, term
from cmf_config.files import write_atomic
from cmf_config.project import Sources, resolve

if TYPE_CHECKING:
    from cmf_config.errors import Diagnostic


def add_common(
    parser: argparse.ArgumentParser, formats: bool = True, extra: Sequence[str] = ()
) -> None:
    """--catalog, --rules, --format, --debug."""
    parser.add_argument(
        "--catalog",
        type=Path,
        default=None,
        metavar="DIR",
        help="catalog directory (default: the project's, found from cmf-config.toml or "
        "[tool.cmf-config] in pyproject.toml here or above; else the bundled demo catalog)",
    )
    parser.add_argument(
        "--rules",
        type=Path,
        default=None,
        metavar="DIR",
        help="rules directory (default: the project's; else the bundled demo rules)",
    )
    choices = ("text", "json", *extra)
    if formats:
        parser.add_argument(
            "--format",
            choices=choices,
            default=None,
            help="output format (default: the project's `format`, else text)",
        )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="read the catalog afresh instead of from the compiled-catalog cache (docs/project.md)",
    )
    parser.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default=None,
        help="colour the text report: auto (on a terminal, unless NO_COLOR is set; the default), always, never",
    )
    loud = parser.add_mutually_exclusive_group()
    loud.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="leave out the line saying which catalog and rules were used, and notes",
    )
    loud.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also say on stderr how long the command took and whether the catalog cache served it",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    parser.set_defaults(uses_catalog=True, format_choices=choices if formats else ())


def prepare(args: argparse.Namespace) -> None:
    """Resolve the catalog and rules of a command that uses them (options, project, bundled).

    Afterwards `args.catalog` and `args.rules` are the folders to read, `args.sources` says
    where they came from, and `args.format` holds the project's default when none was given.
    """
    if not getattr(args, "uses_catalog", False):
        return
    if args.no_cache:
        cache.disable()
    sources = resolve(args.catalog, args.rules)
    args.sources = sources
    args.catalog = sources.catalog.path
    args.rules = sources.rules.path
    if getattr(args, "format", "text") is None:
        wanted = sources.project.format if sources.project is not None else None
        args.format = wanted if wanted in args.format_choices else "text"
    project_color = sources.project.color if sources.project is not None else None
    term.configure(
        args.color or project_color or "auto",
        text=getattr(args, "format", "text") == "text",
        quiet=args.quiet,
        verbose=args.verbose,
        out=sys.stdout,
        err=sys.stderr,
    )


def sources_of(args: argparse.Namespace) -> Sources:
    """The sources `prepare` resolved (resolved here for callers that skipped it)."""
    found: Sources | None = getattr(args, "sources", None)
    if found is None:
        found = resolve(getattr(args, "catalog", None), getattr(args, "rules", None))
        args.sources = found
    return found


def stamp(args: argparse.Namespace, text: str, rules: bool = True) -> str:
    """A report with what it checked: a first line in text, a "sources" key in JSON."""
    sources = sources_of(args)
    if term.STATE["quiet"] and getattr(args, "format", "text") != "json":
        return text
    if getattr(args, "format", "text") == "json":
        document = json.loads(text)
        if isinstance(document, dict):
            document["sources"] = sources.as_json(rules)
            return report.to_json(document)
        return text
    return report.sources_line(sources, rules) + "\n" + text


SCANNING = ("sarif", "github")


def scanning_out(
    args: argparse.Namespace, diagnostics: Sequence[Diagnostic], checked: Sequence[str] = ()
) -> bool:
    """Write findings as SARIF or GitHub annotations when `--format` asks for it."""
    fmt = getattr(args, "format", "text")
    if fmt not in SCANNING:
        return False
    from cmf_config.sarif import github_lines, sarif_log

    sources = sources_of(args) if getattr(args, "uses_catalog", False) else None
    if fmt == "sarif":
        command = " ".join(str(getattr(args, "command", "")).split())
        emit(
            sarif_log(
                diagnostics,
                command=command,
                checked=checked,
                sources=sources.as_json() if sources else None,
            )
        )
    else:
        emit(github_lines(diagnostics, report.sources_line(sources) if sources else None))
    return True


def note_sources(args: argparse.Namespace, rules: bool = True) -> None:
    """Say what was checked on stderr (for commands whose stdout is a file's content)."""
    if term.STATE["quiet"]:
        return
    term.end_progress()
    sys.stdout.flush()
    line = report.sources_line(sources_of(args), rules) + "\n"
    sys.stderr.write(term.paint(line) if term.STATE["color_err"] else line)


def _year(text: str) -> int:
    try:
        year = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(report.year_argument_error(text, None)) from None
    if not 1900 <= year <= 2100:
        raise argparse.ArgumentTypeError(report.year_argument_error(text, year))
    return year


def add_year(parser: argparse.ArgumentParser) -> None:
    """--year Y: answer for what was buildable in that year."""
    parser.add_argument(
        "--year",
        type=_year,
        default=None,
        metavar="Y",
        help="only what was buildable in year Y: platforms launched by then, E/E generations then built",
    )


def emit(text: str, out: Path | None = None) -> None:
    """Print, or write atomically to a file."""
    if out is None:
        term.end_progress()
        sys.stdout.write(term.paint(text) if term.STATE["color"] else text)
    else:
        write_atomic(out, text)
