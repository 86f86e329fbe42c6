"""What a successful payment does to its order: a payment in the ledger, once per transaction."""

from agents.shop import shop_of
from payments import ledger
from payments.models import Payment

# The ledger's source of payments Meta reported; with the transaction id as reference, a re-delivered
# notification finds the payment it made the first time.
SOURCE = "whatsapp"


def apply_success(agent, order, event):
    """Record the successful payment `event` (a PaymentEvent) in the ledger; returns whether it did.

    The amount Meta reported. Nothing is recorded when that amount is missing or not an amount (negative,
    a bad offset, past the column), when the order owes nothing or less than that amount (a customer who paid twice: the seller refunds by hand), or when the
    payment was in another currency than the shop's; the notice in the order's history says so.
    """
    if event.currency and event.currency != shop_of(agent).currency:
        return False
    owed = ledger.balance(agent, order).owed
    amount = event.amount
    if amount is None or not owed or amount > owed:
        return False
    try:
        ledger.record_payment(
            agent,
            order,
            amount=amount,
            method=Payment.Method.WHATSAPP_PAY,
            reference=event.transaction_id,
            source=SOURCE,
        )
    except ledger.PaymentError:
        return False
    return True
