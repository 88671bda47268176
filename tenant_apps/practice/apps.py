from django.apps import AppConfig


class PracticeConfig(AppConfig):
    name = "tenant_apps.practice"
    label = "practice"
    verbose_name = "Practice workspace"
