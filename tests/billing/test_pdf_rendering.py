"""The PDF renderer's process-wide setup: the shared stylesheet reaches every part of the page,
the warm-up needs no database, and a render leaves garbage collection as it found it."""

import gc
import io

from pypdf import PdfReader

from tenant_apps.billing import documents
from tenant_apps.billing.models import BillingDocument


def sample_invoice() -> BillingDocument:
    return BillingDocument(
        kind=BillingDocument.Kind.INVOICE, title="Invoice 1", snapshot=documents.SAMPLE
    )


def fonts_of(content: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(content)).pages:
        fonts = page["/Resources"]["/Font"]
        for key in fonts:
            # Subset fonts are named "ABCDEF+Family-Style"; keep the family and style.
            names.add(str(fonts[key].get_object()["/BaseFont"]).split("+")[-1])
    return names


def test_it_sets_the_whole_page_in_the_stylesheets_font():
    content, pages = documents.render_pdf(sample_invoice())

    assert pages == 1
    text = PdfReader(io.BytesIO(content)).pages[0].extract_text()
    assert "Invoice 1" in text and "Page 1" in text  # the page footer is drawn too
    # The footer sits in the page margin, outside <body>: it must not fall back to a serif.
    assert fonts_of(content) == {"DejaVu-Sans", "DejaVu-Sans-Bold"}


def test_it_warms_up_without_a_database_or_a_practice():
    # No django_db mark: any query here fails the test, as it would fail a web worker's
    # start-up hook, which runs outside every practice schema.
    documents.warm_up()


def test_a_render_turns_garbage_collection_back_on():
    assert gc.isenabled()

    documents.render_pdf(sample_invoice())

    assert gc.isenabled()


def test_a_render_leaves_garbage_collection_off_when_the_caller_turned_it_off():
    gc.disable()
    try:
        documents.render_pdf(sample_invoice())

        assert not gc.isenabled()
    finally:
        gc.enable()
