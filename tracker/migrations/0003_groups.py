"""The two staff groups: Editors log evidence, Viewers read it.

Neither group gets ``view_confidential``: that permission is granted to people one by one.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EDITABLE = ["report", "claim", "source", "place"]
READABLE = ["resolution", "obligation", "watch", *EDITABLE]


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations ran; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def perms(actions, models):
        codenames = [f"{action}_{model}" for action in actions for model in models]
        found = Permission.objects.filter(content_type__app_label="tracker", codename__in=codenames)
        if found.count() != len(codenames):
            raise RuntimeError(f"missing tracker permissions among {codenames}")
        return found

    editors, _ = Group.objects.get_or_create(name="Editors")
    editors.permissions.add(*perms(["add", "change"], EDITABLE), *perms(["view"], READABLE))
    viewers, _ = Group.objects.get_or_create(name="Viewers")
    viewers.permissions.add(*perms(["view"], READABLE))


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Editors", "Viewers"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("tracker", "0002_reference_data"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
