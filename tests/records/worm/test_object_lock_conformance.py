"""Object Lock conformance: what a store must enforce before the archive may be called WORM.

Runs against moto (the suite's S3 server) by default, where the rules moto does not
enforce are expected failures (``xfail``, strict: a moto that starts enforcing them is
noticed). Point it at the store you deploy to check that store, where every test must pass:

    CIVIC_WORM_CONFORMANCE_ENDPOINT=https://minio.example.gov:9000 \\
    CIVIC_WORM_CONFORMANCE_ACCESS_KEY=… CIVIC_WORM_CONFORMANCE_SECRET_KEY=… \\
    pytest tests/records/worm/test_object_lock_conformance.py

(use an account of a test project: it creates a bucket with Object Lock and leaves
compliance-locked objects in it for a day).
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

ENDPOINT = os.environ.get("CIVIC_WORM_CONFORMANCE_ENDPOINT", "")
ON_MOTO = not ENDPOINT


def moto_gap(reason: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(ON_MOTO, reason=f"moto does not enforce it: {reason}", strict=True)


@pytest.fixture
def client(request) -> Any:
    if ON_MOTO:
        endpoint = request.getfixturevalue("s3_server")
        keys = ("test", "test")
    else:
        endpoint = ENDPOINT
        keys = (
            os.environ["CIVIC_WORM_CONFORMANCE_ACCESS_KEY"],
            os.environ["CIVIC_WORM_CONFORMANCE_SECRET_KEY"],
        )
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=os.environ.get("CIVIC_WORM_CONFORMANCE_REGION", "us-east-1"),
        aws_access_key_id=keys[0],
        aws_secret_access_key=keys[1],
    )


@pytest.fixture
def bucket(client) -> str:
    name = f"civic-conformance-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


def _put(client, bucket: str, mode: str, until: datetime, hold: bool = False) -> tuple[str, str]:
    key = f"k-{uuid.uuid4().hex[:8]}"
    response = client.put_object(
        Bucket=bucket,
        Key=key,
        Body=b"record",
        ChecksumAlgorithm="SHA256",
        ObjectLockMode=mode,
        ObjectLockRetainUntilDate=until,
        ObjectLockLegalHoldStatus="ON" if hold else "OFF",
    )
    return key, response["VersionId"]


def _denied(call, **kwargs) -> bool:
    try:
        call(**kwargs)
    except ClientError as error:
        return error.response["Error"]["Code"] in {"AccessDenied", "InvalidRequest"}
    return False


DAY = timedelta(days=1)


def test_a_compliance_version_cannot_be_deleted(client, bucket):
    key, version = _put(client, bucket, "COMPLIANCE", datetime.now(UTC) + DAY)

    assert _denied(client.delete_object, Bucket=bucket, Key=key, VersionId=version)


def test_a_delete_without_version_leaves_the_locked_version(client, bucket):
    key, version = _put(client, bucket, "COMPLIANCE", datetime.now(UTC) + DAY)

    client.delete_object(Bucket=bucket, Key=key)  # a delete marker

    assert client.get_object(Bucket=bucket, Key=key, VersionId=version)["Body"].read() == b"record"


def test_a_governance_version_needs_the_bypass(client, bucket):
    key, version = _put(client, bucket, "GOVERNANCE", datetime.now(UTC) + DAY)

    assert _denied(client.delete_object, Bucket=bucket, Key=key, VersionId=version)
    client.delete_object(Bucket=bucket, Key=key, VersionId=version, BypassGovernanceRetention=True)


def test_a_legal_hold_blocks_even_the_bypass(client, bucket):
    key, version = _put(client, bucket, "GOVERNANCE", datetime.now(UTC) + timedelta(seconds=2))
    client.put_object_legal_hold(
        Bucket=bucket, Key=key, VersionId=version, LegalHold={"Status": "ON"}
    )
    time.sleep(3)  # the retention has expired; the hold has not

    assert _denied(
        client.delete_object,
        Bucket=bucket,
        Key=key,
        VersionId=version,
        BypassGovernanceRetention=True,
    )


@moto_gap("compliance retention can be shortened")
def test_compliance_retention_cannot_be_shortened(client, bucket):
    until = datetime.now(UTC) + DAY
    key, version = _put(client, bucket, "COMPLIANCE", until)

    assert _denied(
        client.put_object_retention,
        Bucket=bucket,
        Key=key,
        VersionId=version,
        Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until - timedelta(hours=12)},
    )


@moto_gap("compliance can be downgraded to governance")
def test_compliance_cannot_become_governance(client, bucket):
    until = datetime.now(UTC) + DAY
    key, version = _put(client, bucket, "COMPLIANCE", until)

    assert _denied(
        client.put_object_retention,
        Bucket=bucket,
        Key=key,
        VersionId=version,
        Retention={"Mode": "GOVERNANCE", "RetainUntilDate": until},
        BypassGovernanceRetention=True,
    )


@moto_gap("versioning of an Object Lock bucket can be suspended")
def test_versioning_cannot_be_suspended(client, bucket):
    assert _denied(
        client.put_bucket_versioning,
        Bucket=bucket,
        VersioningConfiguration={"Status": "Suspended"},
    )


def test_retention_can_be_extended(client, bucket):
    until = datetime.now(UTC) + DAY
    key, version = _put(client, bucket, "COMPLIANCE", until)

    client.put_object_retention(
        Bucket=bucket,
        Key=key,
        VersionId=version,
        Retention={"Mode": "COMPLIANCE", "RetainUntilDate": until + DAY},
    )

    head = client.head_object(Bucket=bucket, Key=key, VersionId=version)
    assert head["ObjectLockRetainUntilDate"] > until
