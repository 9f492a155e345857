"""The terminal: colour only where a person reads, --quiet and --verbose."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from clirun import run_cli

ROOT = Path(__file__).parents[1]
CMF = str(Path(sys.executable).parent / "cmf-config")
BROKEN = ["validate", "examples/invalid/uk-sedan-with-lhd-cockpit.yaml"]
ESC = "\x1b["
INDICATOR = re.compile(r"\r?\x1b\[2K(?:cmf-config: [^\r\n\x1b]*)?")
"""The working indicator (drawn when a run takes over a second, e.g. on a loaded machine) and
its erasure: not part of what the colour test compares."""


def _on_a_terminal(args: list[str], **env: str) -> str:
    """What `cmf-config ARGS` writes to a pseudo-terminal (stdout and stderr)."""
    leader, follower = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
    environment.update({"TERM": "xterm", **env})
    process = subprocess.Popen(
        [CMF, *args], cwd=ROOT, env=environment, stdout=follower, stderr=follower
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    process.wait(timeout=120)
    os.close(leader)
    return b"".join(chunks).decode()


def test_colour_on_a_terminal_and_never_with_no_color() -> None:
    """On a TTY the error code and INVALID are coloured; NO_COLOR and --color never turn it
    off, and the words are the same either way."""
    coloured = INDICATOR.sub("", _on_a_terminal(BROKEN))
    assert f"{ESC}1;31merror E301{ESC}0m" in coloured
    assert f"{ESC}1;31mINVALID{ESC}0m" in coloured
    plain = INDICATOR.sub("", _on_a_terminal(BROKEN, NO_COLOR="1"))
    assert ESC not in plain
    assert ESC not in INDICATOR.sub("", _on_a_terminal([*BROKEN, "--color", "never"]))
    assert plain.replace("\r", "") == (
        coloured.replace("\r", "")
        .replace(f"{ESC}1;31m", "")
        .replace(f"{ESC}2m", "")
        .replace(f"{ESC}36m", "")
        .replace(f"{ESC}0m", "")
    )


def test_no_colour_when_piped_unless_asked(capsys: pytest.CaptureFixture[str]) -> None:
    """Piped output (the tests' own) is plain; --color always paints it; JSON never."""
    _, out, _ = run_cli(capsys, BROKEN)
    assert ESC not in out
    _, out, _ = run_cli(capsys, [*BROKEN, "--color", "always"])
    assert f"{ESC}1;31mINVALID{ESC}0m" in out
    _, out, _ = run_cli(capsys, [*BROKEN, "--color", "always", "--format", "json"])
    assert ESC not in out
    run_cli(capsys, [*BROKEN, "--color", "never"])  # leave the process's state plain


def test_quiet_and_verbose(capsys: pytest.CaptureFixture[str]) -> None:
    """--quiet drops the catalog line (not the findings); --verbose adds timing and the cache."""
    _, loud, _ = run_cli(capsys, ["validate", "examples/sedan.yaml"])
    _, quiet, _ = run_cli(capsys, ["validate", "examples/sedan.yaml", "-q"])
    assert loud.splitlines()[1:] == quiet.splitlines() == ["examples/sedan.yaml: valid"]
    _, _, err = run_cli(capsys, ["validate", "examples/sedan.yaml", "-v"])
    assert err.startswith("cmf-config: validate took ")
    assert "catalog cache: " in err
    run_cli(capsys, ["validate", "examples/sedan.yaml"])  # back to the default state


def test_progress_on_a_terminal_only(tmp_path: Path) -> None:
    """Work over a second shows `cmf-config: share ... N s` on a terminal, erased before the
    report; piped, stderr holds no indicator at all."""
    slow = ["share", "--all", "--no-cache"]
    screen = _on_a_terminal(slow, CMF_CONFIG_CACHE_DIR=str(tmp_path / "c"))
    assert f"\r{ESC}2Kcmf-config: share " in screen
    assert f" s\r{ESC}2K{ESC}2mcatalog: " in screen  # erased before the report starts
    done = subprocess.run(
        [CMF, *slow], cwd=ROOT, capture_output=True, text=True, check=True, timeout=300
    )
    assert "cmf-config: share" not in done.stderr
    assert ESC not in done.stderr
