"""The `cmf-config` program: quiet on Ctrl-C from its first instant, then `cli.main`.

Python turns Ctrl-C into a KeyboardInterrupt with a traceback wherever it lands, start-up
imports included. Until `cli.main` is running, Ctrl-C here ends the process at once with exit
130 and one line; from then on `cli.main` turns it into exit 130 itself.
"""

from __future__ import annotations

import atexit
import gc
import os
import signal
import sys
import types
from typing import NoReturn

SHORT = ("validate", "build", "options", "explain")
"""The commands that read one catalog, answer and end: what a user, an editor or pre-commit
runs again and again, where the start-up (and the exit) is most of the time."""


def _interrupted(signum: int, frame: types.FrameType | None) -> None:
    os.write(2, b"cmf-config: interrupted\n")
    os._exit(130)


signal.signal(signal.SIGINT, _interrupted)


def run() -> NoReturn:
    """The `cmf-config` program (and `python -m cmf_config`): `main`, then the exit.

    After a short command the interpreter's own exit would take apart, object by object,
    every module and the whole loaded catalog (some 8 ms, 3 % of a first run) only to hand
    the memory back to the system, which takes it back anyway. So once such a command is done
    -- its answer written, no other thread running -- the output is flushed, the atexit
    handlers run as usual, and the process ends there (os._exit). Whatever cannot be flushed
    (a closed pipe) takes Python's own exit, which reports it as it always has.
    """
    code = main()
    if sys.argv[1:2] and sys.argv[1] in SHORT and _alone():
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:  # Python's exit reports it, as it always has
            raise SystemExit(code) from None
        run_exitfuncs = getattr(atexit, "_run_exitfuncs", None)
        if run_exitfuncs is not None:
            run_exitfuncs()
            os._exit(code)
    raise SystemExit(code)


VALUED = ("--catalog", "--rules", "--format", "--year", "--color", "-o", "--output", "--diagram")
"""The options of the short commands that take the next word as their value."""


def _files(words: list[str]) -> list[str]:
    """The words of a short command's line that name files: neither an option nor the value
    of one (an option unknown here that takes a value makes its value count as a file, which
    only keeps the collector on)."""
    files: list[str] = []
    valued = False
    for word in words:
        if valued:
            valued = False
        elif word in VALUED:
            valued = True
        elif not word.startswith("-") or word == "-":
            files.append(word)
    return files


def _alone() -> bool:
    """Whether the main thread is the only one (threading is not imported to ask)."""
    threading = sys.modules.get("threading")
    return threading is None or threading.active_count() == 1


def main() -> int:
    """Run `cmf-config` with the process's arguments; return its exit code."""
    if sys.argv[1:2] and sys.argv[1] in SHORT:
        # One catalog, one file, one answer, then exit: the cycle collector would rescan the
        # modules and the catalog's objects again and again and find no cycles to free (some
        # 45 passes, 3.5 ms, of a 60 ms answer from the fast path). With several files (a
        # pre-commit run over a thousand vehicles) it stays on, so that what each file leaves
        # behind is freed.
        if len(_files(sys.argv[2:])) <= 1:
            gc.disable()
        from cmf_config import quick  # the fast path (PyYAML, no model)

        answered = quick.run(sys.argv[1:])
        if answered is not None:
            return answered
    from cmf_config.cli import main as cli_main

    code = cli_main(sys.argv[1:], own_signals=True)
    signal.signal(signal.SIGINT, _interrupted)  # a late Ctrl-C while exiting stays quiet
    # The interpreter's exit runs the cycle collector over every object still alive (a loaded
    # catalog is some 100,000): tens of milliseconds to find nothing. Frozen objects are left
    # to the operating system; atexit handlers and flushing run as before.
    gc.freeze()
    return code
