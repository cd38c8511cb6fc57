"""Smart markets (chợ thông minh): markets, stalls and the commune's vendors (household businesses, cooperatives).

The vendor is one entity across the product: it sells at a market stall and on the shared marketplace, and its bank
account is a payment account of the payments primitive (``PaymentAccount.vendor_id``).
"""
