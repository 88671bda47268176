"""Forms fixtures: the library of each practice, requests sent to Carol, and signatures."""

import base64
import io
from pathlib import Path

import pytest
from django_tenants.utils import schema_context
from PIL import Image, ImageDraw

from tenant_apps.intake import services
from tenant_apps.intake.models import FormTemplate, Submission
from tests.clients.conftest import (  # noqa: F401  (fixtures shared with the clients tests)
    anonymous_sunrise,
    biller,
    biller_browser,
    carol_record,
    dave_browser,
    dave_record,
    in_sunrise,
    ivan_browser,
    ivan_record,
)


@pytest.fixture(autouse=True)
def _uploads_on_a_private_tmp_dir(settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


def signature_png(*, ink: bool = True, size: tuple[int, int] = (600, 200)) -> str:
    """A PNG data URL like the signature pad makes: transparent, with a stroke if `ink`."""
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    if ink:
        ImageDraw.Draw(image).line(
            [(40, 150), (200, 60), (360, 140), (560, 50)], fill="black", width=4
        )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


DRAWN = signature_png()


def signature_fields(**overrides) -> dict[str, str]:
    fields = {
        "sig_full_name": "Carol Client",
        "sig_method": "drawn",
        "sig_image": DRAWN,
        "sig_relationship": "self",
        "sig_relationship_detail": "",
        "sig_agree": "yes",
    }
    fields.update(overrides)
    return fields


def library_of(practice) -> dict[str, FormTemplate]:
    with schema_context(practice.schema_name):
        return {
            t.library_key: t
            for t in FormTemplate.objects.filter(library_key__isnull=False).select_related(
                "current_version"
            )
        }


@pytest.fixture
def library(sunrise) -> dict[str, FormTemplate]:
    return library_of(sunrise)


def send(practice, client_record, actor, keys, library, **options):
    with schema_context(practice.schema_name):
        return services.send_forms(
            client_record, actor=actor, templates=[library[key] for key in keys], **options
        )


def submissions_of(practice, form_request) -> list[Submission]:
    with schema_context(practice.schema_name):
        return list(
            form_request.submissions.select_related("version", "template").order_by("position")
        )


@pytest.fixture
def consent_sent(sunrise, bob, carol_record, library):  # noqa: F811
    """The informed consent (countersigned) sent to Carol by Bob."""
    form_request = send(sunrise, carol_record, bob, ["informed_consent"], library)
    return submissions_of(sunrise, form_request)[0]


@pytest.fixture
def phq_sent(sunrise, bob, carol_record, library):  # noqa: F811
    form_request = send(sunrise, carol_record, bob, ["phq9"], library)
    return submissions_of(sunrise, form_request)[0]


CONSENT_ANSWERS = {"q_read_and_understood": "Yes", "q_consent_to_treatment": "Yes"}


def phq_answers(*values: int) -> dict[str, str]:
    answers = {f"q_phq_{n}": str(v) for n, v in enumerate(values, start=1)}
    answers["q_difficulty"] = "Somewhat difficult"
    return answers


@pytest.fixture
def signed_consent(consent_sent, carol_browser, sunrise):
    response = carol_browser.post(
        f"/forms/{consent_sent.pk}/",
        {**CONSENT_ANSWERS, **signature_fields()},
        HTTP_USER_AGENT="Mozilla/5.0 (iPhone) TestBrowser/1.0",
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    with schema_context(sunrise.schema_name):
        return Submission.objects.select_related("version").get(pk=consent_sent.pk)
