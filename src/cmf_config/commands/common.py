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


def emit(text: str, out: Path | None = None) -> None:
    """Print, or write atomically to a file."""
    if out is None:
        sys.stdout.write(text)
    else:
        write_atomic(out, text)
