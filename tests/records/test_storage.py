"""Object storage: STORAGE_BACKEND=s3 stores files in an S3-compatible bucket."""

from __future__ import annotations

import boto3
from django.core.files.base import ContentFile
from django.core.files.storage import storages


def test_files_saved_through_default_storage_land_in_the_s3_bucket(s3_settings, s3_server):
    # django-stubs types ``backends`` as storages; it holds their STORAGES settings.
    storage = storages.create_storage(storages.backends["default"])  # type: ignore[arg-type]
    name = storage.save("exports/agency-a/report.txt", ContentFile(b"public record"))
    client = boto3.client(
        "s3",
        endpoint_url=s3_server,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    stored = client.get_object(Bucket=s3_settings, Key=name)["Body"].read()
    assert stored == b"public record"
    with storage.open(name) as handle:
        assert handle.read() == b"public record"
