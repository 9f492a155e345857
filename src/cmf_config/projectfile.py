"""Finding the project file (`cmf-config.toml`, or `pyproject.toml` with `[tool.cmf-config]`).

Standard library only, so that the fast path (`quick.py`) finds the same project as
`project.py`, which reads and checks it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

CONFIG_NAME = "cmf-config.toml"
PYPROJECT = "pyproject.toml"
TABLE = "tool.cmf-config"


def find_project_file(start: Path) -> tuple[Path, str] | None:
    """The nearest project file from `start` upwards, with its table; None when there is none.

    In each folder `cmf-config.toml` wins over `pyproject.toml`, and a `pyproject.toml`
    counts only when it has a `[tool.cmf-config]` table. The walk ends at a repository root.
    """
    folder = start.resolve()
    while True:
        own = folder / CONFIG_NAME
        if own.is_file():
            return own, ""
        pyproject = folder / PYPROJECT
        if pyproject.is_file() and _has_table(pyproject):
            return pyproject, TABLE
        if (folder / ".git").exists() or (folder / ".hg").exists() or folder.parent == folder:
            return None
        folder = folder.parent


def _has_table(path: Path) -> bool:
    """Whether a pyproject.toml has [tool.cmf-config] (cheap text test, then a real parse)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if "cmf-config" not in text:
        return False
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return True  # let load_project report the syntax error with its position
    tool = data.get("tool")
    return isinstance(tool, dict) and "cmf-config" in tool
