"""The states of payments' records and the words the pages show for them, together in one place.

The tuples are what the database's CHECK constraints allow (app/payments/models.py builds them from these); the
labels are the UI's (English msgids, Vietnamese by default). See docs/payments.md.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# --- a payment intent (Stripe's states; this flow uses requires_action, processing, canceled and succeeded) -----
INTENT_STATUSES = (
    "requires_payment_method",
    "requires_confirmation",
    "requires_action",
    "processing",
    "requires_capture",
    "canceled",
    "succeeded",
)
TERMINAL_STATUSES = ("canceled", "succeeded")
INTENT_STATUS_LABELS = {
    "requires_action": _l("Waiting for payment"),
    "succeeded": _l("Paid"),
    "canceled": _l("Canceled"),
    "processing": _l("Processing"),
}
FLAG_LABELS = {"short": _l("Short payment"), "overpaid": _l("Overpaid"), "late": _l("Late payment")}

# --- a bank transfer (money in, or out for a refund) --------------------------------------------------------------
TRANSFER_STATUSES = ("matched", "unmatched", "short", "overpaid", "late", "duplicate", "outgoing", "resolved")
INBOX_STATUSES = ("unmatched", "short", "overpaid", "late", "duplicate")  # what waits for a person
TRANSFER_STATUS_LABELS = {
    "matched": _l("Matched"),
    "unmatched": _l("Unmatched"),
    "short": _l("Short payment"),
    "overpaid": _l("Overpaid"),
    "late": _l("Late payment"),
    "duplicate": _l("Paid twice"),
    "outgoing": _l("Outgoing"),
    "resolved": _l("Resolved"),
    "already_recorded": _l("Already recorded"),
}
PROVIDER_LABELS = {"sepay": "SePay", "casso": "Casso", "payos": "payOS", "statement": _l("Bank statement"),
                   "manual": _l("Confirmed by hand"), "demo": _l("Demo data")}

# Notes the system writes on a transfer (stored in English, shown translated).
NOTE_OTHER_ACCOUNT = "The reference code names a payment to another bank account."
NOTE_LATE_ACCEPTED = "Late payment accepted."
NOTE_SETTLED_BY_REFUND = "Settled by a refund."
NOTE_AMBIGUOUS_ACCOUNT = "This account number is registered at several banks and the source does not say which."
NOTE_LATE_ACCEPTED_OVERPAID = "Late payment accepted; the difference waits for a refund decision."
NOTE_REFUND_AMOUNT = "The amount differs from the refund it names."  # an outgoing transfer that names a refund
NOTE_REFUND_DONE = "The refund it names was already completed."
NOTE_LABELS = {NOTE_OTHER_ACCOUNT: _l("The reference code names a payment to another bank account."),
               NOTE_LATE_ACCEPTED: _l("Late payment accepted."),
               NOTE_SETTLED_BY_REFUND: _l("Settled by a refund."),
               NOTE_REFUND_AMOUNT: _l("The amount differs from the refund it names."),
               NOTE_REFUND_DONE: _l("The refund it names was already completed."),
               NOTE_AMBIGUOUS_ACCOUNT: _l("This account number is registered at several banks and "
                                          "the source does not say which."),
               NOTE_LATE_ACCEPTED_OVERPAID: _l("Late payment accepted; the difference waits for a refund decision.")}

# --- a refund --------------------------------------------------------------------------------------------------
REFUND_STATUSES = ("pending", "succeeded", "failed", "canceled")
OPEN_REFUND_STATUSES = ("pending", "succeeded")  # the amounts that count as refunded
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "overpaid", "late_payment")
REFUND_CONFIRMATIONS = ("transfer", "manual")  # an outgoing transfer with the refund's reference, or a person
REFUND_STATUS_LABELS = {"pending": _l("Waiting to be sent"), "succeeded": _l("Refunded"), "failed": _l("Failed"),
                        "canceled": _l("Canceled")}
REFUND_CONFIRMATION_LABELS = {"transfer": _l("Seen in the bank's transfers"), "manual": _l("Confirmed by hand")}
REFUND_REASON_LABELS = {"overpaid": _l("Overpaid"), "late_payment": _l("Late payment"), "duplicate": _l("Paid twice"),
                        "fraudulent": _l("Fraudulent"), "requested_by_customer": _l("Requested by the payer")}


def page_labels() -> dict:
    """Every label above, under the names the payments templates use."""
    return {"intent_status_labels": INTENT_STATUS_LABELS, "transfer_status_labels": TRANSFER_STATUS_LABELS,
            "flag_labels": FLAG_LABELS, "provider_labels": PROVIDER_LABELS,
            "note_labels": NOTE_LABELS, "refund_status_labels": REFUND_STATUS_LABELS}
