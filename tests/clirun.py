"""Run the CLI in-process from the repository root, as a user in a shell would (tests only)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from cmf_config.cli import main

ROOT = Path(__file__).parents[1]


def run_cli(capsys: pytest.CaptureFixture[str], args: Sequence[str]) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of `cmf-config ARGS` run from the repository root."""
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        code = main(list(args))
    finally:
        os.chdir(cwd)
    captured = capsys.readouterr()
    return code, captured.out, captured.err
