from config.celery import app
from tenants import spares


@app.task
def refill_spare_schemas() -> int:
    """After a provisioning and every few minutes: build the spare schemas that are missing."""
    return spares.refill_spare_schemas()
