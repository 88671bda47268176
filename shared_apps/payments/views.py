"""The Stripe webhook endpoint on the platform host."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from shared_apps.payments import webhooks


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    outcome = webhooks.receive(
        request.body,
        signature=request.headers.get("Stripe-Signature"),
        remote_addr=request.META.get("REMOTE_ADDR"),
    )
    if outcome is webhooks.Outcome.REJECTED:
        return HttpResponse("invalid signature", status=400, content_type="text/plain")
    return HttpResponse(outcome.value, content_type="text/plain")
