"""How a document's bytes leave: only from here, after a view has checked who is asking."""

import logging

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.utils.http import content_disposition_header

from tenant_apps.documents.files import KINDS
from tenant_apps.documents.models import Document
from tenant_apps.documents.storage import document_storage, signing_storage

logger = logging.getLogger(__name__)


def _private[R: HttpResponseBase](response: R) -> R:
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Referrer-Policy"] = "no-referrer"
    return response


def document_response(document: Document, *, inline: bool) -> HttpResponseBase:
    """The file itself: inline for types a browser previews safely (PDF, images), as an
    attachment for everything else, whatever was asked."""
    inline = inline and document.previews_inline
    storage = document_storage()

    signer = signing_storage(storage) if settings.DOCUMENTS_SIGNED_URLS else None
    if signer is not None:
        # The signed URL's query string ends up in proxy and bucket logs, so it names the
        # file by id and extension only, never by its original name.
        extension = KINDS[document.file_kind].extensions[0]
        disposition = content_disposition_header(not inline, f"document-{document.pk}{extension}")
        url = signer.url(
            document.storage_key,
            parameters={
                "ResponseContentDisposition": disposition,
                "ResponseContentType": document.content_type,
                "ResponseCacheControl": "private, no-store",
            },
            expire=settings.DOCUMENTS_SIGNED_URL_SECONDS,
        )
        return _private(HttpResponseRedirect(url))

    try:
        fileobj = storage.open(document.storage_key, "rb")
    except (FileNotFoundError, OSError):
        logger.error("Stored object missing for document %s", document.pk)
        raise Http404("No such document") from None
    response = FileResponse(
        fileobj,
        as_attachment=not inline,
        filename=document.original_name,
        content_type=document.content_type,
    )
    response["Content-Length"] = str(document.size)
    return _private(response)
