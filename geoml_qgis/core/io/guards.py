"""Checks before work, and system errors turned into messages a geologist can act on.

* :func:`check_output_paths` - outputs that would overwrite an input or each other,
  folders that are files or cannot be written: refused before any computation.
* :func:`check_output_size` - cell count, estimated size and free disk space of a
  raster output, refused above a limit the user can raise.
* :func:`explain_error` - an ``OSError`` or a GDAL/OGR error as one sentence naming
  the file and the fix.
"""
from __future__ import annotations

import errno
import os
import re
import shutil
from pathlib import Path
from typing import Mapping

from ..errors import GeoMLError

#: default limit on the cells (rows x columns x bands) of one raster output
DEFAULT_MAX_OUTPUT_CELLS = 500_000_000
MAX_CELLS_ENV = "GEOML_MAX_OUTPUT_CELLS"
_PART = re.compile(r"\.([^/\\]+?)\.\d+-[0-9a-f]{8}\.part(\.[A-Za-z0-9.]+)?")


def _file_of(source: str) -> str:
    """The file behind a layer source (``path|layername=x``, ``/vsizip/...``, ``file:...?..``)."""
    s = str(source).split("|", 1)[0].split("?", 1)[0]
    if s.startswith("file://"):
        s = s[7:]
    return s


def _same_file(a: str, b: str) -> bool:
    try:
        if os.path.exists(a) and os.path.exists(b):
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def check_output_paths(inputs: Mapping[str, str], outputs: Mapping[str, str]) -> None:
    """Refuse output paths that equal an input or another output, or cannot be written.

    *inputs* and *outputs* map a parameter's description to a file path (layer
    sources are accepted; memory layers and empty values are skipped).
    """
    files = {k: _file_of(v) for k, v in outputs.items() if v and not str(v).startswith(("memory:", "TEMPORARY_OUTPUT"))}
    ins = {k: _file_of(v) for k, v in inputs.items() if v}
    for out_name, out in files.items():
        for in_name, src in ins.items():
            if src and _same_file(out, src):
                raise GeoMLError(
                    f"The output '{out_name}' ({out}) is the input '{in_name}': writing it would destroy the input. "
                    "Choose another file name for the output."
                )
    seen: dict[str, str] = {}
    for out_name, out in files.items():
        key = os.path.normcase(os.path.realpath(out))
        if key in seen:
            raise GeoMLError(
                f"The outputs '{seen[key]}' and '{out_name}' are both set to {out}: one would overwrite the other. "
                "Give each output its own file name."
            )
        seen[key] = out_name
    for out_name, out in files.items():
        check_writable(out, out_name)


def check_writable(path: str, what: str = "output") -> None:
    """Refuse *path* when its folder is a file, cannot be created or cannot be written."""
    p = Path(path)
    if p.is_dir():
        raise GeoMLError(f"The {what} {p} is a folder; give a file name inside it.")
    parent = p.parent
    while not parent.exists():
        if parent.parent == parent:
            break
        parent = parent.parent
    if parent.exists() and not parent.is_dir():
        raise GeoMLError(
            f"The {what} cannot be written to {p}: '{parent}' is a file, not a folder. "
            "Choose an output inside an existing folder."
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise GeoMLError(
            f"The folder '{parent}' cannot be written (no permission or read-only disk), so the {what} {p.name} "
            "cannot be saved there. Choose a folder you can write to."
        )
    if p.exists() and not os.access(p, os.W_OK):
        raise GeoMLError(f"The {what} {p} exists and is read-only; choose another name or make it writable.")


def max_output_cells() -> int:
    """The cell limit of one raster output: :data:`DEFAULT_MAX_OUTPUT_CELLS` or ``$GEOML_MAX_OUTPUT_CELLS``."""
    value = os.environ.get(MAX_CELLS_ENV, "")
    try:
        return int(float(value)) if value.strip() else DEFAULT_MAX_OUTPUT_CELLS
    except ValueError:
        return DEFAULT_MAX_OUTPUT_CELLS


def _size(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024.0
    return f"{n:.1f} TiB"


def check_output_size(path: str | os.PathLike, width: int, height: int, bands: int = 1, item_bytes: int = 4) -> None:
    """Refuse a raster output above the cell limit or larger than the free disk space.

    The numbers are in the message, with how to raise the limit or shrink the output.
    """
    cells = int(width) * int(height) * int(bands)
    limit = max_output_cells()
    estimate = cells * int(item_bytes)
    name = Path(path).name
    if cells > limit:
        raise GeoMLError(
            f"The output {name} would have {width:,} x {height:,} cells x {bands} band(s) = {cells:,} cells "
            f"(up to {_size(estimate)} uncompressed), above the limit of {limit:,}. Use a larger cell size or a "
            f"smaller extent; to allow it anyway, set the environment variable {MAX_CELLS_ENV} to a larger number."
        )
    folder = Path(path).parent
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        return
    if estimate > free:
        raise GeoMLError(
            f"The output {name} needs up to {_size(estimate)} ({cells:,} cells) but only {_size(free)} are free "
            f"on the disk of '{folder}'. Free some space, choose another disk, or use a larger cell size."
        )


def public_name(text: str) -> str:
    """*text* with hidden temporary names (``.est.123-abcd1234.part.tif``) shown as the output's name."""
    return _PART.sub(lambda m: m.group(1) + (m.group(2) or ""), str(text))


_GDAL_DAMAGED = ("ireadblock failed", "tiffread", "tiffreadencoded", "truncated", "read error", "cannot read",
                 "not a tiff", "corrupt", "unexpected end", "tiffscanlinesize", "tiffappendtodir", "incorrect",
                 "jpeg", "zlib", "deflate", "lzw", "decoding", "failed to read", "ended prematurely")


def _path_in(text: str) -> str | None:
    m = re.search(r"((?:[A-Za-z]:)?[/\\][^\s:'\",]+\.[A-Za-z0-9]{2,5})", text)
    return m.group(1) if m else None


def explain_error(exc: BaseException) -> str | None:
    """A user message for a system error (file, GDAL, OGR), or None when it is not one.

    The message names the file and says what to do.
    """
    if isinstance(exc, GeoMLError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return ("Not enough memory for this run. Use a smaller extent or a larger cell size, "
                "close other programs, or process the area in tiles.")
    if isinstance(exc, OSError):
        name = public_name(exc.filename) if getattr(exc, "filename", None) else None
        where = f" '{name}'" if name else ""
        code = exc.errno
        if code in (errno.EACCES, errno.EPERM, errno.EROFS):
            return f"Permission denied on{where}: the file or its folder cannot be written. Choose a folder you can write to."
        if code == errno.ENOSPC:
            return f"The disk is full while writing{where}. Free some space or choose another disk."
        if code == errno.ENOTDIR or code == errno.EEXIST:
            return f"A path component of{where} is a file where a folder is expected. Choose an output inside an existing folder."
        if code == errno.ENOENT:
            return f"File or folder not found:{where}. Check the path; a folder in it may have been moved or deleted."
        if code == errno.EISDIR:
            return f"{where.strip() or 'The path'} is a folder where a file is expected; give a file name."
        return f"Input/output error on{where}: {public_name(exc.strerror or exc)}."
    text = public_name(str(exc))
    low = text.lower()
    if isinstance(exc, RuntimeError) and text:
        path = _path_in(text)
        named = f"'{path}'" if path else "an input file"
        if any(k in low for k in _GDAL_DAMAGED):
            return (f"The file {named} is damaged or truncated (GDAL: {text.strip()}). Copy or export it again; "
                    "'gdalinfo -checksum' on it shows whether it reads to the end.")
        if "not recognized as a supported file format" in low or "not recognised as" in low:
            return f"{named[0].upper() + named[1:]} is not a raster or vector format GDAL can read ({text.strip()}). Check the file or its extension."
        if "no such file" in low or "does not exist" in low:
            return f"File not found: {named} ({text.strip()}). Check the path."
        if "permission denied" in low or "read-only" in low or "attempt to create" in low or "failed to create" in low \
                or "unable to open" in low or "cannot open" in low or "couldn't create" in low:
            return f"GDAL could not open or create {named} ({text.strip()}). Check that the file exists, is readable, and that its folder can be written."
        if "no space" in low or "disk full" in low:
            return f"The disk is full while writing {named}. Free some space or choose another disk."
    return None
