from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = "Alerts"

    def ready(self):
        # Here, not at the top: models and what imports them load only once the app registry is ready.
        from whatsapp.hooks import register_inbound_handler

        from . import push, tasks

        register_inbound_handler(push.ALERTED_TYPES, tasks.queue_push)
