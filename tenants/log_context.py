"""The practice schema on every log record, including those Django writes after a request."""

import logging

from django_tenants.log import TenantContextFilter


class PracticeContextFilter(TenantContextFilter):
    """django-tenants' filter, corrected for Django's request log.

    Django logs a 4xx or 5xx response ("Not Found: /path") once the middleware chain has
    returned, and by then PracticeHostMiddleware has put the connection back on the public
    schema. The request itself still knows its practice, so a record carrying one takes the
    schema from it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        super().filter(record)
        practice = getattr(getattr(record, "request", None), "tenant", None)
        if practice is not None:
            record.schema_name = practice.schema_name
            record.domain_url = getattr(practice, "domain_url", None)
        return True
