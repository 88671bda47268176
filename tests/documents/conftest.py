"""Documents fixtures: the client records of tests/clients, and document storage on the file
system or on an S3-compatible server (moto, on loopback) behind django-storages."""

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from django.core.files.base import ContentFile
from django_tenants.utils import schema_context

from tenant_apps.documents.models import Document, DocumentSettings, DocumentShare
from tenant_apps.documents.storage import document_storage, new_key
from tests.clients.conftest import (  # noqa: F401  (shared fixtures)
    biller,
    biller_browser,
    carol_record,
    dave_browser,
    dave_record,
    ivan_browser,
    ivan_record,
)
from tests.documents.samples import PDF

S3_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@dataclass
class Store:
    """The storage under test, and a way to list every object it holds."""

    kind: str
    keys: Callable[[], list[str]]


@pytest.fixture(autouse=True)
def _documents_on_a_private_tmp_dir(settings, tmp_path: Path) -> None:
    settings.DOCUMENTS_STORAGE_KIND = "filesystem"
    settings.DOCUMENTS_ROOT = str(tmp_path / "documents")
    settings.DOCUMENTS_SIGNED_URLS = False


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server on loopback for the whole run, started only when a test asks."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _filesystem_store(root: Path) -> Store:
    def keys() -> list[str]:
        if not root.exists():
            return []
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())

    return Store("filesystem", keys)


def _s3_store(settings, endpoint: str) -> Store:
    bucket = f"documents-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **S3_CREDENTIALS)
    client.create_bucket(Bucket=bucket)
    settings.DOCUMENTS_STORAGE_KIND = "s3"
    settings.DOCUMENTS_S3_BUCKET = bucket
    settings.DOCUMENTS_S3_ENDPOINT_URL = endpoint
    settings.DOCUMENTS_S3_REGION = "us-east-1"
    settings.DOCUMENTS_S3_ACCESS_KEY = S3_CREDENTIALS["aws_access_key_id"]
    settings.DOCUMENTS_S3_SECRET_KEY = S3_CREDENTIALS["aws_secret_access_key"]

    def keys() -> list[str]:
        listed = client.list_objects_v2(Bucket=bucket)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    return Store("s3", keys)


@pytest.fixture(params=["filesystem", "s3"])
def store(request, settings, tmp_path: Path) -> Store:
    """Each test that takes `store` runs twice: on the file system and on S3."""
    if request.param == "filesystem":
        return _filesystem_store(tmp_path / "documents")
    return _s3_store(settings, request.getfixturevalue("s3_endpoint"))


def stored_document(
    practice, *, content: bytes = PDF, title: str = "Welcome letter", **fields
) -> Document:
    """A document whose bytes are in the current document storage."""
    with schema_context(practice.schema_name):
        key = document_storage().save(new_key(practice.schema_name), ContentFile(content))
        defaults = {
            "original_name": "welcome.pdf",
            "kind": "pdf",
            "size": len(content),
            "sha256": "0" * 64,
        }
        return Document.objects.create(title=title, storage_key=key, **{**defaults, **fields})


def share_with(practice, document: Document, client, **fields) -> DocumentShare:
    with schema_context(practice.schema_name):
        return DocumentShare.objects.create(document=document, client=client, **fields)


@pytest.fixture
def allow_client_uploads(sunrise) -> None:
    with schema_context(sunrise.schema_name):
        DocumentSettings.objects.update_or_create(pk=1, defaults={"clients_may_upload": True})
