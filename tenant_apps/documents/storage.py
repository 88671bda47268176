"""Where document bytes live: a private storage built from the DOCUMENTS_* settings.

Keys are `<schema>/documents/<random>`: a per-practice prefix and a random name that says
nothing about the file. The original name is kept only as metadata on the row. Neither backend
is given a public base URL; bytes leave through the download views (or, for S3 when
DOCUMENTS_SIGNED_URLS is on, a URL signed for DOCUMENTS_SIGNED_URL_SECONDS).
"""

import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage, Storage
from django.core.signals import setting_changed
from django.dispatch import receiver

if TYPE_CHECKING:
    from storages.backends.s3 import S3Storage

_cached: dict[str, Storage] = {}


def _filesystem_root() -> Path:
    if settings.DOCUMENTS_ROOT:
        return Path(settings.DOCUMENTS_ROOT)
    # Beside, never inside, anything served: MEDIA_URL is not routed at all.
    return Path(settings.MEDIA_ROOT).parent / "private-documents"


def _build() -> Storage:
    kind = settings.DOCUMENTS_STORAGE_KIND
    if kind == "filesystem":
        # Django would answer url() with MEDIA_URL + key, but nothing routes MEDIA_URL and
        # nothing here calls url() on this backend: bytes leave through the views only.
        return FileSystemStorage(
            location=_filesystem_root(),
            base_url=None,
            file_permissions_mode=0o600,
            directory_permissions_mode=0o700,
        )
    if kind == "s3":
        from storages.backends.s3 import S3Storage

        options: dict[str, Any] = {
            "bucket_name": settings.DOCUMENTS_S3_BUCKET,
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": settings.DOCUMENTS_SIGNED_URL_SECONDS,
            "file_overwrite": False,
            "custom_domain": None,
            # SigV4: the expiry is part of what is signed (X-Amz-Expires).
            "signature_version": "s3v4",
            "location": "",
        }
        if settings.DOCUMENTS_S3_ENDPOINT_URL:
            options["endpoint_url"] = settings.DOCUMENTS_S3_ENDPOINT_URL
        if settings.DOCUMENTS_S3_REGION:
            options["region_name"] = settings.DOCUMENTS_S3_REGION
        if settings.DOCUMENTS_S3_ACCESS_KEY:
            options["access_key"] = settings.DOCUMENTS_S3_ACCESS_KEY
            options["secret_key"] = settings.DOCUMENTS_S3_SECRET_KEY
        return S3Storage(**options)
    raise ImproperlyConfigured(f"DOCUMENTS_STORAGE must be 'filesystem' or 's3', not {kind!r}")


def document_storage() -> Storage:
    """The storage for document bytes, built once per configuration."""
    storage = _cached.get("documents")
    if storage is None:
        storage = _cached["documents"] = _build()
    return storage


@receiver(setting_changed)
def _forget_storage(setting: str, **kwargs: object) -> None:
    if setting.startswith("DOCUMENTS_") or setting == "MEDIA_ROOT":
        _cached.clear()


def new_key(schema_name: str) -> str:
    return f"{schema_name}/documents/{secrets.token_urlsafe(24)}"


def signing_storage(storage: Storage) -> "S3Storage | None":
    """The storage, if it can sign short-lived URLs (S3); None for the file system."""
    from storages.backends.s3 import S3Storage

    return storage if isinstance(storage, S3Storage) else None
