"""File I/O at the edge: atomic output and bounded input.

Output (`write_atomic`): a failed run never leaves a half-written file behind, and what the
user named is what gets written. A regular file (or a new name) is replaced by renaming a
finished temporary file over it; a symlink is followed and its *target* is written the same
way (the link stays a link); a device, FIFO or socket, and `-` (standard output), are written
directly, since there is nothing to rename over; a folder or an empty name is an error.

Input (`read_bounded`): the size limit is checked against the bytes actually read, not
`st_size` (0 for /dev/zero, a FIFO or /proc files). A FIFO or character device is opened
without blocking, so a FIFO nobody writes to reads as empty instead of hanging.

Every operating-system failure becomes a `UsageError` naming the path and what went wrong:
the user's environment (a read-only folder, a full disk), not a bug (exit 2, not 3).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
from pathlib import Path

from cmf_config.errors import UsageError

STDOUT = "-"
"""The output name that means standard output."""
_CHUNK = 1 << 20


class TooLarge(Exception):
    """The input holds more than the limit (`read` bytes were read before stopping)."""

    def __init__(self, read: int, limit: int) -> None:
        self.read = read
        self.limit = limit
        super().__init__(f"more than {limit} bytes")


def os_error_text(exc: OSError) -> str:
    """What went wrong, in words: the C library's message, never a Python repr."""
    if exc.errno == errno.ELOOP:
        return "too many levels of symbolic links (a symlink loop)"
    return (exc.strerror or type(exc).__name__).rstrip(".")


def os_error_hint(exc: OSError) -> str:
    """What to do about an operating-system error."""
    return {
        errno.ENOSPC: "free some space on that file system, or write elsewhere",
        errno.EDQUOT: "free some space (you are over quota), or write elsewhere",
        errno.EFBIG: "the file system cannot hold a file this large; write elsewhere",
        errno.EROFS: "the file system is read-only; write elsewhere",
        errno.EACCES: "check the permissions of the file and its folder",
        errno.EPERM: "check the permissions of the file and its folder",
        errno.ENOENT: "check the path; create the folder first",
        errno.ENOTDIR: "check the path: a part of it is a file, not a folder",
        errno.EISDIR: "give the path of a file, not a folder",
        errno.ELOOP: "fix the symlinks on this path",
    }.get(exc.errno or 0, "check the path, the permissions and the free space")


def output_error(path: object, exc: OSError) -> UsageError:
    """The UsageError for an OSError while writing `path`."""
    return UsageError(f"cannot write '{path}': {os_error_text(exc)}", os_error_hint(exc))


def write_atomic(path: Path | str, data: bytes | str) -> None:
    """Write `data` to `path` as a whole or not at all (see the module docstring).

    Raises UsageError (never OSError) when the path cannot be written.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    shown = str(path)
    if shown == STDOUT:
        _write_stdout(payload)
        return
    try:
        target, info = _output_target(path)
        if info is not None and not stat.S_ISREG(info.st_mode):
            _write_special(target, payload)
            return
        _replace(target, target.parent, payload, _new_mode(info))
    except OSError as exc:
        raise output_error(shown, exc) from None


class AtomicFile:
    """An output written piece by piece through a path (Parquet and CSV writers want one),
    then given its name on `commit`: the same policy as `write_atomic`.

    `temp` is the path to write. For a regular file or a new name it is a temporary file
    beside the target (a symlink's target); for a device or FIFO it is the file itself.
    """

    def __init__(self, path: Path | str) -> None:
        shown = str(path)
        self.shown = shown
        try:
            target, info = _output_target(path)
            self.target = target
            self.direct = info is not None and not stat.S_ISREG(info.st_mode)
            self.mode = _new_mode(info)
            if self.direct:
                self.temp = target
            else:
                import tempfile  # here: reading commands write no file

                fd, name = tempfile.mkstemp(
                    prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
                )
                os.close(fd)
                self.temp = Path(name)
        except OSError as exc:
            raise output_error(shown, exc) from None

    def commit(self) -> None:
        """Give the finished file its name (and the mode a plain open() would)."""
        if self.direct:
            return
        try:
            os.chmod(self.temp, self.mode)
            os.replace(self.temp, self.target)
        except OSError as exc:
            raise output_error(self.shown, exc) from None

    def discard(self) -> None:
        """Remove the temporary file of a run that failed."""
        if not self.direct:
            with contextlib.suppress(OSError):
                os.unlink(self.temp)


def _output_target(path: Path | str) -> tuple[Path, os.stat_result | None]:
    """The file an output name writes (symlinks followed) and its status (None when new).

    Raises UsageError for an empty name, a folder, or a missing folder; OSError otherwise.
    """
    shown = str(path)
    if shown == "":
        raise UsageError("the output file name is empty", "give a file name, or - for stdout")
    target = _follow_links(Path(path))
    try:
        info: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        info = None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise UsageError(
            f"cannot write '{shown}': it is a folder",
            "give the path of a file inside it, e.g. " + str(Path(shown) / "out.txt"),
        )
    if info is None or stat.S_ISREG(info.st_mode):
        directory = target.parent if str(target.parent) else Path(".")
        if not directory.is_dir():
            raise UsageError(
                f"cannot write '{shown}': the folder '{directory}' does not exist",
                "create the folder first",
            )
    return target, info


def _new_mode(info: os.stat_result | None) -> int:
    """The mode of the file being replaced, or the one a plain open() would give."""
    return info.st_mode & 0o777 if info is not None else 0o666 & ~_umask()


def _follow_links(path: Path) -> Path:
    """The file a (chain of) symlink(s) points to; the path itself when it is not a link.

    A loop raises OSError(ELOOP). A dangling link gives its target (created on write, as a
    shell redirection would).
    """
    seen = 0
    while path.is_symlink():
        seen += 1
        if seen > 40:
            raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), str(path))
        link = Path(os.readlink(path))
        path = link if link.is_absolute() else path.parent / link
    return path


def _replace(target: Path, directory: Path, payload: bytes, mode: int) -> None:
    import tempfile  # here: reading commands write no file

    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        # mkstemp creates the file 0600; give it the mode a plain open() would (or keep the
        # mode of the file it replaces).
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _write_special(target: Path, payload: bytes) -> None:
    """A device, FIFO or socket: write straight into it (renaming over it would replace it)."""
    fd = os.open(target, os.O_WRONLY | getattr(os, "O_NOCTTY", 0))
    with os.fdopen(fd, "wb") as handle:
        handle.write(payload)
        handle.flush()


def _write_stdout(payload: bytes) -> None:
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a text-only stream (tests capture stdout this way)
        sys.stdout.write(payload.decode("utf-8", errors="replace"))
    else:
        buffer.write(payload)
        buffer.flush()


def _umask() -> int:
    """The process umask (reading it means setting it; put it straight back)."""
    current = os.umask(0)
    os.umask(current)
    return current


def read_bounded(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of a file, reading at most `limit` + 1 of them.

    Raises TooLarge past the limit, IsADirectoryError for a folder, and OSError when the file
    cannot be read. A FIFO or character device is opened without blocking and then read
    normally: a FIFO with no writer reads as empty instead of hanging, /dev/zero stops at the
    limit instead of filling the memory.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOCTTY", 0)
    try:
        kind = os.stat(path).st_mode
    except OSError:
        kind = 0
    if stat.S_ISDIR(kind):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    special = stat.S_ISFIFO(kind) or stat.S_ISCHR(kind)
    fd = os.open(path, flags | (os.O_NONBLOCK if special else 0))
    try:
        if special:
            os.set_blocking(fd, True)
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise TooLarge(total, limit)
        return b"".join(chunks)
    finally:
        os.close(fd)


def is_regular(path: str | os.PathLike[str]) -> bool:
    """Whether `path` is a regular file (safe to open and read for context lines)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return False
