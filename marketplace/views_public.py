"""Public marketplace pages: catalogue, search, product, producer storefront, cart, guest checkout, order page.

Catalogue pages are cacheable for visitors without a session (no cookie: ``public, max-age=60`` and an ETag, a
304 when unchanged) and served to them from the response cache (``@cached_for_visitors``, fresh after every commit
that writes a product, a vendor or a commune); anyone with a session (a cart, signed in) gets ``private, no-cache``. The cart's forms carry
no CSRF token so that catalogue pages stay the same for every visitor; checkout keeps its token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import (
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user
from markupsafe import Markup, escape

from app import storage, transactions
from app.cache import cached_for_visitors
from app.errors import DomainError, back_to
from app.same_site import same_site_only
from app.extensions import csrf, limiter
from app.clock import as_utc, utcnow
from marketplace import bp, cart, images, payments, queries, services
from marketplace.forms import CheckoutForm, FindOrderForm
from marketplace.models import Product
from marketplace.statuses import (
    AWAITING_PAYMENT,
    CATEGORIES,
    DELIVERY,
    FULFILMENT_LABELS,
    FULFILMENTS,
    category,
    status_label,
)
from tenants import queries as tenant_queries
from tenants.lineage import moved_holder
from tenants.resolution import moved_commune_filter
from tenants.vendors.access import vendor_of
from tenants.vendors.models import Vendor

PER_PAGE = 24
# The catalogue pages below are stored whole for visitors without a session (app/cache.py) until a commit writes what
# they show: a product (a new one, a price, a stock reserved by a checkout or sold), a vendor, a commune.
SHOWN = (Product, Vendor)  # the catalogue pages (and their communes)
CACHE_SECONDS = 60


def _cacheable(body: str) -> Response:
    response = make_response(body)
    session_cookie = current_app.config.get("SESSION_COOKIE_NAME", "session")
    if request.cookies.get(session_cookie) is None and not current_user.is_authenticated:
        response.cache_control.public = True
        response.cache_control.max_age = CACHE_SECONDS
        response.add_etag()
        response.make_conditional(request)
    else:
        response.cache_control.private = True
        response.cache_control.no_cache = True
    return response


def _page_number() -> int:
    value = request.args.get("page", "1")
    return int(value) if value.isdecimal() and 0 < int(value) <= 10_000 else 1


def _sort(default: str = "newest") -> str:
    sort = request.args.get("sort", default)
    return sort if sort in queries.SORTS else default


def _card_links() -> dict:
    """Address patterns of a card, built once per page instead of two url_for calls per card (slugs and image
    names are plain ASCII by construction: slugify, hex hashes)."""
    return {
        "product_url": url_for("marketplace.product", commune_slug="{c}", slug="{s}").replace(
            "%7Bc%7D", "{c}").replace("%7Bs%7D", "{s}"),
        "thumb_url": url_for("marketplace.image", product_id=0, name="{n}", size="thumb").replace(
            "/0/", "/{p}/").replace("%7Bn%7D", "{n}"),
        "ocop_labels": {n: _("OCOP %(n)s stars", n=n) for n in (3, 4, 5)},
    }


def commune_options(communes, selected: str | None) -> Markup:
    """The commune filter's <option>s, built in one piece: at national scale there are 3,321, and a Jinja loop
    yields each through every level of the template inheritance (about 100 µs an option, most of a page)."""
    html = "".join(f'<option value="{escape(slug)}">{escape(name)} ({n})</option>' for slug, name, _kind, n in communes)
    if selected:
        mark = f'<option value="{escape(selected)}">'
        html = html.replace(mark, mark[:-1] + " selected>", 1)
    return Markup(html)


HOME_COMMUNES = 24  # the home page lists the communes with the most products; the search page's filter has them all


def _render(template: str, **context) -> Response:
    return _cacheable(render_template(template, cart_count=cart.count(), categories=CATEGORIES,
                                      category_of=category, links=_card_links(), commune_options=commune_options,
                                      **context))


@bp.route("/")
@cached_for_visitors(*SHOWN)
def index():
    home = queries.public_home(communes=HOME_COMMUNES)
    return _render("marketplace/index.html", home=home, shown_communes=home["communes"])


@bp.route("/search")
@cached_for_visitors(*SHOWN)
def search():
    if (moved := moved_commune_filter()) is not None:
        return moved
    q = (request.args.get("q") or "")[:100]
    cat = request.args.get("category") or None
    if cat and category(cat) is None:
        cat = None
    sort = _sort("relevance" if q else "newest")
    asked = request.args.get("commune") or None
    # The filter's communes and the page for the commune asked for, in one reading of the matches (#17)
    found, page = queries.search_page(q, cat, asked, sort=sort, page=_page_number(), per_page=PER_PAGE,
                                      communes=COMMUNE_OPTIONS_MAX + 1)
    commune, communes = _commune_filter(found, asked)
    if commune != asked:  # a name or code typed in the filter's text field, resolved to a commune (or to none)
        page = queries.public_search(q=q, commune=commune, category=cat, sort=sort, page=_page_number(),
                                     per_page=PER_PAGE)
    return _render("marketplace/search.html", page=page, q=q, commune=commune, category_slug=cat, sort=sort,
                   communes=communes)


def _with_chosen(communes: list[tuple], chosen: str | None) -> list[tuple]:
    """The filter's communes with their result counts; the chosen one stays in the list even with no result (0)."""
    if not chosen or any(slug == chosen for slug, *_rest in communes):
        return communes
    known = {slug: (slug, name, kind, 0) for slug, name, kind, _n in queries.public_communes()}
    return sorted([*communes, known[chosen]], key=lambda c: (c[1], c[0])) if chosen in known else communes


COMMUNE_OPTIONS_MAX = 60  # up to this many communes with results, the filter is a list of them; beyond, a text field
COMMUNE_SUGGESTIONS = 12


@dataclass
class CommuneFilter:
    """What the search page's commune filter shows: ``options`` (slug, name, kind, results) for a list, or, when more
    communes than COMMUNE_OPTIONS_MAX have results (3,321 at national scale: a 190 KB list on every page), a text
    field with the ``chosen`` commune (a Tenant), or the ``suggestions`` a typed name matched, or ``unknown`` when
    it matched none."""

    options: list[tuple] | None = None
    chosen: object | None = None
    suggestions: list | None = None
    unknown: str | None = None


def _commune_filter(communes: list[tuple], asked: str | None) -> tuple[str | None, CommuneFilter]:
    """(the commune slug to search in, the filter to show) for ``?commune=``, given the first COMMUNE_OPTIONS_MAX + 1
    communes with results: a slug, or in the text field a name (with or without accents) or a code, resolved to the
    one active commune it names."""
    if len(communes) <= COMMUNE_OPTIONS_MAX:
        return asked, CommuneFilter(options=_with_chosen(communes, asked))
    shown = CommuneFilter()
    if not asked:
        return None, shown
    found, candidates = tenant_queries.find_active(asked, limit=COMMUNE_SUGGESTIONS)
    exact = next((t for t in candidates if t.slug == asked), None)
    if exact is None and found == 1:
        exact = candidates[0]
    if exact is not None:
        shown.chosen = exact
        return exact.slug, shown
    if candidates:
        shown.suggestions = candidates
    else:
        shown.unknown = asked[:100]
    return None, shown


@bp.route("/category/<slug>")
@cached_for_visitors(*SHOWN)
def category_page(slug: str):
    cat = category(slug)
    if cat is None:
        abort(404)
    if (moved := moved_commune_filter()) is not None:
        return moved
    sort = _sort()
    commune, communes = _commune_filter(queries.search_communes("", slug, limit=COMMUNE_OPTIONS_MAX + 1),
                                        request.args.get("commune") or None)
    page = queries.public_search(category=slug, commune=commune, sort=sort, page=_page_number(), per_page=PER_PAGE)
    return _render("marketplace/search.html", page=page, q="", commune=commune, category_slug=slug, sort=sort,
                   communes=communes, heading=cat.label)


def _moved(endpoint: str, **values) -> Response:
    """A printed QR code or link of a commune a reorganisation merged or split: a permanent redirect to the page of
    the record's successor (tenants.lineage.moved_holder), query string kept."""
    target = url_for(endpoint, **values)
    if request.query_string:
        target += "?" + request.query_string.decode("latin-1")
    return redirect(target, 301)


@bp.route("/p/<commune_slug>/<slug>")
@cached_for_visitors(*SHOWN)
def product(commune_slug: str, slug: str):
    detail = queries.public_product(commune_slug, slug)
    if detail is None:
        holder = moved_holder(commune_slug, "products", slug=slug)
        if holder is None:
            abort(404)
        return _moved("marketplace.product", commune_slug=holder.slug, slug=slug)
    card = detail.card
    more = queries.producer_newest((card.tenant_id, card.vendor_id), 5)
    return _render("marketplace/product.html", detail=detail, p=card,
                   more=[m for m in more if m.id != card.id][:4])


@bp.route("/shop/<commune_slug>/<vendor_slug>")
@cached_for_visitors(*SHOWN)
def storefront(commune_slug: str, vendor_slug: str):
    shop = queries.public_vendor(commune_slug, vendor_slug)
    if shop is None:
        holder = moved_holder(commune_slug, "vendors", slug=vendor_slug)
        if holder is None:
            abort(404)
        return _moved("marketplace.storefront", commune_slug=holder.slug, vendor_slug=vendor_slug)
    sort = _sort()
    page = queries.public_search(vendor=(shop.tenant_id, shop.vendor_id), sort=sort, page=_page_number(),
                                 per_page=PER_PAGE)
    return _render("marketplace/storefront.html", shop=shop, page=page, sort=sort)


@bp.route("/images/<int:product_id>/<name>-<size>.jpg")
def image(product_id: int, name: str, size: str):
    """A product's picture. Names are content hashes, so a found image never changes: cached for a year."""
    if size not in images.SIZES or not name.isalnum() or len(name) > 64:
        abort(404)
    found = queries.public_image(product_id, name)
    if found is None:
        abort(404)
    tenant_id, vendor_id, published = found
    if not published and not _is_vendor_of(tenant_id, vendor_id):
        abort(404)
    try:
        data = storage.load(images.key(tenant_id, product_id, name, size))
    except FileNotFoundError:
        abort(404)
    response = Response(data, mimetype="image/jpeg")
    response.cache_control.max_age = 31536000
    if published:
        response.cache_control.public = True
        response.cache_control.immutable = True
    else:
        response.cache_control.private = True
    return response


def _is_vendor_of(tenant_id: int, vendor_id: int) -> bool:
    return vendor_of(current_user, tenant_id) == vendor_id


# ------------------------------------------------------------------------------------------------ cart


def _quantity(value, default: int = 1) -> int | None:
    value = (value or "").strip() if isinstance(value, str) else ""
    if not value:
        return default
    return int(value) if value.isdecimal() and len(value) <= 3 else None


def _cart_groups(lines):
    """The cart's products per producer, each with its delivery or pick-up (the shopper's choice if still offered,
    else the first offered), its fee and its amount (goods + fee): two queries whatever the cart holds."""
    cards = queries.public_cards([pid for pid, _ in lines])
    items = [(cards[pid], min(q, max(cards[pid].available, 0))) for pid, q in lines if pid in cards]
    by_producer: dict = {}
    for card, quantity in items:
        by_producer.setdefault((card.tenant_id, card.vendor_id), []).append((card, quantity))
    shops = queries.public_shop_options(list(by_producer))
    chosen = cart.choices()
    groups = []
    for key, group in by_producer.items():
        shop = shops.get(key)
        way = chosen.get(key) if shop is not None and chosen.get(key) in shop.choices else (
            shop.choices[0] if shop is not None and shop.choices else DELIVERY)
        fee = shop.fee(way) if shop is not None else 0
        goods = sum(card.price * q for card, q in group)
        groups.append(CartGroup(key, group, shop, way, fee, goods))
    return groups, len(lines) - len(items)


@dataclass(frozen=True)
class CartGroup:
    key: tuple[int, int]
    lines: list
    shop: object  # queries.ShopOptions, or None
    way: str
    fee: int
    goods: int

    @property
    def amount(self) -> int:
        return self.goods + self.fee


@bp.route("/cart")
def cart_page():
    groups, gone = _cart_groups(cart.lines())
    response = make_response(render_template("marketplace/cart.html", groups=groups,
                                              total=sum(g.amount for g in groups), ways=FULFILMENT_LABELS,
                                              cart_count=cart.count(), gone=gone))
    response.cache_control.private = True
    response.cache_control.no_store = True
    return response


@bp.route("/cart/delivery", methods=["POST"])
@csrf.exempt
@same_site_only
def cart_delivery():
    """The shopper's delivery or pick-up for one producer of the cart. Only a way the producer offers is kept; a
    fee in the form is ignored (the checkout reads the producer's)."""
    producer, way = request.form.get("producer", ""), request.form.get("fulfilment", "")
    tenant, _sep, vendor = producer.partition("-")
    ok = (tenant.isdecimal() and vendor.isdecimal() and len(tenant) <= 10 and len(vendor) <= 10
          and way in FULFILMENTS)
    key = (int(tenant), int(vendor)) if ok else None
    in_cart = ok and key in {(c.tenant_id, c.vendor_id)
                             for c in queries.public_cards([pid for pid, _ in cart.lines()]).values()}
    shop = queries.public_shop_options([key]).get(key) if in_cart else None
    if shop is None or way not in shop.choices:
        flash(_("This producer does not offer that: choose one of the ways shown."), "error")
        return redirect(url_for("marketplace.cart_page")), 400
    cart.choose(key[0], key[1], way)
    flash(_("Saved: %(way)s.", way=FULFILMENT_LABELS[way]), "success")
    return redirect(url_for("marketplace.cart_page"))


@bp.route("/cart/add", methods=["POST"])
@csrf.exempt
@same_site_only
def cart_add():
    product_id = request.form.get("product_id", "")
    quantity = _quantity(request.form.get("quantity"))
    if not product_id.isdecimal() or len(product_id) > 12 or quantity is None or quantity <= 0:
        flash(_("Choose a quantity of at least 1."), "error")
        return redirect(url_for("marketplace.cart_page"))
    card = queries.public_cards([int(product_id)]).get(int(product_id))
    if card is None:
        abort(404)
    current = dict(cart.lines()).get(card.id, 0)
    if current + quantity > card.available:
        flash(_("Only %(n)s of “%(name)s” left.", n=max(card.available, 0), name=card.name), "error")
        return redirect(url_for("marketplace.product", commune_slug=card.commune_slug, slug=card.slug))
    cart.add(card.id, quantity)
    flash(_("“%(name)s” is in your cart.", name=card.name), "success")
    return redirect(request.form.get("next") if _safe_next(request.form.get("next"))
                    else url_for("marketplace.cart_page"))


def _safe_next(target: str | None) -> bool:
    return bool(target) and target.startswith("/marketplace/") and "//" not in target and "\\" not in target


@bp.route("/cart/update", methods=["POST"])
@csrf.exempt
@same_site_only
def cart_update():
    product_id = request.form.get("product_id", "")
    quantity = _quantity(request.form.get("quantity"), default=0)
    if not product_id.isdecimal() or len(product_id) > 12 or quantity is None:
        flash(_("Choose a quantity of at least 1."), "error")
    else:
        cart.set_quantity(int(product_id), quantity)
    return redirect(url_for("marketplace.cart_page"))


# ------------------------------------------------------------------------------------------------ checkout


@bp.route("/checkout", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["CHECKOUT_RATE_LIMIT"], methods=["POST"])
def checkout():
    lines = cart.lines()
    if not lines:
        flash(_("Your cart is empty."), "info")
        return redirect(url_for("marketplace.cart_page"))
    form = CheckoutForm()
    if form.validate_on_submit():
        # a short hold until the shopper opens the QR codes (the order page extends it): #16 item 1
        hold = timedelta(minutes=min(current_app.config["MARKETPLACE_FIRST_HOLD_MINUTES"],
                                     current_app.config["MARKETPLACE_HOLD_MINUTES"]))
        limits = services.HoldLimits(current_app.config["MARKETPLACE_HELD_UNITS_LIMIT"])
        try:
            buyer = services.clean_buyer(form.name.data, form.phone.data, form.address.data, form.note.data)
            order = services.checkout(lines, buyer, hold, client_address=get_remote_address(), limits=limits,
                                      choices=cart.choices())
        except DomainError as err:
            field = getattr(form, err.field, None) if err.field else None
            if field is not None and hasattr(field, "errors") and isinstance(field.errors, list):
                field.errors.append(str(err.message))
            else:
                flash(str(err.message), "error")
        else:
            code = order.code
            # The cart empties once the order is saved: a checkout run again after a deadlock finds it full.
            transactions.after_commit(lambda: (cart.clear(), cart.remember_order(code)))
            return redirect(url_for("marketplace.order", code=code))
    groups, _gone = _cart_groups(lines)
    response = make_response(render_template("marketplace/checkout.html", form=form, groups=groups,
                                              total=sum(g.amount for g in groups), ways=FULFILMENT_LABELS,
                                              cart_count=cart.count()), 400 if form.is_submitted() else 200)
    response.cache_control.no_store = True
    return response


# ------------------------------------------------------------------------------------------------ orders


def _load_order(code: str):
    if not cart.may_see_order(code):
        abort(404)
    found = queries.public_order(code)
    if found is None:
        abort(404)
    order, subs = found
    now = utcnow()
    due = [s.intent_id for s in subs if s.status == AWAITING_PAYMENT and s.intent_id
           and as_utc(s.hold_expires_at) <= now]
    if due:  # expiry applied on read (the job does it too): the held stock goes back on sale
        for public_id in due:
            payments.expire_if_due(public_id)
        order, subs = queries.public_order(code)
    return order, subs, payments.payment_views([s.intent_id for s in subs])


def _order_state(subs) -> str:
    """The order's headline: every part delivered, every part on its way (or delivered), paid, waiting, or mixed."""
    states = {s.status for s in subs}
    if states == {"delivered"}:
        return "delivered"
    if states <= {"shipped", "delivered"}:
        return "shipped"
    if states <= {"paid", "confirmed", "shipped", "delivered"}:
        return "paid"
    if AWAITING_PAYMENT in states:
        return "waiting"
    return "mixed"


@bp.route("/orders/<code>")
def order(code: str):
    order, subs, pays = _load_order(code)
    if any(s.status == AWAITING_PAYMENT for s in subs):  # the QR codes are shown: the hold runs its full length
        full = timedelta(minutes=current_app.config["MARKETPLACE_HOLD_MINUTES"])
        if services.extend_holds(order, full):
            order, subs = queries.public_order(code)
            pays = payments.payment_views([s.intent_id for s in subs])
    response = make_response(render_template(
        "marketplace/order.html", order=order, subs=subs, pays=pays, state=_order_state(subs),
        status_label=status_label, qr_url=payments.qr_image_url, cart_count=cart.count()))
    response.cache_control.private = True
    response.cache_control.no_store = True
    return response


@bp.route("/orders/<code>/received/<int:sub_order_id>", methods=["POST"])
@back_to("marketplace.order")
def received(code: str, sub_order_id: int):
    """The shopper's own "I received it" for one producer's part (the session that may see the order; CSRF)."""
    order, _subs, _pays = _load_order(code)
    services.shopper_received(order, sub_order_id)
    flash(_("Thank you: the producer sees that you received the goods."), "success")
    return redirect(url_for("marketplace.order", code=code))


@bp.route("/orders/<code>/status")
def order_status(code: str):
    """What the order page polls: each sub-order's status (and its payment's)."""
    order, subs, pays = _load_order(code)
    response = jsonify(
        state=_order_state(subs),
        sub_orders=[{"id": s.id, "status": s.status, "label": str(status_label(s.status)),
                     "payment": pays[s.intent_id].status if s.intent_id in pays else None,
                     "refund_due": s.refund_due} for s in subs])
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/orders/find", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["ORDER_LOOKUP_RATE_LIMIT"], methods=["POST"])
def find_order():
    form = FindOrderForm()
    if form.validate_on_submit():
        found = services.find_order(form.code.data, form.phone.data)
        if found is not None:
            cart.remember_order(found.code)
            return redirect(url_for("marketplace.order", code=found.code))
        flash(_("No order has this code and phone number."), "error")
    return render_template("marketplace/find_order.html", form=form, cart_count=cart.count()), (
        400 if form.is_submitted() else 200)
