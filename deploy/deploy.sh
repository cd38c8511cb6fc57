#!/bin/sh
# Deploy a release on one server: migrate as the owner, (re)grant the RLS application role, restart the services.
# Run from the release folder (/srv/gialam/current) as a user that may restart the units:  sh deploy/deploy.sh
set -eu
ENV_FILE=${ENV_FILE:-/etc/gialam.env}
set -a; . "$ENV_FILE"; set +a
export FLASK_APP=wsgi.py
test -x .venv/bin/flask || { python3 -m venv .venv && .venv/bin/pip install --quiet .; }
.venv/bin/python scripts/i18n.py compile
# Schema changes run as the owner of the tables; the app role below never owns anything.
DATABASE_URL="$OWNER_DATABASE_URL" .venv/bin/flask db upgrade
DATABASE_URL="$OWNER_DATABASE_URL" .venv/bin/flask rls grant "${APP_DB_ROLE:-gialam_app}" --password "$APP_DB_PASSWORD"
systemctl restart gialam-web.service
systemctl restart gialam-worker.service
echo "Deployed $(git rev-parse --short HEAD 2>/dev/null || echo release)."
