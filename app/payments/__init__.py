"""Payments: the payment intent and its QR, money in from the banks, the Stripe-compatible API (docs/payments.md).

Payments imports no domain. What it shows elsewhere it registers here: its figures on the district's dashboard
(app/district/figures.py) and its tile on a commune's desk (tenants/tiles.py).
"""


def _desk_panel():
    from flask import g
    from flask_babel import lazy_gettext as _l

    from app.payments import stats
    from app.payments.bank import reconciliation
    from tenants import tiles

    week = stats.received_per_day(days=7)
    return [
        tiles.Figure(_l("Received today"), week[-1][1], money=True, testid="received-today"),
        tiles.Figure(_l("Transfers waiting in the inbox"), reconciliation.inbox_count(g.tenant.id),
                     endpoint="reconciliation.inbox", attention=True, testid="desk-inbox"),
        tiles.Chart(_l("Money received, last 7 days"), stats.chart_rows(week), testid="desk-chart"),
    ]


def _district_figures(start, end):
    from app.district.figures import local_bounds
    from app.payments import stats

    return stats.district_figures(*local_bounds(start, end))


def _district_monthly(start, end):
    from app.district.figures import local_bounds
    from app.payments import stats

    return stats.district_monthly(*local_bounds(start, end))


def _register() -> None:
    from flask_babel import lazy_gettext as _l

    from app.district import figures
    from tenants import tiles

    figures.register("payments", _district_figures, figures.PAYMENTS_KEYS, monthly=_district_monthly)
    tiles.on_desk(tiles.DeskTile("payments", order=20, read=_desk_panel, links=(
        tiles.Link(_l("Payments"), "reconciliation.payments", primary=True, testid="payments-link"),
        tiles.Link(_l("Reconciliation inbox"), "reconciliation.inbox"),
    )))


_register()
