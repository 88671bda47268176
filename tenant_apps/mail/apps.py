from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "tenant_apps.mail"
    label = "mail"
