"""The compiled-catalog cache: a loaded catalog, its compiled rules and BOM positions, and the
fast path's plain-data entry (quick.py), kept on disk between runs.

Reading and cross-checking the 77 files of a catalog takes most of a short command's time,
and the files rarely change between two runs. Parsed YAML files are kept in memory only, for
the rest of the process (`memoized`). The cache lives in the user's cache folder
(platformdirs: ~/.cache/cmf-config on Linux, or $CMF_CONFIG_CACHE_DIR) and is keyed by the
SHA-256 of every file read (names and bytes), the package and Python versions, the size and
time of every module of the package (code_fingerprint) and the working directory (spans hold
paths relative to it): any change to any file, or to cmf-config, is another key. An entry
that cannot be read back -- truncated, corrupt, from another version -- is ignored and
rebuilt; entries are written atomically, and a cache that cannot be written is skipped.
`--no-cache` (or CMF_CONFIG_NO_CACHE=1) bypasses it.
"""

from __future__ import annotations

import contextlib
import copyreg
import functools
import gc
import hashlib
import os
import pickle
import sys
import time
import types
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from cmf_config import __version__

T = TypeVar("T")
FORMAT = 1  # bump when the pickled classes change shape without a version change
_STATE = {"disabled": False}
STATS = {"catalog": "not used"}
MEMO_SIZE = 512
_MEMO: dict[tuple[str, str], Any] = {}
"""Values by kind and content key, for this process: a file parsed once is not unpickled again."""  # what the last lookup of each kind did (for --verbose)


def _proxy(
    proxy: types.MappingProxyType[Any, Any],
) -> tuple[Callable[..., types.MappingProxyType[Any, Any]], tuple[Any, ...]]:
    return (read_only, (dict(proxy),))


def read_only(mapping: dict[Any, Any]) -> types.MappingProxyType[Any, Any]:
    """A read-only view of `mapping` (how a pickled MappingProxyType is rebuilt: the type
    itself cannot be pickled by name)."""
    return types.MappingProxyType(mapping)


copyreg.pickle(types.MappingProxyType, _proxy)  # attrs models keep spans in read-only maps


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside (nested uses keep it off until the outermost ends).

    Reading a catalog, or pickling or unpickling it, allocates some 100,000 objects that form
    no reference cycles; the collector would rescan them all every few thousand allocations
    (about a tenth of a short command's time) and find nothing to free.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def disable() -> None:
    """Bypass the cache for the rest of this process (`--no-cache`)."""
    _STATE["disabled"] = True


def enabled() -> bool:
    """Whether the cache is used."""
    return not _STATE["disabled"] and os.environ.get("CMF_CONFIG_NO_CACHE", "") in ("", "0")


def folder() -> Path:
    """Where entries are kept."""
    override = os.environ.get("CMF_CONFIG_CACHE_DIR")
    if override:
        return Path(override)
    system: str = sys.platform
    if system == "linux":  # platformdirs' XDG rule, without importing it (start-up)
        base = os.environ.get("XDG_CACHE_HOME", "").strip() or os.path.expanduser("~/.cache")
        return Path(base) / "cmf-config"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("cmf-config", appauthor=False))


@functools.cache
def code_fingerprint() -> str:
    """The name, size and modification time of every module of this package: a changed class
    (a new field of a model, say) without a version change must not read old pickles."""
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted(package.rglob("*.py")):
        stat = path.stat()
        digest.update(f"{path.relative_to(package)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def key(kind: str, files: Iterable[Path], extra: Iterable[str] = ()) -> str:
    """The content hash of `files` (sorted by name) with the versions and `extra` strings."""
    digest = hashlib.sha256()
    for part in (kind, __version__, str(FORMAT), sys.version, code_fingerprint(), *extra):
        digest.update(part.encode() + b"\0")
    for name, path in sorted((str(path), path) for path in files):  # names: quicker than paths
        digest.update(name.encode() + b"\0")
        digest.update(file_digest(path))
    return digest.hexdigest()


SETTLED_NS = 2_000_000_000
"""How long ago a file must have last changed for its digest to be kept in the process."""
_DIGESTS: dict[tuple[str, int, int, int, int], bytes] = {}


def file_digest(path: Path) -> bytes:
    """The SHA-256 of a file's bytes.

    A run keys several entries on the same files (each YAML file, the catalog, the compiled
    rules, the engine), so a digest is kept for the rest of the process under the file's
    identity -- path, size, inode, modification and change times to the nanosecond -- but
    only for a file that last changed more than SETTLED_NS before it was read (git's rule for
    racy timestamps): any later write gives it another change time, so a kept digest is never
    that of older bytes. A file written just now is read and hashed every time.
    """
    before = os.stat(path)
    identity = (str(path), before.st_size, before.st_ino, before.st_mtime_ns, before.st_ctime_ns)
    kept = _DIGESTS.get(identity)
    if kept is not None:
        return kept
    data = path.read_bytes()
    digest = hashlib.sha256(data).digest()
    settled = time.time_ns() - max(before.st_mtime_ns, before.st_ctime_ns) > SETTLED_NS
    if settled and len(data) == before.st_size:
        if len(_DIGESTS) >= 4 * MEMO_SIZE:
            _DIGESTS.clear()
        _DIGESTS[identity] = digest
    return digest


def cached(
    kind: str,
    files: Iterable[Path],
    build: Callable[[str], T],
    extra: Iterable[str] = (),
    *,
    memo: bool = False,
) -> T:
    """`build(key)`, or its result from an earlier run over the same files.

    `key` is the content key of the files (see `key`); `build` gets it so that an in-process
    memo of its own can be keyed by content too, never by path alone. With `memo` the value
    is also kept for the rest of the process (one object for every caller).
    """
    try:
        digest = key(kind, files, extra)
    except OSError:
        return build("")  # a file vanished or cannot be read: the build reports it
    return stored(kind, digest, build, memo=memo)


def stored(kind: str, digest: str, build: Callable[[str], T], *, memo: bool = False) -> T:
    """`cached` for a caller that has the key already (`key(kind, files, extra)`)."""
    if memo and (kind, digest) in _MEMO:
        kept: T = _MEMO[kind, digest]
        return kept
    keep = _remember if memo else _same
    if not enabled():
        STATS[kind] = "off (--no-cache)"
        return keep(kind, digest, build(digest))
    entry = folder() / f"{kind}-{digest}.pickle"
    try:
        with entry.open("rb") as handle, gc_paused():
            found: T = pickle.load(handle)
        STATS[kind] = f"hit ({entry.parent})"
        return keep(kind, digest, found)
    except Exception:  # missing, truncated, corrupt or foreign: rebuilt, whatever broke
        pass
    value = build(digest)
    STATS[kind] = f"miss, stored in {entry.parent}"
    try:
        with gc_paused():
            data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # a value that cannot be pickled is a missed speed-up, not an error
        return keep(kind, digest, value)
    store(entry, data)
    return keep(kind, digest, value)


def _same(kind: str, digest: str, value: T) -> T:
    return value


def _remember(kind: str, digest: str, value: T) -> T:
    """Keep a value for the rest of the process (the oldest go past MEMO_SIZE)."""
    if len(_MEMO) >= MEMO_SIZE:
        del _MEMO[next(iter(_MEMO))]
    _MEMO[kind, digest] = value
    return value


def memoized(
    kind: str, files: Iterable[Path], build: Callable[[str], T], extra: Iterable[str] = ()
) -> T:
    """`build(key)`, kept for the rest of the process by the content key of `files` (not on
    disk: what is cheap to rebuild, or already inside a bigger entry, is not worth a file)."""
    try:
        digest = key(kind, files, extra)
    except OSError:
        return build("")
    if (kind, digest) in _MEMO:
        memo: T = _MEMO[kind, digest]
        return memo
    return _remember(kind, digest, build(digest))


def store(entry: Path, data: bytes) -> None:
    """Write a cache entry atomically (a temporary file renamed over it, so a reader sees the
    old entry or the new one, never half of one); a read-only or full cache folder only costs
    speed. Not synced to disk: an entry lost in a crash is rebuilt like a corrupt one."""
    temporary = entry.with_name(f".{entry.name}.{os.getpid()}.tmp")
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(data)
        os.replace(temporary, entry)
    except Exception:  # a read-only or full cache folder only costs speed
        with contextlib.suppress(OSError):
            temporary.unlink()
