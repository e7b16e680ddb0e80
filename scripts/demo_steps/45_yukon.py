"""Demo: the Yukon porphyry-Cu tables (Mantilla-Dulcey et al. 2024): five methods plus the VAE ensemble
compared by 5-fold cross-validation on identical folds, with pretext pretraining on the rock classes."""
from osgeo import gdal

from demo import Step
from geoml_qgis.core.prospectivity.model import METHODS

GROUP = "Prospectivity — Yukon tables"


def yukon_table(demo, name: str, layer: str):
    """A GeoPackage copy of a bundled Yukon CSV (typed fields, no geometry); returns its path."""
    out = demo.out / f"yukon_{layer}.gpkg"
    src = gdal.OpenEx(str(demo.sample / "yukon_porphyry" / f"{name}.csv"), gdal.OF_VECTOR,
                      open_options=["AUTODETECT_TYPE=YES"])
    gdal.VectorTranslate(str(out), src, format="GPKG", layerName=layer, accessMode="overwrite")
    src = None
    return out


def yukon_comparison(demo):
    """Yukon tables: transfer learning vs baselines vs VAE ensemble, 5-fold CV on identical folds"""
    pca, pretext = yukon_table(demo, "02_Train_PCA", "pca"), yukon_table(demo, "03_Train_Pretext", "pretext")
    report = demo.out / "yukon_cv.html"
    demo.run("geoml:trainprospectivity", INPUT=pca, LABEL_FIELD="DEP", FEATURE_FIELDS=[f"PC{i}" for i in range(1, 8)],
             METHOD=METHODS.index("transfer"), PRETEXT=pretext, PRETEXT_FIELD="ETIQUETA", COMPARE="true", EPOCHS=100,
             OUTPUT_MODEL=demo.out / "yukon_transfer.pt", OUTPUT_REPORT=report)
    cv = demo.cv_summaries(demo.out / "yukon_transfer.pt")
    demo.report("Yukon CV (5 folds)", "ROC AUC " + ", ".join(f"{m} {s['roc_auc_mean']:.3f}" for m, s in cv.items()),
                report)


STEPS = [Step(yukon_comparison, samples=("yukon_porphyry/02_Train_PCA.csv", "yukon_porphyry/03_Train_Pretext.csv"),
              outputs=("yukon_pca.gpkg", "yukon_pretext.gpkg", "yukon_cv.html", "yukon_transfer.pt"))]
