"""The one form flow that creates a staff account (officers by a commune admin, commune admins by the district)."""

from __future__ import annotations

from flask import flash, redirect, url_for

from app.auth import services as account_services
from app.errors import DomainError


def create_staff_from_form(form, tenant, role: str, created_message, next_endpoint: str):
    """Validate ``form`` and create the account. Returns a redirect on success, else the status to render with."""
    if not form.validate_on_submit():
        return 400 if form.errors else 200
    try:
        user = account_services.add_staff(
            tenant, role, form.email.data, form.name.data, form.password.data, form.phone.data
        )
    except DomainError as err:
        form.show_error(err)  # at its field; the page is rendered again with 400 and the boundary rolls back
        return 400
    flash(created_message(user), "success")
    return redirect(url_for(next_endpoint))
