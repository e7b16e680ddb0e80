"""Demo: the bundled SYNTHETIC borehole set clustered into a 3D layer, a workbook and a report,
then a downhole sequence model trained on the clusters."""
import pandas as pd
from sklearn.metrics import adjusted_rand_score

from demo import Step
from geoml_qgis.core.borehole.sequence import CELLS
from geoml_qgis.core.borehole.transforms import TRANSFORMS

ELEMENTS = ["Cu_ppm", "Zn_ppm", "Pb_ppm", "As_ppm", "Au_ppb", "Ag_ppm", "Fe_pct", "S_pct"]


def borehole_clustering(demo):
    """Borehole assays clustered (automatic k) into a 3D layer, workbook and report"""
    data = demo.sample / "boreholes"
    res = demo.run(
        "geoml:boreholeclustering", INPUT=data / "synthetic_assays.csv", HOLE_FIELD="hole",
        FROM_FIELD="from", TO_FIELD="to", ELEMENT_FIELDS=ELEMENTS, COLLARS=data / "synthetic_collars.csv",
        COLLAR_HOLE_FIELD="hole", COLLAR_X_FIELD="x", COLLAR_Y_FIELD="y", COLLAR_Z_FIELD="z",
        AZIMUTH_FIELD="azimuth", DIP_FIELD="dip", TRANSFORM=TRANSFORMS.index("clr"), N_CLUSTERS=0, K_MAX=10, CRS="EPSG:28992",
        OUTPUT=demo.out / "borehole_clusters.gpkg", OUTPUT_WORKBOOK=demo.out / "borehole_clusters.xlsx",
        OUTPUT_REPORT=demo.out / "borehole_clusters.html",
    )
    samples = pd.read_excel(res["OUTPUT_WORKBOOK"], sheet_name="samples")
    truth = samples.merge(pd.read_csv(data / "synthetic_truth.csv"), on=["hole", "from", "to"])
    ari = adjusted_rand_score(truth["unit"], truth["cluster"])
    demo.report("borehole clusters", f"k = {int(res['K_USED'])} (true 4), ARI {ari:.3f}", res["OUTPUT"])
    demo.report("borehole workbook", "samples, summaries, k scores, continuity", res["OUTPUT_WORKBOOK"])


def borehole_sequence(demo):
    """Downhole sequence model (GRU) on the clustered holes, validated on held-out holes"""
    res = demo.run(
        "geoml:boreholesequencemodel", INPUT=demo.out / "borehole_clusters.gpkg", HOLE_FIELD="hole",
        LABEL_FIELD="cluster", FEATURE_FIELDS=ELEMENTS, DEPTH_FIELD="depth", CELL=CELLS.index("gru"),
        SEQUENCE_LENGTH=16, EPOCHS=15, OUTPUT_MODEL=demo.out / "borehole_sequence.pt", OUTPUT=demo.out / "borehole_sequence.gpkg",
        OUTPUT_REPORT=demo.out / "borehole_sequence.html",
    )
    demo.report("downhole sequence model", f"held-out-hole accuracy {res['VALIDATION_ACCURACY']:.3f}",
                res["OUTPUT_REPORT"])


SAMPLES = ("boreholes/synthetic_assays.csv", "boreholes/synthetic_collars.csv", "boreholes/synthetic_truth.csv")
STEPS = [
    Step(borehole_clustering, samples=SAMPLES,
         outputs=("borehole_clusters.gpkg", "borehole_clusters.xlsx", "borehole_clusters.html")),
    Step(borehole_sequence, inputs=("borehole_clusters.gpkg",),
         outputs=("borehole_sequence.pt", "borehole_sequence.gpkg", "borehole_sequence.html")),
]

GROUP = "Borehole geochemistry (synthetic holes)"
