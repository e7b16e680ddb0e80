"""Write-then-rename, so that a failed or cancelled run never leaves a partial file."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(path)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[str]:
    """Yield a temporary path beside *path*; rename it onto *path* if the block succeeds.

    The temporary file lives in the target folder (same file system, so the final
    ``os.replace`` is atomic). On any exception, including cancellation, the
    temporary file is deleted and the target is left untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.stem}.", suffix=".part" + (suffix if suffix is not None else target.suffix),
        dir=target.parent,
    )
    os.close(fd)
    _remove(tmp)  # let the writer create it; some drivers refuse to open an existing empty file
    try:
        yield tmp
    except BaseException:
        _remove(tmp)
        raise
    os.replace(tmp, target)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write a small text file (JSON, HTML, QML) atomically."""
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
