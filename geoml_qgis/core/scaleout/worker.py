"""The worker: train one ensemble member from files on disk or S3, and write it atomically.

Run as::

    python -m geoml_qgis.core.scaleout.worker train-member \\
        --config s3://bucket/run/config.json --data s3://bucket/run/data.npz \\
        --out s3://bucket/run/members [--index 3]

Without ``--index`` the member is ``AWS_BATCH_JOB_ARRAY_INDEX`` (set by AWS Batch for
each child of an array job). The member is written to ``<out>/member-<index>.model``
(:func:`geoml_qgis.core.modelio.save_model`: weights + JSON metadata with its metrics),
uploaded to a temporary key and copied to the final one with its SHA-256. Exit status
0 on success, 1 on an error (message on stderr), 2 on bad arguments.
"""
from __future__ import annotations

import argparse
import inspect
import hashlib
import os
import sys
import tempfile
from typing import Sequence

from ..errors import GeoMLError
from ..modelio import save_model
from . import s3io
from .members import MEMBER_KIND, member_uri, parse_config, read_data
from .trainers import resolve

INDEX_VARIABLE = "AWS_BATCH_JOB_ARRAY_INDEX"


def member_index(index: int | None) -> int:
    """*index*, or the array index AWS Batch gives this job."""
    if index is not None:
        return int(index)
    value = os.environ.get(INDEX_VARIABLE)
    if value is None:
        raise GeoMLError(f"No member index: pass --index or run as an AWS Batch array job ({INDEX_VARIABLE}).")
    try:
        return int(value)
    except ValueError as exc:
        raise GeoMLError(f"{INDEX_VARIABLE} is not an integer: {value!r}") from exc


def train_member(config: str, data: str, out: str, index: int | None = None, device: str = "cpu") -> str:
    """Train member *index* (or the array index) and write it under *out*; returns its URI.

    *device* (``cpu``, ``auto``, ``cuda``) goes to trainers that take one (the VAE ensemble's).
    """
    index = member_index(index)
    config_bytes = s3io.get_bytes(config)
    doc = parse_config(config_bytes)
    if not 0 <= index < doc["members"]:
        raise GeoMLError(f"Member {index} is outside the ensemble of {doc['members']} members.")
    train_fn, _ = resolve(doc["trainer"])
    target = member_uri(out, index)
    with tempfile.TemporaryDirectory(prefix="geoml-worker-") as tmpdir:
        local_data = os.path.join(tmpdir, "data.npz")
        data_sha = s3io.get_file(data, local_data)
        arrays = read_data(local_data)
        takes_device = "device" in inspect.signature(train_fn).parameters
        state, metrics = train_fn(arrays, doc["config"], index, **({"device": device} if takes_device else {}))
        local_model = os.path.join(tmpdir, "member.model")
        save_model(local_model, MEMBER_KIND, state, {
            "index": index,
            "members": doc["members"],
            "trainer": doc["trainer"],
            "metrics": metrics,
            "data_sha256": data_sha,
            "config_sha256": hashlib.sha256(config_bytes).hexdigest(),
        })
        s3io.put_file(local_model, target)
    return target


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m geoml_qgis.core.scaleout.worker",
                                     description="GeoML scale-out worker")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("train-member", help="train one ensemble member")
    p.add_argument("--config", required=True, help="config JSON (local path or s3:// URI)")
    p.add_argument("--data", required=True, help="training data .npz (local path or s3:// URI)")
    p.add_argument("--out", required=True, help="folder or s3:// prefix for the member")
    p.add_argument("--index", type=int, default=None, help=f"member index (default: ${INDEX_VARIABLE})")
    p.add_argument("--device", default="cpu", help="cpu (default), auto (a CUDA GPU when present) or cuda")
    args = parser.parse_args(argv)
    try:
        target = train_member(args.config, args.data, args.out, args.index, args.device)
    except GeoMLError as exc:
        print(f"geoml worker: {exc}", file=sys.stderr)
        return 1
    except FileNotFoundError as exc:
        print(f"geoml worker: not found: {exc}", file=sys.stderr)
        return 1
    print(f"geoml worker: wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
