from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self):
        # Here, not at the top: models and what imports them load only once the app registry is ready.
        from agents.tables import register_behaviour
        from whatsapp.hooks import register_inbound_handler

        from . import inbound, statuses

        register_behaviour("Order", statuses.Order)
        register_inbound_handler(inbound.ORDER_MESSAGE_TYPES, inbound.act_on_stored_message)
