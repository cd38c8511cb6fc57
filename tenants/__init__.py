"""Tenancy: the Tenant model, per-request resolution and the one scoping mechanism for tenant-owned data."""
