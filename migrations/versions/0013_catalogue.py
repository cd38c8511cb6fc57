"""catalogue: per-commune product counts kept by triggers; trigram search of published names on PostgreSQL

Revision ID: 0013_catalogue
Revises: 0012_scale

- ``catalogue_counts`` (tenant-owned, RLS): the number of published products of active vendors per commune and
  product group, for the catalogue's commune filter and the totals of its unfiltered, per-commune and per-group
  pages. Filled here from the products, then kept by triggers on ``products`` (insert, delete, a change of
  status/vendor/commune/group) and ``vendors`` (a change of ``active``), on SQLite and PostgreSQL
  alike. On PostgreSQL inserts and deletes are counted per statement from the transition tables, so a COPY of
  200,000 products costs one aggregate, not 200,000 counter updates.
- The counts are public (the catalogue shows them): on PostgreSQL a second policy lets every role read them all,
  so a page does not pay the tenant condition on each of ~20,000 rows; writes stay under the tenant policy.
- PostgreSQL only: the ``pg_trgm`` extension, a GIN trigram index on the folded name of published products, and
  ``catalogue_search(patterns)``, a ``SECURITY DEFINER`` function returning the public fields of the published
  products (of active vendors in active communes) whose folded name matches every LIKE pattern. The application
  role cannot use the index itself: under row-level security PostgreSQL evaluates the policy before any
  non-leakproof condition such as LIKE, so it never turns LIKE into an index scan. The function reads only what
  every visitor's search shows (the page's cards are then read by the application role itself) and turns
  ``app.all_tenants`` on for its one query, then back to the caller's value; its owner (the migrating role) must
  bypass row-level security (a superuser, or a role with BYPASSRLS) for the index to be used; otherwise it still
  answers correctly, by a scan. Creating the extension needs a superuser, or pg_trgm created beforehand, or the
  migrating role owning the database (pg_trgm is a trusted extension). Nothing here needs a superuser
  (docs/scaling.md, "Production serving").

"""
from alembic import op
import sqlalchemy as sa

from tenants.rls import disable_rls, enable_rls


# revision identifiers, used by Alembic.
revision = '0013_catalogue'
down_revision = '0012_scale'
branch_labels = None
depends_on = None

_ACTIVE_VENDOR = ("EXISTS (SELECT 1 FROM vendors v WHERE v.tenant_id = {row}.tenant_id AND v.id = {row}.vendor_id "
                  "AND v.active)")

_BACKFILL = (
    "INSERT INTO catalogue_counts (tenant_id, category, products) "
    "SELECT p.tenant_id, p.category, count(*) FROM products p "
    "JOIN vendors v ON v.tenant_id = p.tenant_id AND v.id = p.vendor_id "
    "WHERE p.status = 'published' AND v.active GROUP BY p.tenant_id, p.category"
)

# ------------------------------------------------------------------------------------------------ SQLite triggers
_SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER catalogue_product_insert AFTER INSERT ON products
    WHEN NEW.status = 'published' AND {_ACTIVE_VENDOR.format(row='NEW')}
    BEGIN
        INSERT OR IGNORE INTO catalogue_counts (tenant_id, category, products) VALUES (NEW.tenant_id, NEW.category, 0);
        UPDATE catalogue_counts SET products = products + 1 WHERE tenant_id = NEW.tenant_id AND category = NEW.category;
    END""",
    f"""CREATE TRIGGER catalogue_product_delete AFTER DELETE ON products
    WHEN OLD.status = 'published' AND {_ACTIVE_VENDOR.format(row='OLD')}
    BEGIN
        UPDATE catalogue_counts SET products = products - 1 WHERE tenant_id = OLD.tenant_id AND category = OLD.category;
    END""",
    f"""CREATE TRIGGER catalogue_product_update AFTER UPDATE OF status, vendor_id, tenant_id, category ON products
    WHEN OLD.status IS NOT NEW.status OR OLD.vendor_id IS NOT NEW.vendor_id OR OLD.tenant_id IS NOT NEW.tenant_id
        OR OLD.category IS NOT NEW.category
    BEGIN
        UPDATE catalogue_counts SET products = products - 1
            WHERE tenant_id = OLD.tenant_id AND category = OLD.category AND OLD.status = 'published'
            AND {_ACTIVE_VENDOR.format(row='OLD')};
        INSERT OR IGNORE INTO catalogue_counts (tenant_id, category, products) VALUES (NEW.tenant_id, NEW.category, 0);
        UPDATE catalogue_counts SET products = products + 1
            WHERE tenant_id = NEW.tenant_id AND category = NEW.category AND NEW.status = 'published'
            AND {_ACTIVE_VENDOR.format(row='NEW')};
    END""",
    """CREATE TRIGGER catalogue_vendor_active AFTER UPDATE OF active ON vendors
    WHEN OLD.active IS NOT NEW.active
    BEGIN
        INSERT OR IGNORE INTO catalogue_counts (tenant_id, category, products)
            SELECT DISTINCT p.tenant_id, p.category, 0 FROM products p
            WHERE p.tenant_id = NEW.tenant_id AND p.vendor_id = NEW.id AND p.status = 'published';
        UPDATE catalogue_counts SET products = products + (CASE WHEN NEW.active THEN 1 ELSE -1 END) * (
            SELECT count(*) FROM products p WHERE p.tenant_id = NEW.tenant_id AND p.vendor_id = NEW.id
            AND p.status = 'published' AND p.category = catalogue_counts.category)
            WHERE tenant_id = NEW.tenant_id;
    END""",
]
_SQLITE_TRIGGER_NAMES = ["catalogue_product_insert", "catalogue_product_delete", "catalogue_product_update",
                         "catalogue_vendor_active"]

# ------------------------------------------------------------------------------------------------ PostgreSQL
# The trigger functions run as the writing role, under row-level security: whoever may write a product or a vendor
# sees that commune's vendors and products, and its row of catalogue_counts.
_PG_FUNCTIONS = [
    """CREATE FUNCTION catalogue_count_rows() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO catalogue_counts AS c (tenant_id, category, products)
            SELECT n.tenant_id, n.category, count(*) FROM catalogue_changed n
            JOIN vendors v ON v.tenant_id = n.tenant_id AND v.id = n.vendor_id
            WHERE n.status = 'published' AND v.active GROUP BY n.tenant_id, n.category
            ORDER BY n.tenant_id, n.category
            ON CONFLICT (tenant_id, category) DO UPDATE SET products = c.products + EXCLUDED.products;
        ELSE
            UPDATE catalogue_counts c SET products = c.products - d.n
            FROM (SELECT o.tenant_id, o.category, count(*) AS n FROM catalogue_changed o
                  JOIN vendors v ON v.tenant_id = o.tenant_id AND v.id = o.vendor_id
                  WHERE o.status = 'published' AND v.active GROUP BY o.tenant_id, o.category) d
            WHERE c.tenant_id = d.tenant_id AND c.category = d.category;
        END IF;
        RETURN NULL;
    END $$""",
    f"""CREATE FUNCTION catalogue_count_product_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF OLD.status = 'published' AND {_ACTIVE_VENDOR.format(row='OLD')} THEN
            UPDATE catalogue_counts SET products = products - 1
            WHERE tenant_id = OLD.tenant_id AND category = OLD.category;
        END IF;
        IF NEW.status = 'published' AND {_ACTIVE_VENDOR.format(row='NEW')} THEN
            INSERT INTO catalogue_counts AS c (tenant_id, category, products) VALUES (NEW.tenant_id, NEW.category, 1)
            ON CONFLICT (tenant_id, category) DO UPDATE SET products = c.products + 1;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE FUNCTION catalogue_count_vendor_active() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO catalogue_counts AS c (tenant_id, category, products)
        SELECT p.tenant_id, p.category, CASE WHEN NEW.active THEN count(*) ELSE -count(*) END FROM products p
        WHERE p.tenant_id = NEW.tenant_id AND p.vendor_id = NEW.id AND p.status = 'published'
        GROUP BY p.tenant_id, p.category ORDER BY p.category
        ON CONFLICT (tenant_id, category) DO UPDATE SET products = c.products + EXCLUDED.products;
        RETURN NULL;
    END $$""",
]
_PG_TRIGGERS = [
    # Transition tables: one aggregate per statement (a COPY or a multi-row INSERT), not one update per row.
    "CREATE TRIGGER catalogue_product_insert AFTER INSERT ON products REFERENCING NEW TABLE AS catalogue_changed "
    "FOR EACH STATEMENT EXECUTE FUNCTION catalogue_count_rows()",
    "CREATE TRIGGER catalogue_product_delete AFTER DELETE ON products REFERENCING OLD TABLE AS catalogue_changed "
    "FOR EACH STATEMENT EXECUTE FUNCTION catalogue_count_rows()",
    # Per row, and only when the status, vendor or commune changed: a checkout's stock update does not fire it.
    "CREATE TRIGGER catalogue_product_update AFTER UPDATE OF status, vendor_id, tenant_id, category ON products "
    "FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.vendor_id IS DISTINCT FROM NEW.vendor_id "
    "OR OLD.tenant_id IS DISTINCT FROM NEW.tenant_id OR OLD.category IS DISTINCT FROM NEW.category) "
    "EXECUTE FUNCTION catalogue_count_product_update()",
    "CREATE TRIGGER catalogue_vendor_active AFTER UPDATE OF active ON vendors FOR EACH ROW "
    "WHEN (OLD.active IS DISTINCT FROM NEW.active) EXECUTE FUNCTION catalogue_count_vendor_active()",
]
_PG_SEARCH = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_products_published_name_trgm ON products USING gin (name_folded gin_trgm_ops) "
    "WHERE status = 'published'",
    # The public fields of the published products of active vendors in active communes whose folded name matches
    # every pattern: what any visitor's search shows. The caller filters (commune, group, producer), ranks and
    # pages them, then reads the page's cards as itself (marketplace/queries.py). One LIKE per word, written out
    # (LIKE ALL (array) is never an index condition) and planned with the words' values. SET: a fixed search_path
    # (a SECURITY DEFINER rule). The all-communes flag, so that an owner subject to row-level security still reads
    # every commune's products, is set around the one query and given back to the caller's value: a function's
    # "SET app.all_tenants = 'on'" clause would do the same, but PostgreSQL lets only a superuser (or a role granted
    # SET on that parameter) put a custom parameter there ("permission denied to set parameter"), and the owner
    # need not be one. RETURN QUERY runs the query to the end before the next statement, and an error rolls back
    # the transaction (or the caller's savepoint) together with the flag.
    """CREATE FUNCTION catalogue_search(patterns text[])
    RETURNS TABLE (id integer, tenant_id integer, vendor_id integer, category varchar, name_folded varchar,
                   name_lower varchar, price bigint, created_at timestamptz)
    LANGUAGE plpgsql STABLE SECURITY DEFINER ROWS 500
    SET search_path = pg_catalog, public
    AS $$
    DECLARE
        condition text := 'p.status = ''published'' AND v.active AND t.status = ''active''';
        callers_flag text := coalesce(current_setting('app.all_tenants', true), '');
    BEGIN
        FOR i IN 1 .. coalesce(array_length(patterns, 1), 0) LOOP
            condition := condition || ' AND p.name_folded LIKE $1[' || i || ']';
        END LOOP;
        PERFORM set_config('app.all_tenants', 'on', true);
        RETURN QUERY EXECUTE
            'SELECT p.id, p.tenant_id, p.vendor_id, p.category, p.name_folded, p.name_lower, p.price, p.created_at '
            'FROM public.products p JOIN public.vendors v ON v.tenant_id = p.tenant_id AND v.id = p.vendor_id '
            'JOIN public.tenants t ON t.id = p.tenant_id WHERE ' || condition USING patterns;
        PERFORM set_config('app.all_tenants', callers_flag, true);
    END $$""",
]


def upgrade():
    op.create_table('catalogue_counts',
    sa.Column('tenant_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=30), nullable=False),
    sa.Column('products', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_catalogue_counts_tenant_id_tenants'),
                            ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('tenant_id', 'category', name=op.f('pk_catalogue_counts'))
    )
    enable_rls(op, 'catalogue_counts')
    if op.get_bind().dialect.name == 'postgresql':
        # The counts are public (the catalogue shows them to everyone): any role reads them all, without paying
        # the tenant condition on each of ~20,000 rows; writes (the triggers') stay under the tenant policy.
        op.execute("CREATE POLICY public_read ON catalogue_counts FOR SELECT USING (true)")
    if op.get_bind().dialect.name == 'postgresql':
        # The owner is subject to the policies too (FORCE): read every commune's products for the first count.
        op.execute("SELECT set_config('app.all_tenants', 'on', true)")
        op.execute(_BACKFILL)
        op.execute("SELECT set_config('app.all_tenants', '', true)")
        for statement in _PG_FUNCTIONS + _PG_TRIGGERS + _PG_SEARCH:
            op.execute(statement)
    else:
        op.execute(_BACKFILL)
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP FUNCTION IF EXISTS catalogue_search(text[])")
        op.execute("DROP INDEX IF EXISTS ix_products_published_name_trgm")
        # The extension stays: other databases' objects or a later migration may use it, and dropping needs rights.
        op.execute("DROP TRIGGER IF EXISTS catalogue_vendor_active ON vendors")
        for name in ("catalogue_product_update", "catalogue_product_delete", "catalogue_product_insert"):
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON products")
        op.execute("DROP FUNCTION IF EXISTS catalogue_count_vendor_active()")
        op.execute("DROP FUNCTION IF EXISTS catalogue_count_product_update()")
        op.execute("DROP FUNCTION IF EXISTS catalogue_count_rows()")
    else:
        for name in _SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP POLICY IF EXISTS public_read ON catalogue_counts")
    disable_rls(op, 'catalogue_counts')
    op.drop_table('catalogue_counts')
