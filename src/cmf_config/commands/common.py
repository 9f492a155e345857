"""Options every command shares, and output helpers."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cmf_config.files import write_atomic


def add_common(parser: argparse.ArgumentParser, formats: bool = True) -> None:
    """--catalog, --rules, --format, --debug."""
    parser.add_argument(
        "--catalog",
        type=Path,
        default=None,
        metavar="DIR",
        help="catalog directory (default: the bundled catalog)",
    )
    parser.add_argument(
        "--rules",
        type=Path,
        default=None,
        metavar="DIR",
        help="rules directory (default: the bundled rules)",
    )
    if formats:
        parser.add_argument(
            "--format",
            choices=("text", "json"),
            default="text",
            help="output format (default: text)",
        )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")


def _year(text: str) -> int:
    try:
        year = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a year (write e.g. --year 2019)"
        ) from None
    if not 1900 <= year <= 2100:
        raise argparse.ArgumentTypeError(f"{year} is outside 1900-2100 (write e.g. --year 2019)")
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
        sys.stdout.write(text)
    else:
        write_atomic(out, text)
