"""Active learning: where to sample next so that the model learns most.

Candidates are cells where the ensemble's members disagree most: epistemic uncertainty (spread of the
members' probabilities) or the mutual information between the label and the members
(``H(p) - mean_m H(p_m)``). Local maxima of the criterion over the feature stack are taken block by block,
then the best are picked greedily at least MIN_SPACING apart, so the suggestions spread over the area
instead of piling up in one uncertain patch.
"""
from __future__ import annotations

import os

import numpy as np

from ..errors import GeoMLError
from ..io import RasterStack
from ..progress import ProgressCallback
from .riskreturn import Candidate, local_maxima, pick_spaced

CRITERIA = ("epistemic", "mutual_information")


def suggest_samples(model, stack_path: str | os.PathLike, n: int, min_spacing: float,
                    criterion: str = "epistemic", progress: ProgressCallback | None = None,
                    block_size: int = 512) -> list[Candidate]:
    """The *n* next places to sample, best first; ``Candidate.values`` = (probability, epistemic, mutual information).

    *model* is a ``vae_ensemble`` :class:`~geoml_qgis.core.prospectivity.model.ProspectivityModel`.
    """
    if criterion not in CRITERIA:
        raise GeoMLError(f"Unknown criterion '{criterion}'; use one of {', '.join(CRITERIA)}.")
    if n < 1:
        raise GeoMLError("Ask for at least one sample.")
    with RasterStack([stack_path]) as stack:
        model.check_bands(stack.band_names)

        def read(win):
            b = stack.read(win)
            px = np.where(np.ma.getmaskarray(b), np.nan, b.data).reshape(b.shape[0], -1).T
            u = model.predict_uncertainty(px)
            shape = (win.height, win.width)
            return u[criterion].reshape(shape), tuple(u[k].reshape(shape) for k in ("probability", "epistemic",
                                                                                    "mutual_information"))

        cands = local_maxima(stack.grid, read, max(20 * n, 100), progress, block_size)
    return pick_spaced(cands, n, min_spacing)
