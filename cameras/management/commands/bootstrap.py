from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from accounts.services import BootstrapError, bootstrap_admin
from cameras.demo import ensure_demo_camera
from core.envconfig import env_str


class Command(BaseCommand):
    help = (
        "Create the first admin (password from AINVR_ADMIN_PASSWORD or AINVR_ADMIN_PASSWORD_FILE, "
        "else a random one printed once). Does nothing when an active admin exists. "
        "With --demo, also adds the demo camera and a default live layout."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="")
        parser.add_argument("--demo", action="store_true", help="Add a demo camera playing a generated clip.")

    def handle(self, *args, username, email, demo, **options):
        try:
            password = env_str("AINVR_ADMIN_PASSWORD") or None
        except ImproperlyConfigured as e:  # AINVR_ADMIN_PASSWORD_FILE unreadable: one line, no traceback
            raise CommandError(str(e)) from None
        try:
            result = bootstrap_admin(username=username, email=email, password=password)
        except BootstrapError as e:
            raise CommandError(str(e)) from None
        user = result.admin
        if result.generated_password:
            self.stdout.write(
                f"Created the admin {user.username!r} with the password: {result.generated_password}\n"
                "It is shown only this once: log in and change it (top right, 'Change password')."
            )
        elif result.created:
            self.stdout.write(f"Created the admin {user.username!r} with the password from AINVR_ADMIN_PASSWORD.")
        else:
            self.stdout.write(f"The admin {user.username!r} exists: nothing to do.")
        if demo:
            # Only a new install gets the demo: once deleted by an admin, it stays deleted.
            camera, created = ensure_demo_camera(add_if_missing=result.created)
            if created:
                self.stdout.write(f"Added the demo camera {camera.name!r} and a default live layout.")
