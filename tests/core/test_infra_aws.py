"""The CloudFormation template of the AWS Batch set-up: cfn-lint passes, and it holds what docs/aws.md promises."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "aws" / "geoml-batch.yaml"


def test_cfn_lint_passes():
    pytest.importorskip("cfnlint", reason="cfn-lint is not installed (pip install cfn-lint)")
    exe = shutil.which("cfn-lint") or str(Path(sys.executable).with_name("cfn-lint"))
    proc = subprocess.run([exe, str(TEMPLATE)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_template_is_private_encrypted_versioned_and_least_privilege():
    cfn_yaml = pytest.importorskip("cfnlint.decode.cfn_yaml", reason="cfn-lint is not installed")
    resources = cfn_yaml.load(str(TEMPLATE))["Resources"]
    bucket = resources["RunBucket"]["Properties"]
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert all(bucket["PublicAccessBlockConfiguration"].values()) and len(bucket["PublicAccessBlockConfiguration"]) == 4

    kinds = {r["Properties"]["ComputeResources"]["Type"] for r in resources.values()
             if r["Type"] == "AWS::Batch::ComputeEnvironment"}
    assert kinds == {"SPOT", "EC2"}
    job = resources["WorkerJobDefinition"]["Properties"]
    assert {"OnStatusReason": "Host EC2*", "Action": "RETRY"} in job["RetryStrategy"]["EvaluateOnExit"]
    assert job["ContainerProperties"]["Command"][:4] == ["python", "-m", "geoml_qgis.core.scaleout.worker", "train-member"]

    # every S3 permission of the worker and launcher roles names this stack's bucket, nothing wider
    for name in ("WorkerJobRole", "LauncherPolicy"):
        props = resources[name]["Properties"]
        docs = [p["PolicyDocument"] for p in props.get("Policies", [])] + [props.get("PolicyDocument")]
        for doc in filter(None, docs):
            for statement in doc["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                if any(a.startswith("s3:") for a in actions):
                    assert "*" not in actions and "s3:*" not in actions
                    assert "RunBucket" in str(statement["Resource"]), (name, statement)


def test_gpu_option_is_off_by_default_and_complete_when_on():
    cfn_yaml = pytest.importorskip("cfnlint.decode.cfn_yaml", reason="cfn-lint is not installed")
    doc = cfn_yaml.load(str(TEMPLATE))
    assert doc["Parameters"]["GpuWorkers"]["Default"] == "false"
    res = doc["Resources"]
    gpu = [n for n, r in res.items() if r.get("Condition") == "UseGpu"]
    assert sorted(gpu) == ["GpuComputeEnvironment", "GpuJobQueue", "GpuWorkerJobDefinition"]
    env = res["GpuComputeEnvironment"]["Properties"]["ComputeResources"]
    assert env["Ec2Configuration"][0]["ImageType"] == "ECS_AL2_NVIDIA"
    job = res["GpuWorkerJobDefinition"]["Properties"]["ContainerProperties"]
    assert {"Type": "GPU", "Value": "1"} in job["ResourceRequirements"]
    assert job["Command"][-2:] == ["--device", "auto"]
    assert res["GpuJobQueue"]["Properties"]["ComputeEnvironmentOrder"][0]["ComputeEnvironment"] == {"Ref": "GpuComputeEnvironment"}
    dockerfile = (TEMPLATE.parent / "Dockerfile").read_text()
    assert "ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu" in dockerfile  # the CPU build stays the default
