"""What an uploaded file is, decided from its bytes, and a safe name to remember it by.

The name a browser sends is never trusted: it may carry path separators, control characters or
a misleading extension. The type is decided by content signatures and a cheap structural
check, not by the extension. Nothing here touches storage.
"""

import codecs
import enum
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import IO

from PIL import Image, UnidentifiedImageError

MAX_NAME_LENGTH = 120
# Images larger than this many pixels are refused rather than decoded (decompression bombs).
MAX_IMAGE_PIXELS = 60_000_000
# An Office file that inflates to more than this is refused before it is read (zip bombs).
MAX_ZIP_INFLATED_BYTES = 250 * 1024 * 1024
_CHUNK = 1024 * 1024


class FileKind(enum.StrEnum):
    PDF = "pdf"
    PNG = "png"
    JPEG = "jpeg"
    GIF = "gif"
    WEBP = "webp"
    HEIC = "heic"
    TEXT = "text"
    DOCX = "docx"
    XLSX = "xlsx"


@dataclass(frozen=True)
class KindInfo:
    label: str
    content_type: str
    extensions: tuple[str, ...]
    # Shown in the browser; everything else is downloaded as an attachment.
    inline: bool


KINDS: dict[FileKind, KindInfo] = {
    FileKind.PDF: KindInfo("PDF", "application/pdf", (".pdf",), True),
    FileKind.PNG: KindInfo("PNG image", "image/png", (".png",), True),
    FileKind.JPEG: KindInfo("JPEG image", "image/jpeg", (".jpg", ".jpeg"), True),
    FileKind.GIF: KindInfo("GIF image", "image/gif", (".gif",), True),
    FileKind.WEBP: KindInfo("WebP image", "image/webp", (".webp",), True),
    FileKind.HEIC: KindInfo("HEIC image", "image/heic", (".heic", ".heif"), False),
    FileKind.TEXT: KindInfo("Text", "text/plain; charset=utf-8", (".txt",), False),
    FileKind.DOCX: KindInfo(
        "Word document",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (".docx",),
        False,
    ),
    FileKind.XLSX: KindInfo(
        "Excel spreadsheet",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (".xlsx",),
        False,
    ),
}

ACCEPTED_DESCRIPTION = "PDF, images (PNG, JPEG, GIF, WebP, HEIC), plain text, Word or Excel"
# For the file picker only; the server decides by content.
ACCEPT_ATTRIBUTE = ",".join(ext for info in KINDS.values() for ext in info.extensions)


class UnacceptableFile(Exception):
    """A file we refuse, with a message for the person who sent it."""


_SEPARATORS = re.compile(r"[/\\]")
_UNSAFE = re.compile(r'[<>:"|?*]')
_SPACES = re.compile(r"\s+")


def clean_filename(raw: str) -> str:
    """A display name without directories, control characters or unbounded length.

    Only the last path segment survives ("../../etc/passwd" becomes "passwd"). Returns ""
    when nothing usable is left, which callers refuse.
    """
    name = unicodedata.normalize("NFC", raw or "")
    name = _SEPARATORS.split(name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name)
    name = _SPACES.sub(" ", name).strip().lstrip(".").strip()
    if name in {"", ".", ".."}:
        return ""
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10 and stem:
            name = f"{stem[: MAX_NAME_LENGTH - len(ext) - 1].rstrip()}.{ext}"
        else:
            name = name[:MAX_NAME_LENGTH].rstrip()
    return name


def name_for_kind(name: str, kind: FileKind) -> str:
    """The name with an extension that matches the content, so the download opens right."""
    extensions = KINDS[kind].extensions
    if name.lower().endswith(extensions):
        return name
    stem, dot, _ext = name.rpartition(".")
    base = stem if dot and stem else name
    return f"{base[: MAX_NAME_LENGTH - 6]}{extensions[0]}"


def title_from_name(name: str) -> str:
    stem, dot, _ext = name.rpartition(".")
    return (stem if dot and stem else name)[:200]


def _read_head(fileobj: IO[bytes], size: int = 64) -> bytes:
    fileobj.seek(0)
    head = fileobj.read(size)
    fileobj.seek(0)
    return head


def _signature_kind(head: bytes) -> FileKind | None:
    if head.startswith(b"%PDF-"):
        return FileKind.PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileKind.PNG
    if head.startswith(b"\xff\xd8\xff"):
        return FileKind.JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return FileKind.GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return FileKind.WEBP
    if head[4:8] == b"ftyp" and head[8:12] in {b"heic", b"heix", b"hevc", b"heim", b"mif1"}:
        return FileKind.HEIC
    return None


def _check_pdf(fileobj: IO[bytes], size: int) -> None:
    fileobj.seek(max(0, size - 2048))
    tail = fileobj.read()
    if b"%%EOF" not in tail:
        raise UnacceptableFile("This PDF looks damaged or incomplete. Please save it again.")


def _check_image(fileobj: IO[bytes], kind: FileKind) -> None:
    damaged = UnacceptableFile("This image looks damaged or incomplete. Please export it again.")
    try:
        fileobj.seek(0)
        with Image.open(fileobj) as image:
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise UnacceptableFile("This image is too large to share. Please resize it.")
            image.verify()
        # verify() misses truncated pixel data; decoding (bounded above) does not.
        fileobj.seek(0)
        with Image.open(fileobj) as image:
            image.load()
    except UnacceptableFile:
        raise
    except (OSError, SyntaxError, ValueError, UnidentifiedImageError, Image.DecompressionBombError):
        raise damaged from None
    finally:
        fileobj.seek(0)


def _check_heic(fileobj: IO[bytes], size: int) -> None:
    # Without a HEIF decoder, check that the leading box is sane and that a media box exists.
    head = _read_head(fileobj, 4096)
    box_size = int.from_bytes(head[:4], "big")
    if box_size < 16 or box_size > size or b"meta" not in head:
        raise UnacceptableFile("This image looks damaged or incomplete. Please export it again.")


def _office_kind(fileobj: IO[bytes]) -> FileKind:
    fileobj.seek(0)
    try:
        with zipfile.ZipFile(fileobj) as archive:
            infos = archive.infolist()
            if sum(info.file_size for info in infos) > MAX_ZIP_INFLATED_BYTES:
                raise UnacceptableFile("This file is too large once unpacked.")
            try:
                types = archive.read("[Content_Types].xml")
            except KeyError:
                raise UnacceptableFile(_not_accepted()) from None
            if archive.testzip() is not None:
                raise zipfile.BadZipFile("CRC mismatch")
    except (zipfile.BadZipFile, EOFError):
        raise UnacceptableFile(
            "This file looks damaged or incomplete. Please save it again."
        ) from None
    finally:
        fileobj.seek(0)
    if b"wordprocessingml.document.main+xml" in types:
        return FileKind.DOCX
    if b"spreadsheetml.sheet.main+xml" in types:
        return FileKind.XLSX
    raise UnacceptableFile(_not_accepted())


def _is_utf8_text(fileobj: IO[bytes]) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    fileobj.seek(0)
    try:
        while chunk := fileobj.read(_CHUNK):
            if b"\x00" in chunk:
                return False
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        fileobj.seek(0)
    return True


def _not_accepted() -> str:
    return f"This type of file can't be shared. Accepted types: {ACCEPTED_DESCRIPTION}."


def sniff(fileobj: IO[bytes], size: int) -> FileKind:
    """The kind of file these bytes are, or UnacceptableFile saying why not.

    The name's extension plays no part: a program renamed to letter.pdf is refused, and a
    PDF named notes.txt is a PDF.
    """
    head = _read_head(fileobj)
    if head.startswith(b"PK\x03\x04"):
        # The ZIP signature alone says neither which Office type nor whether it is one.
        return _office_kind(fileobj)
    kind = _signature_kind(head)
    if kind is None:
        if _is_utf8_text(fileobj):
            return FileKind.TEXT
        raise UnacceptableFile(_not_accepted())
    if kind is FileKind.PDF:
        _check_pdf(fileobj, size)
    elif kind is FileKind.HEIC:
        _check_heic(fileobj, size)
    else:
        _check_image(fileobj, kind)
    fileobj.seek(0)
    return kind
