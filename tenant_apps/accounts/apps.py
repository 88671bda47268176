from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "tenant_apps.accounts"
    label = "accounts"

    def ready(self) -> None:
        from tenant_apps.accounts import (
            emails,  # noqa: F401  (registers the email builders)
            signals,
            user_cache,
        )
        from tenant_apps.accounts.models import User

        signals.connect()
        user_cache.connect_signals(User)
