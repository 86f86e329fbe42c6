from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

import audit
from whatsapp import encryption
from whatsapp.models import WhatsAppConfiguration


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored WhatsApp access token under the first key of FIELD_ENCRYPTION_KEYS "
        "(and encrypt any token found stored in clear). Idempotent. If any token cannot be decrypted "
        "with any configured key, nothing is changed and the command fails, naming it."
    )

    def handle(self, *args, **options):
        rotated = current = encrypted_from_clear = 0
        with transaction.atomic():
            configurations = list(
                WhatsAppConfiguration.objects.select_for_update()
                .filter(api_key__isnull=False)
                .exclude(api_key="")
                .order_by("pk")
                .only("pk", "api_key", "whatsapp_number")
            )
            unreadable = []
            new_values = {}
            for configuration in configurations:
                stored = configuration.api_key
                if not encryption.is_encrypted(stored):
                    # A contract database may hold tokens written in clear by another program.
                    new_values[configuration.pk] = encryption.encrypt(stored)
                    encrypted_from_clear += 1
                elif encryption.is_current(stored):
                    current += 1
                else:
                    try:
                        new_values[configuration.pk] = encryption.rotate(stored)
                    except encryption.DecryptionError:
                        unreadable.append(configuration)
                        continue
                    rotated += 1
            if unreadable:
                names = ", ".join(f"{c.pk} ({c.whatsapp_number})" for c in unreadable)
                raise CommandError(
                    f"no key in FIELD_ENCRYPTION_KEYS decrypts the access token of configuration(s) {names}. "
                    "Nothing was changed. Put the key that encrypted them back in FIELD_ENCRYPTION_KEYS (after "
                    "the new one), or type a new token for them in the admin, then run this again."
                )
            for pk, value in new_values.items():
                # Not a configuration change: updated_at stays as it was.
                WhatsAppConfiguration.objects.filter(pk=pk).update(api_key=value)
            audit.record(
                "whatsapp.keys_rotated",
                actor=None,
                target=None,
                rotated=rotated,
                already_current=current,
                encrypted_from_clear=encrypted_from_clear,
            )
        self.stdout.write(
            f"{rotated} token(s) re-encrypted under the first key, {current} already under it, "
            f"{encrypted_from_clear} stored in clear now encrypted; {len(configurations)} configuration(s) with a token."
        )
