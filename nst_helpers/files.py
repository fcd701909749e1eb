"""Writing output files safely: atomically, under a fresh name, never over an input.

* :func:`atomic_write`: write to a temporary file in the target's folder, then rename it
  over the target, so a failure (disk full, Ctrl-C, an exception) leaves the old file
  intact and no partial file behind;
* :func:`unique_path`: ``name.png``, else ``name_1.png``, ``name_2.png`` ... (the first
  one that does not exist), for outputs that must never overwrite anything;
* :func:`same_file` / :func:`check_output_path`: whether an output would replace one of
  the inputs, however it is spelled (relative, ``..``, symlink, hard link).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from .errors import ImageError, NSTError

__all__ = ["atomic_write", "check_output_path", "new_file_mode", "same_file", "unique_path"]


def new_file_mode() -> int:
    """Permission bits a plain ``open(path, "w")`` would give.

    Returns:
        ``0o666`` minus the process's umask.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # no /proc (macOS, Windows): read it the classic way
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, *, prefix: str = ".tmp-", suffix: str | None = None,
                 mkdir: bool = True, fsync: bool = True) -> Iterator[BinaryIO]:
    """Context manager yielding a binary stream whose bytes replace ``path`` on success.

    Example: ``with atomic_write("out.png") as stream: image.save(stream, format="PNG")``.

    The stream is a temporary file (unique name, same folder, so the final rename is
    atomic); when the block ends normally it is flushed, synced, given the permissions of
    the file it replaces (or the usual ones for a new file: mkstemp's are 0600) and renamed
    over ``path``.  When the block raises, the temporary file is deleted, ``path`` is left
    as it was and the exception propagates.

    Args:
        path: the file to write.
        prefix: the start of the temporary file's name.
        suffix: the end of the temporary file's name (default: ``path``'s suffix).
        mkdir: create missing folders.
        fsync: sync the bytes to disk before the rename.
    """
    path = Path(path)
    if mkdir:
        path.parent.mkdir(parents=True, exist_ok=True)
    mode = stat.S_IMODE(path.stat().st_mode) if path.is_file() else new_file_mode()
    handle, tmp = tempfile.mkstemp(prefix=prefix, suffix=path.suffix if suffix is None else suffix,
                                   dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            yield stream
            stream.flush()
            if fsync:
                os.fsync(stream.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            if os.path.lexists(tmp):
                os.unlink(tmp)


def unique_path(path: str | os.PathLike, *, limit: int = 10_000) -> Path:
    """``path`` if nothing is there yet, else the first free ``stem_1.ext``, ``stem_2.ext``, ...

    A dangling symlink counts as taken.

    Args:
        path: the preferred name.
        limit: how many names to try.

    Returns:
        A path where nothing exists.

    Raises:
        NSTError: after ``limit`` tries.
    """
    path = Path(path)
    if not os.path.lexists(path):
        return path
    for index in range(1, limit):
        candidate = path.with_name(f"{path.stem}_{index}{path.suffix}")
        if not os.path.lexists(candidate):
            return candidate
    raise NSTError(f"too many files named like {path}; pass -o")


def same_file(a: str | os.PathLike | object, b: str | os.PathLike | object) -> bool:
    """Whether two paths name the same file, however they are spelled.

    Args:
        a: a path (anything else gives ``False``).
        b: another path.

    Returns:
        True for the same resolved path (relative, ``..``, symlinks) or the same inode (hard
        links, case-insensitive disks).
    """
    try:
        a, b = Path(a), Path(b)
    except TypeError:
        return False
    try:
        if a.resolve() == b.resolve():
            return True
    except (OSError, RuntimeError):  # symlink loops
        pass
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def check_output_path(
    path: str | os.PathLike, *, overwrite: bool = False, protect: Iterable = (),
    other: str = "another output name",
    overwrite_hint: str = "choose another name or pass overwrite=True (--overwrite)",
) -> Path:
    """Refuse an output path that is a folder, an input of the run, or (unless allowed) an existing file.

    Args:
        path: the output path.
        overwrite: allow replacing an existing file (never one of ``protect``).
        protect: the inputs of a run (``None`` entries are skipped), compared with :func:`same_file`.
        other: how the fix names another output (the CLI says ``another -o``).
        overwrite_hint: the fix for an existing file.

    Returns:
        ``path`` as a Path.

    Raises:
        ImageError: naming the problem and the fix.
    """
    path = Path(path)
    if path.is_dir():
        raise ImageError(f"output path {path} is a folder; give a file name such as {path / 'result.png'}")
    for item in protect:
        if item is not None and same_file(path, item):
            raise ImageError(f"refusing to overwrite the input image {path}; choose {other}")
    if path.exists() and not overwrite:
        raise ImageError(f"{path} already exists; {overwrite_hint}")
    return path
