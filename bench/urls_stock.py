"""A practice host under stock django-tenants: the comparison page and the trivial view.

The application's practice URLs stay included so that `LOGIN_URL` and the templates' names
resolve, but the benchmark only requests the two bench views.
"""

from django.urls import path

from bench import views
from config.urls_practice import urlpatterns as practice_urlpatterns

urlpatterns = [
    path("bench/trivial/", views.trivial),
    path("bench/stock-home/", views.stock_home),
    *practice_urlpatterns,
]
