"""Per-parameter help (the tooltip of each label in the dialog, QGIS >= 3.16 ``setHelp``).

Labels stay short ("Pixel size (map units)"); the detail goes here. A parameter's help is, first
found: its algorithm's ``PARAMETER_HELP[id]``, the passage of the algorithm's help text that
introduces it (``<b>Label</b> ...`` or ``(ID)``, up to the next line break), or the shared
:data:`SHARED_HELP` of the vocabulary (``docs/parameters.md``).
"""
from __future__ import annotations

import html
import re

SHARED_HELP = {
    "SEED": "Random seed: the same seed gives the same result on every run.",
    "CRS": "Coordinate reference system of X/Y fields in a table without geometry (ignored for layers "
           "with geometry, which carry their own).",
    "X_FIELD": "Easting of the samples in a table without geometry (or overriding the points). Found by name "
               "(x, east, easting...) when left empty.",
    "Y_FIELD": "Northing of the samples in a table without geometry (or overriding the points). Found by name "
               "(y, north, northing...) when left empty.",
    "Z_FIELD": "Elevation of the samples, in map units.",
    "HOLE_FIELD": "Drill-hole name. Found by name (hole, hole_id, BHID...) when left empty.",
    "DEPTH_FIELD": "Along-hole depth of a sample, from the collar. Found by name (depth, md...) when left empty.",
    "LABEL_FIELD": "Class or deposit label: 1 = deposit, 0 = not a deposit for prospectivity. Found by name "
                   "(label, deposit, DEP...) when left empty.",
    "FEATURE_FIELDS": "Numeric fields used as features, in the order the model expects.",
    "COLLAR_HOLE_FIELD": "Hole id field of the collar table (hole, hole_id, BHID... found by name).",
    "COLLAR_X_FIELD": "Collar easting (x, east, easting... found by name).",
    "COLLAR_Y_FIELD": "Collar northing (y, north, northing... found by name).",
    "COLLAR_Z_FIELD": "Collar elevation (z, elev, RL... found by name).",
    "AZIMUTH_FIELD": "Collar azimuth in degrees clockwise from north, 0-360; holes are vertical without it.",
    "DIP_FIELD": "Collar dip in degrees from horizontal; holes are vertical without it.",
    "SURVEY_HOLE_FIELD": "Hole id field of the survey table.",
    "SURVEY_DEPTH_FIELD": "Along-hole depth of each survey station.",
    "SURVEY_AZIMUTH_FIELD": "Survey azimuth in degrees clockwise from north, 0-360.",
    "SURVEY_DIP_FIELD": "Survey dip in degrees from horizontal, its sign as the dip convention says.",
    "DIP_CONVENTION": "Sign of downward dips in the survey table: negative (-90 = straight down, the usual "
                      "convention) or positive (+90 = down).",
    "SURVEY": "Downhole survey table: one row per station (hole id, depth along the hole, azimuth, dip); the "
              "holes are desurveyed by minimum curvature.",
    "COLLARS": "Collar table: hole id, X, Y, elevation and optionally azimuth and dip of each hole.",
    "EXTENT": "Extent of the output grid (with the pixel size), in any CRS; reprojected to the points' CRS.",
    "PIXEL_SIZE": "Side of an output cell in map units (metres in a projected CRS), with the output extent.",
    "REFERENCE": "A raster whose grid (extent, cell size, CRS) the output takes exactly.",
    "VARIOGRAM_MODEL": "Variogram model: auto fits spherical, exponential, Gaussian and stable and keeps the best; "
                       "ignored when a variogram file is given.",
    "VARIOGRAM_FILE": "A variogram model written by Fit variogram (JSON); used instead of fitting one here.",
    "NUGGET": "Fixed nugget; left empty, it is fitted.",
    "SILL": "Fixed total sill (nugget included); left empty, it is fitted.",
    "RANGE": "Fixed practical range in map units; left empty, it is fitted.",
    "ANISOTROPY_RATIO": "Minor range / major range (1 = isotropic).",
    "ANISOTROPY_ANGLE": "Direction of the major range, in degrees counter-clockwise from east.",
    "NEIGHBOURS": "Nearest samples used for each estimate (0 = all).",
    "SEARCH_RADIUS": "Only samples within this distance (map units) are used; empty = no limit.",
    "Z_LEVEL": "Elevation (map units) of the horizontal slice mapped from a 3D model; default the mean "
               "sample Z.",
    "OUTPUT_REPORT": "HTML report with the figures and plots of the run; open it in a browser or from the "
                     "Processing results viewer.",
    "OUTPUT_CSV": "The figures or per-sample table of the run as CSV, for a spreadsheet or the next step.",
    "OUTPUT_MODEL": "The trained model or fitted variogram file (weights and JSON metadata, no executable "
                    "content). Choose a file: a temporary one is deleted when QGIS closes.",
    "OUTPUT_ESTIMATE": "GeoTIFF of the kriging estimate.",
    "OUTPUT_VARIANCE": "GeoTIFF of the kriging (or conditional) variance.",
    "OUTPUT_ETYPE": "E-type estimate: the mean of the local distribution or of the realisations.",
    "OUTPUT_EXCEEDANCE": "Probability of exceeding each cut-off, one band per cut-off named P(>cut-off).",
    "OUTPUT_SD": "Standard deviation raster.",
    "OUTPUT": "The main output of the algorithm.",
    "MODEL": "A model file written by the matching training algorithm.",
    "EPOCHS": "Training epochs of the network (passes over the training data).",
    "MEMBERS": "Members of the ensemble; their spread is the uncertainty.",
    "FOLDS": "Cross-validation folds: the data are split into this many parts, each held out once.",
    "MIN_SPACING": "Picked places are at least this far apart (map units).",
    "N_TARGETS": "How many places to pick.",
    "INPUTS": "The input rasters; every band of each is used.",
    "LATENT_DIM": "Latent dimensions of each variational autoencoder of the VAE ensemble.",
    "UNLABELLED": "Random background cells of the stack the VAE ensemble also learns from (no label needed).",
    "THRESHOLD_CRITERION": "Where an ordered evidence layer is cut into present/absent: at the largest contrast "
                           "among thresholds whose studentised contrast reaches the minimum, or at the largest "
                           "studentised contrast.",
    "MIN_STUDENTISED": "Smallest studentised contrast (contrast / its standard deviation) a threshold needs under "
                       "the contrast criterion; 2 is about 95 % confidence.",
    "THRESHOLDS": "Candidate thresholds (quantiles) tried on an ordered layer with many distinct values.",
    "CLASS_BREAKS": "Class breaks of 'breaks' layers, per layer: 'layer: 10,50,100; other: 1'.",
    "EVIDENCE_TYPES": "One type per evidence layer, separated by commas (one value applies to all): binary "
                      "(0/1), categorical (classes), ascending or descending (ordered, favourable when high or "
                      "low), ordered (direction chosen by contrast), breaks (classes cut at CLASS_BREAKS).",
    "OUTPUT_POSTERIOR": "Posterior probability of a deposit in each unit cell (GeoTIFF).",
    "OUTPUT_WEIGHTS": "Weights table (CSV): W+, W-, contrast and its studentised value per evidence class.",
    "OUTPUT_EXPLANATIONS": "Permutation importance and partial-dependence curves of the evidence (CSV).",
}


def _plain(text: str) -> str:
    text = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def help_from_text(help_html: str, name: str, label: str) -> str:
    """The passage of *help_html* that introduces parameter *name* (by ``(NAME)`` or its bold label)."""
    short = re.escape(label.split(" (")[0])
    for pattern in (rf"<b>[^<]*</b>\s*\({re.escape(name)}\b[^)]*\)", rf"<b>{short}</b>"):
        m = re.search(pattern, help_html, re.I)
        if m:
            rest = help_html[m.start():]
            # up to the line break, or to the next item ("..., <b>Next</b>")
            nxt = re.search(r"[,;.]\s*(?:or\s+|and\s+)?<b>", rest[len(m.group(0)):])
            ends = [rest.find("<br>", 1), len(rest), len(m.group(0)) + nxt.start() + 1 if nxt else -1]
            end = min(i for i in ends if i > 0)
            passage = _plain(rest[:end])
            if len(passage) >= len(_plain(m.group(0))) + 25:  # more than the label itself
                return passage if len(passage) <= 400 else passage[:397].rsplit(" ", 1)[0] + "..."
    return ""


def parameter_help(alg, param) -> str:
    """The help of *param* in *alg* (see the module docstring); '' when none is written."""
    own = getattr(alg, "PARAMETER_HELP", {}).get(param.name())
    return own or help_from_text(alg.HELP, param.name(), param.description()) or SHARED_HELP.get(param.name(), "")
