"""Weights of evidence (Bonham-Carter 1994): weights, class generalisation, posterior and its variance.

Everything here works on *counts*: for each evidence layer, the area (in unit cells) and the
number of deposits in each of its fine classes (the distinct values of a binary or categorical
layer, or the bins between candidate thresholds of an ordered one). :mod:`.wofe_data` builds those
counts from rasters block by block or from tables; this module turns them into weights and a
posterior. With ``N(T)`` unit cells, ``N(D)`` deposits, a pattern ``B`` of ``N(B)`` cells holding
``N(B∩D)`` deposits::

    W+ = ln[ (N(B∩D)/N(D)) / (N(B∩D̄)/N(D̄)) ]       s²(W+) = 1/N(B∩D) + 1/N(B∩D̄)
    W− = ln[ (N(B̄∩D)/N(D)) / (N(B̄∩D̄)/N(D̄)) ]       s²(W−) = 1/N(B̄∩D) + 1/N(B̄∩D̄)
    C = W+ − W−,   s(C) = √(s²(W+) + s²(W−)),   studentised C = C / s(C)

Each layer's weights are computed on the area where that layer has data; a cell where a layer
has no data takes weight 0 for it (the prior odds are left unchanged) and the posterior's
variance gets that layer's missing-data term (Agterberg and Bonham-Carter 1990).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np

from ..errors import GeoMLError

KINDS = ("binary", "categorical", "ascending", "descending", "ordered", "breaks")
CRITERIA = ("contrast", "studentised")
MAX_CLASSES = 50
#: with the contrast criterion, thresholds must reach this studentised contrast (about 95 % confidence that C > 0)
MIN_STUDENTISED = 2.0
#: ordered layers with at most this many distinct values use each value as a candidate threshold
MAX_DISTINCT = 256


def weights_from_counts(area: np.ndarray, deposits: np.ndarray, total_area: float, total_deposits: float) -> dict:
    """W+, W−, C and their standard deviations for patterns of *area* unit cells holding *deposits*.

    Arrays broadcast; *total_area* and *total_deposits* are the layer's study area and its deposits.
    Undefined values (a zero count) come out as ``inf`` or ``nan``.
    """
    b, bd = np.asarray(area, float), np.asarray(deposits, float)
    nt, nd = float(total_area), float(total_deposits)
    b_nd = b - bd                          # pattern without deposits
    nb_d = nd - bd                         # deposits outside the pattern
    nb_nd = (nt - b) - nb_d                # outside the pattern, no deposits
    with np.errstate(divide="ignore", invalid="ignore"):
        wp = np.log(bd / nd) - np.log(b_nd / (nt - nd))
        wm = np.log(nb_d / nd) - np.log(nb_nd / (nt - nd))
        vp = 1.0 / bd + 1.0 / b_nd
        vm = 1.0 / nb_d + 1.0 / nb_nd
        c = wp - wm
        sc = np.sqrt(vp + vm)
        stud = c / sc
    return {"w_plus": wp, "s_w_plus": np.sqrt(vp), "w_minus": wm, "s_w_minus": np.sqrt(vm),
            "contrast": c, "s_contrast": sc, "studentised": stud}


@dataclass
class ClassWeight:
    """One class of a generalised layer: its value range or value, counts and the weight it carries."""

    label: str
    area: float
    deposits: float
    w_plus: float
    s_w_plus: float
    w_minus: float
    s_w_minus: float
    contrast: float
    s_contrast: float
    studentised: float
    weight: float        # the weight this class adds to the posterior logit
    s_weight: float
    note: str = ""


@dataclass
class LayerWeights:
    """Weights of one evidence layer and how its raw values map to classes.

    ``values`` (binary, categorical): raw value of each class; ``edges`` (ordered layers): class ``k``
    holds ``edges[k] < v <= edges[k+1]`` with ``-inf``/``inf`` at the ends. ``candidates``: for
    cumulative generalisation, the weights of every threshold tried.
    """

    name: str
    kind: str
    classes: list[ClassWeight]
    values: list[float] = field(default_factory=list)
    edges: list[float] = field(default_factory=list)
    threshold: float | None = None
    criterion: str = ""
    total_area: float = 0.0
    total_deposits: float = 0.0
    missing_area: float = 0.0
    candidates: list[dict] = field(default_factory=list)

    @property
    def weight(self) -> np.ndarray:
        return np.array([c.weight for c in self.classes])

    @property
    def variance(self) -> np.ndarray:
        return np.array([c.s_weight for c in self.classes]) ** 2

    @property
    def share(self) -> np.ndarray:
        """Share of the layer's data area in each class (for the missing-data variance)."""
        a = np.array([c.area for c in self.classes])
        return a / a.sum()

    def classify(self, v: np.ndarray) -> np.ndarray:
        """Class index of raw values (any shape); ``len(classes)`` marks missing data or unseen values."""
        v = np.asarray(v, float)
        out = np.full(v.shape, len(self.classes), np.int64)
        ok = np.isfinite(v)
        if self.values:
            vals = np.asarray(self.values)
            for k, val in enumerate(vals):
                out[ok & (v == val)] = k
        else:
            inner = np.asarray(self.edges[1:-1], float)
            out[ok] = np.searchsorted(inner, v[ok], side="left")
        return out

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "LayerWeights":
        d = dict(d)
        d["classes"] = [ClassWeight(**c) for c in d["classes"]]
        return cls(**d)


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.6g}"


def _class(label, area, dep, w: dict, i, weight_key: str, note: str = "") -> ClassWeight:
    vals = {k: float(np.asarray(v)[i]) for k, v in w.items()}
    wt = vals[weight_key]
    s = vals["s_" + weight_key]
    return ClassWeight(label, float(area), float(dep), weight=wt, s_weight=s, note=note, **vals)


def check_counts(name: str, area: np.ndarray, deposits: np.ndarray) -> None:
    """Errors a geologist can act on: too few deposits, no data under them, no variation, overfull classes."""
    nd = float(deposits.sum())
    if nd == 0:
        raise GeoMLError(f"No training deposit falls on data of evidence layer '{name}'; check its extent and nodata.")
    if nd < 2:
        raise GeoMLError(f"Only one training deposit falls on data of evidence layer '{name}'; weights of "
                         "evidence needs at least two (better ten or more).")
    if (area > 0).sum() < 2:
        raise GeoMLError(f"Evidence layer '{name}' has one value over the whole area; it carries no evidence.")
    full = np.flatnonzero(deposits > area + 1e-9)
    if len(full):
        raise GeoMLError(f"Class {int(full[0])} of '{name}' holds {deposits[full[0]]:g} deposits on only "
                         f"{area[full[0]]:g} unit cells of area; the unit cell is too large for one deposit per "
                         "unit cell. Use a smaller unit cell area.")


def discrete_weights(name: str, kind: str, values: Sequence[float], area: np.ndarray, deposits: np.ndarray,
                     missing_area: float = 0.0) -> LayerWeights:
    """Binary (two values: the larger is the pattern) or categorical (one weight per class) layer."""
    area, deposits = np.asarray(area, float), np.asarray(deposits, float)
    check_counts(name, area, deposits)
    nt, nd = area.sum(), deposits.sum()
    if kind == "binary":
        if len(values) != 2:
            raise GeoMLError(f"Binary layer '{name}' has {len(values)} distinct values "
                             f"({', '.join(map(_fmt, values[:6]))}); give it as categorical or ordered.")
        w = weights_from_counts(area[1], deposits[1], nt, nd)
        if deposits[1] in (0, nd):
            where = "inside" if deposits[1] == nd else "outside"
            raise GeoMLError(f"All {nd:g} deposits lie {where} the pattern of binary layer '{name}' "
                             f"(value {_fmt(values[1])}), so its weights are infinite; it cannot be used.")
        one = {k: np.atleast_1d(v) for k, v in w.items()}
        classes = [_class(_fmt(values[0]), area[0], deposits[0], one, 0, "w_minus"),
                   _class(_fmt(values[1]), area[1], deposits[1], one, 0, "w_plus")]
        return LayerWeights(name, kind, classes, values=[float(v) for v in values], total_area=nt, total_deposits=nd,
                            missing_area=missing_area)
    if len(values) > MAX_CLASSES:
        raise GeoMLError(f"Categorical layer '{name}' has more than {MAX_CLASSES} classes; is it ordered? "
                         "Give it as ascending, descending or with class breaks.")
    if (deposits == deposits.sum()).any():
        k = int(np.argmax(deposits))
        raise GeoMLError(f"All {nd:g} deposits fall in class {_fmt(values[k])} of '{name}'; the weights of the "
                         "other classes cannot be estimated. Merge classes or leave the layer out.")
    return _per_class(name, kind, [_fmt(v) for v in values], area, deposits, missing_area,
                      values=[float(v) for v in values])


def _per_class(name, kind, labels, area, deposits, missing_area, **kw) -> LayerWeights:
    """One weight per class (W+ of the class as pattern); classes without deposits get weight 0."""
    nt, nd = area.sum(), deposits.sum()
    w = weights_from_counts(area, deposits, nt, nd)
    classes = []
    for i, lbl in enumerate(labels):
        cw = _class(lbl, area[i], deposits[i], w, i, "w_plus")
        if deposits[i] == 0 or area[i] - deposits[i] <= 0:
            cw.weight, cw.s_weight = 0.0, 0.0
            cw.note = ("no deposit: weight set to 0 (not estimable); merge this class with a neighbour"
                       if deposits[i] == 0 else "every unit cell holds a deposit: weight set to 0")
        classes.append(cw)
    return LayerWeights(name, kind, classes, total_area=nt, total_deposits=nd, missing_area=missing_area, **kw)


def ordered_weights(name: str, kind: str, edges: Sequence[float], area: np.ndarray, deposits: np.ndarray,
                    criterion: str = "contrast", missing_area: float = 0.0,
                    min_studentised: float = MIN_STUDENTISED) -> LayerWeights:
    """Ordered layer with fine classes between *edges* (``len(area) + 1`` edges, ``-inf`` .. ``inf``).

    ``ascending``: cumulative patterns ``v <= t`` (low values favourable, e.g. distance to a fault);
    ``descending``: ``v > t`` (high values favourable, e.g. a pathfinder element). The threshold with
    the largest contrast (or studentised contrast) among those leaving deposits on both sides splits
    the layer into pattern (W+) and complement (W−); ``ordered`` tries both directions and keeps the one
    with the larger contrast (or studentised contrast). With ``contrast``, only thresholds whose studentised
    contrast reaches *min_studentised* compete (thresholds near the ends, with one or two deposits on one
    side, give large but meaningless contrasts); when none does, the largest studentised contrast is
    taken. ``breaks``: each fine class keeps its own weight.
    """
    area, deposits = np.asarray(area, float), np.asarray(deposits, float)
    check_counts(name, area, deposits)
    edges = [float(e) for e in edges]
    nt, nd = area.sum(), deposits.sum()
    if kind == "breaks":
        labels = [f"{_fmt(lo)} < v <= {_fmt(hi)}" for lo, hi in zip(edges[:-1], edges[1:])]
        return _per_class(name, kind, labels, area, deposits, missing_area, edges=edges)
    if criterion not in CRITERIA:
        raise GeoMLError(f"Unknown generalisation criterion '{criterion}'; use one of {', '.join(CRITERIA)}.")
    if kind == "ordered":  # direction unknown (e.g. a principal component): the better of the two
        both = []
        for k in ("ascending", "descending"):
            try:
                both.append(ordered_weights(name, k, edges, area, deposits, criterion, missing_area, min_studentised))
            except GeoMLError:
                pass
        if not both:
            raise GeoMLError(f"No threshold of '{name}' leaves deposits on both sides; the layer cannot be generalised.")
        key = "studentised" if criterion == "studentised" else "contrast"
        return max(both, key=lambda lw: max(getattr(c, key) for c in lw.classes))
    asc = kind == "ascending"
    # pattern k: fine classes 0..k (ascending) or k+1..end (descending); threshold edges[k + 1]
    ca, cd = np.cumsum(area)[:-1], np.cumsum(deposits)[:-1]
    pa, pd_ = (ca, cd) if asc else (nt - ca, nd - cd)
    w = weights_from_counts(pa, pd_, nt, nd)
    ok = (pd_ > 0) & (pd_ < nd) & (pa - pd_ > 0) & (nt - pa - (nd - pd_) > 0)
    thresholds = np.asarray(edges[1:-1])
    candidates = [{"threshold": float(t), "pattern_area": float(a), "pattern_deposits": float(d),
                   **{k: float(v[i]) for k, v in w.items()}, "usable": bool(ok[i])}
                  for i, (t, a, d) in enumerate(zip(thresholds, pa, pd_))]
    if not ok.any():
        raise GeoMLError(f"No threshold of '{name}' leaves deposits on both sides (all {nd:g} deposits fall in "
                         "one class); the layer cannot be generalised.")
    feasible = ok & (w["studentised"] >= min_studentised)
    if criterion == "contrast" and feasible.any():
        k = int(np.flatnonzero(feasible)[np.argmax(w["contrast"][feasible])])
    else:
        k = int(np.flatnonzero(ok)[np.argmax(w["studentised"][ok])])
    t = float(thresholds[k])
    one = {key: np.atleast_1d(v[k]) for key, v in w.items()}
    inside = f"v <= {_fmt(t)}" if asc else f"v > {_fmt(t)}"
    outside = f"v > {_fmt(t)}" if asc else f"v <= {_fmt(t)}"
    pat = _class(inside, pa[k], pd_[k], one, 0, "w_plus")
    comp = _class(outside, nt - pa[k], nd - pd_[k], one, 0, "w_minus")
    classes, cut = ([pat, comp] if asc else [comp, pat]), [-np.inf, t, np.inf]
    for c in candidates:
        c["selected"] = c["threshold"] == t
    return LayerWeights(name, kind, classes, edges=cut, threshold=t, criterion=criterion, total_area=nt,
                        total_deposits=nd, missing_area=missing_area, candidates=candidates)


def candidate_edges(values: np.ndarray, n_thresholds: int = 50, name: str = "") -> list[float]:
    """Fine-class edges of an ordered layer: its distinct values when at most :data:`MAX_DISTINCT`
    (or *n_thresholds* + 1), else *n_thresholds* quantiles of *values*."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    u = np.unique(v)
    if len(u) < 2:
        raise GeoMLError(f"Evidence layer '{name}' has one value over the whole area; it carries no evidence.")
    if len(u) <= max(n_thresholds + 1, MAX_DISTINCT):
        inner = u[:-1]
    else:
        inner = np.unique(np.quantile(v, np.linspace(0, 1, n_thresholds + 2)[1:-1]))
    inner = inner[inner < u[-1]]
    return [-np.inf, *map(float, inner), np.inf]


def user_edges(breaks: Sequence[float]) -> list[float]:
    b = sorted(float(x) for x in breaks)
    if len(b) < 1 or len(set(b)) != len(b):
        raise GeoMLError("Class breaks must be one or more distinct numbers, e.g. '10,50,100'.")
    return [-np.inf, *b, np.inf]


def parse_breaks(text: str) -> dict[str, list[float]]:
    """``"cu: 20,50,100; dist_faults: 500,1000"`` -> ``{"cu": [20, 50, 100], "dist_faults": [500, 1000]}``."""
    out: dict[str, list[float]] = {}
    for part in (text or "").split(";"):
        if not part.strip():
            continue
        name, sep, vals = part.partition(":")
        try:
            if not sep or not name.strip():
                raise ValueError
            out[name.strip()] = [float(v) for v in vals.replace(" ", "").split(",") if v]
        except ValueError:
            raise GeoMLError(f"Cannot read the class breaks '{part.strip()}'; write 'layer: 10,50,100' and separate "
                             "layers with ';'.") from None
    return out


def parse_kinds(text: str) -> list[str]:
    """``"binary, categorical, descending"`` -> a list of evidence types (checked)."""
    ks = [k.strip().lower() for k in (text or "").replace(";", ",").split(",") if k.strip()]
    bad = [k for k in ks if k not in KINDS]
    if bad or not ks:
        raise GeoMLError(f"Evidence types are a comma-separated list of {', '.join(KINDS)}, one per evidence band "
                         f"(or one for all); got '{text}'.")
    return ks
