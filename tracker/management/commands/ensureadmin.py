import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from environ import Env


class Command(BaseCommand):
    help = (
        "Create the superuser 'admin' if it does not exist. The password is ADMIN_PASSWORD "
        "from the environment, or a random one printed once."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="admin@localhost")

    def handle(self, *args, username: str, email: str, **options) -> None:
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"User {username!r} exists; its password is unchanged.")
            return
        given = Env().str("ADMIN_PASSWORD", default="")
        password = given or secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email=email, password=password)
        if given:
            self.stdout.write(
                f"Created superuser {username!r} with the password in ADMIN_PASSWORD."
            )
        else:
            self.stdout.write(
                self.style.WARNING(
                    f"Created superuser {username!r} with password {password}  "
                    "(shown once: note it now)"
                )
            )
