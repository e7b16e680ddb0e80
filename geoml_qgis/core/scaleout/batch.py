"""The AWS Batch backend: one array job of M members, data and members on S3.

:class:`BatchLauncher` uploads the training data and config under
``s3://<bucket>/<prefix>/run-<time>-<id>/``, registers the worker's job definition (or
reuses the active one of that name), submits **one array job** of size M whose children
run ``python -m geoml_qgis.core.scaleout.worker train-member`` (child *i* trains member
``AWS_BATCH_JOB_ARRAY_INDEX`` = *i*), polls it with progress, and collects the members
from S3. Spot interruptions (status reason ``Host EC2 ...``) are retried; any other
failure is final for that member only. Cancelling terminates the array job, which
terminates all its children.

Credentials come only from boto3's standard chain; nothing here stores or logs them.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import re
import tempfile
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from ..errors import Cancelled, GeoMLError
from ..progress import ProgressCallback, report, scaled
from . import members as run_files
from . import s3io
from .members import Collected, assemble, collect_members
from .trainers import prepare

WORKER_MODULE = "geoml_qgis.core.scaleout.worker"
TERMINAL = ("SUCCEEDED", "FAILED")


def retry_strategy(attempts: int = 3) -> dict:
    """Retry a child only when its host went away (Spot interruption); exit on anything else."""
    return {
        "attempts": int(attempts),
        "evaluateOnExit": [
            {"onStatusReason": "Host EC2*", "action": "RETRY"},
            {"onReason": "*", "action": "EXIT"},
        ],
    }


@dataclass
class BatchSettings:
    """Where and how to run on AWS Batch.

    ``image`` is only needed to register a job definition that does not exist yet
    (``infra/aws/geoml-batch.yaml`` creates one).
    """

    bucket: str
    job_queue: str
    job_definition: str
    prefix: str = "geoml"
    region: str | None = None
    image: str | None = None
    vcpus: int = 2
    memory_mib: int = 4096
    attempts: int = 3
    poll_seconds: float = 10.0

    def __post_init__(self):
        if not re.fullmatch(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]", self.bucket or ""):
            raise GeoMLError(f"'{self.bucket}' is not a valid S3 bucket name (lower-case letters, digits, dots, dashes).")
        for what, value in (("job queue", self.job_queue), ("job definition", self.job_definition)):
            if not value:
                raise GeoMLError(f"Give the AWS Batch {what} (the CloudFormation stack's outputs name them).")
        self.prefix = self.prefix.strip("/")


class BatchLauncher:
    """Runs one scale-out ensemble on AWS Batch; see the module docstring for the steps."""

    def __init__(self, settings: BatchSettings, log: Callable[[str], None] | None = None):
        self.settings = settings
        self.log = log or (lambda message: None)
        self._batch = None

    @property
    def batch(self):
        if self._batch is None:
            self._batch = s3io.client("batch", self.settings.region)
        return self._batch

    def upload(self, data: Mapping[str, np.ndarray], trainer: str, config: Mapping[str, Any], members: int) -> str:
        """Upload the data and config of a new run; returns the run's ``s3://`` prefix."""
        doc = run_files.config_document(trainer, members, config)
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        run = f"s3://{self.settings.bucket}/" + "/".join(
            p for p in (self.settings.prefix, f"run-{stamp}-{uuid.uuid4().hex[:8]}") if p)
        with tempfile.TemporaryDirectory(prefix="geoml-batch-") as tmpdir:
            local = os.path.join(tmpdir, "data.npz")
            run_files.write_data(data, local)
            s3io.put_file(local, run_files.data_uri(run), self.settings.region)
        s3io.put_bytes(json.dumps(doc, indent=1).encode(), run_files.config_uri(run), self.settings.region)
        self.log(f"Uploaded training data and config to {run}/")
        return run

    def job_definition_arn(self) -> str:
        """The active job definition called ``settings.job_definition`` (registered if needed)."""
        s = self.settings
        with s3io.aws_errors("looking up the AWS Batch job definition"):
            found = self.batch.describe_job_definitions(jobDefinitionName=s.job_definition, status="ACTIVE")
        latest = max(found.get("jobDefinitions", []), key=lambda d: d["revision"], default=None)
        if latest is not None and (s.image is None or latest.get("containerProperties", {}).get("image") == s.image):
            self.log(f"Using job definition {latest['jobDefinitionArn']}")
            return latest["jobDefinitionArn"]
        if s.image is None:
            raise GeoMLError(
                f"AWS Batch has no active job definition '{s.job_definition}'. Deploy infra/aws/geoml-batch.yaml "
                "(docs/aws.md), or give the worker image so that GeoML registers one."
            )
        with s3io.aws_errors("registering the AWS Batch job definition"):
            made = self.batch.register_job_definition(
                jobDefinitionName=s.job_definition,
                type="container",
                containerProperties={
                    "image": s.image,
                    "command": ["python", "-m", WORKER_MODULE, "train-member", "--config", "Ref::config",
                                "--data", "Ref::data", "--out", "Ref::out"],
                    "resourceRequirements": [{"type": "VCPU", "value": str(s.vcpus)},
                                             {"type": "MEMORY", "value": str(s.memory_mib)}],
                },
                retryStrategy=retry_strategy(s.attempts),
                propagateTags=True,
            )
        self.log(f"Registered job definition {made['jobDefinitionArn']}")
        return made["jobDefinitionArn"]

    def submit(self, run: str, members: int, job_definition_arn: str) -> str:
        """Submit the array job (a single job when *members* is 1); returns its job id."""
        command = ["python", "-m", WORKER_MODULE, "train-member", "--config", run_files.config_uri(run),
                   "--data", run_files.data_uri(run), "--out", run_files.members_uri(run)]
        kwargs: dict[str, Any] = {}
        if members > 1:
            kwargs["arrayProperties"] = {"size": int(members)}
        else:
            command += ["--index", "0"]
        name = "geoml-" + run.rstrip("/").rsplit("/", 1)[-1]
        with s3io.aws_errors("submitting the AWS Batch job"):
            job = self.batch.submit_job(
                jobName=name[:128], jobQueue=self.settings.job_queue, jobDefinition=job_definition_arn,
                containerOverrides={"command": command}, retryStrategy=retry_strategy(self.settings.attempts),
                **kwargs,
            )
        self.log(f"Submitted AWS Batch job {job['jobId']} ({members} members) to queue {self.settings.job_queue}")
        return job["jobId"]

    def status(self, job_id: str) -> tuple[str, dict[str, int]]:
        """The job's status and its children's status counts."""
        with s3io.aws_errors("reading the AWS Batch job status"):
            jobs = self.batch.describe_jobs(jobs=[job_id]).get("jobs", [])
        if not jobs:
            raise GeoMLError(f"AWS Batch does not know job {job_id} (another region or account?).")
        job = jobs[0]
        return job["status"], dict(job.get("arrayProperties", {}).get("statusSummary", {}))

    def wait(self, job_id: str, members: int, progress: ProgressCallback | None = None) -> dict[int, str]:
        """Poll until the job ends; cancelling through *progress* terminates it.

        Returns ``{index: status reason}`` of the children that failed.
        """
        last = None
        while True:
            status, summary = self.status(job_id)
            finished = summary.get("SUCCEEDED", 0) + summary.get("FAILED", 0) if summary else 0
            if status in TERMINAL and not summary:
                finished = members
            line = f"Job {job_id}: {status}" + (f", {finished}/{members} members finished" if members > 1 else "")
            if line != last:
                self.log(line)
                last = line
            try:
                report(progress, finished / members)
            except Cancelled:
                self.cancel(job_id)
                raise
            if status in TERMINAL:
                return self.failures(job_id, members) if status == "FAILED" or summary.get("FAILED") else {}
            time.sleep(self.settings.poll_seconds)

    def failures(self, job_id: str, members: int) -> dict[int, str]:
        """``{index: status reason}`` of the failed children (or of the single job)."""
        reasons: dict[int, str] = {}
        with s3io.aws_errors("listing failed AWS Batch jobs"):
            if members == 1:
                job = self.batch.describe_jobs(jobs=[job_id])["jobs"][0]
                return {0: job.get("statusReason", "failed")}
            token = None
            while True:
                page = self.batch.list_jobs(arrayJobId=job_id, jobStatus="FAILED", **({"nextToken": token} if token else {}))
                for summary in page.get("jobSummaryList", []):
                    index = summary.get("arrayProperties", {}).get("index")
                    if index is not None:
                        reasons[int(index)] = f"AWS Batch: {summary.get('statusReason', 'failed')}"
                token = page.get("nextToken")
                if not token:
                    return reasons

    def cancel(self, job_id: str) -> None:
        """Terminate the array job and so all its children."""
        with s3io.aws_errors("cancelling the AWS Batch job"):
            self.batch.terminate_job(jobId=job_id, reason="Cancelled by the user in GeoML")
        self.log(f"Terminated AWS Batch job {job_id} and its members")

    def collect(self, run: str, members: int, failures: Mapping[int, str] | None = None,
                progress: ProgressCallback | None = None) -> Collected:
        """Download and verify the members of *run* that exist."""
        return collect_members(run_files.members_uri(run), members, self.settings.region, failures, progress)


def train_batch(data: Mapping[str, np.ndarray], trainer: str, config: Mapping[str, Any], members: int,
                min_members: int, settings: BatchSettings, progress: ProgressCallback | None = None,
                log: Callable[[str], None] | None = None) -> tuple[Any, Collected, str]:
    """Train an ensemble on AWS Batch; returns ``(ensemble, collected, run URI)``."""
    launcher = BatchLauncher(settings, log)
    report(progress, 0.0)
    config = prepare(trainer, data, config)  # shared by every member and by the assembly
    run = launcher.upload(data, trainer, config, members)
    job_id = launcher.submit(run, members, launcher.job_definition_arn())
    failures = launcher.wait(job_id, members, scaled(progress, 0.02, 0.95))
    collected = launcher.collect(run, members, failures, scaled(progress, 0.95, 1.0))
    return assemble(collected, trainer, dict(config), min_members), collected, run
