"""What the marketplace's pages read.

The public catalogue reads published products of every commune. It does so ONLY through the functions below whose
names start with ``public_`` (and ``district_figures`` for the district), each inside an explicit ``all_tenants()``
block and each filtering to published products of active vendors in active communes itself. Nothing else in the
marketplace switches scoping off. Every page reads a fixed number of queries whatever its size (tests count them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Integer, String, and_, bindparam, case, distinct, func, literal, null, select, union_all

from app.extensions import db
from marketplace.models import MAX_ID, CatalogueCount, Order, OrderLine, Product, SubOrder
from marketplace.search import match_and_rank, match_and_rank_bound, published_matches, search_values
from marketplace.statuses import CONFIRMED, DELIVERED, DELIVERY, PAID, PICKUP, SHIPPED
from tenants.vendors.models import Vendor
from tenants.models import Tenant
from tenants.scoping import all_tenants

SORTS = ("relevance", "newest", "price_asc", "price_desc", "name")
PAID_STATUSES = (PAID, CONFIRMED, SHIPPED, DELIVERED)
MAX_PER_PAGE = 200


@dataclass(frozen=True)
class ProductCard:
    """A published product as the catalogue shows it (one row of one query, nothing loaded lazily)."""

    id: int
    tenant_id: int
    vendor_id: int
    slug: str
    name: str
    price: int
    unit: str
    available: int
    category: str
    ocop_stars: int | None
    image: str | None
    created_at: datetime
    vendor_name: str
    vendor_slug: str
    commune_slug: str
    commune_name: str


_CARD_COLUMNS = (
    Product.id, Product.tenant_id, Product.vendor_id, Product.slug, Product.name, Product.price, Product.unit,
    (Product.stock - Product.reserved).label("available"), Product.category, Product.ocop_stars, Product.images,
    Product.created_at, Vendor.business_name, Vendor.slug, Tenant.slug, Tenant.name,
)


def _published():
    """Published products of active vendors in active communes, with what a card shows."""
    return (
        select(*_CARD_COLUMNS)
        .join(Vendor, and_(Vendor.tenant_id == Product.tenant_id, Vendor.id == Product.vendor_id))
        .join(Tenant, Tenant.id == Product.tenant_id)
        .where(Product.status == "published", Vendor.active.is_(True), Tenant.status == "active")
    )


def _card(row) -> ProductCard:
    images = row[10] or []
    return ProductCard(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], row[9],
                       images[0] if images else None, row[11], row[12], row[13], row[14], row[15])


def _order_by(query, sort: str, rank=None, columns=Product):
    """``columns``: where created_at, id, price and name_folded come from (the products, or the search matches)."""
    c = columns
    if sort == "relevance" and rank is not None:
        return query.order_by(rank, c.created_at.desc(), c.id.desc())
    if sort == "price_asc":
        return query.order_by(c.price, c.id)
    if sort == "price_desc":
        return query.order_by(c.price.desc(), c.id.desc())
    if sort == "name":
        return query.order_by(c.name_folded, c.id)
    return query.order_by(c.created_at.desc(), c.id.desc())


@dataclass(frozen=True)
class Page:
    items: list[ProductCard]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def public_search(*, q: str = "", commune: str | None = None, category: str | None = None,
                  vendor: tuple[int, int] | None = None, sort: str = "newest", page: int = 1,
                  per_page: int = 24) -> Page:
    """One page of published products across communes (two queries: the count and the rows).

    The statements are built once per shape (words in the query, which filters, the order) with bind parameters,
    and given each request's values (``_prebuilt``, issue #17): building and keying a statement cost more than
    running it. ``public_search_built`` is the same search built per call, the definition tests hold this to."""
    q = (q or "").replace("\x00", "")
    if (commune and "\x00" in commune) or (category and "\x00" in category):
        return Page([], 0, page, per_page)
    values = search_values(q) if q else None
    if q and values is None:
        return Page([], 0, page, per_page)
    if sort == "relevance" and values is None:
        sort = "newest"
    if values is not None and db.session.get_bind().dialect.name == "postgresql":
        return _search_matches(q, commune, category, vendor, sort, page, per_page)
    words = sum(1 for name in values if name.startswith("word")) if values else 0
    shape = ("search", words, bool(commune), bool(category), bool(vendor), sort if sort in SORTS else "newest")
    count, rows = _prebuilt(shape, lambda: _search_statements(words, bool(commune), bool(category), bool(vendor),
                                                              sort))
    params = {**(values or {}), "limit": per_page, "offset": (page - 1) * per_page}
    if commune:
        params["commune"] = commune
    if category:
        params["category"] = category
    if vendor:
        params["vendor_tenant"], params["vendor"] = vendor
    with all_tenants():
        total = int(db.session.scalar(count, params))
        found = db.session.execute(rows, params).all()
    return Page([_card(row) for row in found], total, page, per_page)


def producer_newest(vendor: tuple[int, int], limit: int) -> list[ProductCard]:
    """The ``limit`` newest published products of a producer (tenant id, vendor id): the cards of
    ``public_search(vendor=vendor, sort="newest", per_page=limit)`` without its count, which the product page's "more
    from this producer" does not show (one statement, the prebuilt one of that shape)."""
    _count, rows = _prebuilt(("search", 0, False, False, True, "newest"),
                             lambda: _search_statements(0, False, False, True, "newest"))
    with all_tenants():
        found = db.session.execute(rows, {"vendor_tenant": vendor[0], "vendor": vendor[1], "limit": limit,
                                          "offset": 0}).all()
    return [_card(row) for row in found]


_PREBUILT: dict[tuple, object] = {}
PREBUILT_MAX = 512  # shapes: words (1-100) x filters x orders; emptied when full


def _prebuilt(shape: tuple, build):
    """The statement(s) built for this ``shape``, built by ``build()`` the first time. A statement object that is
    reused also keeps its SQLAlchemy cache key (computed once per object), so only the execution is paid per call."""
    found = _PREBUILT.get(shape)
    if found is None:
        if len(_PREBUILT) >= PREBUILT_MAX:
            _PREBUILT.clear()
        found = _PREBUILT[shape] = build()
    return found


def _search_statements(words: int, commune: bool, category: bool, vendor: bool, sort: str):
    """(count, rows) of ``public_search`` for one shape, every value a bind parameter (the names ``search_values``
    gives, and commune, category, vendor_tenant, vendor, limit, offset)."""
    query = _published()
    rank = None
    if words:
        where, rank = match_and_rank_bound(words, Product.name_folded, Product.name_lower)
        query = query.where(where)
    if commune:
        query = query.where(Tenant.slug == bindparam("commune", type_=String))
    if category:
        query = query.where(Product.category == bindparam("category", type_=String))
    if vendor:
        query = query.where(Product.tenant_id == bindparam("vendor_tenant", type_=Integer),
                            Product.vendor_id == bindparam("vendor", type_=Integer))
    if not words and not vendor:  # the kept counts, as public_search_built
        count = _kept_total_bound(commune, category)
    else:
        count = select(func.count()).select_from(query.subquery())
    rows = (_order_by(query, sort, rank).limit(bindparam("limit", type_=Integer))
            .offset(bindparam("offset", type_=Integer)))
    return count, rows


def public_search_built(*, q: str = "", commune: str | None = None, category: str | None = None,
                        vendor: tuple[int, int] | None = None, sort: str = "newest", page: int = 1,
                        per_page: int = 24) -> Page:
    """``public_search`` with its statements built per call, values inline: the straightforward definition, kept
    so that tests compare the prebuilt statements' answers with it (tests/marketplace/test_prebuilt.py)."""
    q = (q or "").replace("\x00", "")
    if (commune and "\x00" in commune) or (category and "\x00" in category):
        return Page([], 0, page, per_page)
    query = _published()
    rank = None
    found = match_and_rank(q, Product.name_folded, Product.name_lower) if q else None
    if q and found is None:
        return Page([], 0, page, per_page)
    if sort == "relevance" and found is None:
        sort = "newest"
    if found is not None and db.session.get_bind().dialect.name == "postgresql":
        return _search_matches(q, commune, category, vendor, sort, page, per_page)
    if found is not None:
        where, rank = found
        query = query.where(where)
    if commune:
        query = query.where(Tenant.slug == commune)
    if category:
        query = query.where(Product.category == category)
    if vendor:
        query = query.where(Product.tenant_id == vendor[0], Product.vendor_id == vendor[1])
    # Without a text query or a producer, the total is a sum of the kept counts, not a count of the catalogue.
    count = _kept_total(commune, category) if not q and not vendor else select(func.count()).select_from(query.subquery())
    with all_tenants():
        total = int(db.session.scalar(count))
        rows = db.session.execute(
            _order_by(query, sort, rank).limit(per_page).offset((page - 1) * per_page)).all()
    return Page([_card(row) for row in rows], total, page, per_page)


def _search_matches(q: str, commune, category, vendor, sort: str, page: int, per_page: int) -> Page:
    """PostgreSQL, a text query: the total and the page's ids in one query over the trigram matches
    (``published_matches``: public fields, read once, no row-level condition per match), then the page's cards
    read by id. The same conditions and the same order as the LIKE query of SQLite (two queries, as there)."""
    matches = published_matches(q)
    where, rank = match_and_rank(q, matches.c.name_folded, matches.c.name_lower)
    chosen = select(matches.c.id, matches.c.created_at, matches.c.price, matches.c.name_folded,
                    rank.label("rank")).select_from(matches).where(where)
    if commune:
        chosen = chosen.where(matches.c.tenant_id == select(Tenant.id).where(Tenant.slug == commune).scalar_subquery())
    if category:
        chosen = chosen.where(matches.c.category == category)
    if vendor:
        chosen = chosen.where(matches.c.tenant_id == vendor[0], matches.c.vendor_id == vendor[1])
    found = chosen.cte("found")  # referenced twice: PostgreSQL computes it once
    counted = select(func.count().label("total")).select_from(found).subquery("counted")
    shown = (_order_by(select(found.c.id), sort, found.c.rank, found.c)
             .limit(per_page).offset((page - 1) * per_page).lateral("shown"))
    with all_tenants():
        ids = db.session.execute(select(counted.c.total, shown.c.id)
                                 .select_from(counted.outerjoin(shown, literal(True)))).all()
    return _cards_page(q, sort, [row[1] for row in ids if row[1] is not None], ids[0][0], page, per_page)


def _cards_page(q: str, sort: str, page_ids: list[int], total: int, page: int, per_page: int) -> Page:
    """The cards of a text search's page, read by id under row-level security, in the search's order."""
    _, card_rank = match_and_rank(q, Product.name_folded, Product.name_lower)
    with all_tenants():
        rows = db.session.execute(_order_by(_published().where(Product.id.in_(page_ids)), sort, card_rank)).all()
    return Page([_card(row) for row in rows], total, page, per_page)


def search_page(q: str, category: str | None, commune: str | None, *, sort: str, page: int, per_page: int,
                communes: int) -> tuple[list[tuple[str, str, str, int]], Page]:
    """The search page's two readings at once: ``search_communes(q, category, limit=communes)`` (the filter) and
    ``public_search`` of the same query in ``commune`` (the page). On PostgreSQL with a text query, ONE call of
    ``catalogue_search`` serves both (the matches read once, in a CTE, then counted per commune, counted in the
    commune and paged): visiting every matching product is most of a text search's time at national scale, and
    the page paid it twice. Elsewhere, the two functions."""
    q = (q or "").replace("\x00", "")
    pg = db.session.get_bind().dialect.name == "postgresql"
    if (not pg or match_and_rank(q, Product.name_folded, Product.name_lower) is None
            or (commune and "\x00" in commune) or (category and "\x00" in category)):
        return (search_communes(q, category, limit=communes),
                public_search(q=q, commune=commune, category=category, sort=sort, page=page, per_page=per_page))
    matches = published_matches(q)
    where, rank = match_and_rank(q, matches.c.name_folded, matches.c.name_lower)
    chosen = select(matches.c.id, matches.c.tenant_id, matches.c.created_at, matches.c.price, matches.c.name_folded,
                    rank.label("rank")).select_from(matches).where(where)
    if category:
        chosen = chosen.where(matches.c.category == category)
    found = chosen.cte("found")  # referenced three times: PostgreSQL computes it once
    in_commune = (found.c.tenant_id == select(Tenant.id).where(Tenant.slug == commune).scalar_subquery()
                  if commune else literal(True))
    total = select(func.count()).select_from(found).where(in_commune).scalar_subquery()
    shown = func.array(_order_by(select(found.c.id).where(in_commune), sort, found.c.rank, found.c)
                       .limit(per_page).offset((page - 1) * per_page).scalar_subquery())
    per_commune = (select(Tenant.slug, Tenant.name, Tenant.kind, func.count().label("results"))
                   .join(found, found.c.tenant_id == Tenant.id)
                   .group_by(Tenant.id, Tenant.slug, Tenant.name, Tenant.kind).order_by(Tenant.name, Tenant.slug)
                   .limit(communes).subquery("per_commune"))
    one_row = select(literal(1).label("one")).subquery("one_row")  # the total and the ids even with no commune
    with all_tenants():
        rows = db.session.execute(
            select(per_commune.c.slug, per_commune.c.name, per_commune.c.kind, per_commune.c.results, total, shown)
            .select_from(one_row.outerjoin(per_commune, literal(True)))
            .order_by(per_commune.c.name, per_commune.c.slug)).all()
    filter_ = [(slug, name, kind, int(n)) for slug, name, kind, n, _t, _i in rows if slug is not None]
    return filter_, _cards_page(q, sort, list(rows[0][5] or []), int(rows[0][4]), page, per_page)


def public_home(limit: int = 8, communes: int = 24) -> dict:
    """Featured and new products, the ``communes`` communes with the most products (in name order) and how many
    communes sell (three queries; never the list of every commune, 3,321 at national scale)."""
    with all_tenants():
        featured = db.session.execute(
            _published().where(Product.featured.is_(True)).order_by(Product.created_at.desc(), Product.id.desc())
            .limit(limit)).all()
        newest = db.session.execute(
            _published().order_by(Product.created_at.desc(), Product.id.desc()).limit(limit)).all()
    top, total = top_communes(communes)
    return {"featured": [_card(r) for r in featured], "newest": [_card(r) for r in newest],
            "communes": top, "communes_total": total}


def top_communes(n: int) -> tuple[list[tuple[str, str, str, int]], int]:
    """(the ``n`` communes of ``public_communes`` with the most products, ties by name and slug, listed in name
    order; how many communes ``public_communes`` has): one query, the total counted by a window over the groups."""
    products = func.sum(CatalogueCount.products)
    with all_tenants():
        rows = db.session.execute(
            select(Tenant.slug, Tenant.name, Tenant.kind, products, func.count().over())
            .join(CatalogueCount, CatalogueCount.tenant_id == Tenant.id).where(Tenant.status == "active")
            .group_by(Tenant.id, Tenant.slug, Tenant.name, Tenant.kind).having(products > 0)
            .order_by(products.desc(), Tenant.name, Tenant.slug).limit(n)
        ).all()
    total = int(rows[0][4]) if rows else 0
    return sorted(((slug, name, kind, int(k)) for slug, name, kind, k, _total in rows), key=lambda c: (c[1], c[0])), total


def public_communes(limit: int | None = None) -> list[tuple[str, str, str, int]]:
    """(slug, name, kind, products) of the active communes with published products of active vendors, for the
    filter and the home page: a sum of the counts the database keeps (``CatalogueCount``), not a count of every
    product."""
    products = func.sum(CatalogueCount.products)
    with all_tenants():
        rows = db.session.execute(
            select(Tenant.slug, Tenant.name, Tenant.kind, products)
            .join(CatalogueCount, CatalogueCount.tenant_id == Tenant.id).where(Tenant.status == "active")
            .group_by(Tenant.id, Tenant.slug, Tenant.name, Tenant.kind).having(products > 0)
            .order_by(Tenant.name, Tenant.slug).limit(limit)
        ).all()
    return [(slug, name, kind, int(n)) for slug, name, kind, n in rows]


def search_communes(q: str = "", category: str | None = None,
                    limit: int | None = None) -> list[tuple[str, str, str, int]]:
    """(slug, name, kind, results) of the communes where the current search (text and group, any commune) finds
    products, for the search page's commune filter (#19 item 11: the filter showed catalogue totals). Without a
    text query: the kept counts of the group; with one: the matches counted per commune (one query). ``limit``: the
    first that many (in name order) only. The statement is built once per shape (``_prebuilt``, #17); PostgreSQL's
    text search (the trigram function's matches) is built per call, as ``search_communes_built``."""
    q = (q or "").replace("\x00", "")
    values = search_values(q) if q else None
    if q and values is None:
        return []
    if values is not None and db.session.get_bind().dialect.name == "postgresql":
        return search_communes_built(q, category, limit)
    words = sum(1 for name in values if name.startswith("word")) if values else 0
    shape = ("communes", words, bool(category), limit is not None)
    statement = _prebuilt(shape, lambda: _communes_statement(words, bool(category), limit is not None))
    params = {**(values or {})}
    if category:
        params["category"] = category
    if limit is not None:
        params["limit"] = limit
    with all_tenants():
        rows = db.session.execute(statement, params).all()
    return [(slug, name, kind, int(n)) for slug, name, kind, n in rows]


def _communes_statement(words: int, category: bool, limited: bool):
    """``search_communes``' statement for one shape (SQLite, or no text query), its values bind parameters."""
    if not words:
        products = func.sum(CatalogueCount.products)
        query = (select(Tenant.slug, Tenant.name, Tenant.kind, products)
                 .join(CatalogueCount, CatalogueCount.tenant_id == Tenant.id).where(Tenant.status == "active"))
        if category:
            query = query.where(CatalogueCount.category == bindparam("category", type_=String))
        query = (query.group_by(Tenant.id, Tenant.slug, Tenant.name, Tenant.kind).having(products > 0)
                 .order_by(Tenant.name, Tenant.slug))
    else:
        where, _rank = match_and_rank_bound(words, Product.name_folded, Product.name_lower)
        hits = _published().with_only_columns(Product.tenant_id.label("tenant_id")).where(where)
        if category:
            hits = hits.where(Product.category == bindparam("category", type_=String))
        hits = hits.subquery("hits")
        query = (select(Tenant.slug, Tenant.name, Tenant.kind, func.count()).join(hits, hits.c.tenant_id == Tenant.id)
                 .group_by(Tenant.id, Tenant.slug, Tenant.name, Tenant.kind).order_by(Tenant.name, Tenant.slug))
    return query.limit(bindparam("limit", type_=Integer)) if limited else query


def search_communes_built(q: str = "", category: str | None = None,
                    limit: int | None = None) -> list[tuple[str, str, str, int]]:
    """(slug, name, kind, results) of the communes where the current search (text and group, any commune) finds
    products, for the search page's commune filter (#19 item 11: the filter showed catalogue totals). Without a
    text query: the kept counts of the group; with one: the matches counted per commune (one query). ``limit``: the
    first that many (in name order) only. Built per call, values inline: the definition ``search_communes`` (its
    statements prebuilt per shape) is tested against (tests/marketplace/test_prebuilt.py)."""
    q = (q or "").replace("\x00", "")
    if not q:
        if not category:
            return public_communes(limit)
        products = func.sum(CatalogueCount.products)
        with all_tenants():
            rows = db.session.execute(
                select(Tenant.slug, Tenant.name, Tenant.kind, products)
                .join(CatalogueCount, CatalogueCount.tenant_id == Tenant.id)
                .where(Tenant.status == "active", CatalogueCount.category == category)
                .group_by(Tenant.id, Tenant.slug, Tenant.name, Tenant.kind).having(products > 0)
                .order_by(Tenant.name, Tenant.slug).limit(limit)).all()
        return [(slug, name, kind, int(n)) for slug, name, kind, n in rows]
    found = match_and_rank(q, Product.name_folded, Product.name_lower)
    if found is None:
        return []
    if db.session.get_bind().dialect.name == "postgresql":
        matches = published_matches(q)
        where, _rank = match_and_rank(q, matches.c.name_folded, matches.c.name_lower)
        hits = select(matches.c.tenant_id.label("tenant_id")).select_from(matches).where(where)
        if category:
            hits = hits.where(matches.c.category == category)
    else:
        hits = _published().with_only_columns(Product.tenant_id.label("tenant_id")).where(found[0])
        if category:
            hits = hits.where(Product.category == category)
    hits = hits.subquery("hits")
    count = func.count()
    with all_tenants():
        rows = db.session.execute(
            select(Tenant.slug, Tenant.name, Tenant.kind, count).join(hits, hits.c.tenant_id == Tenant.id)
            .group_by(Tenant.id, Tenant.slug, Tenant.name, Tenant.kind).order_by(Tenant.name, Tenant.slug)
            .limit(limit)).all()
    return [(slug, name, kind, int(n)) for slug, name, kind, n in rows]


def _kept_total_bound(commune: bool, category: bool):
    """``_kept_total`` with its commune and group as bind parameters (``commune``, ``category``)."""
    query = _kept_total(None, None)
    if commune:
        query = query.where(Tenant.slug == bindparam("commune", type_=String))
    if category:
        query = query.where(CatalogueCount.category == bindparam("category", type_=String))
    return query


def _kept_total(commune: str | None, category: str | None):
    """The number of published products of active vendors in active communes, optionally of one commune and one
    group, from the kept counts (``CatalogueCount``): what the count of a page without a text query would find."""
    query = (select(func.coalesce(func.sum(CatalogueCount.products), 0))
             .join(Tenant, Tenant.id == CatalogueCount.tenant_id).where(Tenant.status == "active"))
    if commune:
        query = query.where(Tenant.slug == commune)
    if category:
        query = query.where(CatalogueCount.category == category)
    return query


@dataclass(frozen=True)
class ProductDetail:
    card: ProductCard
    description: str
    images: list[str]
    ocop_certificate: str | None
    ocop_expires_on: object
    vendor_description: str
    vendor_phone: str


def public_product(commune_slug: str, slug: str) -> ProductDetail | None:
    """A published product by its readable address (one query)."""
    if "\x00" in commune_slug + slug:
        return None
    statement = _prebuilt(("product",), lambda: _published().add_columns(
        Product.description, Product.ocop_certificate, Product.ocop_expires_on, Vendor.description, Vendor.phone)
        .where(Tenant.slug == bindparam("commune", type_=String), Product.slug == bindparam("slug", type_=String)))
    with all_tenants():
        row = db.session.execute(statement, {"commune": commune_slug, "slug": slug}).first()
    if row is None:
        return None
    return ProductDetail(_card(row), row[16], list(row[10] or []), row[17], row[18], row[19], row[20])


@dataclass(frozen=True)
class Storefront:
    tenant_id: int
    vendor_id: int
    name: str
    slug: str
    description: str
    owner_name: str
    kind: str
    commune_slug: str
    commune_name: str


def public_vendor(commune_slug: str, vendor_slug: str) -> Storefront | None:
    """An active producer of an active commune (one query)."""
    if "\x00" in commune_slug + vendor_slug:
        return None
    with all_tenants():
        row = db.session.execute(
            select(Vendor.tenant_id, Vendor.id, Vendor.business_name, Vendor.slug, Vendor.description,
                   Vendor.owner_name, Vendor.kind, Tenant.slug, Tenant.name)
            .join(Tenant, Tenant.id == Vendor.tenant_id)
            .where(Tenant.slug == commune_slug, Vendor.slug == vendor_slug, Vendor.active.is_(True),
                   Tenant.status == "active")
        ).first()
    return Storefront(*row) if row else None


def public_cards(product_ids: list[int]) -> dict[int, ProductCard]:
    """Published products by id (the cart): one query."""
    product_ids = [i for i in product_ids if 0 < i <= MAX_ID]
    if not product_ids:
        return {}
    with all_tenants():
        rows = db.session.execute(_published().where(Product.id.in_(product_ids))).all()
    return {row[0]: _card(row) for row in rows}


@dataclass(frozen=True)
class ShopOptions:
    """What a producer offers its shoppers (#19): delivery at a flat fee with an estimate, pick-up at a place, or
    both. ``choices`` lists the offered ways in the order the cart shows them; the first is the default."""

    tenant_id: int
    vendor_id: int
    offers_delivery: bool
    delivery_fee: int
    delivery_estimate: str
    offers_pickup: bool
    pickup_place: str
    pickup_estimate: str

    @property
    def choices(self) -> tuple[str, ...]:
        return tuple(c for c, offered in ((DELIVERY, self.offers_delivery), (PICKUP, self.offers_pickup)) if offered)

    def fee(self, choice: str) -> int:
        return self.delivery_fee if choice == DELIVERY else 0

    def estimate(self, choice: str) -> str:
        return self.delivery_estimate if choice == DELIVERY else self.pickup_estimate


_SHOP_COLUMNS = (Vendor.tenant_id, Vendor.id, Vendor.offers_delivery, Vendor.delivery_fee, Vendor.delivery_estimate,
                 Vendor.offers_pickup, Vendor.pickup_place, Vendor.pickup_estimate)


def public_shop_options(producers: list[tuple[int, int]]) -> dict[tuple[int, int], ShopOptions]:
    """Delivery and pick-up of these (tenant id, vendor id) producers, across communes (one query): the cart and the
    checkout read them, the checkout in its own transaction (the fee the payment asks for)."""
    wanted = {(int(t), int(v)) for t, v in producers if 0 < int(t) <= MAX_ID and 0 < int(v) <= MAX_ID}
    if not wanted:
        return {}
    with all_tenants():
        rows = db.session.execute(select(*_SHOP_COLUMNS).where(
            Vendor.id.in_(sorted({v for _t, v in wanted})))).all()
    return {(row[0], row[1]): ShopOptions(*row) for row in rows if (row[0], row[1]) in wanted}


def public_image(product_id: int, name: str) -> tuple[int, int, bool] | None:
    """(tenant_id, vendor_id, published) of the product that has the image ``name``; None if it has none."""
    if not 0 < product_id <= MAX_ID:
        return None
    with all_tenants():
        row = db.session.execute(
            select(Product.tenant_id, Product.vendor_id, Product.status, Product.images)
            .where(Product.id == product_id)).first()
    if row is None or name not in (row[3] or []):
        return None
    return row[0], row[1], row[2] == "published"


# ------------------------------------------------------------------------------------------------ orders


@dataclass
class SubOrderView:
    id: int
    tenant_id: int
    vendor_name: str
    commune_name: str
    status: str
    subtotal: int
    intent_id: str | None
    hold_expires_at: datetime
    refund_due: bool
    late_payment: bool
    cancel_reason: str | None
    received_by_shopper: bool
    fulfilment: str
    shipping_fee: int
    fulfilment_estimate: str
    pickup_place: str
    paid_at: datetime | None
    lines: list

    @property
    def goods(self) -> int:
        return self.subtotal - self.shipping_fee


def public_order(code: str) -> tuple[Order, list[SubOrderView]] | None:
    """An order by its code with its sub-orders and lines (three queries). Whoever calls this has checked that
    the visitor may see it (the code and the phone, or the session that placed it)."""
    if "\x00" in code or len(code) > 12:
        return None
    order = db.session.scalar(select(Order).where(Order.code == code))
    if order is None:
        return None
    with all_tenants():
        subs = db.session.execute(
            select(SubOrder.id, SubOrder.tenant_id, Vendor.business_name, Tenant.name, SubOrder.status,
                   SubOrder.subtotal, SubOrder.intent_id, SubOrder.hold_expires_at, SubOrder.refund_due,
                   SubOrder.late_payment, SubOrder.cancel_reason, SubOrder.received_by_shopper,
                   SubOrder.fulfilment, SubOrder.shipping_fee, SubOrder.fulfilment_estimate, SubOrder.pickup_place,
                   SubOrder.paid_at)
            .join(Vendor, and_(Vendor.tenant_id == SubOrder.tenant_id, Vendor.id == SubOrder.vendor_id))
            .join(Tenant, Tenant.id == SubOrder.tenant_id)
            .where(SubOrder.order_id == order.id).order_by(SubOrder.id)
        ).all()
        lines = db.session.execute(
            select(OrderLine.sub_order_id, OrderLine.name, OrderLine.unit, OrderLine.unit_price, OrderLine.quantity)
            .join(SubOrder, and_(SubOrder.tenant_id == OrderLine.tenant_id, SubOrder.id == OrderLine.sub_order_id))
            .where(SubOrder.order_id == order.id).order_by(OrderLine.id)
        ).all()
    views = [SubOrderView(*row, lines=[]) for row in subs]
    by_id = {view.id: view for view in views}
    for line in lines:
        by_id[line[0]].lines.append(line[1:])
    return order, views


# ------------------------------------------------------------------------------------------------ vendor pages
# These run inside the vendor's commune (request resolution): scoping filters them, the vendor filter is ours.


def vendor_products(vendor_id: int) -> list[Product]:
    return list(db.session.scalars(
        select(Product).where(Product.vendor_id == vendor_id).order_by(Product.created_at.desc(), Product.id.desc())))


def vendor_sub_orders(vendor_id: int, status: str | None = None, limit: int = 200) -> list[tuple[SubOrder, Order]]:
    query = (select(SubOrder, Order).join(Order, Order.id == SubOrder.order_id)
             .where(SubOrder.vendor_id == vendor_id).order_by(SubOrder.id.desc()))
    if status:
        query = query.where(SubOrder.status == status)
    return [tuple(row) for row in db.session.execute(query.limit(limit)).all()]


def vendor_desk(vendor_id: int) -> dict:
    """What waits for the vendor: paid orders to confirm, refunds due, listings (one query)."""
    row = db.session.execute(select(
        select(func.count()).select_from(SubOrder)
        .where(SubOrder.vendor_id == vendor_id, SubOrder.status == PAID).scalar_subquery(),
        select(func.count()).select_from(SubOrder)
        .where(SubOrder.vendor_id == vendor_id, SubOrder.refund_due.is_(True)).scalar_subquery(),
        select(func.count()).select_from(Product)
        .where(Product.vendor_id == vendor_id, Product.status == "published").scalar_subquery(),
        select(func.count()).select_from(Product)
        .where(Product.vendor_id == vendor_id, Product.status == "draft").scalar_subquery(),
    )).one()
    return {"to_confirm": row[0], "refunds": row[1], "published": row[2], "drafts": row[3]}


def vendor_daily_sales(vendor_id: int, days: int = 14, now: datetime | None = None) -> list[tuple]:
    """(dd/mm, paid value, shown value) of each of the last ``days`` local days, oldest first (one query; days are
    counted in Asia/Ho_Chi_Minh in Python, the same on both databases)."""
    from datetime import timedelta, timezone

    from app.formatting import format_vnd, to_local

    now = now or datetime.now(timezone.utc)
    today = to_local(now).date()
    first = today - timedelta(days=days - 1)
    totals = {first + timedelta(days=n): 0 for n in range(days)}
    rows = db.session.execute(
        select(SubOrder.paid_at, SubOrder.subtotal).where(
            SubOrder.vendor_id == vendor_id, SubOrder.status.in_(PAID_STATUSES),
            SubOrder.paid_at >= now - timedelta(days=days + 1))).all()
    for paid_at, subtotal in rows:
        day = to_local(paid_at).date()
        if day in totals:
            totals[day] += subtotal
    return [(day.strftime("%d/%m"), value, format_vnd(value)) for day, value in totals.items()]


def order_of(sub: SubOrder) -> Order:
    return db.session.scalar(select(Order).where(Order.id == sub.order_id))


def sub_order_lines(sub_order_ids: list[int]) -> dict[int, list[OrderLine]]:
    lines: dict[int, list[OrderLine]] = {i: [] for i in sub_order_ids}
    if sub_order_ids:
        for line in db.session.scalars(select(OrderLine).where(OrderLine.sub_order_id.in_(sub_order_ids))
                                       .order_by(OrderLine.id)):
            lines[line.sub_order_id].append(line)
    return lines


# ------------------------------------------------------------------------------------------------ the district


def _district_rows(start: date, end: date, by_month: bool):
    """The rows of ``_district_statement`` for the period from ``start`` to ``end`` (Hà Nội days, both included).
    The statement is built once per process and the period bound at execution, as the market's (issue #17: building
    it was most of this provider's time on the demo)."""
    from app.district.figures import local_bounds, statement

    since, until = local_bounds(start, end)
    return db.session.execute(statement("marketplace", by_month, _district_statement),
                              {"since": since, "until": until})


def _district_statement(by_month: bool):
    """Published products counted per tenant_id (producers: distinct vendors) and the period's sub-orders counted
    per tenant_id (and, ``by_month``, per Hà Nội month of the order: product counts, of now, have no month), each
    aggregated on its own side, stacked (UNION ALL) and summed: at most two short rows per commune leave each side.
    The products side reads ix_products_published_tenant_vendor alone, already in (tenant, vendor) order. The period
    is bound at execution (``since``, ``until``: UTC instants)."""
    from app.district.figures import local_month, origin

    listed = select(origin(Product).label("origin"), Product.tenant_id.label("tenant_id"),
                    (null() if by_month else literal(0)).label("month"),
                    func.count(distinct(Product.vendor_id)).label("producers"), func.count().label("products"),
                    literal(0).label("orders"), literal(0).label("paid_value")
                    ).where(Product.status == "published").group_by(origin(Product), Product.tenant_id)
    month = local_month(SubOrder.created_at)
    ordered = select(origin(SubOrder), SubOrder.tenant_id, month if by_month else literal(0), literal(0), literal(0), func.count(),
                     func.sum(case((SubOrder.status.in_(PAID_STATUSES), SubOrder.subtotal), else_=0))
                     ).where(SubOrder.created_at >= bindparam("since"), SubOrder.created_at < bindparam("until")
                             ).group_by(origin(SubOrder), SubOrder.tenant_id, *([month] if by_month else []))
    rows_ = union_all(listed, ordered).subquery()
    return select(
        rows_.c.origin, rows_.c.tenant_id, rows_.c.month,
        func.coalesce(func.sum(rows_.c.producers), 0),
        func.coalesce(func.sum(rows_.c.products), 0),
        func.coalesce(func.sum(rows_.c.orders), 0),
        func.coalesce(func.sum(rows_.c.paid_value), 0),
    ).group_by(rows_.c.origin, rows_.c.tenant_id, rows_.c.month)


def district_figures(start: date, end: date, by_origin: bool = False) -> dict[int, dict]:
    """Per commune (tenant id): producers (vendors with a published product), published products, sub-orders
    placed from ``start`` to ``end`` (Hà Nội calendar days, both included), and the value of those paid (integers).
    One aggregate query, across communes."""
    from app.district.figures import per_holder

    with all_tenants():
        rows = _district_rows(start, end, by_month=False).all()
    return per_holder({(row[0], row[1]): {"producers": int(row[3]), "products": int(row[4]), "orders": int(row[5]),
                                          "paid_value": int(row[6])} for row in rows}, by_origin)


def district_monthly(start: date, end: date, by_origin: bool = False) -> dict[date, dict[int, dict[str, int]]]:
    """The same per Hà Nội month of the order, {first day of the month: {tenant_id: {...}}}, in ONE query: every
    month from ``start``'s to ``end``'s counts the producers and products of now (as ``district_figures`` does)."""
    from datetime import timedelta

    from app.district.figures import as_month, per_holder

    months = []
    month = start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    listed: dict[int, tuple[int, int]] = {}
    ordered: dict[date, dict[int, tuple[int, int]]] = {}
    with all_tenants():
        for came_from, holder, month, producers, products, orders, paid in _district_rows(start, end,
                                                                                            by_month=True):
            tenant_id = (came_from, holder)  # the commune before a reorganisation, the one now
            if month is None:
                listed[tenant_id] = (int(producers), int(products))
            else:
                ordered.setdefault(as_month(month), {})[tenant_id] = (int(orders), int(paid))
    out: dict[date, dict[int, dict[str, int]]] = {}
    for month in months:
        in_month = ordered.get(month, {})
        out[month] = {tenant_id: dict(zip(("producers", "products", "orders", "paid_value"),
                                          (*listed.get(tenant_id, (0, 0)), *in_month.get(tenant_id, (0, 0))),
                                          strict=True))
                      for tenant_id in set(listed) | set(in_month)}
    return {month: per_holder(rows, by_origin) for month, rows in out.items()}
