"""A practice host as the application serves it, plus the trivial view."""

from django.urls import path

from bench import views
from config.urls_practice import urlpatterns as practice_urlpatterns

urlpatterns = [path("bench/trivial/", views.trivial), *practice_urlpatterns]
