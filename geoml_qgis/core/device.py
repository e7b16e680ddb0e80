"""Where torch computes: ``auto`` (a CUDA GPU when torch sees one, else the CPU), ``cpu`` or ``cuda[:N]``.

The CPU is the default everywhere and the tested path. Models are always kept and saved on the
CPU; a GPU is used for the duration of a training or prediction call only, and its results
agree with the CPU's to float32 rounding, not bit for bit.
"""
from __future__ import annotations

from .errors import GeoMLError

#: values accepted by every ``device`` parameter
DEVICES = ("cpu", "auto", "cuda")


def resolve_device(device: str | None = "cpu"):
    """The ``torch.device`` for *device* (``cpu``, ``auto``, ``cuda`` or ``cuda:N``; None = ``cpu``)."""
    import torch

    name = "cpu" if device is None else str(device).strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise GeoMLError(f"Device '{device}' asked for, but torch sees no CUDA GPU here (a CPU build of "
                             "torch, or no GPU driver); use 'auto' or 'cpu'.")
        return torch.device(name)
    raise GeoMLError(f"Unknown device '{device}'; use one of {', '.join(DEVICES)} (or cuda:N).")


def on_device(module, device):
    """*module* itself on the CPU, else a copy of it moved to *device* (the model stays on the CPU)."""
    import copy

    if device.type == "cpu":
        return module
    return copy.deepcopy(module).to(device)
