"""A new practice's owner invitation goes through Redis to a real Celery worker, which sends
it once, in the practice's own schema.

The worker, the practice and the outbox are shared by the module, so each test asks only what
holds whatever ran before it: one email, to the owner, however often the task was delivered.
"""

import re
import uuid

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django_tenants.utils import schema_context

from tenant_apps.accounts.models import User
from tenant_apps.accounts.services import STAFF_INVITATION
from tenant_apps.mail.models import EmailDelivery
from tenant_apps.mail.tasks import deliver_email
from tenants.models import Practice
from tests.integration.conftest import WILLOW_OWNER_EMAIL, WILLOW_OWNER_NAME
from tests.worker import Worker, wait_until

pytestmark = pytest.mark.worker

WELCOME_LINK = re.compile(
    r"^http://willow-wellness\.localhost:8000/practice/welcome/"
    r"(?P<uidb64>[\w-]+)/(?P<token>[\w-]+)/$",
    re.MULTILINE,
)


def sent_invitation(practice: Practice) -> EmailDelivery:
    """The owner's invitation, once the worker has committed it as sent."""
    with schema_context(practice.schema_name):
        return wait_until(
            lambda: EmailDelivery.objects.filter(
                kind=STAFF_INVITATION, sent_at__isnull=False
            ).first(),
            what="the worker to mark the owner's invitation sent",
        )


def test_it_sends_the_owner_invitation_once_from_a_real_worker(
    db: None, willow: Practice, worker: Worker
):
    (message,) = worker.wait_for_emails(1)
    invitation = sent_invitation(willow)

    assert message["To"] == WILLOW_OWNER_EMAIL
    assert message["Subject"] == "You're invited to Willow Wellness"
    body = message.get_content()
    link = WELCOME_LINK.search(body)
    assert link is not None, body
    # Trailing newlines are the transport's business; every line above them is asserted.
    assert body.rstrip("\n") == (
        f"Hello {WILLOW_OWNER_NAME},\n"
        "\n"
        "You have been invited to the Willow Wellness workspace on Swasth for Clinicians.\n"
        "\n"
        "Choose your password and sign in here:\n"
        f"{link[0]}\n"
        "\n"
        "The link works once and for three days. If you weren't expecting this, you can ignore"
        " this email."
    )
    assert not message.is_multipart()

    with schema_context(willow.schema_name):
        owner = User.objects.get(email=WILLOW_OWNER_EMAIL)
    assert force_str(urlsafe_base64_decode(link["uidb64"])) == str(owner.pk)
    assert default_token_generator.check_token(owner, link["token"])
    assert (invitation.recipient_id, invitation.attempts) == (owner.pk, 1)
    # The public schema has a deliveries table too; the worker must not have used it.
    assert not EmailDelivery.objects.filter(key=invitation.key).exists()

    worker_log = worker.log()
    assert f"[{willow.schema_name}] tenant_apps.mail.tasks: " in worker_log
    assert WILLOW_OWNER_EMAIL not in worker_log
    assert WILLOW_OWNER_NAME not in worker_log
    assert link["token"] not in worker_log


def test_a_redelivered_invitation_is_not_sent_again(db: None, willow: Practice, worker: Worker):
    invitation = sent_invitation(willow)
    worker.wait_for_emails(1)

    # A broker redelivers a message as it was: the same task id, args and schema header.
    redelivered = str(uuid.uuid4())
    for _ in range(2):
        deliver_email.apply_async(
            args=[invitation.pk], task_id=redelivered, headers={"_schema_name": willow.schema_name}
        )
    worker.wait_for_task(redelivered, times=2)

    assert len(worker.emails()) == 1
    # Celery logs what each run returned: whether it sent.
    finished = re.findall(rf"deliver_email\[{redelivered}\] succeeded in \S+: (\w+)", worker.log())
    assert finished == ["False", "False"]
    assert sent_invitation(willow).attempts == 1
