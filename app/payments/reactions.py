"""How a domain hears about its own payments: one signal, sent inside the transaction that changes the intent.

Every change of a payment intent emits an event (``events.emit``); the same call sends ``payment_event`` with the
intent's ``purpose`` as the sender. A domain connects a handler for the purpose its intents carry, in its package::

    from app.payments.reactions import payment_event

    @payment_event.connect_via("onestop_fee")
    def _fee_changed(purpose, *, intent, event_type):
        if event_type == "payment_intent.succeeded":
            ...  # move the dossier on

Refunds of the intent are heard too, with ``event_type`` ``refund.created`` or ``refund.updated`` (a refund pending,
then succeeded, failed or canceled): ``intent.amount_refunded`` is what is refunded or being refunded, and
``app.payments.refunds.intent_refunds(intent)`` lists the refunds.

A refund of money the domain consumed (after it, what the banks moved less what is refunded falls below the amount)
is the domain's to decide: on ``refund.created`` it follows (the marketplace gives the units back and cancels the
sub-order, the market takes the sale out of the ledger) or refuses by raising a ``DomainError`` whose message staff
see; the refund is then not created.

The handler runs in the same transaction as the change, so the domain's record moves with the payment or neither
does. It flushes, never commits (the caller of confirm_transfer commits), and apart from refusing a refund it must
not raise for a business reason: an exception rolls the confirmation back and the bank notification is answered with an error (the gateway
retries; a statement import reports the row). Payments imports no domain; see docs/payments.md.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: sent as ``payment_event.send(intent.purpose, intent=intent, event_type="payment_intent.succeeded")``
payment_event = _signals.signal("payment-event")


def notify(intent, event_type: str) -> None:
    """Tell the domain that owns ``intent.purpose`` (if any is connected) what just happened to it."""
    payment_event.send(intent.purpose, intent=intent, event_type=event_type)
