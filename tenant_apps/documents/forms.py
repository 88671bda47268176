from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet

from tenant_apps.clients.models import Client
from tenant_apps.documents.files import ACCEPT_ATTRIBUTE, ACCEPTED_DESCRIPTION, UnacceptableFile
from tenant_apps.documents.services import CheckedUpload, check_upload, megabytes

MAX_FILES_PER_UPLOAD = 20


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field; each is checked by content before anything is stored."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"multiple": True, "accept": ACCEPT_ATTRIBUTE})
        )
        kwargs.setdefault(
            "help_text",
            f"{ACCEPTED_DESCRIPTION}; up to {megabytes(settings.DOCUMENTS_MAX_FILE_BYTES)} each.",
        )
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[CheckedUpload]:  # type: ignore[override]
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if not files:
            raise forms.ValidationError("Choose at least one file.", code="required")
        if len(files) > MAX_FILES_PER_UPLOAD:
            raise forms.ValidationError(f"Send at most {MAX_FILES_PER_UPLOAD} files at a time.")
        checked, problems = [], []
        for uploaded in files:
            if not isinstance(uploaded, UploadedFile):
                raise forms.ValidationError("Choose a file to upload.", code="invalid")
            try:
                checked.append(check_upload(uploaded))
            except UnacceptableFile as problem:
                shown = (uploaded.name or "file")[-60:]
                problems.append(forms.ValidationError(f"{shown}: {problem}", code="unacceptable"))
        if problems:
            raise forms.ValidationError(problems)
        return checked


class ClientChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Client) -> str:  # type: ignore[override]
        return obj.display_name


class ShareFilesForm(forms.Form):
    uploads = MultipleFileField(label="Files")
    title = forms.CharField(
        max_length=200,
        required=False,
        help_text="Shown to the client. Leave empty to use each file's name.",
    )
    message = forms.CharField(
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Optional; the client reads it in the portal, never in an email.",
    )
    clients = ClientChoiceField(
        queryset=Client.objects.none(),
        required=False,
        label="Share with",
        help_text="Hold Ctrl (Cmd on a Mac) to choose several clients.",
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    keep_in_library = forms.BooleanField(
        required=False,
        label="Keep in the practice library to share again later",
    )

    def __init__(self, *args: Any, clients: QuerySet[Client], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["clients"].queryset = clients  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("clients") and not cleaned.get("keep_in_library"):
            self.add_error("clients", "Choose who to share with, or keep the files in the library.")
        return cleaned


class ShareDocumentForm(forms.Form):
    clients = ClientChoiceField(
        queryset=Client.objects.none(),
        label="Share with",
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    message = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, clients: QuerySet[Client], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["clients"].queryset = clients  # type: ignore[attr-defined]


class ClientUploadForm(forms.Form):
    uploads = MultipleFileField(label="Files to send")
    title = forms.CharField(
        max_length=200, required=False, help_text="Optional, for example “Insurance card”."
    )


class DocumentSettingsForm(forms.Form):
    clients_may_upload = forms.BooleanField(
        required=False, label="Clients may upload files from Documents in the portal"
    )
