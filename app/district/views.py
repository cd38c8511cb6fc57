from dataclasses import dataclass

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth import services as account_services
from app.auth.access import district_admin_required
from app.auth.staff_views import create_staff_from_form
from app.auth.forms import CommuneAdminForm
from app.auth.models import User
from app.district import api_bp, bp, figures, queries
from app.errors import NotFound, back_to
from app.exports import csv_response
from app.extensions import db
from app.formatting import format_number, format_vnd, number_formatters
from app.text import fold
from tenants import queries as tenant_queries
from tenants.models import Tenant


CHART_BARS = 40
# Up to this many communes (a district: 22 in Gia Lâm) the tables show every one; beyond (a province, the country:
# 3,321) they show one page of TABLE_PAGE rows with a search by name or code. The CSV always has every commune.
TABLE_ALL_UP_TO = 200
TABLE_PAGE = 50


@dataclass(frozen=True)
class TablePage:
    """One page of a long table: ``rows`` of ``total`` (after the search), page ``page`` of ``pages``."""

    rows: list
    total: int
    page: int
    pages: int
    arg: str  # the query-string name of this table's page number
    paged: bool  # False: every row is shown, no pager


def _page_of(rows: list, arg: str, search: str, key) -> TablePage:
    """``rows`` whole when there are few; else those matching ``search`` (folded, in ``key(row)``), one page."""
    if len(rows) <= TABLE_ALL_UP_TO:
        return TablePage(rows, len(rows), 1, 1, arg, False)
    if search:
        rows = [row for row in rows if search in key(row)]
    pages = max(1, -(-len(rows) // TABLE_PAGE))
    page = min(max(request.args.get(arg, 1, type=int) or 1, 1), pages)
    return TablePage(rows[(page - 1) * TABLE_PAGE:page * TABLE_PAGE], len(rows), page, pages, arg, True)


def _searchable(tenant: Tenant) -> str:
    return f"{fold(tenant.display_name)} {fold(tenant.name)} {tenant.code} {tenant.slug}"


def _sort_key(column: str):
    """How the table sorts by ``column`` (?sort=): "unit", "score", "rate.<component>", a figure key, else the rank.
    Absent values (no rate, no figures) go last whichever the direction."""
    if column == "unit":
        return lambda c: (False, fold(c.tenant.display_name))
    if column == "score":
        return lambda c: (c.score.value is None, c.score.value or 0)
    if column.startswith("rate."):
        key = column[5:]
        return lambda c: (c.score.rates.get(key) is None, c.score.rates.get(key) or 0)
    if column in figures.LABELS:
        return lambda c: (c.values.get(column) is None, c.values.get(column) or 0)
    return lambda c: (c.rank is None, c.rank or 0, c.tenant.code)


def _sorted(rows: list, column: str, descending: bool) -> list:
    key = _sort_key(column)
    present = sorted((r for r in rows if not key(r)[0]), key=key, reverse=descending)
    return present + [r for r in rows if key(r)[0]]


@dataclass(frozen=True)
class SortHeading:
    """A column heading of the table: a link that sorts by ``column`` (first ``first``, the other way when it
    already does); ``current``: the table is sorted by it now, ``descending``: that way."""

    column: str
    label: str
    href: str
    current: bool
    descending: bool


def _sort_headings(columns, sort: str, descending: bool) -> list[SortHeading]:
    """Each heading's link: ``url_for("district.index", **dict(request.args, sort=column, dir=..., page=1))``, built
    once with placeholders and filled in per column (columns and directions are plain words a URL does not escape;
    36 url_for calls and macro calls were a tenth of the page's rendering)."""
    pattern = url_for("district.index", **dict(request.args, sort="__sort__", dir="__dir__", page=1))
    headings = []
    for column, label, first in columns:
        current = sort == column
        descending_now = descending if current else False
        next_dir = ("asc" if descending_now else "desc") if current else first
        headings.append(SortHeading(column, label, pattern.replace("__sort__", column).replace("__dir__", next_dir),
                                    current, descending_now))
    return headings


def _value_text(key: str, value: int | None, number=format_number) -> str:
    if value is None:
        return "—"
    return format_vnd(value) if key in figures.MONEY_KEYS else number(value, 0)


@bp.route("/")
@district_admin_required
def index():
    """Every commune side by side for a period, ranked by the composite score, with charts and a drill-down."""
    start, end = queries.period(request.args)
    number, percent = number_formatters()  # the locale looked up once for the page's ~700 numbers

    def value_text(key: str, value: int | None) -> str:
        return _value_text(key, value, number)

    data = queries.district_figures(start, end)
    trend = queries.monthly_trend([c.tenant.id for c in data.communes], end, history=data.history)
    communes = tenant_queries.list_all()
    admin_count = account_services.commune_admin_counts()
    received = sorted(
        ((c.tenant.display_name, c.values.get("money_received", 0), format_vnd(c.values.get("money_received", 0)))
         for c in data.communes),
        key=lambda row: -row[1],
    )
    score_bars = [(c.tenant.display_name, int(round(c.score.value or 0)), number(c.score.value, 1, fixed=True))
                  for c in data.ranking if c.score.value is not None]
    # A bar per commune for a district (22 here); for a province or the country, the first CHART_BARS only.
    charted = len(data.communes) > CHART_BARS
    received, score_bars = received[:CHART_BARS], score_bars[:CHART_BARS]
    trend_charts = [
        (key, figures.LABELS[key],
         [(month.strftime("%m/%y"), totals.get(key, 0), value_text(key, totals.get(key, 0))) for month, totals in trend])
        for key in ("money_received", "received", "sales_amount", "paid_value") if key in data.keys
    ]
    labels = {key: str(label) for key, label in figures.LABELS.items()}  # translated once, not once per cell
    # Beyond a district's size, one page of each table and a search (3,321 communes would be ~2 MB of HTML).
    search = fold(request.args.get("q", "")).strip()[:100]
    sort = request.args.get("sort", "rank")
    if sort not in {"rank", "unit", "score", *(f"rate.{c.key}" for c in figures.COMPONENTS), *data.keys}:
        sort = "rank"
    descending = request.args.get("dir") == "desc"
    ranked = _page_of(_sorted(data.ranking, sort, descending), "page", search, lambda c: _searchable(c.tenant))
    unit_page = _page_of(communes, "units_page", search, _searchable)
    # Built in Python once per row shown (not with url_for and a macro call per cell).
    desk = url_for("communes.desk", tenant_slug="__slug__")
    table = [(c, desk.replace("__slug__", c.tenant.slug), "—" if c.score.value is None else number(c.score.value, 1, fixed=True),
              [percent(c.score.rates.get(comp.key)) for comp in figures.COMPONENTS],
              [value_text(key, c.values.get(key)) for key in data.keys]) for c in ranked.rows]
    headings = _sort_headings(
        [("rank", _("Rank"), "desc"), ("unit", _("Unit"), "asc"), ("score", _("Score"), "desc"),
         *((f"rate.{comp.key}", _("%(rate)s (rate)", rate=comp.label), "desc") for comp in figures.COMPONENTS),
         *((key, labels.get(key, key), "desc") for key in data.keys)], sort, descending)
    lineage_url = url_for("district.lineage", slug="__slug__")
    units = [(c, desk.replace("__slug__", c.slug), lineage_url.replace("__slug__", c.slug)) for c in unit_page.rows]
    return render_template(
        "district/index.html", data=data, table=table, units=units, admin_count=admin_count, received=received,
        score_bars=score_bars, trend_charts=trend_charts, components=figures.COMPONENTS,
        labels=labels, key_labels=[labels.get(key, key) for key in data.keys],
        value_text=value_text, headings=headings, rate_labels=[str(c.label) for c in figures.COMPONENTS], providers=figures.providers(), charted=charted, chart_bars=CHART_BARS,
        ranked=ranked, unit_page=unit_page, sort=sort, descending=descending, table_page=TABLE_PAGE, search=request.args.get("q", "").strip()[:100],
    )


@bp.route("/metrics.csv")
@district_admin_required
def figures_csv():
    start, end = queries.period(request.args)
    data = queries.district_figures(start, end)
    # "Note": a successor's "includes the history of ..." for a period across a reorganisation (#18)
    header = [_("Code"), _("Slug"), _("Unit"), _("Rank"), _("Score"), _("Note")] + [str(figures.LABELS.get(k, k)) for k in data.keys]
    rows = [
        [c.tenant.code, c.tenant.slug, c.tenant.display_name, c.rank or "", "" if c.score.value is None else c.score.value,
         c.history_note or "", *[c.values[k] for k in data.keys]]
        for c in data.communes
    ]
    rows.append(["", "", _("Total"), "", "", "", *[data.totals[k] for k in data.keys]])
    return csv_response(f"gia-lam-{start.isoformat()}-{end.isoformat()}.csv", header, rows)


@api_bp.route("/metrics")
def api_figures():
    """Public figures (counts and money per commune, no personal data) for ?from=YYYY-MM-DD&to=YYYY-MM-DD."""
    start, end = queries.period(request.args)
    return jsonify(queries.district_figures(start, end).as_json())


@bp.route("/units/<slug>/lineage")
@district_admin_required
def lineage(slug: str):
    """A unit's lineage: what it came from, what it became, when, on what legal basis, and what moved."""
    from tenants import lineage as tenant_lineage

    tenant = tenant_queries.get_by_slug(slug)
    if tenant is None:
        abort(404)
    lines = tenant_lineage.lines_of(tenant)
    return render_template("district/lineage.html", tenant=tenant,
                           before=[line for line in lines if line.successor_id == tenant.id],
                           after=[line for line in lines if line.predecessor_id == tenant.id],
                           in_force=tenant_lineage.current_successor(tenant))


@bp.route("/admins", methods=["GET", "POST"])
@district_admin_required
def admins():
    form = CommuneAdminForm()
    form.tenant.choices = [(t.id, t.display_name) for t in tenant_queries.list_active()]
    tenant = db.session.get(Tenant, form.tenant.data) if form.tenant.data else None
    outcome = create_staff_from_form(
        form, tenant, "commune_admin", lambda user: _("Commune admin %(email)s created.", email=user.email),
        "district.admins",
    )
    if not isinstance(outcome, int):
        return outcome
    return (
        render_template(
            "district/admins.html", form=form, admins=account_services.commune_admins()
        ),
        outcome,
    )


@bp.route("/admins/<int:user_id>/<any(activate, deactivate):action>", methods=["POST"])
@district_admin_required
@back_to("district.admins")
def set_admin_active(user_id: int, action: str):
    user = db.session.get(User, user_id)
    if user is None or not any(m.role == "commune_admin" for m in user.memberships):
        raise NotFound(_("No such commune admin."))
    account_services.set_active(current_user, user, action == "activate")
    flash(_("Account %(email)s updated.", email=user.email), "success")
    return redirect(url_for("district.admins"))
