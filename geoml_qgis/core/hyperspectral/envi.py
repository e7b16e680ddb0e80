"""ENVI header files (``.hdr``): parsing and writing, with clear errors for broken ones.

An ENVI header is ``key = value`` lines after a first line ``ENVI``; values in
braces may span lines. Only the fields this package needs are interpreted.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from ..errors import GeoMLError

#: ENVI "data type" codes -> numpy dtypes
DTYPES = {1: np.uint8, 2: np.int16, 3: np.int32, 4: np.float32, 5: np.float64, 12: np.uint16, 13: np.uint32,
          14: np.int64, 15: np.uint64}


def read_header(path: str | os.PathLike) -> dict[str, str]:
    """Parse an ENVI header into ``{lower-case key: raw value text}``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise GeoMLError(f"Cannot read the ENVI header '{p}': {exc}") from exc
    if not text.lstrip().upper().startswith("ENVI"):
        raise GeoMLError(f"'{p.name}' is not an ENVI header: its first line must be 'ENVI'.")
    fields: dict[str, str] = {}
    body = text.lstrip()[4:]
    pos = 0
    pattern = re.compile(r"\s*([^=\n]+?)\s*=\s*")
    while pos < len(body):
        m = pattern.match(body, pos)
        if not m:
            line_end = body.find("\n", pos)
            line = body[pos:line_end if line_end >= 0 else None].strip()
            if line and not line.startswith(";"):
                raise GeoMLError(f"The ENVI header '{p.name}' is damaged near: '{line[:60]}'.")
            pos = len(body) if line_end < 0 else line_end + 1
            continue
        key = m.group(1).strip().lower()
        pos = m.end()
        if body.startswith("{", pos):
            end = body.find("}", pos)
            if end < 0:
                raise GeoMLError(f"The ENVI header '{p.name}' has an unclosed '{{' in field '{key}'.")
            fields[key] = body[pos + 1:end].strip()
            pos = end + 1
        else:
            end = body.find("\n", pos)
            fields[key] = body[pos:end if end >= 0 else None].strip()
            pos = len(body) if end < 0 else end + 1
    for required in ("samples", "lines", "bands", "data type"):
        if required not in fields:
            raise GeoMLError(f"The ENVI header '{p.name}' lacks the required field '{required}'.")
    return fields


def int_field(fields: dict[str, str], key: str, name: str, default: int | None = None) -> int:
    if key not in fields:
        if default is None:
            raise GeoMLError(f"The ENVI header '{name}' lacks '{key}'.")
        return default
    try:
        return int(fields[key])
    except ValueError as exc:
        raise GeoMLError(f"The ENVI header '{name}' has a non-integer '{key}': {fields[key]!r}.") from exc


def float_list(text: str | None, what: str, n: int | None = None) -> np.ndarray | None:
    """Numbers of a brace list ``'1, 2, 3'``; None when absent."""
    if text is None or not text.strip():
        return None
    try:
        values = np.array([float(v) for v in re.split(r"[,\s]+", text.strip().strip("{}")) if v], float)
    except ValueError as exc:
        raise GeoMLError(f"The {what} list holds something that is not a number: {exc}.") from exc
    if n is not None and values.size != n:
        raise GeoMLError(f"The {what} list has {values.size} values for {n} bands.")
    return values


def str_list(text: str | None) -> list[str]:
    if not text:
        return []
    return [s.strip() for s in text.split(",")]


def data_file(header: Path) -> Path:
    """The binary file an ENVI header describes (same stem; common extensions or none)."""
    for suffix in ("", ".img", ".dat", ".bsq", ".bil", ".bip", ".raw", ".sli", ".IMG", ".DAT", ".SLI"):
        cand = header.with_suffix(suffix)
        if cand != header and cand.exists():
            return cand
    raise GeoMLError(f"No data file found beside the ENVI header '{header.name}' (expected e.g. '{header.stem}.img').")


def header_for(path: Path) -> Path | None:
    """The ``.hdr`` of an ENVI data file (``x.img`` -> ``x.hdr`` or ``x.img.hdr``), or None."""
    if path.suffix.lower() == ".hdr":
        return path
    for cand in (path.with_suffix(".hdr"), Path(str(path) + ".hdr")):
        if cand.exists():
            return cand
    return None


def format_header(fields: dict[str, object]) -> str:
    """ENVI header text from plain values (lists become brace lists)."""
    lines = ["ENVI"]
    for key, value in fields.items():
        if isinstance(value, (list, tuple, np.ndarray)):
            items = [f"{v:.6g}" if isinstance(v, (float, np.floating)) else str(v) for v in value]
            lines.append(f"{key} = {{{', '.join(items)}}}")
        else:
            lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"
