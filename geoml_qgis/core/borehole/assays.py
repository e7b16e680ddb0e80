"""Assay tables into samples along holes: detection-limit cleaning and straight-hole desurveying.

Cleaning rules (every substitution is counted and reported, never silent):

* ``<0.01`` (text) - below the detection limit 0.01: replaced by half the limit, 0.005;
* missing-value codes - ``-9999``, ``-999``, ``-99`` and any value the user lists
  (numbers or text such as ``IS``): missing, never a detection limit;
* a negative number ``-0.01`` - with ``negative="detection_limit"`` (the convention of
  many laboratories, chosen in the algorithm) the flag for "below 0.01": replaced by
  0.005; a negative value larger than every measured value cannot be a detection limit
  and is an error naming it. With ``negative="missing"`` it is missing; with
  ``negative="error"`` an error;
* a flag column ``<element>_flag`` holding ``<``, ``BDL`` or ``ND``: the value is the detection
  limit, replaced by half of it;
* ``>1000`` (over range): the limit itself, 1000;
* ``0``: an unreported detection limit: half the smallest positive value of that element;
* blanks and ``NA``-like tokens: missing; a sample missing any element is dropped;
* any other text: an error naming the element, the row and the value.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import GeoMLError
from ..progress import warn
from ..io.vector import MISSING_TOKENS

_BELOW = re.compile(r"^\s*<\s*=?\s*([0-9.eE+-]+)\s*$")
_ABOVE = re.compile(r"^\s*>\s*=?\s*([0-9.eE+-]+)\s*$")
FLAG_TOKENS = {"<", "bdl", "nd", "<dl", "bd", "l"}
#: numeric codes laboratories and databases write for "no value"
DEFAULT_MISSING_CODES = (-9999.0, -999.0, -99.0)
NEGATIVE_CONVENTIONS = ("detection_limit", "missing", "error")
#: text that reads like "not analysed" (answered with advice about missing-value codes)
_NOT_ANALYSED = re.compile(r"^\s*(n\.?\s*a\.?|n\.?\s*s\.?|is|lnr|nr|not\s+\w+|no\s+\w+|ins\w*)\b", re.I)


@dataclass
class CleaningLog:
    """What cleaning did: a per-element count table and messages for the user."""

    counts: pd.DataFrame
    messages: list[str] = field(default_factory=list)
    dropped_rows: int = 0
    dropped_elements: list[str] = field(default_factory=list)


def _parse_cell(value) -> tuple[float, str]:
    """One assay cell -> (value, kind) with kind in ok/blank/below/above/negative/zero/text."""
    if value is None:
        return np.nan, "blank"
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        v = float(value)
        if np.isnan(v):
            return np.nan, "blank"
        if v < 0:
            return -v / 2.0, "negative"
        return v, "zero" if v == 0 else "ok"
    text = str(value).strip()
    if text.lower() in MISSING_TOKENS:
        return np.nan, "blank"
    m = _BELOW.match(text)
    if m:
        return abs(float(m.group(1))) / 2.0, "below"
    m = _ABOVE.match(text)
    if m:
        return float(m.group(1)), "above"
    try:
        return _parse_cell(float(text.replace(",", ".") if text.count(",") == 1 and "." not in text else text))
    except ValueError:
        return np.nan, "text"


def _split_codes(codes) -> tuple[np.ndarray, set[str]]:
    """Missing-value codes as numbers and as lower-case text."""
    nums, texts = [], set()
    for c in codes:
        try:
            nums.append(float(str(c).strip()))
        except ValueError:
            if str(c).strip():
                texts.add(str(c).strip().lower())
    return np.asarray(nums, float), texts


def _parse_column(col: pd.Series, codes: tuple[np.ndarray, set[str]] = (np.asarray(DEFAULT_MISSING_CODES), set())
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Values and kinds of a column: numbers classified at once, text cell by cell.

    Kinds: ok, zero, negative (half the absolute value), below, above, blank, text and
    missing_code (NaN). Negative values are left for :func:`clean_assays` to judge.
    """
    num_codes, text_codes = codes
    text = col.astype(str).str.strip()
    numeric = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
    coded = np.isin(numeric, num_codes) | text.str.lower().isin(text_codes).to_numpy()
    vals = np.abs(numeric)
    vals[numeric < 0] /= 2.0
    kinds = np.where(numeric < 0, "negative", np.where(numeric == 0, "zero", "ok")).astype(object)
    for i in np.flatnonzero(np.isnan(numeric) & ~coded):
        vals[i], kinds[i] = _parse_cell(col.iat[i])
        if kinds[i] in ("negative", "zero", "ok") and np.isin(-2.0 * vals[i] if kinds[i] == "negative" else vals[i], num_codes):
            kinds[i] = "missing_code"  # '-999' written as text
    vals[coded], kinds[coded] = np.nan, "missing_code"
    vals[kinds == "missing_code"] = np.nan
    return vals, kinds


def clean_assays(
    df: pd.DataFrame,
    elements: list[str],
    missing_values=DEFAULT_MISSING_CODES,
    negative: str = "detection_limit",
) -> tuple[pd.DataFrame, np.ndarray, CleaningLog]:
    """Clean element columns of *df*.

    *missing_values* are codes meaning "no value" (numbers or text); *negative* is the
    convention for other negative numbers: ``detection_limit``, ``missing`` or ``error``.

    Returns
    -------
    values : DataFrame of shape (n_kept, n_elements_kept), float64, strictly positive
    kept : bool ndarray of shape (n,), rows of *df* kept
    log : :class:`CleaningLog`
    """
    if not elements:
        raise GeoMLError("Choose the element (assay) fields to cluster on.")
    missing = [e for e in elements if e not in df.columns]
    if missing:
        raise GeoMLError(f"Element field(s) {', '.join(missing)} not found; available: {', '.join(map(str, df.columns))}.")
    if negative not in NEGATIVE_CONVENTIONS:
        raise ValueError(f"negative must be one of {NEGATIVE_CONVENTIONS}")
    codes = _split_codes(missing_values)
    lower = {str(c).lower(): c for c in df.columns}
    out, rows = {}, []
    for el in elements:
        vals, kinds = _parse_column(df[el], codes)
        if (kinds == "text").any():
            i = int(np.flatnonzero(kinds == "text")[0])
            cell = str(df[el].iloc[i]).strip()
            advice = (f"If '{cell}' means 'not analysed' or 'no value', add it to the missing-value codes "
                      "(or blank those cells)." if _NOT_ANALYSED.match(cell)
                      else "Fix it, or write below-detection values as '<0.01'.")
            raise GeoMLError(
                f"Element '{el}' holds text that is not a number or a detection-limit value "
                f"('{cell}' in row {i + 1}). {advice}"
            )
        neg = kinds == "negative"
        if neg.any():
            i = int(np.flatnonzero(neg)[0])
            if negative == "error":
                raise GeoMLError(
                    f"Element '{el}' holds negative values ({df[el].iloc[i]} in row {i + 1}). If your laboratory writes "
                    "'below detection limit' as a negative number, choose that convention for negative values; if "
                    "they are missing-value codes, list them as such."
                )
            if negative == "missing":
                vals[neg], kinds[neg] = np.nan, "negative_missing"
            else:
                measured = vals[kinds == "ok"]
                too_big = neg & (2.0 * vals > (measured.max() if measured.size else np.inf))
                if too_big.any():
                    j = int(np.flatnonzero(too_big)[0])
                    raise GeoMLError(
                        f"Element '{el}' holds {df[el].iloc[j]} (row {j + 1}): as a detection-limit flag it would mean "
                        f"'below {2.0 * vals[j]:g}', above every measured value ({measured.max():g}), so it must be a "
                        "missing-value code. Add it to the missing-value codes, or fix the value."
                    )
        flag_col = lower.get(f"{str(el).lower()}_flag")
        flagged = np.zeros(len(df), bool)
        if flag_col is not None:
            flagged = df[flag_col].astype(str).str.strip().str.lower().isin(FLAG_TOKENS).to_numpy() & (kinds == "ok")
            vals[flagged] /= 2.0
            kinds[flagged] = "flag"
        zero = kinds == "zero"
        if zero.any():
            positive = vals[vals > 0]
            if positive.size == 0:
                raise GeoMLError(f"Element '{el}' has no positive value: it cannot be used.")
            vals[zero] = positive.min() / 2.0
        out[el] = vals
        rows.append({
            "element": el, "valid": int((kinds == "ok").sum()),
            "below_dl_text": int((kinds == "below").sum()), "negative_flag": int((kinds == "negative").sum()),
            "flag_column": int((kinds == "flag").sum()), "zero": int(zero.sum()),
            "over_range": int((kinds == "above").sum()), "blank": int((kinds == "blank").sum()),
            "missing_code": int((kinds == "missing_code").sum()), "negative_missing": int((kinds == "negative_missing").sum()),
        })
    values = pd.DataFrame(out, index=df.index)
    counts = pd.DataFrame(rows)
    log = CleaningLog(counts)
    subst = int(counts[["below_dl_text", "negative_flag", "flag_column"]].to_numpy().sum())
    if subst:
        log.messages.append(f"{subst} below-detection value(s) replaced by half the detection limit.")
    if counts["zero"].sum():
        log.messages.append(f"{int(counts['zero'].sum())} zero value(s) replaced by half the element's smallest positive value.")
    if counts["missing_code"].sum():
        per = ", ".join(f"{r.element}: {r.missing_code}" for r in counts.itertuples() if r.missing_code)
        log.messages.append(f"{int(counts['missing_code'].sum())} missing-value code(s) (e.g. -9999, -999, -99) read as "
                            f"missing, not as values ({per}).")
    if counts["negative_missing"].sum():
        log.messages.append(f"{int(counts['negative_missing'].sum())} negative value(s) read as missing.")
    kept = values.notna().all(axis=1).to_numpy()
    log.dropped_rows = int((~kept).sum())
    if log.dropped_rows:
        log.messages.append(f"{log.dropped_rows} sample(s) with a blank element value dropped.")
    if not kept.any():
        raise GeoMLError("Every sample misses at least one element value; choose fewer elements.")
    values = values[kept]
    constant = [el for el in values.columns if np.nanstd(values[el].to_numpy()) == 0]
    if constant:
        log.dropped_elements = constant
        log.messages.append(f"Constant element(s) ignored (they cannot separate samples): {', '.join(map(str, constant))}.")
        values = values.drop(columns=constant)
    if values.shape[1] == 0:
        raise GeoMLError("Every chosen element is constant (e.g. all below detection): nothing to cluster on.")
    return values, kept, log


def hole_ids(series: pd.Series) -> np.ndarray:
    """Hole identifiers as text; a blank id is an error naming the rows."""
    text = series.astype(object).where(series.notna(), "").astype(str).str.strip()
    blank = text.str.lower().isin(MISSING_TOKENS).to_numpy()
    if blank.any():
        rows = ", ".join(str(i + 1) for i in np.flatnonzero(blank)[:5])
        raise GeoMLError(f"{int(blank.sum())} sample(s) have no hole id (row {rows}); every sample needs its hole.")
    return text.str.replace(r"\.0$", "", regex=True).to_numpy()


def desurvey_straight(collar_xyz: np.ndarray, azimuth: np.ndarray, dip: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """Positions at along-hole *depth* of straight holes.

    Parameters
    ----------
    collar_xyz : (n, 3) collar X, Y, elevation of each sample's hole
    azimuth : (n,) degrees clockwise from north
    dip : (n,) degrees from horizontal; holes go down whatever the sign (-60 and 60 are the same)
    depth : (n,) distance along the hole from the collar

    Returns
    -------
    (n, 3) X, Y, Z
    """
    az, dp = np.radians(azimuth), np.radians(np.abs(dip))
    horiz = depth * np.cos(dp)
    return np.column_stack([
        collar_xyz[:, 0] + horiz * np.sin(az),
        collar_xyz[:, 1] + horiz * np.cos(az),
        collar_xyz[:, 2] - depth * np.sin(dp),
    ])


def _warn_overlaps(holes: np.ndarray, frm: np.ndarray, to: np.ndarray) -> int:
    """Warn about intervals of one hole that overlap (a from/to typing error or duplicated rows); returns their count."""
    order = np.lexsort((frm, holes))
    h, f, t = np.asarray(holes, object)[order], frm[order], to[order]
    same = h[1:] == h[:-1]
    over = same & (f[1:] < t[:-1] - 1e-9)
    n = int(over.sum())
    if n:
        i = int(np.flatnonzero(over)[0])
        warn(f"{n} interval(s) overlap the one above them in the same hole (first: hole '{h[i]}', {f[i]:g}-{t[i]:g} "
             f"and {f[i + 1]:g}-{t[i + 1]:g}). Check the FROM/TO depths: overlapping samples count twice.")
    return n


def intervals_to_positions(holes: np.ndarray, frm: np.ndarray, to: np.ndarray, collars: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Interval midpoints of straight holes.

    *collars* has columns ``hole, x, y, z, azimuth, dip`` (one row per hole). Returns
    ``(xyz of shape (n, 3), midpoint depth of shape (n,))``.
    """
    dup = collars["hole"][collars["hole"].duplicated()]
    if len(dup):
        raise GeoMLError(f"Hole '{dup.iloc[0]}' appears more than once in the collar table.")
    if np.isnan(frm).any() or np.isnan(to).any():
        raise GeoMLError("Some intervals have no FROM or TO depth.")
    if (to <= frm).any():
        i = int(np.flatnonzero(to <= frm)[0])
        raise GeoMLError(f"Interval in row {i + 1} of hole '{holes[i]}' has TO ({to[i]}) not below FROM ({frm[i]}).")
    _warn_overlaps(holes, frm, to)
    table = collars.set_index("hole")
    unknown = sorted(set(holes) - set(table.index))
    if unknown:
        raise GeoMLError(f"Hole(s) {', '.join(unknown[:5])} have intervals but no collar.")
    c = table.loc[holes]
    if c[["x", "y", "z"]].isna().any().any():
        raise GeoMLError("Some collars have no X, Y or elevation.")
    mid = (frm + to) / 2.0
    xyz = desurvey_straight(c[["x", "y", "z"]].to_numpy(float), c["azimuth"].fillna(0).to_numpy(float),
                            c["dip"].fillna(-90).to_numpy(float), mid)
    return xyz, mid
