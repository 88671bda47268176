"""Code lists shipped with the app: CPT (procedures), ICD-10-CM (diagnoses), place of service.

The ICD-10-CM list in `data/` is a subset (mental and behavioural health, chapter 5, and Z codes
common in therapy). To validate against the complete code set, download CMS's yearly "code
descriptions in tabular order" file (icd10cm-codes-YYYY.txt) and point the
BILLING_ICD10CM_FILE setting at it; both that fixed-width form ("F411    Generalized anxiety
disorder") and this app's tab-separated form are read.
"""

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError

DATA = Path(__file__).resolve().parent / "data"

CPT_FORMAT = re.compile(r"^\d{4}[0-9FTU]$")
MODIFIER_FORMAT = re.compile(r"^[A-Z0-9]{2}$")
ICD10_FORMAT = re.compile(r"^[A-TV-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?$")
MAX_DIAGNOSES = 12
MAX_MODIFIERS = 4


@dataclass(frozen=True)
class Code:
    code: str
    description: str


def _read_tsv(path: Path) -> dict[str, str]:
    rows: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        code, _, description = line.partition("\t")
        rows[code.strip()] = description.strip()
    return rows


def _read_cms(path: Path) -> dict[str, str]:
    """CMS's file: the code without its dot, spaces, the description."""
    rows: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        raw, _, description = line.strip().partition(" ")
        if not raw:
            continue
        code = raw if len(raw) <= 3 else f"{raw[:3]}.{raw[3:]}"
        rows[code.upper()] = description.strip()
    return rows


@cache
def cpt_codes() -> dict[str, str]:
    return _read_tsv(DATA / "cpt_codes.tsv")


@cache
def icd10_codes() -> dict[str, str]:
    configured = getattr(settings, "BILLING_ICD10CM_FILE", "")
    if configured:
        path = Path(configured)
        return (
            _read_tsv(path) if "\t" in path.read_text(encoding="utf-8")[:4096] else _read_cms(path)
        )
    return _read_tsv(DATA / "icd10cm_behavioral.tsv")


@cache
def place_of_service_codes() -> dict[str, str]:
    return _read_tsv(DATA / "place_of_service.tsv")


def place_of_service_choices() -> list[tuple[str, str]]:
    return [(code, f"{code} — {name}") for code, name in sorted(place_of_service_codes().items())]


def search(codes: dict[str, str], query: str, *, limit: int = 20) -> list[Code]:
    """Codes whose code starts with, or whose description contains, every word of `query`."""
    words = query.lower().split()
    found = []
    for code, description in codes.items():
        haystack = f"{code.lower()} {description.lower()}"
        if all(word in haystack for word in words):
            found.append(Code(code, description))
            if len(found) >= limit:
                break
    return found


def validate_cpt(value: str) -> str:
    code = value.strip().upper()
    if not CPT_FORMAT.match(code):
        raise ValidationError(
            f"“{value}” is not a CPT code: use five characters, four digits then a digit or "
            "F, T or U (for example 90834)."
        )
    return code


def normalize_icd10(value: str) -> str:
    code = value.strip().upper().replace(" ", "")
    if len(code) > 3 and "." not in code:
        code = f"{code[:3]}.{code[3:]}"
    return code


def validate_icd10(value: str) -> str:
    code = normalize_icd10(value)
    if not ICD10_FORMAT.match(code):
        raise ValidationError(
            f"“{value}” is not an ICD-10-CM code: a letter, two characters, then optionally a "
            "dot and up to four more (for example F41.1)."
        )
    if code not in icd10_codes():
        raise ValidationError(
            f"{code} is not in this practice's ICD-10-CM list. Check the code; billable codes "
            "are often longer (F43.2 → F43.23)."
        )
    return code


def validate_modifiers(value: str) -> str:
    """'95, ho' → '95,HO'. Up to four two-character modifiers."""
    parts = [part.strip().upper() for part in re.split(r"[,\s]+", value) if part.strip()]
    if len(parts) > MAX_MODIFIERS:
        raise ValidationError(f"Use at most {MAX_MODIFIERS} modifiers.")
    for part in parts:
        if not MODIFIER_FORMAT.match(part):
            raise ValidationError(f"“{part}” is not a modifier: use two letters or digits.")
    return ",".join(parts)


def check_cpt(value: str) -> None:
    """Model-field validators return nothing."""
    validate_cpt(value)


def check_icd10(value: str) -> None:
    validate_icd10(value)


def check_place_of_service(value: str) -> None:
    validate_place_of_service(value)


def validate_place_of_service(value: str) -> str:
    if value not in place_of_service_codes():
        raise ValidationError(f"“{value}” is not a place-of-service code in this list.")
    return value
