"""Saving and loading models without pickle.

A GeoML model file is one ``torch.save`` archive holding only tensors and strings:
``{"format": "geoml-model", "meta": <JSON text>, "state": <state dict of tensors>}``.
It is loaded with ``torch.load(..., weights_only=True)``, which refuses anything but
tensors and plain containers, so opening a model file can never run code. Models
that are not torch networks (scikit-learn estimators, variograms) store their
parameters as arrays in ``state`` and the rest in ``meta``; when the state holds no
tensor the file is a NumPy ``.npz`` archive instead (the arrays, plus the same header
as JSON text), read with ``allow_pickle=False``, so those models need no torch at all.
"""
from __future__ import annotations

import json
import os
import zipfile
from typing import Any, Mapping

import numpy as np

from .deps import require
from .errors import GeoMLError
from .io.atomic import atomic_path, staged_path
from .io.provenance import file_sha256

FORMAT = "geoml-model"
_NPZ_HEADER, _NPZ_STATE = "geoml_header", "state."


def save_model(path: str | os.PathLike, kind: str, state: Mapping[str, Any], meta: Mapping[str, Any]) -> str:
    """Write a model atomically; returns the file's SHA-256 (for provenance).

    Parameters
    ----------
    kind : str
        What the model is (``"prospectivity.transfer"``, ``"hyperspectral.cnn"``...);
        checked again on load.
    state : mapping of str to tensor or ndarray
        Numeric parameters (a torch ``state_dict``, or arrays).
    meta : mapping
        JSON-serialisable description: feature names, transforms, class names, versions.
    """
    from .. import __version__

    if not any(type(v).__module__.startswith("torch") for v in state.values()):  # arrays only: no torch needed
        header = json.dumps({"format": FORMAT, "kind": kind, "meta": {**dict(meta), "geoml_version": __version__}},
                            default=_json_default)
        arrays = {f"{_NPZ_STATE}{k}": np.asarray(v) for k, v in state.items()}
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.savez_compressed(f, **{_NPZ_HEADER: np.array(header)}, **arrays)
        return file_sha256(path)
    torch = require("torch", "saving models")
    tensors = {k: (v.detach().cpu() if isinstance(v, torch.Tensor) else torch.as_tensor(np.asarray(v)))
               for k, v in state.items()}
    payload = {
        "format": FORMAT,
        "kind": kind,
        "meta": json.dumps({**dict(meta), "geoml_version": __version__, "torch_version": torch.__version__},
                           default=_json_default),
        "state": tensors,
    }
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return file_sha256(path)


def load_model(path: str | os.PathLike, kind: str | None = None) -> tuple[dict, dict]:
    """Read a model written by :func:`save_model`; returns ``(state, meta)``.

    Raises :class:`GeoMLError` when the file is not a GeoML model, or not of *kind*
    (a prefix match: ``kind="prospectivity"`` accepts ``"prospectivity.transfer"``).
    """
    path = staged_path(path)  # a model written earlier in this run
    if not os.path.exists(path):
        raise GeoMLError(f"Model file not found: {path}")
    payload = _load_npz(path)
    if payload is None:
        torch = require("torch", "loading models")
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same message
            # torch's own text advises switching weights-only loading off and filing an issue: wrong for a user, never shown
            why = ("it holds Python objects, which GeoML never loads (a pickled model from elsewhere?)"
                   if "weights_only" in str(exc) or "Unpickl" in type(exc).__name__ + str(exc)[:200]
                   else "it is not a PyTorch archive, or it is truncated")
            raise GeoMLError(
                f"'{os.path.basename(path)}' is not a GeoML model file, or is damaged: {why}. Choose a model written "
                "by one of GeoML's training algorithms, or train it again."
            ) from exc
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise GeoMLError(f"'{os.path.basename(path)}' is not a GeoML model file.")
    if kind is not None and not str(payload.get("kind", "")).startswith(kind):
        raise GeoMLError(
            f"'{os.path.basename(path)}' is a {payload.get('kind')} model; this algorithm needs a {kind} model."
        )
    meta = json.loads(payload["meta"])
    meta["kind"] = payload["kind"]
    return dict(payload["state"]), meta


def _load_npz(path) -> dict | None:
    """The payload of an arrays-only model file (``.npz`` layout), or None for any other file."""
    try:
        with zipfile.ZipFile(path) as archive:
            if f"{_NPZ_HEADER}.npy" not in archive.namelist():
                return None
    except (zipfile.BadZipFile, OSError):
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            header = json.loads(str(npz[_NPZ_HEADER]))
            state = {k[len(_NPZ_STATE):]: npz[k] for k in npz.files if k.startswith(_NPZ_STATE)}
    except (OSError, ValueError, KeyError) as exc:
        raise GeoMLError(f"'{os.path.basename(path)}' is not a GeoML model file (or is damaged): {exc}") from exc
    return {**header, "meta": json.dumps(header.get("meta", {})), "state": state}


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
