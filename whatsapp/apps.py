from django.apps import AppConfig


class WhatsappConfig(AppConfig):
    name = "whatsapp"
    verbose_name = "WhatsApp"

    def ready(self):
        # Here, not at the top: models and what imports them load only once the app registry is ready.
        from agents.signals import agent_move_released, agent_move_waiting, core_tables_adopted, customer_erased

        from .coexistence import resume_history_imports
        from .configuration import encrypt_adopted_access_tokens
        from .erasure import forget_customer
        from .holds import release_held_work, sends_in_flight
        from .hooks import register_periodic_work

        core_tables_adopted.connect(encrypt_adopted_access_tokens, dispatch_uid="encrypt_adopted_access_tokens")
        customer_erased.connect(forget_customer, dispatch_uid="whatsapp_forget_customer")
        register_periodic_work("history_imports_resumed", resume_history_imports)
        agent_move_waiting.connect(sends_in_flight, dispatch_uid="whatsapp_sends_in_flight")
        agent_move_released.connect(release_held_work, dispatch_uid="whatsapp_release_held_work")
