from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = "Orders"

    def ready(self):
        # Here, not at the top: models and what imports them load only once the app registry is ready.
        from agents.tables import register_behaviour
        from whatsapp.hooks import register_inbound_handler, register_periodic_work

        from . import catalog_sync, inbound, statuses

        register_behaviour("Order", statuses.Order)
        register_inbound_handler(inbound.ORDER_MESSAGE_TYPES, inbound.act_on_stored_message)
        register_periodic_work("catalog_syncs", catalog_sync.enqueue_catalog_syncs)
