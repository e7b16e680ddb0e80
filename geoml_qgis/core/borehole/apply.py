"""Labelling the samples of new holes with a trained downhole sequence model."""
from __future__ import annotations

import pandas as pd

from ..errors import GeoMLError
from .samples import Samples
from .transforms import apply_transform


def required_elements(meta: dict, columns) -> list[str]:
    """The model's element fields, checked against the new table's *columns* (each missing one named)."""
    features = [str(f) for f in meta.get("features", [])]
    if not features:
        raise GeoMLError("The model file does not list the elements it was trained on.")
    missing = [f for f in features if f not in set(map(str, columns))]
    if missing:
        raise GeoMLError(f"The model was trained on element(s) the table lacks: {', '.join(missing)}. "
                         "Add these fields (same names) or train a model on the elements you have.")
    return features


def label_samples(model, meta: dict, samples: Samples) -> pd.DataFrame:
    """The samples' table with ``predicted`` (a class of the model) and ``probability`` (of that class),
    the features transformed as in training (``meta["transform"]``). Returns one row per sample."""
    dropped = [f for f in required_elements(meta, meta["features"]) if f not in samples.elements]
    if dropped:
        raise GeoMLError(f"Element(s) {', '.join(dropped)} could not be used (constant or blank in the new holes); "
                         "the model needs every element it was trained on.")
    X = apply_transform(samples.values[meta["features"]].to_numpy(), meta.get("transform", "clr"))
    proba = model.predict_proba(X, samples.hole, samples.depth)
    frame = samples.frame()
    frame["predicted"] = model.classes_[proba.argmax(axis=1)]
    frame["probability"] = proba.max(axis=1)
    return frame


def held_out_agreement(frame: pd.DataFrame, label_field: str) -> float | None:
    """Share of samples whose prediction equals *label_field* when the table has it (else None)."""
    if label_field not in frame:
        return None
    return float((frame["predicted"].astype(str).to_numpy() == frame[label_field].astype(str).to_numpy()).mean())
