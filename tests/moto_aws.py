"""A moto server on 127.0.0.1 standing in for S3 and AWS Batch in the tests (real HTTP through botocore).

moto's Batch runs without Docker here: jobs are accepted, tracked and reported, but no container
runs; the tests run the worker processes themselves, as each Batch child would.
"""
from __future__ import annotations

import contextlib
import json
import urllib.request
from typing import Iterator

SECRET = "fake-secret-9f2c41d7e0b84a6aa1c3"  # a fake secret key; must never appear in outputs
ACCESS_KEY = "AKIAFAKEGEOMLTEST"
REGION = "us-east-1"
BUCKET = "geoml-test-bucket"
QUEUE = "geoml-test-queue"


def _post(url: str, body: bytes, content_type: str) -> None:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
    urllib.request.urlopen(request).close()


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """Start moto on a free loopback port; yields its URL."""
    from moto.server import ThreadedMotoServer

    from tests.markers import require

    require("aws", "starts a moto server")

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    _post(f"{url}/moto-api/config", json.dumps({"batch": {"use_docker": False}}).encode(), "application/json")
    try:
        yield url
    finally:
        server.stop()


def set_auth_after(url: str, count: str) -> None:
    """moto's switch for IAM authorisation: on after *count* more requests ("inf": off)."""
    _post(f"{url}/moto-api/reset-auth", count.encode(), "text/plain")


def use_fake_aws(monkeypatch, url: str, tmp_path) -> None:
    """Fake credentials in the environment (boto3's chain), no profile files, the moto endpoint."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_BATCH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)


def create_bucket_and_queue(url: str) -> None:
    """The bucket and an (unmanaged) compute environment + job queue, once per server."""
    import boto3

    s3 = boto3.client("s3", endpoint_url=url)
    if BUCKET in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        return
    s3.create_bucket(Bucket=BUCKET)
    iam = boto3.client("iam", endpoint_url=url)
    role = iam.create_role(RoleName="geoml-batch-service", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "batch.amazonaws.com"}}]}))
    batch = boto3.client("batch", endpoint_url=url)
    env = batch.create_compute_environment(computeEnvironmentName="geoml-test-ce", type="UNMANAGED",
                                           state="ENABLED", serviceRole=role["Role"]["Arn"])
    batch.create_job_queue(jobQueueName=QUEUE, state="ENABLED", priority=1,
                           computeEnvironmentOrder=[{"order": 1, "computeEnvironment": env["computeEnvironmentArn"]}])
