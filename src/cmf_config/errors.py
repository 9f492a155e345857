"""Positions, diagnostics, the exception tree and exit codes.

Every user-facing problem is a `Diagnostic` with a 1-based `Span` (input errors, catalog lint
findings, variant-BOM findings, CSV table errors); only `report.py` renders them. Every error
raised on purpose is a `CmfConfigError`: unusable input raises `InputError` carrying *all*
diagnostics of a phase, bad usage `UsageError`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence

import attrs

from cmf_config.reprs import shared_repr


class ExitCode(enum.IntEnum):
    """Process exit codes shared by every command."""

    OK = 0
    INVALID = 1
    USAGE = 2
    INTERNAL = 3
    INTERRUPTED = 130


@shared_repr
@attrs.define(order=True, unsafe_hash=True, repr=False)
class Span:
    """A 1-based position in a text file; `end_col` marks the end of the underlined text.
    Line 0 is no position: the path as a whole (a folder, a model), shown as the path alone.

    A value, shared and hashed: never assign to its fields. Not a frozen class only because
    those cost twice as much to create and a catalog read creates some 50,000 spans;
    tests/test_layering.py checks that no module assigns to a span's fields.
    """

    path: str
    line: int
    col: int
    end_col: int | None = attrs.field(default=None, order=False)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}" if self.line > 0 else self.path

    def __reduce__(self) -> tuple[type[Span], tuple[str, int, int, int | None]]:
        # Pickled as its four values, not attrs' state dict: a catalog holds some 12,000
        # spans, and the cache pickles it in half the time this way (and reads it faster).
        return (Span, (self.path, self.line, self.col, self.end_col))


NO_SPAN = Span("<none>", 0, 0)


class Severity(enum.Enum):
    """How bad a diagnostic is."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@shared_repr
@attrs.frozen(kw_only=True, repr=False)
class Diagnostic:
    """One problem found in an input file, with what to do about it.

    The optional fields carry what an analysis knows beyond the message, for JSON and for
    the commands' summaries: `kind` (one word: 'dead', 'uniqueness'...), `subject` (the rule,
    module variant, position or vehicle it is about), `rules` (the rules behind it), `parts`
    and `witness` (a valid configuration that shows it, slot -> value id).
    """

    code: str
    severity: Severity = Severity.ERROR
    span: Span
    message: str
    hint: str | None = None
    rule: str | None = None
    related: tuple[Span, ...] = ()
    kind: str = ""
    subject: str = ""
    rules: tuple[str, ...] = ()
    parts: tuple[str, ...] = ()
    witness: tuple[tuple[str, str], ...] | None = None

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        """Order diagnostics by file, position, then code."""
        return (self.span.path, self.span.line, self.span.col, self.code)


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sort diagnostics by position and drop exact duplicates."""
    seen: set[Diagnostic] = set()
    unique = []
    for diag in diagnostics:
        if diag not in seen:
            seen.add(diag)
            unique.append(diag)
    return sorted(unique, key=lambda d: d.sort_key)


class CmfConfigError(Exception):
    """Base class of every error this package raises on purpose (a script catches this one)."""


class InputError(CmfConfigError):
    """Unusable input: one or more diagnostics, all of them collected before raising."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = tuple(sort_diagnostics(diagnostics))
        super().__init__()

    def __str__(self) -> str:
        return "; ".join(f"{d.span}: {d.message}" for d in self.diagnostics)


class UsageError(CmfConfigError):
    """Bad command-line usage (unknown vehicle id, bad flag combination...)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__()

    def __str__(self) -> str:
        return self.message


class OptionError(UsageError):
    """An option value that a library function does not know (a measure, a %C rule)."""

    def __init__(self, option: str, value: str, choices: Sequence[str]) -> None:
        self.option = option
        self.value = value
        self.choices = tuple(choices)
        super().__init__(
            f"unknown {option} {value!r}; choose one of: {', '.join(self.choices)}",
            "see `cmf-config share --help`",
        )


class OutputError(UsageError):
    """An output that cannot be produced as asked (an unknown file extension, nothing to draw).

    Raised before anything is written; errors of the file system itself are OSError.
    """

    def __init__(self, path: str, reason: str, hint: str, what: str = "the output") -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"cannot draw {what} '{path}': {reason}", hint)
