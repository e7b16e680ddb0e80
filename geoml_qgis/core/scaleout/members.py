"""The files of one scale-out run, and collecting its members into an ensemble.

A run lives under one folder or S3 prefix::

    <run>/config.json          what to train: {"format", "trainer", "members", "config"}
    <run>/data.npz             X (n, f) float32, y (n,) 0/1, X_unlabelled (m, f) float32
    <run>/members/member-0003.model   member 3: weights + metrics (core.modelio format)

Each member is written once, atomically, by the worker that trained it; a member that
is absent or damaged is simply missing. :func:`collect_members` reads those present,
names the missing ones with the reason, and :func:`assemble` builds the ensemble only
when at least ``min_members`` succeeded.
"""
from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from ..errors import GeoMLError
from ..io.atomic import atomic_path
from ..modelio import load_model
from ..progress import ProgressCallback, report
from . import s3io
from .trainers import check_name, resolve

CONFIG_FORMAT = "geoml-scaleout-config"
MEMBER_KIND = "scaleout.member"
DATA_KEYS = ("X", "y", "X_unlabelled")


def config_uri(run: str) -> str:
    return s3io.join(run, "config.json")


def data_uri(run: str) -> str:
    return s3io.join(run, "data.npz")


def members_uri(run: str) -> str:
    return s3io.join(run, "members")


def member_uri(out: str, index: int) -> str:
    return s3io.join(out, f"member-{index:04d}.model")


def config_document(trainer: str, members: int, config: Mapping[str, Any]) -> dict:
    """The JSON config a worker reads: which registered trainer, how many members, its config."""
    check_name(trainer)
    if int(members) < 1:
        raise GeoMLError("The ensemble needs at least one member.")
    doc = {"format": CONFIG_FORMAT, "trainer": trainer, "members": int(members), "config": dict(config)}
    json.dumps(doc)  # fails early on anything that is not JSON
    return doc


def parse_config(text: bytes | str) -> dict:
    """Validate a config document read from a file."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise GeoMLError(f"The scale-out config is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != CONFIG_FORMAT:
        raise GeoMLError("The file is not a GeoML scale-out config.")
    check_name(str(doc.get("trainer")))
    return doc


def check_data(data: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Check the training arrays' names, shapes and types; returns them as a plain dict."""
    missing = [k for k in DATA_KEYS if k not in data]
    if missing:
        raise GeoMLError(f"The training data lack {', '.join(missing)}.")
    x, y, xu = (np.asarray(data[k]) for k in DATA_KEYS)
    if x.ndim != 2 or y.shape != (x.shape[0],) or xu.ndim != 2 or xu.shape[1] != x.shape[1]:
        raise GeoMLError(f"Training data shapes do not fit: X {x.shape}, y {y.shape}, X_unlabelled {xu.shape}.")
    if not np.isin(y, (0, 1)).all():
        raise GeoMLError("Labels must be 1 (deposit) or 0 (not a deposit).")
    return {"X": x.astype(np.float32), "y": y.astype(np.int64), "X_unlabelled": xu.astype(np.float32)}


def write_data(data: Mapping[str, np.ndarray], path: str | os.PathLike) -> None:
    """Write the training arrays as an ``.npz`` (no pickled objects), atomically."""
    arrays = check_data(data)
    with atomic_path(path, suffix=".npz", defer=False) as tmp:  # read by worker processes during the run
        np.savez(tmp, **arrays)


def read_data(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read training arrays written by :func:`write_data` (``allow_pickle=False``)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            return check_data({k: npz[k] for k in npz.files})
    except (ValueError, OSError) as exc:
        if isinstance(exc, GeoMLError):
            raise
        raise GeoMLError(f"The training data file cannot be read: {exc}") from exc


@dataclass
class Collected:
    """Members read back from a run: their states and metrics, and those missing with why."""

    members: int
    states: dict[int, dict] = field(default_factory=dict)
    metrics: dict[int, dict] = field(default_factory=dict)
    missing: dict[int, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> list[int]:
        return sorted(self.states)


def collect_members(out: str, members: int, region: str | None = None,
                    failures: Mapping[int, str] | None = None,
                    progress: ProgressCallback | None = None) -> Collected:
    """Read members ``0..members-1`` from *out* (folder or S3 prefix).

    *failures* gives a reason for members known to have failed (a Batch status reason)
    used when their file is absent. A damaged object (checksum mismatch) or file is
    reported missing, never used.
    """
    result = Collected(members)
    failures = dict(failures or {})
    with tempfile.TemporaryDirectory(prefix="geoml-members-") as tmpdir:
        for i in range(members):
            report(progress, i / members)
            local = os.path.join(tmpdir, f"member-{i:04d}.model")
            try:
                s3io.get_file(member_uri(out, i), local, region)
            except FileNotFoundError:
                result.missing[i] = failures.get(i, "no output (the job failed or did not run)")
                continue
            except s3io.ChecksumError as exc:
                result.missing[i] = f"damaged: {exc}"
                continue
            try:
                state, meta = load_model(local, MEMBER_KIND)
            except GeoMLError as exc:
                result.missing[i] = f"unreadable: {exc}"
                continue
            if int(meta.get("index", -1)) != i:
                result.missing[i] = f"holds member {meta.get('index')} instead"
                continue
            result.states[i] = state
            result.metrics[i] = meta.get("metrics", {})
    report(progress, 1.0)
    return result


def assemble(collected: Collected, trainer: str, config: Mapping[str, Any], min_members: int):
    """The ensemble of the members that succeeded, if at least *min_members* did.

    Raises :class:`GeoMLError` naming the missing members (with reasons) otherwise.
    """
    ok = collected.succeeded
    if len(ok) < max(int(min_members), 1):
        raise GeoMLError(
            f"Only {len(ok)} of {collected.members} members succeeded, fewer than the minimum {min_members}. "
            f"Missing: {describe_missing(collected.missing)}"
        )
    _, assemble_fn = resolve(trainer)
    return assemble_fn([collected.states[i] for i in ok], dict(config))


def describe_missing(missing: Mapping[int, str]) -> str:
    """``"member 2 (reason); member 5 (reason)"``, or ``"none"``."""
    if not missing:
        return "none"
    return "; ".join(f"member {i} ({why})" for i, why in sorted(missing.items()))
