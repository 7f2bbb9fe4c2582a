from django.core.management.base import BaseCommand, CommandError

from cameras import secrets
from cameras.services import rotate_credentials


class Command(BaseCommand):
    help = (
        "Re-encrypt every camera's credentials with the first key of SECRETS_KEY (new,old...), so the old "
        "key can then be dropped. --generate-key prints a new key."
    )

    def add_arguments(self, parser):
        parser.add_argument("--generate-key", action="store_true", help="Print a new key and change nothing.")

    def handle(self, *args, generate_key, **options):
        if generate_key:
            self.stdout.write(secrets.generate_key())
            return
        try:
            rotated = rotate_credentials()
        except (secrets.CredentialsUnreadable, secrets.SecretsKeyError) as e:
            raise CommandError(str(e)) from None
        self.stdout.write(
            f"rotate_secrets: re-encrypted the credentials of {rotated} camera(s) with the first key of "
            f"{secrets.key_source()}"
        )
