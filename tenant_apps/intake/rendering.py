"""How a form and its answers are laid out for the portal, the workspace and the PDF."""

import atexit
import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from tenant_apps.intake import definitions
from tenant_apps.intake.models import Signature, Submission
from tenants.models import Practice

FONT_DIR = Path(__file__).resolve().parent / "static" / "intake" / "fonts"


@dataclass
class Row:
    """One question as a page shows it."""

    question: dict[str, Any]
    value: Any = None
    display: str = ""
    error: str = ""
    visible: bool = True
    selected: list[str] = field(default_factory=list)
    choices: list[tuple[str, str]] = field(default_factory=list)

    @property
    def key(self) -> str:
        return str(self.question["key"])

    @property
    def type(self) -> str:
        return str(self.question["type"])

    @property
    def field_name(self) -> str:
        return f"q_{self.key}"

    @property
    def condition_json(self) -> str:
        return json.dumps(self.question.get("show_if") or None)


def _choices(question: dict[str, Any]) -> list[tuple[str, str]]:
    if question["type"] == definitions.SCALE:
        labels = question.get("scale_labels") or []
        low = question["min"]
        return [
            (str(n), f"{n} — {labels[n - low]}" if labels else str(n))
            for n in range(low, question["max"] + 1)
        ]
    return [(option, option) for option in definitions.answer_options(question)]


def rows(
    definition: dict[str, Any], answers: dict[str, Any], errors: dict[str, str] | None = None
) -> list[Row]:
    errors = errors or {}
    shown = definitions.visible_keys(definition, answers)
    result = []
    for question in definition["questions"]:
        value = answers.get(question["key"])
        selected = (
            [str(v) for v in value]
            if isinstance(value, list)
            else [str(value)]
            if value is not None and not isinstance(value, dict)
            else []
        )
        result.append(
            Row(
                question=question,
                value=value,
                display=definitions.display_answer(question, value),
                error=errors.get(question["key"], ""),
                visible=question["key"] in shown,
                selected=selected,
                choices=_choices(question),
            )
        )
    return result


def format_moment(moment: datetime | None, practice: Practice) -> str:
    """'Dec 3, 2026, 12:44:07 PM EST (America/New_York)': always labelled with the zone."""
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(practice.time_zone))
    return f"{local:%b %-d, %Y, %-I:%M:%S %p} {local.tzname()} ({practice.time_zone})"


def signature_blocks(submission: Submission, practice: Practice) -> list[dict[str, Any]]:
    blocks = []
    for signature in submission.signatures.all():
        blocks.append(
            {
                "signature": signature,
                "is_countersignature": signature.role == Signature.Role.COUNTERSIGNER,
                "signed_at_local": format_moment(signature.signed_at, practice),
                "signed_at_utc": signature.signed_at.isoformat(),
            }
        )
    return blocks


def submission_context(
    submission: Submission, practice: Practice, *, for_staff: bool
) -> dict[str, Any]:
    definition = submission.version.definition
    return {
        "submission": submission,
        "definition": definition,
        "rows": [row for row in rows(definition, submission.answers) if row.visible],
        "signatures": signature_blocks(submission, practice),
        "submitted_at_local": format_moment(submission.submitted_at, practice),
        "for_staff": for_staff,
        "practice": practice,
    }


def _font_face() -> SafeString:
    fonts = [
        (FONT_DIR / "dancing-script-latin-400-normal.woff2").as_uri(),
        (FONT_DIR / "dancing-script-latin-ext-400-normal.woff2").as_uri(),
    ]
    sources = ", ".join(f'url("{uri}") format("woff2")' for uri in fonts)
    return mark_safe(f'@font-face {{ font-family: "Signature Script"; src: {sources}; }}')


@cache
def _fetcher() -> Any:
    """Made once per process: building a fetcher sets up an SSL context, which costs more
    than laying out a page."""
    from weasyprint.urls import URLFetcher

    allowed_prefix = FONT_DIR.as_uri()

    class LocalOnly(URLFetcher):  # type: ignore[misc]
        """Data URLs (the drawn signature) and our bundled font only: never the network,
        never another file."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith("data:") or (url.startswith(allowed_prefix) and ".." not in url):
                return super().fetch(url, headers)
            raise ValueError("External resources are not loaded into form PDFs")

    return LocalOnly(allowed_protocols={"data", "file"})


@cache
def _fonts() -> Any:
    """One font configuration per process. The signature font's @font-face is decoded and
    registered with it on the first render only: WeasyPrint keys the font it adds by the
    rule's descriptors and reuses it when the same rule comes again."""
    from weasyprint.text.fonts import FontConfiguration

    # Dropped at exit while modules still exist: its __del__ removes a temporary folder.
    atexit.register(_fonts.cache_clear)
    return FontConfiguration()


def render_pdf(submission: Submission, practice: Practice, *, for_staff: bool) -> bytes:
    from weasyprint import HTML

    context = submission_context(submission, practice, for_staff=for_staff)
    context["font_face"] = _font_face()
    html = render_to_string("intake/pdf/submission.html", context)
    pdf = HTML(string=html, base_url=str(settings.BASE_DIR), url_fetcher=_fetcher()).write_pdf(
        font_config=_fonts()
    )
    return bytes(pdf or b"")
