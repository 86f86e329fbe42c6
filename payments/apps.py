from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"
    verbose_name = "Payments"

    def ready(self):
        # Here, not at the top: the ledger's models load only once the app registry is ready.
        from agents.signals import customer_erased
        from orders import placing, reports

        from . import ledger

        reports.register_refunds(ledger.refunded_by_order)
        placing.register_edit_guard(ledger.edit_refusal)
        customer_erased.connect(ledger.forget_customer, dispatch_uid="payments_forget_customer")
