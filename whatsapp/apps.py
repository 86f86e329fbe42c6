from django.apps import AppConfig


class WhatsappConfig(AppConfig):
    name = "whatsapp"
    verbose_name = "WhatsApp"

    def ready(self):
        # Here, not at the top: models and what imports them load only once the app registry is ready.
        from agents.signals import core_tables_adopted

        from .configuration import encrypt_adopted_access_tokens

        core_tables_adopted.connect(encrypt_adopted_access_tokens, dispatch_uid="encrypt_adopted_access_tokens")
