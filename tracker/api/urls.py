from django.urls import include, path, re_path
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.exceptions import NotFound
from rest_framework.routers import APIRootView, DefaultRouter
from rest_framework.views import APIView

from . import views
from .permissions import ReadsEvidence


class RootView(APIRootView):
    permission_classes = [ReadsEvidence]


class Router(DefaultRouter):
    APIRootView = RootView


@extend_schema(exclude=True)
class NoSuchEndpoint(APIView):
    """Whatever no route of the API matches (``/api/claims/1.5/``, ``/api/claims/a/b/``): the
    API's own 404, in JSON, instead of Django's HTML page; to a stranger, a 403 as anywhere."""

    permission_classes = [ReadsEvidence]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        raise NotFound


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
    re_path(r"^.*$", NoSuchEndpoint.as_view(), name="api-no-such-endpoint"),
]
