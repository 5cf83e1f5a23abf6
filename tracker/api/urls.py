from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("resolutions", views.ResolutionViewSet)
router.register("obligations", views.ObligationViewSet)
router.register("places", views.PlaceViewSet)
router.register("sources", views.SourceViewSet)
router.register("reports", views.ReportViewSet)
router.register("claims", views.ClaimViewSet)
router.register("flags", views.FlagViewSet)
router.register("status", views.StatusViewSet, basename="status")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include(router.urls)),
]
