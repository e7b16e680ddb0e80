"""Reading and writing files that live on a local disk or on S3 (``s3://bucket/key``).

Writes are atomic in both places: a local file goes through a temporary file and a
rename; an S3 object is uploaded to a temporary key, copied to its final key and the
temporary key deleted, so a reader never sees half an object. Every S3 object written
here carries its SHA-256 in its user metadata (``x-amz-meta-sha256``); downloads
recompute it and refuse an object whose content does not match.

Credentials come only from boto3's standard chain (environment variables, shared
profile, instance or task role); nothing here reads, stores or prints them. An
endpoint other than AWS (MinIO, a test server) is taken from ``AWS_ENDPOINT_URL_S3``
or ``AWS_ENDPOINT_URL``, the variables newer boto3 versions read themselves.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Iterator

from ..deps import require
from ..errors import GeoMLError
from ..io.atomic import atomic_path
from ..io.provenance import file_sha256

CHUNK = 1 << 20
CHECKSUM_KEY = "sha256"


class ChecksumError(GeoMLError):
    """A downloaded object's content does not match the SHA-256 stored with it."""


def is_s3(uri: str) -> bool:
    return str(uri).startswith("s3://")


def split_s3(uri: str) -> tuple[str, str]:
    """``s3://bucket/a/b`` → ``("bucket", "a/b")``."""
    if not is_s3(uri):
        raise GeoMLError(f"Not an S3 address: {uri}")
    bucket, _, key = str(uri)[5:].partition("/")
    if not bucket:
        raise GeoMLError(f"The S3 address {uri} names no bucket.")
    return bucket, key


def join(base: str, *parts: str) -> str:
    """Join path parts onto a local folder or an S3 prefix."""
    if is_s3(base):
        return "/".join([str(base).rstrip("/"), *(p.strip("/") for p in parts)])
    return str(Path(base, *parts))


def client(service: str, region: str | None = None):
    """A boto3 client from the standard credential chain (endpoint from ``AWS_ENDPOINT_URL[_SERVICE]``)."""
    boto3 = require("boto3", "reading and writing S3")
    endpoint = os.environ.get(f"AWS_ENDPOINT_URL_{service.upper()}") or os.environ.get("AWS_ENDPOINT_URL")
    return boto3.session.Session(region_name=region or None).client(service, endpoint_url=endpoint or None)


_DENIED = {"AccessDenied", "AccessDeniedException", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken",
           "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException", "UnauthorizedOperation",
           "403"}


@contextlib.contextmanager
def aws_errors(action: str) -> Iterator[None]:
    """Turn botocore errors raised inside the block into :class:`GeoMLError` a user can act on.

    Messages name the action and the AWS error code, never a credential.
    """
    from boto3.exceptions import S3UploadFailedError
    from botocore import exceptions as bce  # installed with boto3

    try:
        yield
    except S3UploadFailedError as exc:  # boto3's transfer manager wraps the ClientError
        cause = exc.__context__
        if isinstance(cause, bce.ClientError):
            raise _client_error(action, cause) from exc
        raise GeoMLError(f"Upload failed while {action}: {exc}") from exc
    except (bce.NoCredentialsError, bce.PartialCredentialsError) as exc:
        raise GeoMLError(
            f"No AWS credentials found while {action}. Set them the standard way (aws configure, "
            "AWS_PROFILE, or an instance role); GeoML never stores them."
        ) from exc
    except bce.EndpointConnectionError as exc:
        raise GeoMLError(f"Cannot reach AWS while {action}: {exc}. Check the network and the region.") from exc
    except bce.ClientError as exc:
        raise _client_error(action, exc) from exc


def _client_error(action: str, exc) -> GeoMLError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    if code == "NoSuchBucket":
        return GeoMLError(
            f"The S3 bucket '{error.get('BucketName', '')}' does not exist ({action}). "
            "Create it with infra/aws/geoml-batch.yaml, or check its name and the region."
        )
    if code in _DENIED:
        return GeoMLError(
            f"AWS refused access while {action} ({code}). The credentials from the standard chain "
            "(aws configure, AWS_PROFILE, instance role) are missing, wrong, expired or lack permission "
            "for this bucket or queue."
        )
    return GeoMLError(f"AWS error while {action}: {code}: {error.get('Message', '')}")


def put_file(local: str | os.PathLike, uri: str, region: str | None = None) -> str:
    """Copy a local file to *uri* (local path or ``s3://``) atomically; returns its SHA-256."""
    digest = file_sha256(local)
    if not is_s3(uri):
        with atomic_path(uri, defer=False) as tmp:
            shutil.copyfile(local, tmp)
        return digest
    bucket, key = split_s3(uri)
    s3 = client("s3", region)
    temp_key = f"{key}.part-{uuid.uuid4().hex}"
    meta = {CHECKSUM_KEY: digest}
    with aws_errors(f"uploading {uri}"):
        s3.upload_file(str(local), bucket, temp_key, ExtraArgs={"Metadata": meta})
        try:
            s3.copy({"Bucket": bucket, "Key": temp_key}, bucket, key,
                    ExtraArgs={"Metadata": meta, "MetadataDirective": "REPLACE"})
        finally:
            s3.delete_object(Bucket=bucket, Key=temp_key)
    return digest


def get_file(uri: str, local: str | os.PathLike, region: str | None = None) -> str:
    """Copy *uri* to a local file atomically, verifying an S3 object's SHA-256; returns it.

    Raises :class:`ChecksumError` when the content does not match the checksum stored
    with the object, and :class:`FileNotFoundError` when there is no such object or file.
    """
    if not is_s3(uri):
        if not os.path.exists(uri):
            raise FileNotFoundError(uri)
        with atomic_path(local, defer=False) as tmp:
            shutil.copyfile(uri, tmp)
        return file_sha256(local)
    bucket, key = split_s3(uri)
    s3 = client("s3", region)
    from botocore.exceptions import ClientError  # installed with boto3

    with aws_errors(f"downloading {uri}"):
        try:
            obj = s3.get_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError(uri) from exc
            raise
        expected = obj.get("Metadata", {}).get(CHECKSUM_KEY)
        h = hashlib.sha256()
        with atomic_path(local, defer=False) as tmp:
            with open(tmp, "wb") as fh:
                for block in obj["Body"].iter_chunks(CHUNK):
                    h.update(block)
                    fh.write(block)
            if expected is None:
                raise ChecksumError(f"{uri} carries no SHA-256 checksum; it was not written by GeoML.")
            if h.hexdigest() != expected:
                raise ChecksumError(f"{uri} is damaged: its SHA-256 does not match the checksum stored with it.")
    return expected


def put_bytes(data: bytes, uri: str, region: str | None = None) -> str:
    """Write *data* to *uri* atomically (through a temporary local file); returns its SHA-256."""
    with tempfile.TemporaryDirectory(prefix="geoml-s3io-") as tmpdir:
        path = Path(tmpdir, "blob")
        path.write_bytes(data)
        return put_file(path, uri, region)


def get_bytes(uri: str, region: str | None = None) -> bytes:
    """Read the whole of *uri* (verified like :func:`get_file`)."""
    with tempfile.TemporaryDirectory(prefix="geoml-s3io-") as tmpdir:
        path = Path(tmpdir, "blob")
        get_file(uri, path, region)
        return path.read_bytes()
