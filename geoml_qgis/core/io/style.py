"""Default QGIS styles (QML) for raster outputs, written beside the GeoTIFF.

QGIS loads ``name.qml`` automatically when it opens ``name.tif``, so outputs of
``qgis_process`` and of the toolbox open styled. This module only writes XML
text: it does not import qgis.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence
from xml.sax.saxutils import quoteattr

# perceptually uniform ramps, sampled at 5 stops
RAMPS = {
    "viridis": ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"],
    "magma": ["#000004", "#51127c", "#b73779", "#fc8961", "#fcfdbf"],
    "spectral_r": ["#2b83ba", "#abdda4", "#ffffbf", "#fdae61", "#d7191c"],
    "blues": ["#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b"],
    "rdbu_r": ["#2166ac", "#92c5de", "#f7f7f7", "#f4a582", "#b2182b"],
    # a rainbow for wavelength positions (Google's Turbo, sampled at 7 stops): short = blue, long = red
    "rainbow": ["#30123b", "#4686fb", "#1be5b5", "#a2fc3c", "#fbb938", "#e4460a", "#7a0403"],
}

# a qualitative palette (Tableau 10 then Set3) for up to 20 classes before cycling
PALETTE = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac", "#8dd3c7", "#ffffb3", "#bebada", "#fb8072", "#80b1d3", "#fdb462",
    "#b3de69", "#fccde5", "#d9d9d9", "#bc80bd",
]


@dataclass
class RasterStyle:
    """How band 1 of a raster should look in QGIS.

    ``kind`` is ``"continuous"`` (``ramp`` stretched over ``vmin``..``vmax``) or
    ``"categorical"`` (``classes`` maps a value to its label). ``alpha_band`` (continuous
    only) names a band of the same raster holding each pixel's opacity, 0-255.
    """

    kind: str = "continuous"
    ramp: str = "viridis"
    vmin: float | None = None
    vmax: float | None = None
    classes: dict[int, str] = field(default_factory=dict)
    band: int = 1
    alpha_band: int = -1

    def to_qml(self) -> str:
        if self.kind == "categorical":
            body = _paletted(self.classes, self.band)
        else:
            body = _pseudocolor(RAMPS[self.ramp], self.vmin, self.vmax, self.band, self.alpha_band)
        return (
            "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            '<qgis version="3.22.0" styleCategories="Symbology">\n  <pipe>\n'
            f"{body}"
            "  </pipe>\n  <blendMode>0</blendMode>\n</qgis>\n"
        )


def category_color(value: int) -> str:
    return PALETTE[(int(value) - 1) % len(PALETTE)] if value > 0 else "#000000"


def _paletted(classes: dict[int, str], band: int) -> str:
    entries = "".join(
        f'        <paletteEntry value="{int(v)}" color="{category_color(v)}" alpha="255" label={quoteattr(str(lbl))}/>\n'
        for v, lbl in sorted(classes.items())
    )
    return (
        f'    <rasterrenderer type="paletted" band="{band}" opacity="1" alphaBand="-1" nodataColor="">\n'
        "      <rasterTransparency/>\n"
        f"      <colorPalette>\n{entries}      </colorPalette>\n"
        "    </rasterrenderer>\n"
    )


def _pseudocolor(colors: Sequence[str], vmin: float | None, vmax: float | None, band: int, alpha_band: int = -1) -> str:
    lo = 0.0 if vmin is None else float(vmin)
    hi = lo + 1.0 if vmax is None or not vmax > lo else float(vmax)
    stops = [lo + (hi - lo) * i / (len(colors) - 1) for i in range(len(colors))]
    items = "".join(
        f'            <item value="{v:.10g}" label="{v:.4g}" color="{c}" alpha="255"/>\n'
        for v, c in zip(stops, colors)
    )
    return (
        f'    <rasterrenderer type="singlebandpseudocolor" band="{band}" opacity="1" alphaBand="{alpha_band}" '
        f'classificationMin="{lo:.10g}" classificationMax="{hi:.10g}" nodataColor="">\n'
        "      <rasterTransparency/>\n"
        "      <rastershader>\n"
        f'        <colorrampshader colorRampType="INTERPOLATED" classificationMode="1" clip="0" '
        f'minimumValue="{lo:.10g}" maximumValue="{hi:.10g}" labelPrecision="4">\n'
        f"{items}"
        "        </colorrampshader>\n      </rastershader>\n    </rasterrenderer>\n"
    )
