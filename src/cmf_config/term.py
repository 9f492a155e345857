"""The terminal: colour when a person reads the output, plain text everywhere else.

Colour is on only for text output written to a terminal (`--color auto`, the default), never
when NO_COLOR is set (https://no-color.org) or TERM is "dumb", and as asked with `--color
always|never`. Reports are written in plain English by report.py; this module only paints
the words a reader scans for (error, warning, valid, INVALID, hint) with ANSI SGR codes, so
that piped or redirected output is byte for byte what the tests see.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import TextIO

RESET = "\x1b[0m"
_STYLES = {
    "error": "\x1b[1;31m",
    "warning": "\x1b[1;33m",
    "ok": "\x1b[32m",
    "hint": "\x1b[36m",
    "dim": "\x1b[2m",
}
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<=: )(error [A-Z]\d{3})(?=:)"), "error"),
    (re.compile(r"(?<=: )(warning [A-Z]\d{3})(?=:)"), "warning"),
    (re.compile(r"(?<=: )(INVALID)$"), "error"),
    (re.compile(r"(?<=: )(valid)$"), "ok"),
    (re.compile(r"^(\s*hint:)"), "hint"),
    (re.compile(r"^(catalog: .*)$"), "dim"),
)


def wants_color(stream: TextIO, choice: str = "auto") -> bool:
    """Whether to paint text written to `stream` (`choice`: auto, always, never)."""
    if choice == "never":
        return False
    if choice == "always":
        return True
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _painter(style: str) -> Callable[[re.Match[str]], str]:
    return lambda match: f"{_STYLES[style]}{match.group(1)}{RESET}"


def paint(text: str) -> str:
    """The text with its diagnostic words in colour (line by line; plain text otherwise)."""
    lines = []
    for line in text.split("\n"):
        painted = line
        for pattern, style in _RULES:
            painted = pattern.sub(_painter(style), painted)
        lines.append(painted)
    return "\n".join(lines)


# How this run writes to the terminal (set once by commands.common.prepare).
STATE = {"color": False, "color_err": False, "quiet": False, "verbose": False}


def configure(
    choice: str, text: bool, quiet: bool, verbose: bool, out: TextIO, err: TextIO
) -> None:
    """Decide colour for stdout (text reports only) and stderr, and the verbosity."""
    STATE["color"] = text and wants_color(out, choice)
    STATE["color_err"] = wants_color(err, choice)
    STATE["quiet"] = quiet
    STATE["verbose"] = verbose and not quiet


class Progress:
    """A working indicator on stderr for a command that runs for more than a second.

    Only on a terminal (and not with --quiet): after `delay` seconds a line
    `cmf-config: bom-check ... 3 s` is drawn and redrawn twice a second, then erased when the
    command ends, so that the report itself is never mixed with it. The work gives no
    fraction done, so it shows the time elapsed rather than a percentage.
    """

    def __init__(self, label: str, stream: TextIO, delay: float = 1.0) -> None:
        import threading

        self.label = label
        self.stream = stream
        self.delay = delay
        self._stop = threading.Event()
        self._drawn = False
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import time

        start = time.monotonic()
        if self._stop.wait(self.delay):
            return
        frames = "|/-\\"
        tick = 0
        while not self._stop.is_set():
            elapsed = time.monotonic() - start
            self.stream.write(
                f"\r\x1b[2Kcmf-config: {self.label} {frames[tick % 4]} {elapsed:.0f} s"
            )
            self.stream.flush()
            self._drawn = True
            tick += 1
            self._stop.wait(0.5)

    def __enter__(self) -> Progress:
        _ACTIVE.append(self)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if self in _ACTIVE:
            _ACTIVE.remove(self)

    def stop(self) -> None:
        """Stop and erase the indicator (before the report is written)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        if self._drawn:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self._drawn = False


_ACTIVE: list[Progress] = []


def end_progress() -> None:
    """Erase any working indicator: output is about to be written."""
    for indicator in _ACTIVE:
        indicator.stop()


def progress(label: str, stream: TextIO) -> Progress | None:
    """A Progress for `label` when `stream` is a terminal and the run is not quiet."""
    isatty = getattr(stream, "isatty", None)
    if STATE["quiet"] or not (isatty and isatty()) or os.environ.get("TERM") == "dumb":
        return None
    return Progress(label, stream)
