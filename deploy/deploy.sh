#!/bin/sh
# Deploy a release on one server: install, migrate as the owner, (re)grant the RLS application role, then reload the
# app server (no request refused) and restart the payments worker. docs/scaling.md, "Deploying a new release".
# Run from the release folder (/srv/gialam/current), after its files were updated in place to the new release, as a
# user that may reload the units:  sh deploy/deploy.sh
set -eu
ENV_FILE=${ENV_FILE:-/etc/gialam.env}
set -a; . "$ENV_FILE"; set +a
export FLASK_APP=wsgi.py
test -x .venv/bin/python || python3 -m venv .venv
.venv/bin/pip install --quiet -c constraints.txt .   # the release's locked dependencies, every time
.venv/bin/python scripts/i18n.py compile
# Schema changes run as the owner of the tables; the app role below never owns anything. `flask db upgrade` builds
# the application with the production settings: a release that cannot start stops here, before the reload.
DATABASE_URL="$OWNER_DATABASE_URL" .venv/bin/flask db upgrade
DATABASE_URL="$OWNER_DATABASE_URL" .venv/bin/flask rls grant "${APP_DB_ROLE:-gialam_app}" --password "$APP_DB_PASSWORD"
# HUP: new workers load the new code, old ones finish their requests; the listening socket stays open throughout.
# (A restart would refuse connections while the old workers drain and the new ones boot; it is needed only after
# an upgrade of gunicorn itself or of Python, or a change of gialam-web.service.)
systemctl reload gialam-web.service
systemctl restart gialam-worker.service
echo "Deployed $(git rev-parse --short HEAD 2>/dev/null || echo release)."
