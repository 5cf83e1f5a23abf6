"""Where documents are kept: a folder under the var dir on the embedded default, an
S3-compatible bucket through django-storages when configured. No S3 service is reachable
here: these tests check the wiring from the environment to the storage and to boto3's client,
without a request."""

import json
import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent
PROBE = """
import json, django
django.setup()
from tracker.models import ReportDocument
storage = ReportDocument._meta.get_field("file").storage
kind = type(storage._wrapped if hasattr(storage, "_wrapped") else storage)
out = {"backend": f"{kind.__module__}.{kind.__name__}"}
if out["backend"].endswith("FileSystemStorage"):
    out.update(location=str(storage.location), mode=storage.file_permissions_mode)
else:
    client = storage.connection.meta.client  # built, not called: no request is made
    out.update(
        bucket=storage.bucket_name,
        key=storage.access_key,
        endpoint=client.meta.endpoint_url,
        region=client.meta.region_name,
        stored_as=storage._normalize_name("reports/7/ab.pdf"),
        overwrite=storage.file_overwrite,
        acl=storage.default_acl,
        parameters=storage.get_object_parameters("reports/7/ab.pdf"),
    )
print(json.dumps(out))
"""


def probe(tmp_path, **variables) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TRACKER_DOCUMENTS_", "AWS_", "DATABASE_URL", "REDIS_URL"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DJANGO_READ_DOT_ENV_FILE="false",
        TRACKER_VAR_DIR=str(tmp_path),
        **variables,
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, cwd=BASE_DIR, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_embedded_default_keeps_documents_read_only_in_a_folder_of_the_var_dir(tmp_path):
    assert probe(tmp_path) == {
        "backend": "django.core.files.storage.filesystem.FileSystemStorage",
        "location": str(tmp_path / "documents"),
        "mode": 0o440,
    }


def test_a_bucket_in_the_environment_keeps_documents_in_s3_compatible_storage(tmp_path):
    assert probe(
        tmp_path,
        TRACKER_DOCUMENTS_S3_BUCKET="evidence",
        TRACKER_DOCUMENTS_S3_ENDPOINT_URL="https://minio.example.org:9000",
        TRACKER_DOCUMENTS_S3_REGION="eu-central-1",
        TRACKER_DOCUMENTS_S3_ACCESS_KEY_ID="tracker",
        TRACKER_DOCUMENTS_S3_SECRET_ACCESS_KEY="not-a-real-secret",
        TRACKER_DOCUMENTS_S3_PREFIX="tracker/documents",
    ) == {
        "backend": "storages.backends.s3.S3Storage",
        "bucket": "evidence",
        "key": "tracker",
        "endpoint": "https://minio.example.org:9000",
        "region": "eu-central-1",
        "stored_as": "tracker/documents/reports/7/ab.pdf",
        "overwrite": False,
        "acl": None,
        "parameters": {"ContentDisposition": "attachment"},
    }


def test_a_bucket_alone_uses_aws_and_boto3s_own_credentials(tmp_path):
    found = probe(tmp_path, TRACKER_DOCUMENTS_S3_BUCKET="evidence", AWS_DEFAULT_REGION="us-east-1")
    assert found["backend"] == "storages.backends.s3.S3Storage"
    assert found["key"] is None
    assert found["endpoint"] == "https://s3.amazonaws.com"
    assert found["stored_as"] == "documents/reports/7/ab.pdf"
