from cryptography.fernet import Fernet
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Print a new Fernet key for HUB_ENCRYPTION_KEY (put it first to rotate)."

    def handle(self, *args, **options):
        self.stdout.write(Fernet.generate_key().decode())
