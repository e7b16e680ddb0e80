"""Provenance written into every output: what made it, with which parameters."""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from typing import Any, Mapping

from ... import __version__


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file, read in chunks."""
    from .atomic import staged_path

    h = hashlib.sha256()
    with open(staged_path(path), "rb") as fh:  # an output of this run may still be staged
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def provenance(algorithm: str, parameters: Mapping[str, Any] | None = None, model_hash: str | None = None) -> dict[str, str]:
    """GDAL metadata items (``GEOML_*``) describing how an output was made."""
    items = {
        "GEOML_ALGORITHM": algorithm,
        "GEOML_VERSION": __version__,
        "GEOML_CREATED": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        "GEOML_PARAMETERS": json.dumps(dict(parameters or {}), default=str, sort_keys=True),
    }
    if model_hash:
        items["GEOML_MODEL_SHA256"] = model_hash
    return items
