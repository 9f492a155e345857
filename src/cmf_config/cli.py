"""The command line: `main(argv) -> exit code`, and the error boundary."""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import signal
import sys
import time
from collections.abc import Sequence
from types import ModuleType

from cmf_config import __version__

# Every command: its name, the module under cmf_config.commands that registers and runs it,
# and its one-line help. Only the module of the command being run is imported, so that
# `cmf-config --help` and the light commands start without loading the solver, numpy, scipy
# or matplotlib (tests/test_startup.py checks that the help here is the module's own).
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("validate", "check", "check configuration files against the catalog and the rules"),
    ("build", "check", "resolve a configuration into modules and a bill of materials"),
    ("explain", "check", "explain why a configuration cannot be valid"),
    ("fix", "check", "propose the nearest valid configuration"),
    ("complete", "check", "fill the open slots of a partial configuration optimally"),
    ("options", "check", "show what each open slot may still take"),
    ("catalog", "catalog", "list or show what the catalog holds"),
    ("schema", "catalog", "print the JSON Schema of configuration, catalog or rules files"),
    ("count", "analyze", "count the valid configurations exactly"),
    ("enumerate", "analyze", "list valid configurations"),
    (
        "lint",
        "analyze",
        "find dead variants, vacuous, contradictory or redundant rules, broken reference vehicles",
    ),
    (
        "init",
        "init",
        "start a project: config file, catalog and rules, pre-commit hooks, an example",
    ),
    ("share", "share", "parts sharing between two vehicles, across a fleet, or in a BOM table"),
    (
        "diagram",
        "diagram",
        "draw Graphviz diagrams of a vehicle, the catalog, the rules or the sharing",
    ),
    (
        "bom-check",
        "bomcheck",
        "check the variant BOM positions: uniqueness, completeness, superfluous parts",
    ),
    (
        "import",
        "interchange",
        "read a UVL or DIMACS variability model: size, count, normalised copy",
    ),
    ("export", "interchange", "write the catalog and its rules as a variability model (UVL)"),
    ("model", "interchange", "questions about a UVL or DIMACS model file"),
    ("serve", "serve", "the configurator in the browser, with a JSON API under /api"),
    ("orders", "orders", "validate an order bank and explode it into part demand"),
)


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"cmf_config.commands.{name}")


class _Parser(argparse.ArgumentParser):
    """argparse's parser, with the terminal's width read once per formatter from the
    terminal itself: argparse makes a formatter for every argument it registers, and its
    own way (shutil.get_terminal_size) imports shutil, and with it zlib, bz2 and lzma, on
    every start-up. Subcommands' parsers are of this class too (add_subparsers' default)."""

    def _get_formatter(self) -> argparse.HelpFormatter:
        # every HelpFormatter takes `width`; typeshed's protocol names only `prog`
        return self.formatter_class(prog=self.prog, width=terminal_width() - 2)  # type: ignore[call-arg]


def terminal_width() -> int:
    """The columns of the terminal, as shutil.get_terminal_size gives them: $COLUMNS when it
    is a positive number, else the size of the terminal on standard output, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns > 0:
        return columns
    try:
        columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        columns = 0
    return columns or 80


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser: every subcommand in full (`command` None), or only `command`'s
    module in full and the others as one-line entries (enough for `--help` and for a mistyped
    command; `command` "" registers none in full)."""
    parser = _Parser(
        prog="cmf-config",
        description="Configure vehicles from Common Module Family big modules: validate, explain, fix, build, share, draw.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    wanted = {module for name, module, _ in COMMANDS if command is None or name == command}
    for module in dict.fromkeys(module for _, module, _ in COMMANDS):
        if module in wanted:
            _module(module).register(sub)
    for name, _, help_text in COMMANDS:
        if name not in sub.choices:
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def _command_of(argv: Sequence[str]) -> str | None:
    """The command named on the command line (the first word that is not an option)."""
    names = {name for name, _, _ in COMMANDS}
    for word in argv:
        if not word.startswith("-"):
            return word if word in names else None
    return None


def main(argv: Sequence[str] | None = None, *, own_signals: bool = False) -> int:
    """Run one command; return its exit code (0 ok, 1 invalid, 2 unusable input, 3 bug, 130 ^C).

    `own_signals` (the `cmf-config` program): from here on Ctrl-C raises KeyboardInterrupt,
    which ends the command with exit 130 and no traceback, whatever it was doing.
    """
    if own_signals:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    words = list(sys.argv[1:] if argv is None else argv)
    args: argparse.Namespace | None = None
    try:
        args = build_parser(_command_of(words) or "").parse_args(words)
        return _run(args)
    except KeyboardInterrupt:
        sys.stdout.flush()
        sys.stderr.write("cmf-config: interrupted\n")
        return 130


def _run(args: argparse.Namespace) -> int:
    """The error boundary: every error this package raises on purpose becomes an exit code."""
    from cmf_config import cache, term
    from cmf_config.api import allow_count_digits
    from cmf_config.commands.common import prepare, stamp
    from cmf_config.errors import ExitCode, InputError, UsageError
    from cmf_config.plainreport import error_lines, timing_line
    from cmf_config.report import render_diagnostics, unusable_json

    allow_count_digits()  # counts are exact integers of any size (count.MAX_COUNT_DIGITS)
    started = time.perf_counter()
    try:
        prepare(args)
        # No indicator for a server (it runs until stopped and logs on stderr).
        indicator = None if args.command == "serve" else term.progress(args.command, sys.stderr)
        if indicator is None:
            code: int = args.run(args)
        else:
            with indicator:
                code = args.run(args)
        if term.STATE["verbose"]:
            elapsed = (time.perf_counter() - started) * 1000
            sys.stderr.write(timing_line(args.command, elapsed, cache.STATS["catalog"]))
        if code in (ExitCode.OK, ExitCode.INVALID) and args.command in (
            "validate",
            "build",
            "options",
            "explain",
        ):
            from cmf_config.quickstore import remember

            remember(args)  # the fast path's compiled workspace, for the next run
        return code
    except InputError as exc:
        from cmf_config.commands.common import scanning_out

        if scanning_out(args, list(exc.diagnostics)):
            return ExitCode.USAGE
        if getattr(args, "format", "text") == "json":
            sys.stdout.write(stamp(args, unusable_json(exc.diagnostics)))
            return ExitCode.USAGE
        sys.stdout.flush()
        text = render_diagnostics(list(exc.diagnostics))
        sys.stderr.write(term.paint(text) if term.STATE["color_err"] else text)
        return ExitCode.USAGE
    except UsageError as exc:
        sys.stderr.write(error_lines(exc.message, exc.hint))
        return ExitCode.USAGE
    except KeyboardInterrupt:
        raise
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
    from cmf_config.errors import ExitCode
    from cmf_config.files import os_error_hint, os_error_text
    from cmf_config.plainreport import error_lines

    where = f"'{exc.filename}' " if exc.filename else ""
    sys.stderr.write(error_lines(where + os_error_text(exc), os_error_hint(exc)))
    return ExitCode.USAGE


def _internal_error(args: argparse.Namespace, exc: BaseException) -> int:
    """Exit 3: a real bug."""
    from cmf_config.errors import ExitCode
    from cmf_config.plainreport import internal_error_lines

    if getattr(args, "debug", False):
        import traceback  # only for --debug (importing it costs every start-up 2 ms)

        traceback.print_exc()
    sys.stderr.write(internal_error_lines(type(exc).__name__, str(exc)))
    return ExitCode.INTERNAL
