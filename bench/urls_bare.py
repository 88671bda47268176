"""The bare server: no tenancy at all, one trivial view."""

from django.urls import path

from bench import views

urlpatterns = [path("bench/trivial/", views.trivial)]
