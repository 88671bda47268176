"""Form templates in the workspace: the library, the builder, versions, duplicate, archive."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from tenant_apps.intake.library import LIBRARY
from tenant_apps.intake.models import FormTemplate, FormVersion
from tests.conftest import host_client
from tests.intake.conftest import library_of, send

NEW_FORM = {
    "title": "Couples intake",
    "kind": "intake",
    "description": "Before we meet",
    "questions": [
        {"key": "q_together", "type": "yes_no", "label": "Living together?", "required": True},
        {
            "key": "q_since",
            "type": "date",
            "label": "Since when?",
            "show_if": {"question": "q_together", "value": "Yes"},
        },
        {"key": "q_goals", "type": "paragraph", "label": "Goals", "help": "A few words"},
    ],
}


def post_definition(browser, url, definition):
    return browser.post(url, {"definition": json.dumps(definition)})


def test_every_practice_gets_the_built_in_library(sunrise, harbor):
    for practice in (sunrise, harbor):
        library = library_of(practice)
        assert set(library) == set(LIBRARY)
        assert all(t.current_version.number == 1 for t in library.values())
        assert library["phq9"].is_standard and not library["adult_intake"].is_standard


def test_seeding_again_adds_nothing(sunrise):
    from importlib import import_module

    from django.apps import apps as global_apps

    seed = import_module("tenant_apps.intake.migrations.0003_seed_library").seed
    with schema_context(sunrise.schema_name):
        before = FormTemplate.objects.count(), FormVersion.objects.count()
        seed(global_apps, None)
        assert (FormTemplate.objects.count(), FormVersion.objects.count()) == before


def test_the_template_schema_carries_the_library(db):
    from django.conf import settings

    with schema_context(settings.TENANT_BASE_SCHEMA):
        assert FormTemplate.objects.filter(library_key__isnull=False).count() == len(LIBRARY)


def test_the_list_shows_the_library(alice_browser):
    content = alice_browser.get("/practice/forms/").content.decode()
    assert "Adult intake questionnaire" in content and "Depression screener (PHQ-9)" in content
    assert "Standard measure" in content


def test_a_clinician_builds_a_form(bob_browser, sunrise):
    response = post_definition(bob_browser, "/practice/forms/new/", NEW_FORM)
    assert response.status_code == 302
    with schema_context(sunrise.schema_name):
        template = FormTemplate.objects.get(name="Couples intake")
        version = template.current_version
        assert version.number == 1
        assert [q["key"] for q in version.definition["questions"]] == [
            "q_together",
            "q_since",
            "q_goals",
        ]
        assert version.definition["questions"][1]["show_if"] == {
            "question": "q_together",
            "value": "Yes",
        }


def test_a_bad_definition_is_explained_and_nothing_typed_is_lost(alice_browser, sunrise):
    broken = {
        **NEW_FORM,
        "questions": [
            *NEW_FORM["questions"],
            {"key": "q_pick", "type": "dropdown", "label": "Pick", "options": ["One"]},
        ],
    }
    response = post_definition(alice_browser, "/practice/forms/new/", broken)
    content = response.content.decode()
    assert response.status_code == 400
    assert "needs at least two options" in content
    assert "Couples intake" in content and "q_pick" in content  # the posted definition comes back
    with schema_context(sunrise.schema_name):
        assert not FormTemplate.objects.filter(name="Couples intake").exists()


def test_a_null_character_in_a_definition_is_explained(alice_browser, sunrise):
    posted = {**NEW_FORM, "description": "Before\x00after"}

    response = post_definition(alice_browser, "/practice/forms/new/", posted)

    assert response.status_code == 400
    assert "Null characters are not allowed." in response.content.decode()
    with schema_context(sunrise.schema_name):
        assert not FormTemplate.objects.filter(name="Couples intake").exists()


def test_editing_creates_a_new_version_and_an_unchanged_save_does_not(alice_browser, sunrise):
    post_definition(alice_browser, "/practice/forms/new/", NEW_FORM)
    with schema_context(sunrise.schema_name):
        template = FormTemplate.objects.get(name="Couples intake")
        saved = template.current_version.definition
    url = f"/practice/forms/{template.pk}/"
    post_definition(alice_browser, url, saved)
    reordered = {**saved, "questions": [saved["questions"][2], *saved["questions"][:2]]}
    response = post_definition(alice_browser, url, reordered)
    assert response.status_code == 302
    with schema_context(sunrise.schema_name):
        versions = list(template.versions.order_by("number"))
        assert [v.number for v in versions] == [1, 2]
        assert versions[0].definition == saved  # version 1 is untouched
        assert [q["key"] for q in versions[1].definition["questions"]] == [
            "q_goals",
            "q_together",
            "q_since",
        ]


def test_a_standard_measure_cannot_be_edited_but_can_be_duplicated(alice_browser, library, sunrise):
    phq = library["phq9"]
    response = post_definition(
        alice_browser,
        f"/practice/forms/{phq.pk}/",
        {**phq.current_version.definition, "title": "Mine"},
    )
    assert response.status_code == 400 and b"Duplicate it" in response.content
    response = alice_browser.post(f"/practice/forms/{phq.pk}/duplicate/")
    with schema_context(sunrise.schema_name):
        copy = FormTemplate.objects.get(name="Copy of Depression screener (PHQ-9)")
        assert not copy.is_standard and copy.library_key is None
        assert (
            copy.current_version.definition["scoring"] == phq.current_version.definition["scoring"]
        )
    assert response["Location"] == f"/practice/forms/{copy.pk}/"


def test_archive_hides_a_form_from_sending_and_restore_brings_it_back(
    alice_browser, library, sunrise, carol_record
):
    telehealth = library["telehealth_consent"]
    alice_browser.post(f"/practice/forms/{telehealth.pk}/archive/", {"archived": "1"})
    assert "Telehealth consent" not in alice_browser.get("/practice/forms/").content.decode()
    assert "Telehealth consent" in alice_browser.get("/practice/forms/?archived=1").content.decode()
    send_page = alice_browser.get(
        f"/practice/forms/clients/{carol_record.pk}/send/"
    ).content.decode()
    assert "Telehealth consent" not in send_page
    alice_browser.post(f"/practice/forms/{telehealth.pk}/archive/", {"archived": "0"})
    with schema_context(sunrise.schema_name):
        assert FormTemplate.objects.get(pk=telehealth.pk).archived_at is None


def test_the_preview_shows_any_version(alice_browser, library):
    intake = library["adult_intake"]
    content = alice_browser.get(f"/practice/forms/{intake.pk}/preview/?version=1").content.decode()
    assert "What brings you here" in content and "Nothing here is saved" in content
    assert alice_browser.get(f"/practice/forms/{intake.pk}/preview/?version=9").status_code == 404


def test_a_version_row_cannot_be_changed_even_directly(library, sunrise):
    from django.db import DatabaseError, transaction

    with schema_context(sunrise.schema_name):
        version = library["adult_intake"].current_version
        with pytest.raises(DatabaseError), transaction.atomic():
            FormVersion.objects.filter(pk=version.pk).update(definition={"title": "Changed"})
        with pytest.raises(ValueError):
            version.save()


def test_the_forms_list_runs_the_same_queries_however_many_forms_and_submissions(
    alice_browser, alice, sunrise, library, carol_record, dave_record
):
    def count():
        with CaptureQueriesContext(connection) as queries:
            assert alice_browser.get("/practice/forms/").status_code == 200
        return len(queries)

    alice_browser.get("/practice/forms/")
    before = count()
    post_definition(alice_browser, "/practice/forms/new/", NEW_FORM)
    big = {
        **NEW_FORM,
        "title": "Big",
        "questions": [{"key": f"q_{n}", "type": "short_text", "label": f"Q{n}"} for n in range(60)],
    }
    post_definition(alice_browser, "/practice/forms/new/", big)
    for record in (carol_record, dave_record):
        send(sunrise, record, alice, ["adult_intake", "phq9", "gad7"], library)
    assert count() == before


# Who may use the builder -------------------------------------------------------------------


def test_a_biller_is_refused(biller_browser, library, sunrise):
    pk = library["adult_intake"].pk
    for url in ("/practice/forms/", f"/practice/forms/{pk}/", f"/practice/forms/{pk}/preview/"):
        assert biller_browser.get(url).status_code == 403
    for url in (f"/practice/forms/{pk}/duplicate/", f"/practice/forms/{pk}/archive/"):
        assert biller_browser.post(url).status_code == 403
    with schema_context(sunrise.schema_name):
        assert FormTemplate.objects.get(pk=pk).archived_at is None
        assert FormTemplate.objects.count() == len(LIBRARY)
    assert (
        biller_browser.post(
            "/practice/forms/new/", {"definition": json.dumps(NEW_FORM)}
        ).status_code
        == 403
    )


def test_another_practice_cannot_open_or_change_a_template(hana_browser, library, harbor):
    pk = library["adult_intake"].pk
    harbor_ids = {t.pk for t in library_of(harbor).values()}
    # Ids are per schema, so pick one that harbor does not have at all.
    custom = max(harbor_ids | {pk}) + 1000
    for url in (f"/practice/forms/{custom}/", f"/practice/forms/{custom}/preview/"):
        assert hana_browser.get(url).status_code == 404
    assert hana_browser.post(f"/practice/forms/{custom}/archive/").status_code == 404
    assert hana_browser.post(f"/practice/forms/{custom}/duplicate/").status_code == 404


def test_a_template_made_at_one_practice_is_not_at_the_other(alice_browser, hana_browser, sunrise):
    post_definition(alice_browser, "/practice/forms/new/", NEW_FORM)
    with schema_context(sunrise.schema_name):
        pk = FormTemplate.objects.get(name="Couples intake").pk
    assert hana_browser.get(f"/practice/forms/{pk}/").status_code == 404
    assert "Couples intake" not in hana_browser.get("/practice/forms/").content.decode()


@pytest.mark.parametrize(
    "url",
    ["/practice/forms/", "/practice/forms/new/", "/practice/forms/1/", "/practice/forms/review/"],
)
def test_anonymous_visitors_are_sent_to_sign_in(sunrise, url):
    response = host_client("sunrise.localhost").get(url)
    assert response.status_code == 302 and "/practice/sign-in/" in response["Location"]


def test_a_client_cannot_use_the_workspace(carol_browser):
    response = carol_browser.get("/practice/forms/")
    assert response.status_code == 302 and "/practice/sign-in/" in response["Location"]
