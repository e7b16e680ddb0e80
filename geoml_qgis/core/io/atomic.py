"""Write-then-rename, and one transaction for all the outputs of a run.

Every file a GeoML run writes goes through :func:`atomic_path`: it is written to a
hidden temporary file beside its target (``.<stem>.<pid>-<random>.part<suffix>``,
same file system, so the final ``os.replace`` is atomic).

Outside a transaction the temporary file replaces its target as soon as its own
``with`` block ends. Inside an :class:`OutputTransaction` (every Processing
algorithm runs in one) the renames wait until the whole run has succeeded: a
failure or a cancellation anywhere, even after the last raster was written,
removes every temporary file and leaves every pre-existing file byte for byte as
it was. A killed run leaves only ``.part`` files; the next run writing to the same
folder removes those whose process is gone (:func:`clean_stale_parts`).
"""
from __future__ import annotations

import contextlib
import contextvars
import os
import re
import secrets
import shutil
from pathlib import Path
from typing import Iterator

_ACTIVE: contextvars.ContextVar["OutputTransaction | None"] = contextvars.ContextVar("geoml_output_transaction", default=None)
_PART = re.compile(r"^\..+\.(\d+)-[0-9a-f]{8}\.part(\..*)?$")


def _remove(path: str | os.PathLike) -> None:
    with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
        os.remove(path)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def clean_stale_parts(folder: str | os.PathLike) -> list[str]:
    """Remove the ``.part`` files a killed GeoML run left in *folder*; returns their names.

    Only files (and staging folders) named by :func:`part_path` whose writing process
    no longer exists are removed, so a run going on in parallel keeps its own.
    """
    removed = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            m = _PART.match(entry.name)
            if m and not _alive(int(m.group(1))):
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                elif entry.is_file(follow_symlinks=False):
                    _remove(entry.path)
                else:
                    continue
                removed.append(entry.name)
    return removed


def part_path(target: str | os.PathLike, suffix: str | None = None) -> str:
    """A fresh temporary name beside *target* (not created)."""
    t = Path(target)
    tail = t.suffix if suffix is None else suffix
    return str(t.parent / f".{t.stem}.{os.getpid()}-{secrets.token_hex(4)}.part{tail}")


class OutputTransaction:
    """Stage renames of temporary files onto their targets; commit all or none.

    >>> with OutputTransaction():                       # doctest: +SKIP
    ...     write_estimate(...); write_variance(...); write_report(...)
    ... # all three appear together, or none of them changes
    """

    def __init__(self) -> None:
        self._staged: dict[str, str] = {}  # target -> temporary file, in staging order
        self._removals: set[str] = set()
        self.cleaned_folders: set[str] = set()
        self._token: contextvars.Token | None = None

    @staticmethod
    def active() -> "OutputTransaction | None":
        """The transaction of the current run, if any."""
        return _ACTIVE.get()

    def stage(self, tmp: str, target: str | os.PathLike) -> None:
        """Rename *tmp* onto *target* at commit (a later stage of the same target wins)."""
        key = os.path.abspath(target)
        old = self._staged.pop(key, None)
        if old is not None and old != tmp:
            _remove(old)
        self._removals.discard(key)
        self._staged[key] = tmp

    def remove_at_commit(self, target: str | os.PathLike) -> None:
        """Delete *target* at commit (a stale sidecar of an earlier output)."""
        key = os.path.abspath(target)
        old = self._staged.pop(key, None)
        if old is not None:
            _remove(old)
        self._removals.add(key)

    def staged(self, target: str | os.PathLike) -> str:
        """Where *target*'s new content is now: its temporary file if staged, else *target*."""
        return self._staged.get(os.path.abspath(target), str(target))

    @property
    def targets(self) -> list[str]:
        return list(self._staged)

    def commit(self) -> None:
        """Move every staged file into place, then delete the files marked for removal."""
        staged, self._staged = self._staged, {}
        for target, tmp in staged.items():
            os.replace(tmp, target)
        for target in self._removals:
            _remove(target)
        self._removals = set()

    def rollback(self) -> None:
        """Delete every staged temporary file; no target is touched."""
        for tmp in self._staged.values():
            _remove(tmp)
            _remove(tmp + ".aux.xml")
        self._staged, self._removals = {}, set()

    def __enter__(self) -> "OutputTransaction":
        self._token = _ACTIVE.set(self)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        _ACTIVE.reset(self._token)
        if exc_type is None:
            try:
                self.commit()
            except BaseException:
                self.rollback()
                raise
        else:
            self.rollback()


def staged_path(target: str | os.PathLike) -> str:
    """The file that holds *target*'s content right now in this run (for reading an output back)."""
    tx = _ACTIVE.get()
    return tx.staged(target) if tx is not None else str(target)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None, defer: bool = True) -> Iterator[str]:
    """Yield a temporary path beside *path*; it becomes *path* when the block (or the run) succeeds.

    The temporary file lives in the target folder. On any exception, including
    cancellation, it is deleted and the target is left untouched. Inside an
    :class:`OutputTransaction` the rename waits for the transaction's commit, unless
    *defer* is False (intermediate files that another process reads during the run).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tx = _ACTIVE.get()
    folder = str(target.parent.resolve())
    if tx is None or folder not in tx.cleaned_folders:
        clean_stale_parts(folder)
        if tx is not None:
            tx.cleaned_folders.add(folder)
    tmp = part_path(target, suffix)
    try:
        yield tmp
    except BaseException:
        _remove(tmp)
        raise
    if tx is not None and defer:
        tx.stage(tmp, target)
    else:
        os.replace(tmp, target)


def move_into_place(tmp: str | os.PathLike, target: str | os.PathLike) -> None:
    """Rename a finished temporary file onto *target* now, or at the run's commit."""
    tx = _ACTIVE.get()
    if tx is not None:
        tx.stage(str(tmp), target)
    else:
        os.replace(tmp, target)


def remove_output(target: str | os.PathLike) -> None:
    """Delete an output file now, or at the run's commit."""
    tx = _ACTIVE.get()
    if tx is not None:
        tx.remove_at_commit(target)
    else:
        Path(target).unlink(missing_ok=True)


def write_text_atomic(path: str | os.PathLike, text: str, defer: bool = True) -> None:
    """Write a small text file (JSON, HTML, QML) atomically (*defer*: see :func:`atomic_path`)."""
    with atomic_path(path, defer=defer) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")


def write_bytes_atomic(path: str | os.PathLike, data: bytes, defer: bool = True) -> None:
    with atomic_path(path, defer=defer) as tmp:
        Path(tmp).write_bytes(data)
