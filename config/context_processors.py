"""The site's name and the user links on the pages outside the admin (dashboard, claims, flags,
summaries), which extend the admin's templates without being admin views."""

from django.contrib import admin


def site(request) -> dict:
    return {
        "site_header": admin.site.site_header,
        "site_title": admin.site.site_title,
        "site_url": "/",
        "has_permission": request.user.is_active and request.user.is_staff,
    }
