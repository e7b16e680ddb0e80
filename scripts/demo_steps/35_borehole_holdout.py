"""Demo: drilling-database steps on the bundled SYNTHETIC holes after step 30's clustering:
hole traces from collar + survey tables, a sequence model trained on 9 holes and applied to
3 held-back holes, and a strip log of a held-back hole (PNG shown in index.html)."""
import numpy as np
import pandas as pd

from demo import Step
from geoml_qgis.core.borehole.sequence import CELLS

HELD_BACK = ("DH010", "DH011", "DH012")
ELEMENTS = ["Cu_ppm", "Zn_ppm", "Pb_ppm", "As_ppm", "Au_ppb", "Ag_ppm", "Fe_pct", "S_pct"]


def hole_traces(demo):
    """Collar + survey tables desurveyed (minimum curvature) into 3D hole traces"""
    collars = pd.read_csv(demo.sample / "boreholes" / "synthetic_collars.csv")
    # the synthetic holes are straight: two stations per hole at the collar's azimuth and dip
    survey = pd.concat([collars.assign(depth=0.0), collars.assign(depth=150.0)])[["hole", "depth", "azimuth", "dip"]]
    survey.to_csv(demo.out / "borehole_survey.csv", index=False)
    res = demo.run(
        "geoml:desurveyholes", COLLARS=demo.sample / "boreholes" / "synthetic_collars.csv", COLLAR_HOLE_FIELD="hole",
        COLLAR_X_FIELD="x", COLLAR_Y_FIELD="y", COLLAR_Z_FIELD="z", SURVEY=demo.out / "borehole_survey.csv",
        SURVEY_HOLE_FIELD="hole", SURVEY_DEPTH_FIELD="depth", SURVEY_AZIMUTH_FIELD="azimuth", SURVEY_DIP_FIELD="dip",
        CRS="EPSG:28992", OUTPUT=demo.out / "borehole_traces.gpkg",
    )
    demo.report("hole traces", f"{int(res['N_HOLES'])} holes (minimum curvature)", res["OUTPUT"])


def applied_sequence_model(demo):
    """Sequence model trained on 9 holes labels 3 held-back holes"""
    clusters = demo.out / "borehole_clusters.gpkg"
    held = ", ".join(f"'{h}'" for h in HELD_BACK)
    res = demo.run(
        "geoml:boreholesequencemodel", INPUT=f"{clusters}|subset=\"hole\" NOT IN ({held})", HOLE_FIELD="hole",
        LABEL_FIELD="cluster", FEATURE_FIELDS=ELEMENTS, DEPTH_FIELD="depth", CELL=CELLS.index("gru"), SEQUENCE_LENGTH=16,
        EPOCHS=12,
        OUTPUT_MODEL=demo.out / "borehole_sequence_9holes.pt", OUTPUT=demo.out / "borehole_sequence_9holes.gpkg",
        OUTPUT_REPORT=demo.out / "borehole_sequence_9holes.html",
    )
    applied = demo.run(
        "geoml:applysequencemodel", MODEL=res["OUTPUT_MODEL"], INPUT=f"{clusters}|subset=\"hole\" IN ({held})",
        HOLE_FIELD="hole", DEPTH_FIELD="depth", LABEL_FIELD="cluster", OUTPUT=demo.out / "borehole_applied.gpkg",
    )
    demo.report("sequence model on held-back holes",
                f"{', '.join(HELD_BACK)}: agreement with clusters {applied['AGREEMENT']:.3f}", applied["OUTPUT"])


def strip_log_figure(demo):
    """Strip log of a held-back hole: predicted units and element curves (PNG)"""
    from osgeo import ogr

    from geoml_qgis.core.borehole.logs import strip_log

    ds = ogr.Open(str(demo.out / "borehole_applied.gpkg"))
    layer = ds.GetLayer(0)
    names = [layer.GetLayerDefn().GetFieldDefn(i).GetName() for i in range(layer.GetLayerDefn().GetFieldCount())]
    rows = []
    for f in layer:
        g = f.GetGeometryRef()
        rows.append([f.GetField(n) for n in names] + [g.GetX(), g.GetY(), g.GetZ()])
    frame = pd.DataFrame(rows, columns=names + ["x", "y", "z"])
    del ds
    hole = HELD_BACK[-1]
    fig = strip_log(frame, hole, ELEMENTS[:4], label="predicted")
    path = demo.out / f"figure_strip_log_{hole}.png"
    fig.savefig(path, dpi=90, bbox_inches="tight")
    sub = frame[frame["hole"] == hole]
    demo.report("strip log", f"{hole}: {len(sub)} samples, {sub['predicted'].nunique()} predicted units, "
                f"mean probability {np.mean(sub['probability']):.2f}", path)


STEPS = [
    Step(hole_traces, samples=("boreholes/synthetic_collars.csv",),
         outputs=("borehole_survey.csv", "borehole_traces.gpkg")),
    Step(applied_sequence_model, inputs=("borehole_clusters.gpkg",), outputs=(
        "borehole_sequence_9holes.pt", "borehole_sequence_9holes.gpkg", "borehole_sequence_9holes.html",
        "borehole_applied.gpkg")),
    Step(strip_log_figure, inputs=("borehole_applied.gpkg",), outputs=(f"figure_strip_log_{HELD_BACK[-1]}.png",)),
]

GROUP = "Borehole geochemistry (synthetic holes)"
