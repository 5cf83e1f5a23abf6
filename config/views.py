"""Health endpoints for load balancers and docker-compose; open to anyone, they say no more
than "ok", "unavailable" or "stale" for each part."""

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from . import health


@never_cache
@require_safe
def healthz(request):
    """Database, queue and beat: 200 when all are ok, 503 (with which one) otherwise."""
    answer = health.report()
    return JsonResponse(answer, status=200 if answer["status"] == health.OK else 503)


@never_cache
@require_safe
def healthz_live(request):
    """The web process serves and reaches its database: the container's own health check."""
    status = health.database()
    return JsonResponse(
        {"status": status, "checks": {"database": status}},
        status=200 if status == health.OK else 503,
    )
