"""Scale-out of ensemble training: local process pool and AWS Batch + S3 through a moto server.

moto runs in server mode on 127.0.0.1 inside these tests, so every S3 and Batch call is real
HTTP through botocore. moto does not run containers: after the launcher has submitted the
array job, the tests run the worker processes themselves with ``AWS_BATCH_JOB_ARRAY_INDEX``
set, against the same S3 endpoint, as each Batch child would. The member trainer is a small
deterministic logistic regression registered for the tests (tests/core/scaleout_trainer.py);
the training data are synthetic (two Gaussian classes).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
boto3 = pytest.importorskip("boto3")
pytest.importorskip("moto.server", reason="moto[server] is not installed (pip install the dev extra)")

from geoml_qgis.core.errors import Cancelled, GeoMLError  # noqa: E402
from geoml_qgis.core.modelio import load_model  # noqa: E402
from geoml_qgis.core.scaleout import batch, local, members, s3io, trainers, worker  # noqa: E402
from tests.core import scaleout_trainer  # noqa: E402
from tests.moto_aws import (  # noqa: E402
    ACCESS_KEY, BUCKET, QUEUE, REGION, SECRET, create_bucket_and_queue, moto_server, set_auth_after, use_fake_aws,
)

ROOT = Path(__file__).resolve().parents[2]
WORKER = [sys.executable, "-m", scaleout_trainer.WORKER_MODULE]
CONFIG = {"seed": 7, "epochs": 60}


def synthetic(n=120, f=4, seed=0):
    """Two Gaussian classes 2.5 standard deviations apart along the first feature."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(np.int64)
    x = rng.normal(size=(n, f)).astype(np.float32)
    x[:, 0] += 2.5 * y
    return {"X": x, "y": y, "X_unlabelled": rng.normal(size=(50, f)).astype(np.float32)}


@pytest.fixture(scope="module")
def moto_url():
    with moto_server() as url:
        yield url


@pytest.fixture
def aws(moto_url, monkeypatch, tmp_path):
    """Fake credentials from the environment, the moto endpoint, a bucket and a job queue."""
    use_fake_aws(monkeypatch, moto_url, tmp_path)
    create_bucket_and_queue(moto_url)
    return {"url": moto_url, "s3": boto3.client("s3", endpoint_url=moto_url),
            "batch": boto3.client("batch", endpoint_url=moto_url)}


@pytest.fixture
def test_trainer(monkeypatch):
    """The test trainer in this process's registry (worker processes register it themselves)."""
    registry = dict(trainers.TRAINERS)
    scaleout_trainer.register(registry)
    monkeypatch.setattr(trainers, "TRAINERS", registry)
    return scaleout_trainer.NAME


def settings(**kw):
    return batch.BatchSettings(bucket=BUCKET, job_queue=QUEUE, job_definition="geoml-test-worker", region=REGION,
                               image="example.org/geoml-worker:test", poll_seconds=0.05, **kw)


def run_batch_children(run: str, indices) -> dict[int, subprocess.CompletedProcess]:
    """Run the workers as AWS Batch would run the array job's children (in parallel)."""
    procs = {}
    for i in indices:
        env = dict(os.environ, AWS_BATCH_JOB_ARRAY_INDEX=str(i), PYTHONPATH=str(ROOT))
        args = [*WORKER, "train-member", "--config", members.config_uri(run), "--data", members.data_uri(run),
                "--out", members.members_uri(run)]
        procs[i] = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return {i: (p.wait(), p.stdout.read()) for i, p in procs.items()}


# ---------------------------------------------------------------- S3 I/O


def test_s3_atomic_upload_with_checksum(aws, tmp_path):
    src = tmp_path / "blob.bin"
    src.write_bytes(os.urandom(300_000))
    digest = s3io.put_file(src, f"s3://{BUCKET}/io/blob.bin")
    keys = [o["Key"] for o in aws["s3"].list_objects_v2(Bucket=BUCKET, Prefix="io/")["Contents"]]
    assert keys == ["io/blob.bin"]  # the temporary key is gone
    head = aws["s3"].head_object(Bucket=BUCKET, Key="io/blob.bin")
    assert head["Metadata"]["sha256"] == digest
    assert s3io.get_file(f"s3://{BUCKET}/io/blob.bin", tmp_path / "back.bin") == digest
    assert (tmp_path / "back.bin").read_bytes() == src.read_bytes()

    # corrupt the object behind GeoML's back, keeping the old checksum: refused, nothing written
    aws["s3"].put_object(Bucket=BUCKET, Key="io/blob.bin", Body=b"x" + src.read_bytes()[1:], Metadata={"sha256": digest})
    with pytest.raises(s3io.ChecksumError, match="damaged"):
        s3io.get_file(f"s3://{BUCKET}/io/blob.bin", tmp_path / "corrupt.bin")
    assert not (tmp_path / "corrupt.bin").exists()
    with pytest.raises(FileNotFoundError):
        s3io.get_file(f"s3://{BUCKET}/io/none.bin", tmp_path / "none.bin")


def test_missing_bucket_is_a_clear_error(aws, test_trainer):
    launcher = batch.BatchLauncher(batch.BatchSettings(bucket="geoml-no-such-bucket", job_queue=QUEUE,
                                                       job_definition="x", region=REGION))
    with pytest.raises(GeoMLError, match="bucket 'geoml-no-such-bucket' does not exist"):
        launcher.upload(synthetic(), test_trainer, CONFIG, 2)


def test_denied_credentials(aws, test_trainer, monkeypatch):
    """moto's IAM authorisation on: keys of a user allowed only another bucket, and unknown keys."""
    iam = boto3.client("iam", endpoint_url=aws["url"])
    iam.create_user(UserName="geoml-other")
    iam.put_user_policy(UserName="geoml-other", PolicyName="other-bucket-only", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",
                                                "Resource": ["arn:aws:s3:::other", "arn:aws:s3:::other/*"]}]}))
    key = iam.create_access_key(UserName="geoml-other")["AccessKey"]
    set_auth_after(aws["url"], "0")  # every request from now on is authorised against moto's IAM
    try:
        launcher = batch.BatchLauncher(settings())
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
        with pytest.raises(GeoMLError, match=r"refused access .*\(AccessDenied\)") as denied:
            launcher.upload(synthetic(), test_trainer, CONFIG, 2)
        assert key["SecretAccessKey"] not in str(denied.value)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAUNKNOWNGEOML0000")
        with pytest.raises(GeoMLError, match=r"refused access .*\(InvalidAccessKeyId\)") as unknown:
            launcher.upload(synthetic(), test_trainer, CONFIG, 2)
        assert SECRET not in str(unknown.value)
    finally:
        set_auth_after(aws["url"], "inf")


# ---------------------------------------------------------------- local backend and AWS Batch


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    """The local backend on 2 members of the test trainer (the reference for AWS Batch)."""
    registry = dict(trainers.TRAINERS)
    scaleout_trainer.register(registry)
    saved, trainers.TRAINERS = trainers.TRAINERS, registry
    try:
        run = tmp_path_factory.mktemp("local-run")
        seen = []
        model, collected = local.train_local(synthetic(), scaleout_trainer.NAME, CONFIG, 2, min_members=2,
                                             progress=seen.append, workdir=str(run), command=WORKER)
    finally:
        trainers.TRAINERS = saved
    return model, collected, run, seen


def test_local_backend_trains_every_member(local_run):
    model, collected, run, seen = local_run
    assert collected.succeeded == [0, 1] and not collected.missing
    assert seen[-1] == 1.0 and seen == sorted(seen)
    # members differ (own bootstrap and seed), and each separates the classes it was trained on
    w = model.weights.numpy()
    assert not np.allclose(w[0], w[1])
    data = synthetic()
    p = model.predict_proba(data["X"])
    assert (p[data["y"] == 1].mean() - p[data["y"] == 0].mean()) > 0.5
    # member files are core.modelio files, loaded with weights_only, with the worker's metadata
    state, meta = load_model(members.member_uri(members.members_uri(str(run)), 1), members.MEMBER_KIND)
    assert meta["index"] == 1 and meta["trainer"] == scaleout_trainer.NAME and meta["metrics"]["rows"] == 120
    assert torch.equal(state["weight"][0], model.weights[1])


def test_worker_is_deterministic_in_process(local_run, test_trainer, tmp_path, monkeypatch):
    _, collected, run, _ = local_run
    monkeypatch.setenv(worker.INDEX_VARIABLE, "1")
    assert worker.main(["train-member", "--config", members.config_uri(str(run)), "--data",
                        members.data_uri(str(run)), "--out", str(tmp_path)]) == 0
    state, _ = load_model(members.member_uri(str(tmp_path), 1), members.MEMBER_KIND)
    for name, tensor in collected.states[1].items():
        assert torch.equal(state[name], tensor)
    monkeypatch.delenv(worker.INDEX_VARIABLE)
    with pytest.raises(GeoMLError, match="No member index"):
        worker.member_index(None)


def test_unregistered_trainer_is_refused(tmp_path):
    doc = {"format": members.CONFIG_FORMAT, "trainer": "os:system", "members": 1, "config": {}}
    with pytest.raises(GeoMLError, match="Unknown ensemble trainer 'os:system'"):
        members.parse_config(json.dumps(doc))


def test_batch_array_job_matches_local_backend(aws, test_trainer, local_run, tmp_path):
    _, local_collected, _, _ = local_run
    log = []
    launcher = batch.BatchLauncher(settings(), log=log.append)
    run = launcher.upload(synthetic(), test_trainer, CONFIG, 2)
    arn = launcher.job_definition_arn()
    assert launcher.job_definition_arn() == arn  # the second call reuses it
    job_id = launcher.submit(run, 2, arn)

    # what AWS Batch holds: the job definition's retry strategy, one array job of 2 with our command
    jd = aws["batch"].describe_job_definitions(jobDefinitionName="geoml-test-worker", status="ACTIVE")["jobDefinitions"]
    assert len(jd) == 1
    assert {"onStatusReason": "Host EC2*", "action": "retry"} in jd[0]["retryStrategy"]["evaluateOnExit"]
    job = aws["batch"].describe_jobs(jobs=[job_id])["jobs"][0]
    assert job["arrayProperties"]["size"] == 2
    assert job["container"]["command"][:4] == ["python", "-m", "geoml_qgis.core.scaleout.worker", "train-member"]

    results = run_batch_children(run, range(2))
    assert all(code == 0 for code, _ in results.values()), results
    seen = []
    failures = launcher.wait(job_id, 2, progress=seen.append)
    assert failures == {} and seen[-1] == 1.0
    collected = launcher.collect(run, 2)
    model = members.assemble(collected, test_trainer, CONFIG, min_members=2)
    assert collected.succeeded == [0, 1]
    for i in range(2):  # same seeds → identical member weights on both backends
        for name, tensor in local_collected.states[i].items():
            assert torch.equal(collected.states[i][name], tensor), (i, name)

    # credentials never reach the model, the member objects or the log
    out = tmp_path / "ensemble.model"
    model.save(str(out))
    assert SECRET.encode() not in out.read_bytes()
    assert ACCESS_KEY.encode() not in out.read_bytes()
    member = aws["s3"].get_object(Bucket=BUCKET, Key=members.member_uri(members.members_uri(run), 0).split("/", 3)[3])
    body, meta = member["Body"].read(), member["Metadata"]
    assert SECRET.encode() not in body and ACCESS_KEY.encode() not in body
    assert set(meta) == {"sha256"}
    assert not any(SECRET in line or ACCESS_KEY in line for line in log)
    assert not any(SECRET in text for _, text in results.values())


def test_batch_failed_and_corrupt_members(aws, test_trainer):
    config = {**CONFIG, "fail_members": [1]}
    launcher = batch.BatchLauncher(settings())
    run = launcher.upload(synthetic(), test_trainer, config, 3)
    job_id = launcher.submit(run, 3, launcher.job_definition_arn())
    results = run_batch_children(run, range(3))
    assert results[1][0] != 0 and "fails on purpose" in results[1][1]
    # member 2 is damaged after upload (a bit flipped in storage); its checksum no longer matches
    key = members.member_uri(members.members_uri(run), 2).split("/", 3)[3]
    obj = aws["s3"].get_object(Bucket=BUCKET, Key=key)
    body = bytearray(obj["Body"].read())
    body[len(body) // 2] ^= 0xFF
    aws["s3"].put_object(Bucket=BUCKET, Key=key, Body=bytes(body), Metadata=obj["Metadata"])

    failures = launcher.wait(job_id, 3)
    collected = launcher.collect(run, 3, failures)
    assert collected.succeeded == [0]
    assert "no output" in collected.missing[1] and "damaged" in collected.missing[2]
    model = members.assemble(collected, test_trainer, config, min_members=1)
    assert model.members == 1
    with pytest.raises(GeoMLError, match=r"Only 1 of 3 members .* minimum 2.*member 1 \(no output.*member 2 \(damaged"):
        members.assemble(collected, test_trainer, config, min_members=2)


def test_cancel_terminates_the_array_job(aws, test_trainer):
    launcher = batch.BatchLauncher(settings())
    run = launcher.upload(synthetic(), test_trainer, CONFIG, 2)
    job_id = launcher.submit(run, 2, launcher.job_definition_arn())
    with pytest.raises(Cancelled):
        launcher.wait(job_id, 2, progress=lambda fraction: False)
    job = aws["batch"].describe_jobs(jobs=[job_id])["jobs"][0]
    assert job["statusReason"] == "Cancelled by the user in GeoML"
