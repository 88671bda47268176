from django.apps import AppConfig


class IntakeFormsConfig(AppConfig):
    """Intake and consent forms. The label avoids any confusion with `django.forms`."""

    name = "tenant_apps.intake"
    label = "intake_forms"
    verbose_name = "Intake and consent forms"

    def ready(self) -> None:
        from tenant_apps.clients.models import Client
        from tenant_apps.clients.panels import Panel, register_panel
        from tenant_apps.intake import emails  # noqa: F401  (registers the email builders)
        from tenant_apps.intake.models import FormRequest, FormVersion, Submission
        from tenant_apps.intake.portal_views import forms_section, outstanding_form_tasks
        from tenant_apps.intake.views import client_panel
        from tenant_apps.portal.registry import register_section, register_tasks

        register_tasks(
            outstanding_form_tasks, depends_on=[Submission, FormRequest, FormVersion, Client]
        )
        register_section("forms", template="intake/portal/section.html", context=forms_section)
        register_panel(
            Panel(
                key="forms",
                template="intake/panel.html",
                context=client_panel,
                # Billers see billing and demographics, never form answers.
                roles=frozenset({"owner", "clinician"}),
                order=10,
            )
        )
