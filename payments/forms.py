"""What a seller types to record a payment or a refund; the ledger checks what only it can (what is owed)."""

from decimal import Decimal

from django import forms

from .ledger import LARGEST_AMOUNT, REASON_MAX_LENGTH, REFERENCE_MAX_LENGTH
from .models import AMOUNT_DECIMAL_PLACES, AMOUNT_MAX_DIGITS, Payment


def amount_field():
    return forms.DecimalField(
        label="Amount",
        max_digits=AMOUNT_MAX_DIGITS,
        decimal_places=AMOUNT_DECIMAL_PLACES,
        min_value=Decimal("0.01"),
        max_value=LARGEST_AMOUNT,
        error_messages={"min_value": "The amount must be more than zero."},
    )


class PaymentForm(forms.Form):
    amount = amount_field()
    method = forms.ChoiceField(label="Paid by", choices=Payment.Method.choices, initial=Payment.Method.BANK_TRANSFER)
    reference = forms.CharField(
        label="Reference",
        required=False,
        max_length=REFERENCE_MAX_LENGTH,
        help_text="The transfer's id, a receipt number.",
    )


class RefundForm(forms.Form):
    amount = amount_field()
    reason = forms.CharField(label="Reason", max_length=REASON_MAX_LENGTH)


class ProofPaymentForm(PaymentForm):
    """A payment with the customer's image or document as its proof, for one of that customer's orders."""

    # The customer's orders that owe something, as (id, label): any other value is an invalid choice.
    order = forms.TypedChoiceField(label="Order", choices=(), coerce=int)

    field_order = ["order", "amount", "method", "reference"]

    def __init__(self, *args, orders=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["order"].choices = [(str(pk), label) for pk, label in orders]
