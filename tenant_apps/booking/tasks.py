import logging

from django_tenants.utils import tenant_context

from config.celery import app
from shared_apps.plans.models import Feature
from tenant_apps.booking.services import queue_due_reminders
from tenants.models import Practice
from tenants.schemas import connection

logger = logging.getLogger(__name__)


@app.task
def queue_reminders_everywhere() -> int:
    """Celery beat, every few minutes: queue due appointment reminders in every practice
    whose plan has online booking. Each practice's emails go out in its own schema."""
    total = 0
    practices = Practice.objects.select_related("plan").filter(
        status=Practice.Status.ACTIVE, plan__features__contains=[Feature.ONLINE_BOOKING]
    )
    for practice in practices:
        with tenant_context(practice):
            total += queue_due_reminders()
    connection.set_schema_to_public()
    return total
