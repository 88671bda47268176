from typing import ClassVar

from django.contrib.postgres.fields import ArrayField
from django.db import models


class Feature(models.TextChoices):
    """What a plan can unlock. Checked on the server, not only hidden in menus."""

    CLIENT_PORTAL = "client_portal", "Client portal"
    ONLINE_BOOKING = "online_booking", "Online booking"


class Plan(models.Model):  # type: ignore[django-manager-missing]
    STARTER = "starter"
    PROFESSIONAL = "professional"

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=64)
    features = ArrayField(models.CharField(max_length=32, choices=Feature.choices), default=list)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering: ClassVar = ["sort_order"]

    def __str__(self) -> str:
        return self.name
