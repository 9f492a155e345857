"""The command line: `main(argv) -> exit code`, and the error boundary."""

from __future__ import annotations

import argparse
import errno
import os
import sys
import traceback
from collections.abc import Sequence
from types import ModuleType

from cmf_config import __version__
from cmf_config.commands import analyze, catalog, check, init
from cmf_config.commands.common import prepare, stamp
from cmf_config.count import allow_count_digits
from cmf_config.errors import ExitCode, InputError, UsageError
from cmf_config.files import os_error_hint, os_error_text
from cmf_config.report import render_diagnostics, unusable_json

COMMAND_MODULES = [check, catalog, analyze, init]


def _optional_modules() -> list[ModuleType]:
    """Command groups that live in their own modules (diagrams, sharing, variant BOM, import)."""
    import importlib

    found: list[ModuleType] = []
    for name in ("share", "diagram", "bomcheck", "interchange", "serve"):
        try:
            found.append(importlib.import_module(f"cmf_config.commands.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"cmf_config.commands.{name}":
                raise
    return found


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="cmf-config",
        description="Configure vehicles from Common Module Family big modules: validate, explain, fix, build, share, draw.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in [*COMMAND_MODULES, *_optional_modules()]:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code (0 ok, 1 invalid, 2 unusable input, 3 bug, 130 ^C)."""
    allow_count_digits()  # counts are exact integers of any size (count.MAX_COUNT_DIGITS)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        prepare(args)
        code: int = args.run(args)
        return code
    except InputError as exc:
        if getattr(args, "format", "text") == "json":
            sys.stdout.write(stamp(args, unusable_json(exc.diagnostics)))
            return ExitCode.USAGE
        sys.stdout.flush()
        sys.stderr.write(render_diagnostics(list(exc.diagnostics)))
        return ExitCode.USAGE
    except UsageError as exc:
        sys.stderr.write(f"cmf-config: error: {exc.message}\n")
        if exc.hint:
            sys.stderr.write(f"  hint: {exc.hint}\n")
        return ExitCode.USAGE
    except KeyboardInterrupt:
        sys.stderr.write("cmf-config: interrupted\n")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        return ExitCode.OK
    except OSError as exc:
        # The user's environment (a missing folder, a full disk, a permission), not a bug.
        return _environment_error(exc)
    except RuntimeError as exc:
        # Python 3.11's Path.resolve() reports a symlink loop as RuntimeError.
        if not str(exc).startswith("Symlink loop from "):
            return _internal_error(args, exc)
        looped = str(exc).removeprefix("Symlink loop from ").strip("'")
        return _environment_error(OSError(errno.ELOOP, os.strerror(errno.ELOOP), looped))
    except Exception as exc:
        return _internal_error(args, exc)


def _environment_error(exc: OSError) -> int:
    """Exit 2 naming the path and what went wrong (an OSError is the user's, not a bug)."""
    where = f" '{exc.filename}'" if exc.filename else ""
    sys.stderr.write(f"cmf-config: error:{where} {os_error_text(exc)}\n")
    sys.stderr.write(f"  hint: {os_error_hint(exc)}\n")
    return ExitCode.USAGE


def _internal_error(args: argparse.Namespace, exc: BaseException) -> int:
    """Exit 3: a real bug."""
    if getattr(args, "debug", False):
        traceback.print_exc()
    sys.stderr.write(
        f"cmf-config: internal error: {type(exc).__name__}: {exc}\n"
        "  this is a bug in cmf-config; rerun with --debug and report the traceback\n"
    )
    return ExitCode.INTERNAL
