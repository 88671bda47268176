"""Two submits of one form racing on separate connections: exactly one signs."""

import threading

from django.db import connection
from django_tenants.utils import schema_context

from tenant_apps.accounts.models import Role, User
from tenant_apps.clients.models import Client
from tenant_apps.intake import services
from tenant_apps.intake.models import FormTemplate, Signature, Submission
from tenant_apps.intake.signatures import clean_signature
from tests.intake.conftest import DRAWN


def test_two_racing_submits_sign_once(committed_practice, django_db_blocker):
    schema = committed_practice.schema_name
    with django_db_blocker.unblock(), schema_context(schema):
        owner = User.objects.create_user("owner@race.test", full_name="Owner", role=Role.OWNER)
        user = User.objects.create_user("pat@race.test", full_name="Pat", role=Role.CLIENT)
        record = Client.objects.create(
            legal_first_name="Pat", legal_last_name="Race", email=user.email, user=user
        )
        consent = FormTemplate.objects.get(library_key="privacy_notice")
        form_request = services.send_forms(record, actor=owner, templates=[consent])
        submission = form_request.submissions.get()

    signature, errors = clean_signature(
        full_name="Pat Race",
        method="drawn",
        image=DRAWN,
        relationship="self",
        relationship_detail="",
        agreed=True,
    )
    assert not errors and signature is not None
    signing = services.Signing(input=signature, ip_address="127.0.0.1", user_agent="race")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def submit() -> None:
        with django_db_blocker.unblock():
            try:
                with schema_context(schema):
                    barrier.wait()
                    services.submit(
                        submission, actor=user, raw={"received": "Yes"}, signing=signing
                    )
                    outcomes.append("signed")
            except services.FormClosed:
                outcomes.append("closed")
            finally:
                connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert sorted(outcomes) == ["closed", "signed"]
    with django_db_blocker.unblock(), schema_context(schema):
        assert Signature.objects.filter(submission_id=submission.pk).count() == 1
        assert services.verify(Submission.objects.get(pk=submission.pk))
