"""Who may use the API: the model permissions the admin uses, reading included."""

from rest_framework import permissions


class ModelPermissions(permissions.DjangoModelPermissions):
    """Django's model permissions, reading included: a user needs ``view_<model>`` to GET."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
    }


class ReadsEvidence(permissions.IsAuthenticated):
    """The API's root, schema and documentation page: for users who may read claims (Viewers,
    Editors), not for every account that can log in."""

    def has_permission(self, request, view) -> bool:
        return super().has_permission(request, view) and request.user.has_perm("tracker.view_claim")


class HandlesFlags(permissions.IsAuthenticated):
    """A monitor's action on a flag: for who may read and change flags (Editors), as the
    admin's actions; checked before the flag is looked up, so a Viewer learns nothing of ids."""

    def has_permission(self, request, view) -> bool:
        return super().has_permission(request, view) and request.user.has_perms(
            ["tracker.view_flag", "tracker.change_flag"]
        )
