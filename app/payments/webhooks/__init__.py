"""Outgoing webhooks: the endpoints an integrator registers (``endpoints``), the signed delivery of events to them
with retries (``delivery``), and the guarded outbound HTTP they go through (``outbound``). "Webhook" means this and
only this; what the banks send us are notifications (app/payments/bank). See docs/payments.md.
"""
