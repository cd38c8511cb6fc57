"""The states of a market sale, and how a sale came to be paid: value, label and meaning kept together.

A QR sale is ``pending`` while its payment intent waits for the bank, ``paid`` when the intent succeeded (by a bank
notification or confirmed by hand), ``canceled`` when the intent expired or was canceled first. A cash sale is
recorded ``paid`` at once; the vendor may void it (``voided``: recorded, out of every figure, #19 item 1). See docs/decisions.md ("Smart market").
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

PENDING, PAID, CANCELED, VOIDED = "pending", "paid", "canceled", "voided"
SALE_STATUSES = (PENDING, PAID, CANCELED, VOIDED)
STATUS_LABELS = {
    PENDING: _l("Waiting for the transfer"),
    PAID: _l("Paid"),
    CANCELED: _l("Canceled"),
    VOIDED: _l("Voided"),  # a cash sale the vendor took back (a typo): kept, with who and why, out of every figure
}

QR, CASH = "qr", "cash"
SALE_METHODS = (QR, CASH)
METHOD_LABELS = {QR: _l("QR transfer"), CASH: _l("Cash")}

# How a paid sale was confirmed: the bank said so, the vendor said so (recorded as such), or cash in hand.
BANK, BY_HAND = "bank", "hand"
CONFIRMATIONS = (BANK, BY_HAND, CASH)
CONFIRMATION_LABELS = {BANK: _l("Bank notification"), BY_HAND: _l("Confirmed by hand"), CASH: _l("Cash")}
