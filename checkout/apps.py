from django.apps import AppConfig


class CheckoutConfig(AppConfig):
    name = "checkout"
    verbose_name = "Checkout"

    def ready(self):
        # Here, not at the top: models and what imports them load only once the app registry is ready.
        from whatsapp import hooks

        from . import notifications

        hooks.register_status_type_handler("payment", notifications.receive_payment_status)
