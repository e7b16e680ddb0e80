"""geoml:trainensembleremote through processing.run: table input, errors, and the AWS Batch backend
against a moto server on 127.0.0.1 (S3 and Batch over real HTTP; moto runs no containers)."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest

from tests.moto_aws import BUCKET, QUEUE, REGION, SECRET, create_bucket_and_queue, moto_server, use_fake_aws

from .conftest import SAMPLE

PCA = SAMPLE / "yukon_porphyry" / "02_Train_PCA.csv"
FIELDS = [f"PC{i}" for i in range(1, 8)]


@pytest.fixture
def pca_table(qgis_app):
    """The Yukon PCA training table (95 deposits, 218 non-deposits) as a table without geometry."""
    from qgis.core import QgsVectorLayer

    layer = QgsVectorLayer(f"file://{PCA}?delimiter=,&detectTypes=yes&geomType=none", "pca", "delimitedtext")
    assert layer.isValid() and layer.featureCount() == 313
    return layer


def params(table, **kw):
    return {"INPUT": table, "LABEL_FIELD": "DEP", "FEATURE_FIELDS": FIELDS, "MEMBERS": 2, "LATENT_DIM": 2,
            "EPOCHS": 5, "SEED": 3, "UNLABELLED": 100, "BACKEND": 0, **kw}


def test_bad_input_is_refused(run_alg, pca_table, tmp_path):
    from qgis.core import QgsProcessingException

    out = tmp_path / "m.pt"
    with pytest.raises(QgsProcessingException, match=r"Minimum members \(5\) is more than the number of members \(2\)"):
        run_alg("geoml:trainensembleremote", params(pca_table, MIN_MEMBERS=5, OUTPUT_MODEL=str(out)))
    with pytest.raises(QgsProcessingException, match="Give the features in one of these ways: Feature stack; or Feature fields"):
        run_alg("geoml:trainensembleremote", params(pca_table, FEATURE_FIELDS=[], OUTPUT_MODEL=str(out)))
    with pytest.raises(QgsProcessingException, match="not a valid S3 bucket name"):
        run_alg("geoml:trainensembleremote", params(pca_table, BACKEND=1, BUCKET="My Bucket", JOB_QUEUE="q",
                                                    JOB_DEFINITION="d", OUTPUT_MODEL=str(out)))
    assert not out.exists()


def test_aws_batch_backend_uploads_submits_and_names_missing_members(run_alg, pca_table, tmp_path, monkeypatch):
    """No worker runs (moto has no containers), so every member is missing: the run is refused, naming them."""
    import boto3
    from qgis.core import QgsProcessingException

    with moto_server() as url:
        use_fake_aws(monkeypatch, url, tmp_path)
        create_bucket_and_queue(url)
        batch = boto3.client("batch", endpoint_url=url)
        batch.register_job_definition(jobDefinitionName="geoml-worker-test", type="container",
                                      containerProperties={"image": "geoml-worker:test", "vcpus": 1, "memory": 512})
        out = tmp_path / "ensemble.pt"
        with pytest.raises(QgsProcessingException, match=r"Only 0 of 3 members succeeded.*member 0 \(no output"):
            run_alg("geoml:trainensembleremote", params(
                pca_table, MEMBERS=3, MIN_MEMBERS=2, BACKEND=1, BUCKET=BUCKET, PREFIX="qgis-test", JOB_QUEUE=QUEUE,
                JOB_DEFINITION="geoml-worker-test", REGION=REGION, OUTPUT_MODEL=str(out)))
        assert not out.exists()

        s3 = boto3.client("s3", endpoint_url=url)
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="qgis-test/")["Contents"]]
        run = keys[0].rsplit("/", 1)[0]
        assert sorted(keys) == [f"{run}/config.json", f"{run}/data.npz"]
        config = json.loads(s3.get_object(Bucket=BUCKET, Key=f"{run}/config.json")["Body"].read())
        assert config["trainer"] == "vae_ensemble" and config["members"] == 3
        assert config["config"]["features"] == FIELDS and config["config"]["latent_dim"] == 2
        raw = s3.get_object(Bucket=BUCKET, Key=f"{run}/data.npz")["Body"].read()
        assert SECRET.encode() not in raw
        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            assert npz["X"].shape == (313, 7) and int(npz["y"].sum()) == 95
            assert npz["X_unlabelled"].shape == (100, 7)
        job_name = "geoml-" + run.rsplit("/", 1)[-1]  # moto's state is per process: other tests' jobs are there too
        listed = batch.list_jobs(jobQueue=QUEUE, filters=[{"name": "JOB_NAME", "values": [job_name]}])
        parents = [j["jobId"] for j in listed["jobSummaryList"] if ":" not in j["jobId"]]  # children are "<id>:<i>"
        assert len(parents) == 1  # one array job
        assert batch.describe_jobs(jobs=parents)["jobs"][0]["arrayProperties"]["size"] == 3


def test_points_and_feature_stack_are_sampled(run_alg, tmp_path, monkeypatch):
    """Meuse points (label: lime 0/1) on the dist and dem grids: the uploaded arrays are the raster values,
    also when the points come in another CRS than the stack's: they are reprojected."""
    import boto3
    from osgeo import gdal, osr
    from qgis.core import QgsProcessingException

    from geoml_qgis.core.io.raster import RasterStack
    from geoml_qgis.core.io.vector import PointTable, read_points, write_points

    stack = str(tmp_path / "stack.tif")
    run_alg("geoml:alignrasters", {"INPUTS": [str(SAMPLE / "meuse" / "grids" / n) for n in ("dist.tif", "dem.tif")],
                                   "RESAMPLING": 0, "OUTPUT": stack})
    # Meuse points moved 0.37 / 0.41 m off the cell edges they lie on (a round-off must not change the cell)
    meuse = read_points(str(SAMPLE / "meuse" / "meuse.gpkg"))
    points = PointTable(meuse.x + 0.37, meuse.y + 0.41, None, meuse.attributes[["lime"]], meuse.crs_wkt)
    native = tmp_path / "meuse_rd_new.gpkg"
    write_points(native, points)
    # the same points in another CRS: RD New with its false origin removed (RD Old, an exact shift)
    rd = osr.SpatialReference()
    rd.ImportFromWkt(points.crs_wkt)
    shifted_srs = osr.SpatialReference()
    shifted_srs.ImportFromProj4(rd.ExportToProj4().replace("+x_0=155000", "+x_0=0").replace("+y_0=463000", "+y_0=0"))
    shifted = tmp_path / "meuse_shifted.gpkg"
    write_points(shifted, PointTable(points.x - 155000.0, points.y - 463000.0, None, points.attributes,
                                     shifted_srs.ExportToWkt()))
    with RasterStack([stack]) as rs:
        expected = rs.sample(points.x, points.y)
    keep = ~np.ma.getmaskarray(expected).any(axis=1)
    ds = gdal.Open(stack)
    dist = ds.GetRasterBand(1).ReadAsArray()
    with moto_server() as url:
        use_fake_aws(monkeypatch, url, tmp_path)
        create_bucket_and_queue(url)
        boto3.client("batch", endpoint_url=url).register_job_definition(
            jobDefinitionName="geoml-worker-test", type="container",
            containerProperties={"image": "geoml-worker:test", "vcpus": 1, "memory": 512})
        s3 = boto3.client("s3", endpoint_url=url)
        for prefix, layer in (("stack-test", native), ("shifted-crs-test", shifted)):
            with pytest.raises(QgsProcessingException, match="Only 0 of 2 members"):
                run_alg("geoml:trainensembleremote", {
                    "INPUT": str(layer), "LABEL_FIELD": "lime", "FEATURES": stack,
                    "MEMBERS": 2, "UNLABELLED": 200, "SEED": 5, "BACKEND": 1, "BUCKET": BUCKET, "PREFIX": prefix,
                    "JOB_QUEUE": QUEUE, "JOB_DEFINITION": "geoml-worker-test", "REGION": REGION,
                    "OUTPUT_MODEL": str(tmp_path / "m.pt")})
            key = next(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=f"{prefix}/")["Contents"]
                       if o["Key"].endswith("data.npz"))
            config = json.loads(s3.get_object(Bucket=BUCKET, Key=key.replace("data.npz", "config.json"))["Body"].read())
            with np.load(io.BytesIO(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()), allow_pickle=False) as npz:
                x, y, xu = npz["X"], npz["y"], npz["X_unlabelled"]
            assert config["config"]["features"] == ["dist", "dem"]
            assert np.allclose(x, expected.data[keep]), prefix
            assert np.array_equal(y, points.attributes["lime"].to_numpy()[keep]), prefix
            assert xu.shape == (200, 2) and np.isin(xu[:, 0], dist).all()  # background values are cells of the stack


def test_local_backend_trains_vae_ensemble(run_alg, pca_table, tmp_path):
    from geoml_qgis.core.modelio import load_model

    out = tmp_path / "ensemble.pt"
    res = run_alg("geoml:trainensembleremote", params(pca_table, OUTPUT_MODEL=str(out)))
    assert res["OUTPUT_MODEL"] == str(out) and out.exists()
    state, meta = load_model(out)
    assert state and "features" in json.dumps(meta)
    # the assembled ensemble is a prospectivity model that geoml:predictprospectivity scores with uncertainty
    scored = run_alg("geoml:predictprospectivity", {"MODEL": str(out), "INPUT": pca_table,
                                                     "OUTPUT": str(tmp_path / "scored.gpkg")})["OUTPUT"]
    from sklearn.metrics import roc_auc_score

    from geoml_qgis.core.io import read_points

    table = read_points(scored, geometry_optional=True).attributes
    assert {"probability", "aleatoric", "epistemic", "total"} <= set(table.columns)
    assert (table["epistemic"] > 0).all()  # two members trained on different bootstrap resamples disagree
    assert roc_auc_score(table["DEP"], table["probability"]) > 0.8
