from django.core.management.base import BaseCommand

from notifications import vapid


class Command(BaseCommand):
    help = (
        "Make the server's VAPID key pair for web push (once; kept in the database, the private key never "
        "shown) and print the public key. --rotate replaces it: every browser must subscribe again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rotate", action="store_true", help="Replace the key pair; deletes all subscriptions.")

    def handle(self, *args, rotate=False, **options):
        if rotate:
            key, deleted = vapid.rotate_key()
            self.stdout.write(f"New VAPID key pair made; {deleted} browser subscription(s) deleted.")
        else:
            key, created = vapid.ensure_key()
            self.stdout.write("VAPID key pair made." if created else "The VAPID key pair already exists.")
        self.stdout.write(f"Public key: {key.public_key}")
