"""The member trainers that scale-out can run, by name.

A trainer is a pair of functions in the library:

- ``train_member(data, config, index) -> (state_dict, metrics)`` trains member *index*
  deterministically (same data, config and index → identical weights); *data* holds
  ``"X"`` (n, f) float32, ``"y"`` (n,) 0/1 and ``"X_unlabelled"`` (m, f) float32;
  *config* is JSON-serialisable.
- ``assemble(member_states, config)`` builds the ensemble estimator (which has ``save(path)``)
  from the states of the members that succeeded;
- optionally ``prepare(data, config) -> config``, run once before any member is trained, fixes
  what every member must share (standardisation, class weights).

Config files name a trainer; only the names in :data:`TRAINERS` can be resolved, so a
config file can never make a worker import arbitrary code.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

from ..errors import GeoMLError


@dataclass(frozen=True)
class Trainer:
    """Where a trainer's two functions live, as ``"module:function"``."""

    train_member: str
    assemble: str
    prepare: str | None = None


#: name → trainer; the only trainers a worker will run
TRAINERS: dict[str, Trainer] = {
    "vae_ensemble": Trainer(
        "geoml_qgis.core.prospectivity.ensemble:train_member",
        "geoml_qgis.core.prospectivity.model:assemble_model",
        "geoml_qgis.core.prospectivity.ensemble:prepare_config",
    ),
}


def _load(target: str) -> Callable:
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr)


def check_name(name: str) -> Trainer:
    """The registered trainer called *name*; :class:`GeoMLError` for any other name."""
    trainer = TRAINERS.get(name)
    if trainer is None:
        raise GeoMLError(f"Unknown ensemble trainer '{name}'; known: {', '.join(sorted(TRAINERS))}.")
    return trainer


def resolve(name: str) -> tuple[Callable, Callable]:
    """``(train_member, assemble)`` of the trainer called *name* (imported on first use)."""
    trainer = check_name(name)
    return _load(trainer.train_member), _load(trainer.assemble)


def prepare(name: str, data, config) -> dict:
    """*config* completed by the trainer's ``prepare`` step (unchanged when it has none)."""
    trainer = check_name(name)
    return dict(_load(trainer.prepare)(data, dict(config))) if trainer.prepare else dict(config)
