"""URL configuration."""

from django.contrib import admin
from django.urls import include, path

from config import views as health_views
from reports import pages
from tracker import views

urlpatterns = [
    path("healthz", health_views.healthz, name="healthz"),
    path("healthz/live", health_views.healthz_live, name="healthz-live"),
    path("admin/", admin.site.urls),
    path("summaries/", include("reports.urls")),
    path("api/", include("tracker.api.urls")),
    path("", pages.dashboard, name="dashboard"),
    path("claims/", views.claim_list, name="claims"),
    path("flags/", views.flag_list, name="flags"),
    path("flags/<int:pk>/", views.flag_detail, name="flag"),
    path("documents/<int:pk>/", views.document_download, name="document-download"),
    path("countries/<str:iso>/", pages.country_detail, name="country"),
    path("countries/<str:iso>/chart.png", pages.country_chart, name="country-chart"),
    path("language/", views.switch_language, name="set-language"),
    path("preferences/", views.preferences, name="preferences"),
]
