"""Users, with their preferences (the language) editable on their admin page."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from .. import languages
from ..models import Profile

User = get_user_model()


class ProfileInline(admin.StackedInline):
    model = Profile
    fields = ["language"]
    can_delete = False
    max_num = 1
    verbose_name = _("preferences")
    verbose_name_plural = _("preferences")


admin.site.unregister(User)


@admin.register(User)
class TrackerUserAdmin(UserAdmin):
    inlines = [*UserAdmin.inlines, ProfileInline]

    def save_related(self, request, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if form.instance.pk == request.user.pk:  # one's own language: at once, not at next login
            languages.remember(request, languages.preferred_language(request.user))
