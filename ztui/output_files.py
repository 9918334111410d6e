"""Every file ztui writes goes through here: checked before the run, written atomically, never clobbered.

check_output() runs before any work starts, so that a missing directory,
an existing file or a bad path is reported at once, not after an hour's
run.  write_atomically() writes a temporary file in the same directory and
renames it into place, so that a full disk or an interrupt leaves the old
state or nothing, never half a file.

The rules: an existing file is replaced only with ``force``; a symbolic
link, a directory, a device (``/dev/full``) or another special file is
never written; an output may not be one of the command's inputs, even
with ``force``; and no path comes from file content (safe_file_name()
turns a scenario's name into a plain file name).
"""

from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path


class OutputError(Exception):
    """An output that cannot be written; the message is one line, naming the path."""


class OutputExists(OutputError):
    """The output exists and may not be replaced: the caller says how to (--force, or asking)."""


SAFE_NAME_MAX = 80
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_file_name(name: str, fallback: str = "scenario") -> str:
    """``name`` as a plain file name: runs of anything but [A-Za-z0-9._-] become "-", never hidden or empty."""
    cleaned = _UNSAFE.sub("-", name).strip(".-")[:SAFE_NAME_MAX]
    return cleaned or fallback


def check_output(path: Path, *, force: bool = False, inputs: Iterable[Path] = ()) -> None:
    """Raise OutputError unless ``path`` can be written (replaced only with ``force``)."""
    for source in inputs:
        if _same_file(path, source):
            raise OutputError(f"{path}: is {source}, an input of this command; choose another output")
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise OutputError(f"{path}: {exc.strerror}") from None
    if info is not None:
        _check_replaceable(path, info, force)
    check_directory(path.parent)


def check_directory(directory: Path) -> None:
    """Raise OutputError unless new files can be made in ``directory``."""
    if not directory.is_dir():
        missing = " (there is no such directory)" if not directory.exists() else ""
        raise OutputError(f"{directory}: is not a directory{missing}")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise OutputError(f"{directory}: cannot write in this directory (permission denied or read-only)")


def write_atomically(path: Path, data: bytes, *, force: bool = False) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename; OutputError on failure."""
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:SAFE_NAME_MAX]}.", suffix=".tmp")
    except OSError as exc:
        raise OutputError(f"{path}: cannot write: {exc.strerror}") from None
    try:
        try:
            os.fchmod(fd, 0o666 & ~_umask())  # what open() would give, not mkstemp's 0600
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            _publish(temporary, path, force)
        except OSError as exc:
            raise OutputError(f"{path}: cannot write: {exc.strerror or exc}") from None
    finally:
        if os.path.lexists(temporary):
            os.unlink(temporary)


def _publish(temporary: str, path: Path, force: bool) -> None:
    if force:
        info = _lstat_or_none(path)
        if info is not None:
            _check_replaceable(path, info, force)
        os.replace(temporary, path)
        return
    try:
        os.link(temporary, path)  # fails if path exists: nothing appears over a file made meanwhile
    except FileExistsError:
        raise OutputExists(f"{path}: exists (it appeared during the run)") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        if os.path.lexists(path):  # a file system without hard links: check, then rename
            raise OutputExists(f"{path}: exists (it appeared during the run)") from None
        os.replace(temporary, path)


def _check_replaceable(path: Path, info: os.stat_result, force: bool) -> None:
    if stat.S_ISLNK(info.st_mode):
        raise OutputError(f"{path}: is a symbolic link; ztui does not write through one, choose another name")
    if stat.S_ISDIR(info.st_mode):
        raise OutputError(f"{path}: is a directory; give a file name")
    if not stat.S_ISREG(info.st_mode):
        raise OutputError(f"{path}: is a device or special file, not a regular file; choose another name")
    if not force:
        raise OutputExists(f"{path}: exists")


def _same_file(path: Path, other: Path) -> bool:
    try:
        return os.path.samefile(path, other)
    except OSError:  # either does not exist
        return False


def _lstat_or_none(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


def _umask() -> int:
    mask = os.umask(0o22)
    os.umask(mask)
    return mask
