"""The built-in form library every practice starts with, written for this project.

The two screening measures follow the public-domain structure and scoring of the PHQ-9 and
GAD-7 (nine and seven items, each scored 0 to 3 over the last two weeks, with the published
cut-offs); their item wording here is our own plain-language phrasing of the same symptoms.

Migration 0003 seeds these into every practice schema, skipping a key that is already there,
so changing a definition here does not touch practices that already have it.
"""

from typing import Any

TWO_WEEKS = ["Not at all", "Several days", "More than half the days", "Nearly every day"]
RELATIONSHIP_NOTE = (
    "If you are signing for a child or for a person in your legal care, choose your "
    "relationship to them below."
)


def _q(key: str, kind: str, label: str, **extra: Any) -> dict[str, Any]:
    question = {"key": key, "type": kind, "label": label, "help": "", "required": False}
    question["show_if"] = None
    question.update(extra)
    return question


def _scale_item(key: str, label: str) -> dict[str, Any]:
    return _q(key, "scale", label, required=True, min=0, max=3, scale_labels=TWO_WEEKS)


def _signature(label: str = "Signature") -> dict[str, Any]:
    return _q("signature", "signature", label, required=True, help=RELATIONSHIP_NOTE)


ADULT_INTAKE: dict[str, Any] = {
    "title": "Adult intake questionnaire",
    "kind": "intake",
    "description": (
        "These questions help your clinician prepare for your first session. Answer what you "
        "are comfortable sharing; you can talk through anything in person."
    ),
    "countersign": False,
    "scoring": None,
    "questions": [
        _q("about_heading", "heading", "About you"),
        _q("preferred_name", "short_text", "What name would you like us to use?"),
        _q(
            "pronouns",
            "short_text",
            "Your pronouns",
            help="For example: she/her, he/him, they/them.",
        ),
        _q("date_of_birth", "date", "Date of birth", required=True),
        _q("phone", "phone", "Best phone number to reach you", required=True),
        _q(
            "ok_to_leave_message",
            "yes_no",
            "May we leave a voicemail at this number?",
            required=True,
        ),
        _q("email", "email", "Email address"),
        _q("reason_heading", "heading", "What brings you here"),
        _q(
            "reason",
            "paragraph",
            "In your own words, what would you like help with?",
            required=True,
        ),
        _q(
            "concerns",
            "multiple_choice",
            "Which of these have you been dealing with recently?",
            help="Choose all that apply.",
            options=[
                "Low mood",
                "Worry or anxiety",
                "Stress",
                "Sleep",
                "Relationships",
                "Grief or loss",
                "Work or school",
                "Alcohol or drug use",
                "Something else",
            ],
        ),
        _q(
            "concerns_other",
            "short_text",
            "Tell us briefly what else",
            show_if={"question": "concerns", "value": "Something else"},
        ),
        _q(
            "distress",
            "scale",
            "Overall, how much distress are you feeling this week?",
            min=0,
            max=10,
            help="0 means none at all, 10 means the most you can imagine.",
            scale_labels=[],
        ),
        _q("history_heading", "heading", "Your history"),
        _q("prior_therapy", "yes_no", "Have you seen a therapist or counsellor before?"),
        _q(
            "prior_therapy_detail",
            "paragraph",
            "What was helpful or unhelpful about it?",
            show_if={"question": "prior_therapy", "value": "Yes"},
        ),
        _q("medications", "paragraph", "Medications you take, with doses if you know them"),
        _q(
            "physician",
            "short_text",
            "Primary care provider (name and practice)",
        ),
        _q(
            "sleep_hours",
            "number",
            "On a typical night, how many hours do you sleep?",
            min=0,
            max=24,
        ),
        _q(
            "substance_use",
            "single_choice",
            "How often do you drink alcohol or use other substances?",
            options=[
                "Never",
                "Monthly or less",
                "Two to four times a month",
                "Two or more times a week",
            ],
        ),
        _q("contact_heading", "heading", "Emergency contact"),
        _q("emergency_name", "short_text", "Emergency contact name", required=True),
        _q("emergency_phone", "phone", "Emergency contact phone", required=True),
        _q(
            "emergency_relationship",
            "dropdown",
            "Their relationship to you",
            options=["Partner or spouse", "Parent", "Child", "Sibling", "Friend", "Other"],
        ),
        _q(
            "referral",
            "dropdown",
            "How did you hear about us?",
            options=[
                "Internet search",
                "Insurance directory",
                "Doctor",
                "Friend or family",
                "Other",
            ],
        ),
        _q(
            "documents",
            "file",
            "Anything you would like to share (optional)",
            help="For example, a referral letter. PDF, PNG or JPEG, up to 10 MB.",
        ),
    ],
}

INFORMED_CONSENT: dict[str, Any] = {
    "title": "Informed consent for treatment",
    "kind": "consent",
    "description": "Please read this agreement carefully before your first session.",
    "countersign": True,
    "scoring": None,
    "questions": [
        _q(
            "services",
            "instructions",
            "About our services",
            help=(
                "Therapy is a collaborative process. It can bring real benefits, such as "
                "relief from distress and better relationships, and it can also bring up "
                "uncomfortable feelings for a while. There are no guarantees about outcomes. "
                "You may ask questions about your treatment and stop it at any time."
            ),
        ),
        _q(
            "confidentiality",
            "instructions",
            "Confidentiality and its limits",
            help=(
                "What you share stays between you and the practice, except where the law "
                "requires or allows disclosure: when there is a serious risk of harm to you or "
                "others, when abuse or neglect of a child, an older adult or a dependent adult "
                "is suspected, or when a court orders it. We will discuss any such step with "
                "you whenever we can."
            ),
        ),
        _q(
            "fees",
            "instructions",
            "Appointments, cancellations and fees",
            help=(
                "Sessions start and end on time. Please give notice if you cannot attend; "
                "late cancellations and missed appointments may be charged as the practice's "
                "cancellation policy describes."
            ),
        ),
        _q(
            "emergencies",
            "instructions",
            "Emergencies",
            help=(
                "The practice does not offer crisis services. In an emergency, call your local "
                "emergency number or go to the nearest emergency department."
            ),
        ),
        _q(
            "read_and_understood",
            "yes_no",
            "I have read this agreement and had the chance to ask questions.",
            required=True,
        ),
        _q(
            "consent_to_treatment",
            "yes_no",
            "I consent to treatment with this practice.",
            required=True,
        ),
        _signature(),
    ],
}

PRIVACY_NOTICE: dict[str, Any] = {
    "title": "Notice of privacy practices — acknowledgement",
    "kind": "consent",
    "description": (
        "The practice's notice of privacy practices describes how your health information "
        "may be used and disclosed and how you can get access to it."
    ),
    "countersign": False,
    "scoring": None,
    "questions": [
        _q(
            "notice",
            "instructions",
            "Your privacy rights",
            help=(
                "You have the right to see and get a copy of your records, to ask us to correct "
                "them, to ask us to limit what we share, to get a list of certain disclosures, "
                "to choose how we contact you, and to file a complaint if you believe your "
                "privacy rights were violated. Ask the practice for a copy of the full notice "
                "at any time."
            ),
        ),
        _q(
            "received",
            "yes_no",
            "I received, or was offered, a copy of the practice's notice of privacy practices.",
            required=True,
        ),
        _signature(),
    ],
}

TELEHEALTH_CONSENT: dict[str, Any] = {
    "title": "Telehealth consent",
    "kind": "consent",
    "description": "Some or all of your sessions may take place by secure video or phone.",
    "countersign": False,
    "scoring": None,
    "questions": [
        _q(
            "how_it_works",
            "instructions",
            "How telehealth works",
            help=(
                "Sessions use a secure video service. Join from a private place where you cannot "
                "be overheard. Technology can fail; if a call drops, your clinician will try to "
                "reconnect and then call you. Telehealth may not suit every situation, and your "
                "clinician may recommend meeting in person."
            ),
        ),
        _q(
            "location",
            "short_text",
            "The address where you will usually be during sessions",
            required=True,
            help="We need this to send help to you in an emergency.",
        ),
        _q("backup_phone", "phone", "A phone number we can call if the video drops", required=True),
        _q(
            "agree_private",
            "yes_no",
            "I will join sessions from a private location.",
            required=True,
        ),
        _q("consent", "yes_no", "I consent to receive services by telehealth.", required=True),
        _signature(),
    ],
}

RELEASE_OF_INFORMATION: dict[str, Any] = {
    "title": "Authorization to release information",
    "kind": "consent",
    "description": (
        "Use this form to allow the practice to exchange information with another person or "
        "organization. You may revoke it in writing at any time, except for information "
        "already shared."
    ),
    "countersign": False,
    "scoring": None,
    "questions": [
        _q("recipient_name", "short_text", "Person or organization", required=True),
        _q("recipient_contact", "paragraph", "Their address, phone or fax", required=True),
        _q(
            "direction",
            "single_choice",
            "The practice may",
            required=True,
            options=[
                "Send information to them",
                "Receive information from them",
                "Both send and receive",
            ],
        ),
        _q(
            "information",
            "multiple_choice",
            "Information that may be shared",
            required=True,
            options=[
                "Dates of attendance",
                "Diagnosis",
                "Treatment plan and progress",
                "Assessment results",
                "Other",
            ],
        ),
        _q(
            "information_other",
            "short_text",
            "Describe the other information",
            required=True,
            show_if={"question": "information", "value": "Other"},
        ),
        _q(
            "purpose",
            "short_text",
            "Purpose of the disclosure",
            required=True,
            help="For example: coordination of care.",
        ),
        _q("expires_on", "date", "This authorization expires on", required=True),
        _signature(),
    ],
}

CARD_AUTHORIZATION: dict[str, Any] = {
    "title": "Credit card authorization",
    "kind": "consent",
    "description": (
        "This form records your consent to charges. Your card itself is added separately in "
        "the Client Portal's billing page through our payment processor; card numbers are never "
        "written on this form."
    ),
    "countersign": False,
    "scoring": None,
    "questions": [
        _q(
            "charges",
            "multiple_choice",
            "I authorize the practice to charge my card on file for",
            required=True,
            options=[
                "Session fees and copays",
                "Late cancellation and missed appointment fees",
                "Outstanding balances after insurance",
            ],
        ),
        _q(
            "understand_stripe",
            "yes_no",
            "I understand that I add or change my card in the portal, not on this form.",
            required=True,
        ),
        _q(
            "receipts",
            "yes_no",
            "Email me a receipt for each charge.",
        ),
        _signature(),
    ],
}

_PHQ_ITEMS = [
    "Little interest or pleasure in doing things",
    "Feeling down, low or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or eating too much",
    "Feeling bad about yourself — that you are a failure or have let yourself or your family down",
    "Trouble concentrating on things such as reading or watching television",
    "Moving or speaking so slowly that others could notice — or the opposite, being so restless "
    "that you move around much more than usual",
    "Thoughts that you would be better off dead, or of hurting yourself in some way",
]
_GAD_ITEMS = [
    "Feeling nervous, anxious or on edge",
    "Not being able to stop or control worrying",
    "Worrying too much about different things",
    "Trouble relaxing",
    "Being so restless that it is hard to sit still",
    "Becoming easily annoyed or irritable",
    "Feeling afraid, as if something awful might happen",
]
_DIFFICULTY = _q(
    "difficulty",
    "single_choice",
    "If you checked off any problems, how difficult have they made it for you to do your work, "
    "take care of things at home, or get along with other people?",
    options=["Not difficult at all", "Somewhat difficult", "Very difficult", "Extremely difficult"],
)

DEPRESSION_SCREENER: dict[str, Any] = {
    "title": "Depression screener (PHQ-9)",
    "kind": "screening",
    "description": (
        "Over the last 2 weeks, how often have you been bothered by any of the following?"
    ),
    "countersign": False,
    "questions": [_scale_item(f"phq_{n}", text) for n, text in enumerate(_PHQ_ITEMS, start=1)]
    + [_DIFFICULTY],
    "scoring": {
        "items": [f"phq_{n}" for n in range(1, 10)],
        "bands": [
            {"min": 0, "max": 4, "label": "Minimal"},
            {"min": 5, "max": 9, "label": "Mild"},
            {"min": 10, "max": 14, "label": "Moderate"},
            {"min": 15, "max": 19, "label": "Moderately severe"},
            {"min": 20, "max": 27, "label": "Severe"},
        ],
        "alerts": [
            {
                "question": "phq_9",
                "at_least": 1,
                "message": (
                    "Item 9 (thoughts of death or self-harm) was answered above 0: follow up on "
                    "safety with the client."
                ),
            }
        ],
    },
}

ANXIETY_SCREENER: dict[str, Any] = {
    "title": "Anxiety screener (GAD-7)",
    "kind": "screening",
    "description": (
        "Over the last 2 weeks, how often have you been bothered by the following problems?"
    ),
    "countersign": False,
    "questions": [_scale_item(f"gad_{n}", text) for n, text in enumerate(_GAD_ITEMS, start=1)]
    + [_DIFFICULTY],
    "scoring": {
        "items": [f"gad_{n}" for n in range(1, 8)],
        "bands": [
            {"min": 0, "max": 4, "label": "Minimal"},
            {"min": 5, "max": 9, "label": "Mild"},
            {"min": 10, "max": 14, "label": "Moderate"},
            {"min": 15, "max": 21, "label": "Severe"},
        ],
        "alerts": [],
    },
}

# key: (definition, is_standard)
LIBRARY: dict[str, tuple[dict[str, Any], bool]] = {
    "adult_intake": (ADULT_INTAKE, False),
    "informed_consent": (INFORMED_CONSENT, False),
    "privacy_notice": (PRIVACY_NOTICE, False),
    "telehealth_consent": (TELEHEALTH_CONSENT, False),
    "release_of_information": (RELEASE_OF_INFORMATION, False),
    "card_authorization": (CARD_AUTHORIZATION, False),
    "phq9": (DEPRESSION_SCREENER, True),
    "gad7": (ANXIETY_SCREENER, True),
}
