"""Form definitions: each question type's validation, conditional display and scoring bands."""

import pytest
from django.core.exceptions import ValidationError

from tenant_apps.intake import definitions
from tenant_apps.intake.canonical import canonical_json, sha256_hex
from tenant_apps.intake.definitions import clean_answer, clean_answers, clean_definition, score
from tenant_apps.intake.library import ANXIETY_SCREENER, DEPRESSION_SCREENER, LIBRARY


def q(kind, **extra):
    return {
        "key": "a",
        "type": kind,
        "label": "A",
        "help": "",
        "required": False,
        "show_if": None,
        **extra,
    }


class Err(str):
    """The start of the message a client sees for a refused answer."""


CASES = [
    # type, extra, raw, stored (or the start of the error message)
    ("short_text", {}, "  Hello  ", "Hello"),
    ("short_text", {}, "x" * 301, Err("Keep this under 300")),
    ("paragraph", {}, "Line 1\nLine 2", "Line 1\nLine 2"),
    ("paragraph", {}, "x" * 5001, Err("Keep this under 5000")),
    ("single_choice", {"options": ["Red", "Blue"]}, "Blue", "Blue"),
    ("single_choice", {"options": ["Red", "Blue"]}, "Green", Err("Choose one of the options")),
    ("dropdown", {"options": ["Red", "Blue"]}, "Red", "Red"),
    ("dropdown", {"options": ["Red", "Blue"]}, "red", Err("Choose one of the options")),
    ("multiple_choice", {"options": ["A", "B", "C"]}, ["C", "A"], ["A", "C"]),
    ("multiple_choice", {"options": ["A", "B", "C"]}, ["A", "Z"], Err("Choose from the options")),
    ("yes_no", {}, "Yes", "Yes"),
    ("yes_no", {}, "Maybe", Err("Choose one of the options")),
    ("date", {}, "2026-03-31", "2026-03-31"),
    ("date", {}, "31/03/2026", Err("Enter a date such as")),
    ("date", {}, "1850-01-01", Err("Enter a date between 1900 and 2100")),
    ("number", {"min": 0, "max": 24}, "7.50", "7.5"),
    ("number", {"min": 0, "max": 24}, "8", "8"),
    ("number", {"min": 0, "max": 24}, "25", Err("Enter a number no greater than 24")),
    ("number", {"min": 0, "max": 24}, "-1", Err("Enter a number of at least 0")),
    ("number", {"min": None, "max": None}, "seven", Err("Enter a number, such as")),
    ("number", {"min": None, "max": None}, "NaN", Err("Enter a number, such as")),
    ("email", {}, "pat@example.com", "pat@example.com"),
    ("email", {}, "pat@", Err("Enter an email address")),
    ("phone", {}, "(212) 555-0188", "+12125550188"),
    ("phone", {}, "555", Err("Enter a valid phone number")),
    ("scale", {"min": 0, "max": 3, "scale_labels": []}, "2", 2),
    ("scale", {"min": 0, "max": 3, "scale_labels": []}, "4", Err("Choose a value from 0 to 3")),
    ("scale", {"min": 0, "max": 3, "scale_labels": []}, "1.5", Err("Choose a value from 0 to 3")),
    (
        "file",
        {},
        {"file": 7, "name": "letter.pdf", "sha256": "ab", "size": 3},
        {"file": 7, "name": "letter.pdf", "sha256": "ab", "size": 3},
    ),
    ("file", {}, "a string is not a file", None),
]


@pytest.mark.parametrize(("kind", "extra", "raw", "expected"), CASES)
def test_each_question_type_checks_its_answer(kind, extra, raw, expected):
    question = q(kind, **extra)
    if isinstance(expected, Err):
        with pytest.raises(ValidationError) as error:
            clean_answer(question, raw)
        assert error.value.messages[0].startswith(expected)
    else:
        assert clean_answer(question, raw) == expected


@pytest.mark.parametrize(
    "kind",
    sorted(set(definitions.QUESTION_TYPES) - {"heading", "instructions", "signature", "file"}),
)
def test_a_required_question_of_every_type_needs_an_answer(kind):
    question = q(kind, required=True, options=["A", "B"], min=0, max=3, scale_labels=[])
    definition = {"title": "T", "questions": [question], "scoring": None}
    result = clean_answers(definition, {"a": ""}, require=True)
    assert result.errors == {"a": definitions.REQUIRED_MESSAGE}
    assert clean_answers(definition, {"a": ""}, require=False).errors == {}


def test_a_required_file_question_needs_a_file():
    definition = {"title": "T", "questions": [q("file", required=True)], "scoring": None}
    assert clean_answers(definition, {}, require=True).errors == {"a": definitions.REQUIRED_MESSAGE}


CONDITIONAL = {
    "title": "T",
    "scoring": None,
    "questions": [
        {
            "key": "smoke",
            "type": "yes_no",
            "label": "Do you smoke?",
            "help": "",
            "required": True,
            "show_if": None,
        },
        {
            "key": "per_day",
            "type": "number",
            "label": "How many a day?",
            "help": "",
            "required": True,
            "min": 0,
            "max": 100,
            "show_if": {"question": "smoke", "value": "Yes"},
        },
        {
            "key": "quit",
            "type": "multiple_choice",
            "label": "Tried",
            "help": "",
            "required": False,
            "options": ["Patches", "Other"],
            "show_if": {"question": "smoke", "value": "Yes"},
        },
        {
            "key": "other",
            "type": "short_text",
            "label": "What else?",
            "help": "",
            "required": True,
            "show_if": {"question": "quit", "value": "Other"},
        },
    ],
}


def test_a_conditional_question_shows_only_for_its_answer():
    assert definitions.visible_keys(CONDITIONAL, {"smoke": "No"}) == {"smoke"}
    assert definitions.visible_keys(CONDITIONAL, {"smoke": "Yes"}) == {"smoke", "per_day", "quit"}
    assert definitions.visible_keys(CONDITIONAL, {"smoke": "Yes", "quit": ["Other"]}) == {
        "smoke",
        "per_day",
        "quit",
        "other",
    }


def test_a_hidden_question_is_not_required_and_loses_its_answer():
    result = clean_answers(
        CONDITIONAL, {"smoke": "No", "per_day": "20", "quit": ["Other"], "other": "x"}, require=True
    )
    assert result.errors == {}
    assert result.values == {"smoke": "No"}


def test_a_condition_on_a_hidden_question_hides_the_chain():
    # "other" depends on "quit", which is hidden when smoke is No: hidden too, though "quit"
    # was answered earlier.
    assert "other" not in definitions.visible_keys(CONDITIONAL, {"smoke": "No", "quit": ["Other"]})


def test_a_shown_required_conditional_question_is_required():
    result = clean_answers(CONDITIONAL, {"smoke": "Yes"}, require=True)
    assert result.errors == {"per_day": definitions.REQUIRED_MESSAGE}


@pytest.mark.parametrize(
    ("total_items", "expected_total", "band"),
    [
        ((0,) * 9, 0, "Minimal"),
        ((1, 1, 1, 1, 0, 0, 0, 0, 0), 4, "Minimal"),
        ((1, 1, 1, 1, 1, 0, 0, 0, 0), 5, "Mild"),
        ((1, 1, 1, 1, 1, 1, 1, 1, 1), 9, "Mild"),
        ((2, 2, 2, 2, 2, 0, 0, 0, 0), 10, "Moderate"),
        ((2, 2, 2, 2, 2, 2, 2, 0, 0), 14, "Moderate"),
        ((3, 3, 3, 3, 3, 0, 0, 0, 0), 15, "Moderately severe"),
        ((3, 3, 3, 3, 3, 3, 1, 0, 0), 19, "Moderately severe"),
        ((3, 3, 3, 3, 2, 2, 2, 2, 0), 20, "Severe"),
        ((3,) * 9, 27, "Severe"),
    ],
)
def test_the_depression_screener_bands(total_items, expected_total, band):
    answers = {f"phq_{n}": v for n, v in enumerate(total_items, start=1)}
    result = score(DEPRESSION_SCREENER, answers)
    assert (result.total, result.band) == (expected_total, band)


@pytest.mark.parametrize(
    ("items", "expected_total", "band"),
    [
        ((0,) * 7, 0, "Minimal"),
        ((1, 1, 1, 1, 0, 0, 0), 4, "Minimal"),
        ((1, 1, 1, 1, 1, 0, 0), 5, "Mild"),
        ((2, 2, 2, 2, 1, 0, 0), 9, "Mild"),
        ((2, 2, 2, 2, 2, 0, 0), 10, "Moderate"),
        ((2, 2, 2, 2, 2, 2, 2), 14, "Moderate"),
        ((3, 3, 3, 3, 3, 0, 0), 15, "Severe"),
        ((3,) * 7, 21, "Severe"),
    ],
)
def test_the_anxiety_screener_bands(items, expected_total, band):
    answers = {f"gad_{n}": v for n, v in enumerate(items, start=1)}
    result = score(ANXIETY_SCREENER, answers)
    assert (result.total, result.band) == (expected_total, band)


def test_item_nine_above_zero_raises_a_clinician_alert():
    quiet = score(DEPRESSION_SCREENER, {f"phq_{n}": 0 for n in range(1, 10)})
    flagged = score(DEPRESSION_SCREENER, {**{f"phq_{n}": 0 for n in range(1, 9)}, "phq_9": 1})
    assert quiet.alerts == []
    assert len(flagged.alerts) == 1 and "safety" in flagged.alerts[0]


def test_no_total_while_a_scored_item_is_missing():
    result = score(DEPRESSION_SCREENER, {f"phq_{n}": 3 for n in range(1, 9)})
    assert (result.total, result.band) == (None, "")


def test_the_screeners_have_the_published_structure():
    assert [qq["key"] for qq in DEPRESSION_SCREENER["questions"] if qq["type"] == "scale"] == [
        f"phq_{n}" for n in range(1, 10)
    ]
    assert len([qq for qq in ANXIETY_SCREENER["questions"] if qq["type"] == "scale"]) == 7
    for measure in (DEPRESSION_SCREENER, ANXIETY_SCREENER):
        assert all(
            (qq["min"], qq["max"]) == (0, 3) for qq in measure["questions"] if qq["type"] == "scale"
        )


@pytest.mark.parametrize("key", sorted(LIBRARY))
def test_every_library_form_is_already_in_canonical_shape(key):
    definition, _ = LIBRARY[key]
    assert clean_definition(definition) == definition


def test_the_library_has_every_form_the_practice_needs():
    kinds = {key: LIBRARY[key][0]["kind"] for key in LIBRARY}
    assert set(kinds) == {
        "adult_intake",
        "informed_consent",
        "privacy_notice",
        "telehealth_consent",
        "release_of_information",
        "card_authorization",
        "phq9",
        "gad7",
    }
    for key in (
        "informed_consent",
        "privacy_notice",
        "telehealth_consent",
        "release_of_information",
        "card_authorization",
    ):
        assert definitions.signature_question(LIBRARY[key][0]) is not None
    card = LIBRARY["card_authorization"][0]
    assert not any("card number" in qq["label"].lower() for qq in card["questions"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": ""}, "Give the form a title."),
        ({"questions": []}, "Add at least one question."),
        ({"questions": [q("single_choice", options=["Only one"])]}, "needs at least two options"),
        (
            {
                "questions": [
                    q("short_text", show_if={"question": "later", "value": "Yes"}),
                    {**q("yes_no"), "key": "later"},
                ]
            },
            "can only depend on a question above it",
        ),
        (
            {
                "questions": [
                    q("short_text"),
                    {**q("short_text"), "key": "b", "show_if": {"question": "a", "value": "x"}},
                ]
            },
            "can only depend on a choice",
        ),
        (
            {
                "questions": [
                    q("yes_no"),
                    {
                        **q("short_text"),
                        "key": "b",
                        "show_if": {"question": "a", "value": "Perhaps"},
                    },
                ]
            },
            "does not offer",
        ),
        ({"questions": [q("signature"), {**q("signature"), "key": "b"}]}, "only one signature"),
        ({"questions": [q("short_text"), q("paragraph")]}, "repeats the key"),
        ({"questions": [{**q("short_text"), "key": "Bad Key!"}]}, "invalid key"),
        ({"questions": [q("scale", min=0, max=30)]}, "2 to 11 points"),
        (
            {
                "questions": [q("scale", min=0, max=3)],
                "scoring": {
                    "items": ["a"],
                    "bands": [
                        {"min": 0, "max": 5, "label": "Low"},
                        {"min": 5, "max": 9, "label": "High"},
                    ],
                },
            },
            "must not overlap",
        ),
        (
            {"questions": [q("short_text")], "scoring": {"items": ["a"], "bands": []}},
            "Only scale questions",
        ),
    ],
)
def test_the_builder_gets_a_clear_message_for_a_bad_definition(change, message):
    raw = {"title": "Intake", "kind": "intake", "questions": [q("short_text")], **change}
    with pytest.raises(ValidationError) as error:
        clean_definition(raw)
    assert any(message in text for text in error.value.messages), error.value.messages


def test_clean_definition_drops_unknown_keys_and_bounds_text():
    cleaned = clean_definition(
        {
            "title": "T" * 500,
            "questions": [{**q("short_text"), "onclick": "x", "label": "L" * 900}],
            "evil": 1,
        }
    )
    assert "evil" not in cleaned and "onclick" not in cleaned["questions"][0]
    assert len(cleaned["title"]) == definitions.MAX_TITLE
    assert len(cleaned["questions"][0]["label"]) == definitions.MAX_LABEL


def test_canonical_json_is_stable_and_refuses_floats():
    assert canonical_json({"b": 1, "a": ["é", True]}) == '{"a":["é",true],"b":1}'.encode()
    assert sha256_hex({"a": 1, "b": 2}) == sha256_hex({"b": 2, "a": 1})
    with pytest.raises(TypeError):
        canonical_json({"a": 1.5})


def test_the_document_text_shows_only_visible_answers():
    text = definitions.document_text(CONDITIONAL, {"smoke": "No", "per_day": "3"})
    assert "Do you smoke?: No" in text and "How many a day?" not in text
