"""The market's one door to payments: the static stall QR, sale intents, hand confirmation (the vendor's bank
account is tenants/vendors/payments.py's).

Nothing else in tenants/market imports app.payments (the reactions to payments are connected in __init__.py and
call services). See docs/payments.md for the primitive and docs/decisions.md ("Smart market") for the choices.
"""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.payments import checks, qr, vietqr
from app.payments.bank.reconciliation import record_claim
from app.payments.intents import apply_expiry as _apply_expiry
from app.payments.intents import create_intent, lock_intent
from app.payments.models import PaymentAccount, PaymentIntent
from app.payments.views_public import image_url

SALE_PURPOSE = "market_sale"


# --- the stall poster: a static VietQR --------------------------------------------------------------------------

def static_payload(account: PaymentAccount) -> str:
    """A static VietQR (no amount, no memo) to the vendor's account: shoppers type the amount in their bank app."""
    return vietqr.encode(account.bank_bin, account.account_number)


def qr_png(payload: str, scale: int = 10, border: int = 4) -> bytes:
    return qr.render_png(payload, scale=scale, border=border)


def qr_svg(payload: str, scale: int = 10, border: int = 4) -> bytes:
    return qr.render_svg(payload, scale=scale, border=border)


# --- sales --------------------------------------------------------------------------------------------------------

def request_sale_payment(vendor_id: int, account: PaymentAccount, amount: int, description: str) -> PaymentIntent:
    """A payment intent for exactly one sale on the vendor's account; flushed, committed with the sale by the view.
    The sale points at it (market_sales.intent_id); the reaction finds the sale from the intent."""
    return create_intent(account, amount, purpose=SALE_PURPOSE, description=description[:500],
                         metadata={"vendor": str(vendor_id)})


def sale_intent(intent_id: int) -> PaymentIntent | None:
    return db.session.scalar(select(PaymentIntent).where(PaymentIntent.id == intent_id))


def apply_expiry(intent: PaymentIntent) -> bool:
    """Cancel the sale's intent if its time is up (commits; the reaction marks the sale canceled)."""
    return _apply_expiry(intent)


def sale_qr_image_url(intent: PaymentIntent) -> str:
    return image_url(intent, "svg")


def lock_sale_intent(intent_id: int) -> PaymentIntent | None:
    """The sale's intent, locked: taken BEFORE the sale (app/locks.py, the intent before any domain row)."""
    return lock_intent(intent_id=intent_id)


def confirm_sale_by_hand(intent: PaymentIntent, amount: int, actor, note: str) -> None:
    """The vendor saw the money arrive: recorded as a claim through payments (flushes) on ``intent``, locked by
    ``lock_sale_intent`` before the sale; the market hears of it through the same reaction as a bank notification,
    and the bank's own report later settles the claim."""
    record_claim(intent, amount, actor, note=note)


# --- the market's money invariant (``flask payments check``, app/payments/checks.py) ------------------------------

def check_ledger() -> list[str]:
    """A vendor's ledger equals its paid sales: a QR sale is paid exactly when its intent succeeded and the sale's
    money was not given back, for the sale's amount."""
    from tenants.market.models import MarketSale
    from tenants.market.statuses import PAID

    rows = db.session.execute(
        select(MarketSale.id, MarketSale.status, MarketSale.amount, PaymentIntent.public_id, PaymentIntent.status,
               PaymentIntent.amount)
        .join(PaymentIntent, (PaymentIntent.id == MarketSale.intent_id)
              & (PaymentIntent.tenant_id == MarketSale.tenant_id))
        .where(((MarketSale.status == PAID) != ((PaymentIntent.status == "succeeded") & ~(
            (PaymentIntent.amount_refunded > 0)
            & (PaymentIntent.amount_received - PaymentIntent.amount_refunded < PaymentIntent.amount))))
               | (MarketSale.amount != PaymentIntent.amount))
        .order_by(MarketSale.id))
    return [f"sale {sid} is {status} ({amount}) but {pid} is {istatus} ({iamount})"
            for sid, status, amount, pid, istatus, iamount in rows]


checks.register("market ledger", check_ledger)
