"""From user choices to a variogram model: a model name, ``auto``, or a JSON file from 'Fit variogram'."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..errors import GeoMLError
from .models import MODELS, VariogramModel
from .nested import NestedModel, model_from_json
from .samples import Samples
from .variogram import ExperimentalVariogram, experimental_variogram, fit_variogram


@dataclass
class ModelChoice:
    """The model used and how it was obtained (``"fitted"``, ``"fixed"`` or ``"file"``)."""

    model: VariogramModel | NestedModel
    how: str
    experimental: ExperimentalVariogram | None = None
    errors: dict | None = None


def resolve_model(
    spec: str, samples: Samples, nugget: float | None = None, sill: float | None = None,
    range_: float | None = None, ratio: float = 1.0, angle: float = 0.0, n_lags: int = 15,
    max_lag: float | None = None,
) -> ModelChoice:
    """Variogram model from *spec*: ``auto``, a model name, or a path to a JSON model file.

    With a model name and all of *nugget*, *sill* (total) and *range_* given, nothing is fitted;
    otherwise the missing parameters are fitted to the experimental variogram (``auto`` tries
    every model). A JSON file is used as saved; parameters given here override its values.
    Anisotropy (*ratio*, *angle*) applies to kriging; the variogram is fitted omnidirectionally.
    """
    spec = (spec or "auto").strip()
    given = {k: v for k, v in (("nugget", nugget), ("sill", sill), ("range", range_)) if v is not None}
    if spec.lower().endswith(".json") or Path(spec).is_file():
        p = Path(spec)
        if not p.is_file():
            raise GeoMLError(f"Variogram model file not found: {spec}")
        model = model_from_json(p.read_text(encoding="utf-8"))
        if given and isinstance(model, NestedModel):
            raise GeoMLError("A nested variogram model file is used as saved; leave nugget, sill and range empty.")
        if given or ratio != 1.0 or angle != 0.0:
            model = model.with_params(**given, ratio=ratio if ratio != 1.0 else model.ratio,
                                      angle=angle if angle != 0.0 else model.angle)
        return ModelChoice(model, "file")
    kind = spec.lower()
    if kind != "auto" and kind not in MODELS:
        raise GeoMLError(
            f"Variogram model '{spec}' is neither auto, one of {', '.join(MODELS)}, nor a JSON model file."
        )
    if kind != "auto" and len(given) == 3:
        return ModelChoice(VariogramModel(kind, nugget, sill, range_, ratio=ratio, angle=angle), "fixed")
    ev = experimental_variogram(samples.coords, samples.values, n_lags, max_lag)
    model, errors = fit_variogram(ev, kind, nugget, sill, range_)
    return ModelChoice(model.with_params(ratio=ratio, angle=angle), "fitted", ev, errors)
