"""A FAMILY of synthetic drilling data sets with known units, to test methods beyond one recipe.

Each configuration draws (all SYNTHETIC):

* 2-8 units stacked in a random order, each 5-60 % of the vertical section (so of the samples);
* 5-30 elements, some of them uninformative (the same in every unit), the others with unit
  means in log space spread by a random multiple of the noise;
* multiplicative log-normal noise, sigma 0.2-0.6 in natural-log units (about 20-60 %);
* censoring below a detection limit, up to 40 % of an element's samples, replaced by half the
  limit as :func:`~.assays.clean_assays` does;
* gradational contacts: within a random width around each contact a sample is a physical
  mixture (in concentrations) of the units above and below; its true unit is the one at its centre;
* 6-20 holes at dips of 45, 60, 75 or 90 degrees and any azimuth through gently tilted,
  undulating layers, sampled at a regular interval along the hole.

Separability is measured from the generator: the Bayes error of the noise-only model (each
unit a Gaussian in clr space around its mean, prior = its share of samples), estimated by
Monte Carlo with the Bayes rule (the true means and noise). A configuration is kept when the
Bayes error of *every* unit (the share of its samples the Bayes rule assigns elsewhere) is
below ``max_bayes_error``: an overall rate could hide a thin unit that no method can find.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DIPS = (45.0, 60.0, 75.0, 90.0)


@dataclass
class FamilyConfig:
    """The drawn parameters of one configuration (see the module docstring)."""

    n_units: int
    fractions: np.ndarray  # (n_units,) vertical shares, top to bottom order of units 1..n
    n_elements: int
    informative: np.ndarray  # (n_elements,) bool
    noise: float  # sigma of ln(concentration)
    censored: np.ndarray  # (n_elements,) fraction below detection
    gradation: float  # contact half-width in sample intervals (vertical)
    n_holes: int
    samples_vertical: int  # samples a vertical hole takes through the section
    separation: float  # spread of unit means, in multiples of the noise
    seed: int


@dataclass
class FamilyCase:
    """values (n, m) positive; truth (n,) unit 1..n_units; hole (n,) str; depth (n,); xyz (n, 3);
    means (n_units, m) ln-means of the units; bayes_error per unit (n_units,)."""

    config: FamilyConfig
    values: np.ndarray
    truth: np.ndarray
    hole: np.ndarray
    depth: np.ndarray
    xyz: np.ndarray
    means: np.ndarray
    bayes_error: np.ndarray

    @property
    def n_units(self) -> int:
        return self.config.n_units


def _fractions(rng: np.random.Generator, k: int) -> np.ndarray:
    """Shares of k units, each within 5-60 % (rejection from a Dirichlet)."""
    for _ in range(10000):
        f = rng.dirichlet(np.full(k, 1.5))
        if f.min() >= 0.05 and f.max() <= 0.60:
            return f
    return np.full(k, 1.0 / k)


def random_config(rng: np.random.Generator) -> FamilyConfig:
    """One configuration drawn from the family's ranges."""
    k = int(rng.integers(2, 9))
    m = int(rng.integers(5, 31))
    informative = rng.random(m) < rng.uniform(0.4, 1.0)
    informative[rng.integers(m)] = True
    censored = np.where(rng.random(m) < 0.5, rng.uniform(0.0, 0.4, m), 0.0)
    fractions = _fractions(rng, k)
    samples_vertical = int(rng.integers(30, 71))
    # enough holes that the thinnest unit holds at least 15 samples
    n_holes = int(np.clip(np.ceil(15 / (fractions.min() * samples_vertical)), 6, 20))
    n_holes = max(n_holes, int(rng.integers(6, 21)))
    return FamilyConfig(k, fractions, m, informative, float(rng.uniform(0.2, 0.6)), censored,
                        float(rng.uniform(0.0, 1.5)), n_holes, samples_vertical, float(rng.uniform(0.8, 3.0)),
                        int(rng.integers(2**31)))


def _clr(logs: np.ndarray) -> np.ndarray:
    return logs - logs.mean(axis=-1, keepdims=True)


def bayes_error(means: np.ndarray, noise: float, priors: np.ndarray, n_mc: int = 4000,
                seed: int = 0) -> np.ndarray:
    """Per-unit Bayes error of Gaussian units in clr space (isotropic ln noise *noise*), by Monte
    Carlo: the share of each unit's draws that the Bayes rule (true means, noise, priors) assigns
    to another unit. Returns (n_units,)."""
    rng = np.random.default_rng(seed)
    mu = _clr(means)
    err = np.zeros(len(means))
    logp = np.log(priors)
    for u in range(len(means)):
        x = _clr(means[u] + rng.normal(0.0, noise, (n_mc, means.shape[1])))
        d2 = ((x[:, None, :] - mu[None, :, :]) ** 2).sum(axis=2)
        post = logp[None, :] - d2 / (2 * noise**2)
        err[u] = float((post.argmax(axis=1) != u).mean())
    return err


def _unit_means(rng: np.random.Generator, cfg: FamilyConfig) -> np.ndarray:
    base = rng.normal(1.0, 1.5, cfg.n_elements)
    spread = cfg.separation * cfg.noise
    means = base + rng.normal(0.0, spread, (cfg.n_units, cfg.n_elements)) * cfg.informative
    return means


def make_case(cfg: FamilyConfig) -> FamilyCase:
    """The samples of configuration *cfg* (see the module docstring)."""
    rng = np.random.default_rng(cfg.seed)
    means = _unit_means(rng, cfg)
    err = bayes_error(means, cfg.noise, cfg.fractions, seed=cfg.seed)
    interval = 1.0
    total = cfg.samples_vertical * interval
    tops = np.concatenate([[0.0], np.cumsum(cfg.fractions)[:-1]]) * total  # depth below datum of each unit top
    tilt = rng.normal(0.0, 0.03, 2)
    side = 60.0 * np.sqrt(cfg.n_holes)

    def section_top(x: np.ndarray, y: np.ndarray) -> np.ndarray:  # elevation of the (tilted, undulating) top
        return -2.0 + x * tilt[0] + y * tilt[1] + np.sin(x / 25.0)

    holes, depth, xyz = [], [], []
    for h in range(cfg.n_holes):
        dip = np.radians(rng.choice(DIPS))
        az = np.radians(rng.uniform(0, 360))
        x0, y0 = rng.uniform(0, side, 2)
        # collared 2 m above the section top and long enough to cross the whole section wherever it
        # is drilled, so that every unit keeps its share of the samples
        z0 = section_top(np.array(x0), np.array(y0)) + 2.0
        length = (total + 4.0) / np.sin(dip)
        length += 2.0 * abs(np.cos(dip)) * length * (np.abs(tilt).sum() + 1.0 / 25.0) + 4.0
        d = np.arange(0.5, length, interval)
        horiz = d * np.cos(dip)
        pts = np.column_stack([x0 + horiz * np.sin(az), y0 + horiz * np.cos(az), z0 - d * np.sin(dip)])
        holes += [f"H{h + 1:02d}"] * len(d)
        depth.append(d)
        xyz.append(pts)
    depth, xyz, holes = np.concatenate(depth), np.vstack(xyz), np.array(holes)
    # depth below the top of the section; samples above or below it are dropped
    below = section_top(xyz[:, 0], xyz[:, 1]) - xyz[:, 2]
    keep = (below >= 0) & (below < total)
    depth, xyz, holes, below = depth[keep], xyz[keep], holes[keep], below[keep]
    truth = np.searchsorted(tops, below, side="right")  # 1..k
    conc = np.exp(means)  # (k, m)
    value = conc[truth - 1].copy()
    if cfg.gradation > 0:  # mix the units on both sides of each contact in concentration space
        width = cfg.gradation * interval
        for c in range(1, cfg.n_units):
            frac = 1.0 / (1.0 + np.exp(np.clip(-(below - tops[c]) / (width / 2.0), -50, 50)))  # share of the unit below
            near = np.abs(below - tops[c]) < 4 * width
            near &= (truth == c) | (truth == c + 1)
            value[near] = (1 - frac[near, None]) * conc[c - 1] + frac[near, None] * conc[c]
    values = value * np.exp(rng.normal(0.0, cfg.noise, value.shape))
    for j in range(cfg.n_elements):
        if cfg.censored[j] > 0:
            dl = np.quantile(values[:, j], cfg.censored[j])
            values[values[:, j] < dl, j] = dl / 2.0
    return FamilyCase(cfg, values, truth, holes, depth, xyz, means, err)


def bayes_rule_labels(case: FamilyCase) -> np.ndarray:
    """(n,) units 1..k the Bayes rule gives each sample knowing the generator: the true ln-means and
    noise (log space, where the noise is isotropic), the priors, and censoring (a cell at its
    element's repeated minimum counts with the probability of falling below the limit). Samples at
    gradational contacts are mixtures the rule does not model: the ARI of these labels is the
    ceiling of any method that labels each sample on its own."""
    from scipy.stats import norm

    logs, cfg = np.log(case.values), case.config
    censored = np.zeros(logs.shape, bool)
    limit = np.full(logs.shape[1], np.inf)
    for j in np.flatnonzero(cfg.censored > 0):
        censored[:, j] = logs[:, j] == logs[:, j].min()
        limit[j] = logs[:, j].min() + np.log(2.0)  # cleaning wrote half the limit
    score = np.empty((len(logs), cfg.n_units))
    for u in range(cfg.n_units):
        dense = -0.5 * ((logs - case.means[u]) / cfg.noise) ** 2
        below = norm.logcdf((limit - case.means[u]) / cfg.noise)[None, :]
        score[:, u] = np.where(censored, below, dense).sum(axis=1) + np.log(cfg.fractions[u])
    return score.argmax(axis=1) + 1


def family(n_cases: int, seed: int = 0, max_bayes_error: float = 0.05):
    """Yield *n_cases* cases whose every unit has a Bayes error below *max_bayes_error*."""
    rng = np.random.default_rng(seed)
    made = 0
    while made < n_cases:
        case = make_case(random_config(rng))
        if case.bayes_error.max() < max_bayes_error and len(np.unique(case.truth)) == case.n_units:
            made += 1
            yield case
