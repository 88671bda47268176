"""System checks for document storage mistakes that would leak files or lose them."""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register


@register(Tags.security, deploy=True)
def check_document_storage(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    problems: list[CheckMessage] = []
    kind = settings.DOCUMENTS_STORAGE_KIND
    if kind not in {"filesystem", "s3"}:
        problems.append(
            Error(
                f"DOCUMENTS_STORAGE must be 'filesystem' or 's3', not {kind!r}.",
                id="documents.E001",
            )
        )
    if kind == "s3" and not settings.DOCUMENTS_S3_BUCKET:
        problems.append(
            Error(
                "DOCUMENTS_STORAGE is 's3' but DOCUMENTS_S3_BUCKET is not set.",
                hint="Set DOCUMENTS_S3_BUCKET to a private bucket.",
                id="documents.E002",
            )
        )
    if settings.DOCUMENTS_SIGNED_URL_SECONDS > 60:
        problems.append(
            Error("Signed document URLs must live at most 60 seconds.", id="documents.E003")
        )
    return problems
