"""What a form is: its questions as plain JSON, how answers to them are checked, which
questions show, and how a scored measure adds up.

A definition is the snapshot stored in each `FormVersion`:

    {
      "title": "...", "kind": "intake|consent|screening|other", "description": "...",
      "countersign": false,
      "questions": [
        {"key": "q_ab12", "type": "single_choice", "label": "...", "help": "...",
         "required": true, "options": ["Yes", "No"],
         "show_if": {"question": "q_x", "value": "Yes"}},
        {"key": "q_cd34", "type": "scale", "min": 0, "max": 3, "scale_labels": ["...", ...]},
        ...
      ],
      "scoring": {"items": ["q_cd34", ...],
                  "bands": [{"min": 0, "max": 4, "label": "Minimal"}, ...],
                  "alerts": [{"question": "q_cd34", "at_least": 1, "message": "..."}]}
    }

Everything here is pure: no database, no request. The same functions check a definition the
builder posts, clean the answers a client posts, and render the text that is hashed when a
submission is signed, so none of them may change behaviour for a stored version: a change to
what the hash covers needs a new `HASH_SCHEME`.
"""

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from tenant_apps.portal.null_characters import NULL_CHARACTERS_MESSAGE, has_null_character

SHORT_TEXT = "short_text"
PARAGRAPH = "paragraph"
SINGLE_CHOICE = "single_choice"
MULTIPLE_CHOICE = "multiple_choice"
DROPDOWN = "dropdown"
YES_NO = "yes_no"
DATE = "date"
NUMBER = "number"
EMAIL = "email"
PHONE = "phone"
SCALE = "scale"
HEADING = "heading"
INSTRUCTIONS = "instructions"
FILE = "file"
SIGNATURE = "signature"

QUESTION_TYPES: dict[str, str] = {
    SHORT_TEXT: "Short text",
    PARAGRAPH: "Paragraph",
    SINGLE_CHOICE: "Single choice",
    MULTIPLE_CHOICE: "Multiple choice",
    DROPDOWN: "Dropdown",
    YES_NO: "Yes / No",
    DATE: "Date",
    NUMBER: "Number",
    EMAIL: "Email",
    PHONE: "Phone",
    SCALE: "Scale",
    HEADING: "Section heading",
    INSTRUCTIONS: "Instructions text",
    FILE: "File upload",
    SIGNATURE: "Signature",
}
CHOICE_TYPES = frozenset({SINGLE_CHOICE, MULTIPLE_CHOICE, DROPDOWN})
# Questions a condition may refer to: their answers are one of a known list.
CONDITION_SOURCES = frozenset({SINGLE_CHOICE, MULTIPLE_CHOICE, DROPDOWN, YES_NO, SCALE})
DISPLAY_ONLY = frozenset({HEADING, INSTRUCTIONS})
KINDS: dict[str, str] = {
    "intake": "Intake",
    "consent": "Consent",
    "screening": "Screening measure",
    "other": "Other",
}
YES_NO_OPTIONS = ("Yes", "No")

MAX_QUESTIONS = 200
MAX_OPTIONS = 50
MAX_LABEL = 500
MAX_HELP = 4000
MAX_OPTION = 200
MAX_SHORT_TEXT = 300
MAX_PARAGRAPH = 5000
MAX_TITLE = 150
MAX_DESCRIPTION = 4000
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

REQUIRED_MESSAGE = "This question needs an answer."


def _text(value: Any, *, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,9}", value.strip()):
        return int(value.strip())
    return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# Checking a definition (what the builder posts) ----------------------------------------


def clean_definition(raw: Any) -> dict[str, Any]:
    """A definition in canonical shape, or ValidationError with messages for the builder.

    Unknown keys are dropped; every list and string is bounded.
    """
    if not isinstance(raw, dict):
        raise ValidationError("The form could not be read. Reload the page and try again.")
    if has_null_character(raw):
        raise ValidationError(NULL_CHARACTERS_MESSAGE)
    errors: list[str] = []
    title = _text(raw.get("title"), limit=MAX_TITLE)
    if not title:
        errors.append("Give the form a title.")
    kind = raw.get("kind") if raw.get("kind") in KINDS else "other"
    questions_raw = raw.get("questions")
    if not isinstance(questions_raw, list) or not questions_raw:
        errors.append("Add at least one question.")
        questions_raw = []
    if len(questions_raw) > MAX_QUESTIONS:
        errors.append(f"A form can have at most {MAX_QUESTIONS} questions.")
        questions_raw = questions_raw[:MAX_QUESTIONS]

    questions: list[dict[str, Any]] = []
    seen: dict[str, dict[str, Any]] = {}
    for number, item in enumerate(questions_raw, start=1):
        question, problems = _clean_question(item, number=number, earlier=seen)
        errors.extend(problems)
        if question is not None:
            questions.append(question)
            seen[question["key"]] = question
    if sum(1 for q in questions if q["type"] == SIGNATURE) > 1:
        errors.append("A form can have only one signature question.")

    scoring, problems = _clean_scoring(raw.get("scoring"), seen)
    errors.extend(problems)
    if errors:
        raise ValidationError(errors)
    return {
        "title": title,
        "kind": kind,
        "description": _text(raw.get("description"), limit=MAX_DESCRIPTION),
        "countersign": bool(raw.get("countersign")),
        "questions": questions,
        "scoring": scoring,
    }


def _clean_question(
    item: Any, *, number: int, earlier: dict[str, dict[str, Any]]
) -> tuple[dict[str, Any] | None, list[str]]:
    where = f"Question {number}"
    if not isinstance(item, dict):
        return None, [f"{where} could not be read."]
    errors: list[str] = []
    kind = item.get("type")
    if kind not in QUESTION_TYPES:
        return None, [f"{where} has an unknown type."]
    key = item.get("key")
    if not isinstance(key, str) or not _KEY.match(key):
        errors.append(f"{where} has an invalid key.")
        key = f"q{number}"
    if key in earlier:
        errors.append(f"{where} repeats the key of another question.")
    label = _text(item.get("label"), limit=MAX_LABEL)
    if not label:
        errors.append(f"{where} needs a label.")
    question: dict[str, Any] = {
        "key": key,
        "type": kind,
        "label": label,
        "help": _text(item.get("help"), limit=MAX_HELP),
        "required": bool(item.get("required")) and kind not in DISPLAY_ONLY,
    }
    if kind in CHOICE_TYPES:
        options_raw = _list(item.get("options"))
        options: list[str] = []
        for option in options_raw[:MAX_OPTIONS]:
            text = _text(option, limit=MAX_OPTION)
            if text and text not in options:
                options.append(text)
        if len(options) < 2:
            errors.append(f"{where} ({label or 'no label'}) needs at least two options.")
        question["options"] = options
    if kind in (SCALE, NUMBER):
        low, high = _int(item.get("min")), _int(item.get("max"))
        if kind == SCALE:
            low = 0 if low is None else low
            high = 3 if high is None else high
            if not 0 <= high - low <= 10:
                errors.append(f"{where} needs a scale of 2 to 11 points.")
            labels_raw = _list(item.get("scale_labels"))
            labels = [_text(text, limit=MAX_OPTION) for text in labels_raw]
            question["scale_labels"] = labels if any(labels) else []
            if question["scale_labels"] and len(labels) != high - low + 1:
                errors.append(f"{where} needs one label per point of its scale, or none.")
        elif low is not None and high is not None and low > high:
            errors.append(f"{where} has a minimum above its maximum.")
        question["min"], question["max"] = low, high
    show_if = item.get("show_if")
    if isinstance(show_if, dict) and show_if.get("question"):
        source = earlier.get(str(show_if.get("question")))
        value = _text(show_if.get("value"), limit=MAX_OPTION)
        if source is None:
            errors.append(f"{where} can only depend on a question above it.")
        elif source["type"] not in CONDITION_SOURCES:
            errors.append(f"{where} can only depend on a choice, yes/no or scale question.")
        elif value not in answer_options(source):
            errors.append(f"{where} depends on an answer its question does not offer.")
        else:
            question["show_if"] = {"question": source["key"], "value": value}
    question.setdefault("show_if", None)
    return question, errors


def _clean_scoring(
    raw: Any, questions: dict[str, dict[str, Any]]
) -> tuple[dict[str, Any] | None, list[str]]:
    if not isinstance(raw, dict) or not raw.get("items"):
        return None, []
    errors: list[str] = []
    items = [key for key in raw.get("items") or [] if isinstance(key, str)]
    if any(questions.get(key, {}).get("type") != SCALE for key in items):
        errors.append("Only scale questions can count towards the total score.")
    bands: list[dict[str, Any]] = []
    for band in raw.get("bands") or []:
        low, high = _int(band.get("min")), _int(band.get("max"))
        label = _text(band.get("label"), limit=80)
        if low is None or high is None or low > high or not label:
            errors.append("Each score band needs a minimum, a maximum and a label.")
            continue
        bands.append({"min": low, "max": high, "label": label})
    bands.sort(key=lambda b: b["min"])
    if any(a["max"] >= b["min"] for a, b in pairwise(bands)):
        errors.append("Score bands must not overlap.")
    alerts: list[dict[str, Any]] = []
    for alert in raw.get("alerts") or []:
        key, at_least = alert.get("question"), _int(alert.get("at_least"))
        message = _text(alert.get("message"), limit=300)
        if questions.get(key, {}).get("type") != SCALE or at_least is None or not message:
            errors.append("Each clinician alert needs a scale question, a threshold and a note.")
            continue
        alerts.append({"question": key, "at_least": at_least, "message": message})
    return {"items": items, "bands": bands, "alerts": alerts}, errors


def answer_options(question: dict[str, Any]) -> list[str]:
    """The answers a question offers, as the strings a condition compares with."""
    kind = question["type"]
    if kind in CHOICE_TYPES:
        return list(question.get("options") or [])
    if kind == YES_NO:
        return list(YES_NO_OPTIONS)
    if kind == SCALE:
        return [str(n) for n in range(question["min"], question["max"] + 1)]
    return []


def signature_question(definition: dict[str, Any]) -> dict[str, Any] | None:
    return next((q for q in definition["questions"] if q["type"] == SIGNATURE), None)


def answerable(definition: dict[str, Any]) -> list[dict[str, Any]]:
    """Questions that take an answer in the answers dict (the signature is kept apart)."""
    return [
        q
        for q in definition["questions"]
        if q["type"] not in DISPLAY_ONLY and q["type"] != SIGNATURE
    ]


# Which questions show ---------------------------------------------------------------------


def _matches(answer: Any, value: str) -> bool:
    if isinstance(answer, list):
        return value in answer
    return answer is not None and str(answer) == value


def visible_keys(definition: dict[str, Any], answers: dict[str, Any]) -> set[str]:
    """Questions shown for these answers. A question whose condition refers to a hidden
    question is hidden too (conditions only point upwards, so one pass is enough)."""
    shown: set[str] = set()
    for question in definition["questions"]:
        condition = question.get("show_if")
        if condition:
            source = condition["question"]
            if source not in shown or not _matches(answers.get(source), condition["value"]):
                continue
        shown.add(question["key"])
    return shown


# Checking answers -------------------------------------------------------------------------


@dataclass
class CleanedAnswers:
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def clean_answer(question: dict[str, Any], raw: Any, *, phone_region: str = "US") -> Any:
    """The stored form of one answer, or ValidationError with a message for the client.

    `raw` is what a browser posted: a string, a list of strings (multiple choice) or, for a
    file question, the dict the upload view stored. Empty answers return None.
    """
    kind = question["type"]
    if kind != FILE and has_null_character(raw):
        raise ValidationError(NULL_CHARACTERS_MESSAGE)
    if kind == MULTIPLE_CHOICE:
        picked = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
        picked = [str(p) for p in picked if str(p)]
        if not picked:
            return None
        options = question["options"]
        if any(p not in options for p in picked):
            raise ValidationError("Choose from the options shown.")
        return [o for o in options if o in picked]
    if kind == FILE:
        if isinstance(raw, dict) and isinstance(raw.get("file"), int):
            return {k: raw[k] for k in ("file", "name", "sha256", "size") if k in raw}
        return None
    if isinstance(raw, list):
        raw = raw[-1] if raw else ""
    text = raw.strip() if isinstance(raw, str) else "" if raw is None else str(raw).strip()
    if not text:
        return None
    if kind == SHORT_TEXT:
        if len(text) > MAX_SHORT_TEXT:
            raise ValidationError(f"Keep this under {MAX_SHORT_TEXT} characters.")
        return text
    if kind == PARAGRAPH:
        if len(text) > MAX_PARAGRAPH:
            raise ValidationError(f"Keep this under {MAX_PARAGRAPH} characters.")
        return text
    if kind in (SINGLE_CHOICE, DROPDOWN, YES_NO):
        if text not in answer_options(question):
            raise ValidationError("Choose one of the options shown.")
        return text
    if kind == DATE:
        try:
            value = date.fromisoformat(text)
        except ValueError:
            raise ValidationError("Enter a date such as 2026-03-31.") from None
        if not 1900 <= value.year <= 2100:
            raise ValidationError("Enter a date between 1900 and 2100.")
        return value.isoformat()
    if kind == NUMBER:
        return _clean_number(question, text)
    if kind == EMAIL:
        try:
            validate_email(text)
        except ValidationError:
            raise ValidationError("Enter an email address such as name@example.com.") from None
        return text
    if kind == PHONE:
        from tenant_apps.practice.phones import normalize_phone

        return normalize_phone(text, phone_region)
    if kind == SCALE:
        number = _int(text)
        if number is None or not question["min"] <= number <= question["max"]:
            raise ValidationError(f"Choose a value from {question['min']} to {question['max']}.")
        return number
    return None


def _clean_number(question: dict[str, Any], text: str) -> str:
    try:
        number = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise ValidationError("Enter a number, such as 12 or 3.5.") from None
    if not number.is_finite() or abs(number) >= Decimal("1e12"):
        raise ValidationError("Enter a number, such as 12 or 3.5.")
    low, high = question.get("min"), question.get("max")
    if low is not None and number < low:
        raise ValidationError(f"Enter a number of at least {low}.")
    if high is not None and number > high:
        raise ValidationError(f"Enter a number no greater than {high}.")
    # Stored as a string: canonical JSON carries no floats.
    return format(number.normalize(), "f")


def clean_answers(
    definition: dict[str, Any],
    raw: dict[str, Any],
    *,
    require: bool,
    phone_region: str = "US",
) -> CleanedAnswers:
    """Check every shown question. Hidden questions lose their answers; with `require`,
    an unanswered required question is an error (a draft skips that check)."""
    result = CleanedAnswers()
    for question in answerable(definition):
        key = question["key"]
        try:
            value = clean_answer(question, raw.get(key), phone_region=phone_region)
        except ValidationError as error:
            result.errors[key] = " ".join(error.messages)
            continue
        if value is not None:
            result.values[key] = value
    shown = visible_keys(definition, result.values)
    result.values = {k: v for k, v in result.values.items() if k in shown}
    result.errors = {k: v for k, v in result.errors.items() if k in shown}
    if require:
        for question in answerable(definition):
            key = question["key"]
            needed = question["required"] and key in shown and key not in result.errors
            if needed and _empty(result.values.get(key)):
                result.errors[key] = REQUIRED_MESSAGE
    return result


def draft_values(definition: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """What a draft keeps: every known answer as typed, bounded, valid or not, so that
    nothing the client typed is lost before they fix it. NUL characters are left out: the
    answers' JSON column cannot hold them (clean_answer reports them)."""
    draft: dict[str, Any] = {}
    for question in answerable(definition):
        key, value = question["key"], raw.get(question["key"])
        if question["type"] == FILE:
            if isinstance(value, dict):
                draft[key] = value
        elif question["type"] == MULTIPLE_CHOICE:
            picked = value if isinstance(value, list) else [value] if value else []
            texts = (str(p).replace("\x00", "") for p in picked[:MAX_OPTIONS])
            draft[key] = [text[:MAX_OPTION] for text in texts if text]
        elif value is not None:
            text = str(value[-1] if isinstance(value, list) and value else value)
            draft[key] = text.replace("\x00", "")[:MAX_PARAGRAPH]
    return {k: v for k, v in draft.items() if not _empty(v)}


# Scoring ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    total: int | None
    band: str
    alerts: list[str]


def score(definition: dict[str, Any], answers: dict[str, Any]) -> Score | None:
    """The total of the scored items and its band, with clinician alerts. The total is None
    while any scored item is unanswered (a partial sum would understate severity)."""
    scoring = definition.get("scoring")
    if not scoring:
        return None
    values = [answers.get(key) for key in scoring["items"]]
    total = (
        sum(v for v in values if isinstance(v, int))
        if all(isinstance(v, int) for v in values)
        else None
    )
    band = ""
    if total is not None:
        band = next((b["label"] for b in scoring["bands"] if b["min"] <= total <= b["max"]), "")
    alerts = [
        alert["message"]
        for alert in scoring.get("alerts") or []
        if isinstance(answers.get(alert["question"]), int)
        and answers[alert["question"]] >= alert["at_least"]
    ]
    return Score(total=total, band=band, alerts=alerts)


# The document as text (part of what a signature's hash covers) --------------------------


def display_answer(question: dict[str, Any], value: Any) -> str:
    if _empty(value):
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if question["type"] == FILE and isinstance(value, dict):
        return f"File: {value.get('name', '')}"
    if question["type"] == SCALE and _int(value) is not None:
        labels = question.get("scale_labels") or []
        index = int(value) - question["min"]
        if 0 <= index < len(labels) and labels[index]:
            return f"{value} — {labels[index]}"
    return str(value)


def document_text(definition: dict[str, Any], answers: dict[str, Any]) -> str:
    """The form as the client saw and answered it, line by line: title, instructions,
    then each shown question with its answer."""
    lines = [definition["title"]]
    if definition.get("description"):
        lines.append(definition["description"])
    shown = visible_keys(definition, answers)
    for question in definition["questions"]:
        if question["key"] not in shown:
            continue
        if question["type"] in DISPLAY_ONLY:
            lines.append(question["label"])
            if question.get("help"):
                lines.append(question["help"])
        elif question["type"] == SIGNATURE:
            lines.append(f"{question['label']}: [signature]")
            if question.get("help"):
                lines.append(question["help"])
        else:
            lines.append(
                f"{question['label']}: {display_answer(question, answers.get(question['key']))}"
            )
    return "\n".join(lines)
