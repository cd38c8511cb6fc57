"""Every model, imported in one place so Alembic and create_app see the whole schema."""

from app.audit.models import AuditEntry, AuditHead  # noqa: F401
from app.auth.models import Membership, User  # noqa: F401
from app.notify.models import NotifyMessage, NotifySecret, NotifySubscription  # noqa: F401
from app.payments.models import (  # noqa: F401
    ApiKey,
    BankTransfer,
    Event,
    IdempotencyRecord,
    PaymentAccount,
    PaymentIntent,
    WebhookDelivery,
    WebhookEndpoint,
)
from marketplace.models import Order, OrderLine, Product, SubOrder  # noqa: F401
from tenants.heritage.models import AudioGuide, Artefact, Board, BoardScan, Festival, Relic, Stele  # noqa: F401
from tenants.market.models import Market, MarketSale, Stall  # noqa: F401
from tenants.models import Reorganisation, ReorganisationLine, Tenant  # noqa: F401
from tenants.notices.models import Notice  # noqa: F401
from tenants.onestop.models import (  # noqa: F401
    DayOff,
    Dossier,
    DossierCounter,
    DossierDocument,
    DossierEvent,
    OfficeSchedule,
    Procedure,
    Rating,
)
from tenants.vendors.models import Vendor  # noqa: F401
