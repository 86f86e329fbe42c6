from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self):
        # Here, not at the top: the ledger's models load only once the app registry is ready.
        from orders import reports

        from . import ledger

        reports.register_refunds(ledger.refunded_by_order)
