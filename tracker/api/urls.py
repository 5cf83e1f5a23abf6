from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import APIRootView, DefaultRouter

from . import views
from .permissions import ReadsEvidence


class RootView(APIRootView):
    permission_classes = [ReadsEvidence]


class Router(DefaultRouter):
    APIRootView = RootView


router = Router()
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
