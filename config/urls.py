"""URL configuration."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "Sanctions-deadline compliance tracker"
admin.site.site_title = "Compliance tracker"
admin.site.index_title = "Evidence on DPRK workers abroad"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("summaries/", include("reports.urls")),
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
]
