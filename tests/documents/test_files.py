"""Deciding what a file is from its bytes, and cleaning the name it came with."""

import io

import pytest

from tenant_apps.documents.files import (
    MAX_NAME_LENGTH,
    FileKind,
    UnacceptableFile,
    clean_filename,
    name_for_kind,
    sniff,
)
from tests.documents.samples import DOCX, EXECUTABLE, PDF, PLAIN_ZIP, XLSX, image

# The first boxes of a HEIC photo: "ftyp" naming the brand, then "meta".
HEIC = (
    b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"
    + b"\x00\x00\x00\x22meta\x00\x00\x00\x00"
    + b"\x00" * 400
)


def _sniff(content: bytes) -> FileKind:
    return sniff(io.BytesIO(content), len(content))


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (PDF, FileKind.PDF),
        (image("PNG"), FileKind.PNG),
        (image("JPEG"), FileKind.JPEG),
        (image("GIF"), FileKind.GIF),
        (image("WEBP"), FileKind.WEBP),
        ("Grüße, plain UTF-8 text\n".encode(), FileKind.TEXT),
        (DOCX, FileKind.DOCX),
        (XLSX, FileKind.XLSX),
        (HEIC, FileKind.HEIC),
    ],
)
def test_it_recognises_each_accepted_kind_by_content(content, kind):
    assert _sniff(content) is kind


@pytest.mark.parametrize(
    "content",
    [EXECUTABLE, PLAIN_ZIP, b"\xff\xfe\x00\x00binary", "latin-1 caf\xe9".encode("latin-1")],
    ids=["program", "zip-without-office-types", "binary", "not-utf8"],
)
def test_it_refuses_what_is_not_an_accepted_kind(content):
    with pytest.raises(UnacceptableFile, match="can't be shared"):
        _sniff(content)


@pytest.mark.parametrize(
    "content",
    [
        PDF.replace(b"%%EOF", b""),
        image("PNG", (64, 64))[:-40],
        image("JPEG", (64, 64))[:200],
        DOCX[: len(DOCX) // 2],
        HEIC[:24],
    ],
    ids=["pdf-without-eof", "truncated-png", "truncated-jpeg", "truncated-docx", "heic-no-meta"],
)
def test_it_refuses_files_that_claim_a_kind_but_are_damaged(content):
    with pytest.raises(UnacceptableFile, match="damaged or incomplete"):
        _sniff(content)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\report.pdf", "report.pdf"),
        ("/absolute/path/letter.pdf", "letter.pdf"),
        ("bad\x00name\x1b[31m.pdf", "badname[31m.pdf"),
        ("line\nbreak\r.txt", "linebreak.txt"),
        ('what?<is>"this".pdf', "what__is__this_.pdf"),
        (".hidden", "hidden"),
        ("  spaced    out  .pdf ", "spaced out .pdf"),
        ("../..", ""),
        ("\x00\x01", ""),
    ],
)
def test_it_cleans_names(raw, clean):
    assert clean_filename(raw) == clean


def test_it_shortens_very_long_names_but_keeps_the_extension():
    cleaned = clean_filename("a" * 500 + ".pdf")

    assert len(cleaned) == MAX_NAME_LENGTH
    assert cleaned.endswith("a.pdf")


def test_the_extension_follows_the_content():
    assert name_for_kind("scan.txt", FileKind.PDF) == "scan.pdf"
    assert name_for_kind("photo.JPEG", FileKind.JPEG) == "photo.JPEG"
    assert name_for_kind("README", FileKind.TEXT) == "README.txt"
