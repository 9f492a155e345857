"""The `cmf-config` program: quiet on Ctrl-C from its first instant, then `cli.main`.

Python turns Ctrl-C into a KeyboardInterrupt with a traceback wherever it lands, start-up
imports included. Until `cli.main` is running, Ctrl-C here ends the process at once with exit
130 and one line; from then on `cli.main` turns it into exit 130 itself.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import types


def _interrupted(signum: int, frame: types.FrameType | None) -> None:
    os.write(2, b"cmf-config: interrupted\n")
    os._exit(130)


signal.signal(signal.SIGINT, _interrupted)


def main() -> int:
    """Run `cmf-config` with the process's arguments."""
    if sys.argv[1:2] in (["validate"], ["build"], ["options"], ["explain"]):
        from cmf_config import quick  # the fast path (PyYAML, no model)

        answered = quick.run(sys.argv[1:])
        if answered is not None:
            return answered
        # One catalog, one file, one answer, then exit: the cycle collector would rescan the
        # modules and the catalog's objects again and again and find no cycles to free. With
        # several files (a pre-commit run over a thousand vehicles) it stays on, so that what
        # each file leaves behind is freed (words that are not options count as files here:
        # `--format json` keeps it on too, which only costs speed).
        if len([word for word in sys.argv[2:] if not word.startswith("-")]) <= 1:
            gc.disable()
    from cmf_config.cli import main as run

    code = run(sys.argv[1:], own_signals=True)
    signal.signal(signal.SIGINT, _interrupted)  # a late Ctrl-C while exiting stays quiet
    # The interpreter's exit runs the cycle collector over every object still alive (a loaded
    # catalog is some 100,000): tens of milliseconds to find nothing. Frozen objects are left
    # to the operating system; atexit handlers and flushing run as before.
    gc.freeze()
    return code
