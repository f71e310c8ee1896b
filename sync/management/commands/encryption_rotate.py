from django.core.management.base import BaseCommand
from django.db import transaction

from sync.encryption import EncryptedTextField
from sync.models import PmConnection

# Every model with encrypted columns.
ENCRYPTED_MODELS = [PmConnection]


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret with the first key of HUB_ENCRYPTION_KEY. Rotate a "
        "key by putting the new one first (keeping the old one after it), running this, "
        "then removing the old one."
    )

    def handle(self, *args, **options):
        count = 0
        with transaction.atomic():
            for model in ENCRYPTED_MODELS:
                fields = [
                    field.name
                    for field in model._meta.concrete_fields
                    if isinstance(field, EncryptedTextField)
                ]
                # Reading decrypts with whichever key opens a value; saving encrypts
                # with the first key.
                for row in model.objects.select_for_update():
                    row.save(update_fields=fields)
                    count += 1
        self.stdout.write(f"Re-encrypted the secrets of {count} rows with the first key.")
