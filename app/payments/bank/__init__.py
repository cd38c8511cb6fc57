"""Money in from the banks: notification parsing and receivers, statement import, reconciliation and the inbox.

Everything here ends in ``reconciliation.confirm_transfer``, the one function that records money arriving.
See docs/payments.md.
"""
