"""Where the bundled data lives, and how paths are shown to the user.

Standard library only: the fast path (`quick.py`) shows paths exactly as the full loader does.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path


def bundled_dir(name: str) -> Path:
    """The bundled catalog or rules directory shipped with the package."""
    base = Path(__file__).parent / "data" / name
    if base.is_dir():
        return base
    return Path(__file__).resolve().parents[2] / name


def display_path(path: Path) -> str:
    """A path as shown to the user: relative to the working directory when it is inside it
    (stable output whatever the checkout's location), else as given."""
    # The folder's symlinks are resolved, the file's own name is kept: a symlinked file (a
    # dangling one too) is named as given, and a symlink loop is not an internal error here
    # but a read error (E001) where the file is opened.
    try:
        folder = _shown_folder(os.path.abspath(path.parent), os.getcwd())
    except (ValueError, OSError):
        return str(path)
    return path.name if folder == "." else os.path.join(folder, path.name)


@functools.lru_cache(maxsize=64)
def _shown_folder(folder: str, cwd: str) -> str:
    """A folder relative to the working directory, both with their symlinks resolved (a
    catalog's 70 files share a handful of folders: resolved once, not once per file; `cwd`
    keys it, so a change of directory resolves again). ValueError when it is outside."""
    real = Path(os.path.realpath(folder))
    return str(real.relative_to(os.path.realpath(cwd)))


def yaml_files(root: Path) -> list[Path]:
    """The `*.yaml` files under `root`, at any depth, sorted: what
    `[p for p in root.rglob("*.yaml") if p.is_file()]` lists (a symlink to a file counts, a
    symlinked folder is not entered, an unreadable folder is skipped), from one scan of each
    folder -- a run lists its catalog several times (the cache keys), and pathlib's rglob
    with a stat of every file costs three times as much."""
    found: list[str] = []
    folders = [os.fspath(root)]
    while folders:
        try:
            scan = os.scandir(folders.pop())
        except OSError:
            continue
        with scan:
            for entry in scan:
                try:
                    if entry.name.endswith(".yaml") and entry.is_file():
                        found.append(entry.path)
                    elif entry.is_dir(follow_symlinks=False):
                        folders.append(entry.path)
                except OSError:
                    continue
    return sorted(map(Path, found))
