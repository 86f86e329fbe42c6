from django.apps import AppConfig


class CheckoutConfig(AppConfig):
    name = "checkout"
    verbose_name = "Checkout"

    def ready(self):
        # Here, not at the top: models and what imports them load only once the app registry is ready.
        from agents.signals import customer_erased
        from whatsapp import hooks

        from . import notifications

        hooks.register_status_type_handler("payment", notifications.receive_payment_status)
        customer_erased.connect(notifications.forget_customer, dispatch_uid="checkout_forget_customer")
