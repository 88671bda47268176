"""Which code acts on which Stripe event type.

Handlers live with the data they change (cards and payments in `tenant_apps.payments`) and
register here with `@handles(...)`. The webhook task runs a handler in the practice's schema,
inside the transaction that marks the event processed, passing the id of the event's object
(a PaymentIntent, a Charge, a SetupIntent...) and the connected account. A handler reads the
object back from Stripe rather than trusting the event body, so the order of delivery does not
matter, and returns a short note for the event row ("" when there is nothing to say).
"""

from collections.abc import Callable

Handler = Callable[[str, str], str]

_handlers: dict[str, Handler] = {}


def handles(*event_types: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        for event_type in event_types:
            if event_type in _handlers and _handlers[event_type] is not handler:
                raise ValueError(f"{event_type} already has a handler")
            _handlers[event_type] = handler
        return handler

    return register


def handler_for(event_type: str) -> Handler | None:
    return _handlers.get(event_type)
