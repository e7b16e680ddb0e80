"""Is this cube read as it was written? Checks of magnitude and spectral smoothness.

A header with the wrong byte order, interleave or data type still opens, and a
classifier then maps noise with high confidence. Two cheap checks on a few rows
spread over the cube catch it:

* magnitude - reflectance lies near 0 to 1 (or 0 to 10,000 scaled), radiance below
  about 10^5; values like 3.4e38 or 1e-40 come from swapped bytes or a wrong type;
* smoothness - a spectrum changes little from one band to the next (the mean
  absolute band-to-band step is a fraction of the spectrum's spread), whereas
  values read in the wrong interleave or byte order jump like noise (a step about
  as large as the spread).
"""
from __future__ import annotations

import numpy as np

from ..errors import GeoMLError
from ..io.grid import Window
from ..progress import warn

#: values beyond this magnitude are no reflectance nor radiance
MAX_PLAUSIBLE = 1e6
#: median step/spread above this: the spectra are noise (random values give about 1.1)
MAX_ROUGHNESS = 0.7


def sample_pixels(cube, n_rows: int = 12, per_row: int = 500) -> np.ndarray:
    """Valid spectra (good bands) from *n_rows* rows spread over the cube, at most about *per_row*
    evenly spaced pixels of each (the figures' cost then does not grow with the cube's width),
    ``(n, n_good)``."""
    rows = np.unique(np.linspace(0, cube.height - 1, min(n_rows, cube.height)).astype(int))
    step = -(-cube.width // per_row)
    out = []
    for r in rows:
        pixels, valid = cube.read_pixels(Window(0, int(r), cube.width, 1))
        out.append(pixels[::step][valid[::step]])
    return np.concatenate(out) if out else np.empty((0, len(cube.good)), np.float32)


def roughness(spectra: np.ndarray) -> float:
    """Median over spectra of mean |band-to-band step| / standard deviation across bands."""
    x = np.asarray(spectra, np.float64)
    spread = x.std(axis=1)
    ok = spread > 0
    if not ok.any():
        return 0.0
    step = np.abs(np.diff(x[ok], axis=1)).mean(axis=1)
    return float(np.median(step / spread[ok]))


def _figures(cube, brief: bool = False) -> dict:
    """Magnitude and smoothness figures of a sample of *cube*'s spectra as it is read now (*brief*: the
    figures of an alternative reading, on a third of the rows, without the median and the roughness, which
    only the cube as read needs: a wrong reading scrambles every row, so a few rows show it)."""
    spectra = sample_pixels(cube, n_rows=4) if brief else sample_pixels(cube)
    f = {"n_pixels": int(len(spectra)), "max_abs": 0.0, "implausible": 0.0, "roughness": 0.0, "decorrelation": 0.0,
         "example": 0.0, "median": 0.0}
    if len(spectra) < 10:
        return f
    x = spectra.astype(np.float64)
    a = np.abs(x[np.isfinite(x)])
    bad = (a > MAX_PLAUSIBLE) | ((a > 0) & (a < 1e-30))
    f["max_abs"] = float(a.max())
    if not brief:
        f["median"] = float(np.median(a))
    f["implausible"] = float(bad.mean())
    f["example"] = float(a[bad][0]) if bad.any() else 0.0
    if f["implausible"] > 0.001 or x.shape[1] < 20:
        return f
    if not brief:
        f["roughness"] = roughness(x)
    sd = x.std(axis=0)
    ok = (sd[:-1] > 0) & (sd[1:] > 0)
    if ok.sum() >= 10:
        z = (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1)
        corr = (z[:, :-1] * z[:, 1:]).mean(axis=0)[ok]
        f["decorrelation"] = float(1.0 - np.median(corr))
    return f


def _alternatives(cube) -> list[tuple[str, str, dict]]:
    """Figures of the other interleaves and byte order of an ENVI cube: ``(interleave, byte order, figures)``."""
    if getattr(cube, "_ds", None) is not None or not hasattr(cube, "_interleave"):
        return []
    il0, dt0 = cube._interleave, cube._dtype
    out = []
    try:
        for il in ("bsq", "bil", "bip"):
            for dt in ((dt0, dt0.newbyteorder("S")) if dt0.itemsize > 1 else (dt0,)):
                if il == il0 and dt == dt0:
                    continue
                cube._interleave, cube._dtype = il, dt
                with np.errstate(all="ignore"):
                    out.append((il, "1 (big-endian)" if dt.byteorder == ">" else "0 (little-endian)",
                                _figures(cube, brief=True)))
    finally:
        cube._interleave, cube._dtype = il0, dt0
    return out


def check_plausible(cube, quantity: str = "reflectance") -> dict:
    """Refuse a cube whose values cannot be spectra as read; warn about a likely scale factor.

    For an ENVI cube the other interleaves and byte order are tried on the same
    sample: when one of them gives plausible, much smoother spectra, the message
    names it. Returns the figures of the cube as read.
    """
    with np.errstate(all="ignore"):
        f = _figures(cube)
    if f["n_pixels"] < 10:
        return f
    name = cube.name
    alternatives = None

    def better() -> str:
        nonlocal alternatives
        alternatives = _alternatives(cube) if alternatives is None else alternatives
        good = [(g["decorrelation"], il, bo) for il, bo, g in alternatives
                if g["implausible"] <= 0.001 and g["n_pixels"] >= 10 and g["decorrelation"] > 0]
        if not good:
            return ""
        d, il, bo = min(good)
        if f["implausible"] > 0.001 or d < f["decorrelation"] / 3:
            return f" The data read plausibly with 'interleave = {il}' and 'byte order = {bo.split()[0]}' in the .hdr."
        return ""

    if f["implausible"] > 0.001:
        raise GeoMLError(
            f"The cube '{name}' holds values such as {f['example']:.3g} ({100 * f['implausible']:.1f} % of a sample), "
            f"which no {quantity} spectrum has. Most likely its header gives the wrong byte order ('byte order = 0' or "
            "'= 1' in the .hdr) or data type; or a nodata value is not declared ('data ignore value')." + better()
            + " Fix the header and run again."
        )
    if f["decorrelation"] > 0:
        hint = better()
        if hint or f["roughness"] > MAX_ROUGHNESS:
            interleave = getattr(cube, "_interleave", None)
            cause = (f"the header's 'interleave = {interleave}' or byte order does not match how the data file is laid out"
                     if interleave else "the bands are not in wavelength order or the file's band layout is wrong")
            raise GeoMLError(
                f"The spectra of '{name}' do not change smoothly from band to band (neighbouring bands correlate at "
                f"{1 - f['decorrelation']:.3f}; band-to-band step {f['roughness']:.2f} x the spread). Most likely "
                f"{cause}.{hint} Fix the header and run again."
            )
    if quantity == "reflectance" and 2.0 < f["max_abs"] <= 70000 and f["median"] > 1.5:
        warn(f"The cube '{name}' holds values up to {f['max_abs']:g} (median {f['median']:g}): reflectance scaled by "
             "a factor (often 10,000) or radiance. Spectral libraries are in 0 to 1: divide the cube by its scale "
             "factor (header 'reflectance scale factor') before matching it against a library.")
    return f
